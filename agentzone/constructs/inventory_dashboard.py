"""The agent inventory as a CloudWatch dashboard: one custom widget per saved Config advanced query, each a table of
the query's rows over the organization's aggregator (``agentzone/handlers/inventory_widget.py``).

CloudWatch cannot graph Config query results, so the widgets are Lambda-backed: the dashboard's viewer invokes the
function (their own ``lambda:InvokeFunction`` permission), whose role may read only these stored queries and run
them only against this aggregator.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from ..nag import acknowledge_compliance
from .platform_resource import HandlerFunctionProps, handler_function

HANDLER_MODULE = "inventory_widget"


@dataclass(frozen=True)
class InventoryDashboardProps:
    dashboard_name: str
    aggregator: config.CfnConfigurationAggregator
    queries: tuple[config.CfnStoredQuery, ...]
    encryption_key: kms.IKey
    log_retention_days: int = 365


class InventoryDashboard(Construct):
    """``dashboard`` (one table per query, in the order given) and ``function`` behind its widgets."""

    def __init__(self, scope: Construct, construct_id: str, *, props: InventoryDashboardProps) -> None:
        super().__init__(scope, construct_id)
        if not props.queries:
            raise ValueError("an inventory dashboard needs at least one stored query")
        names = [q.query_name for q in props.queries]
        self.function = handler_function(
            self,
            "Function",
            HandlerFunctionProps(
                module=HANDLER_MODULE,
                statements=[
                    iam.PolicyStatement(
                        actions=["config:GetStoredQuery"], resources=[q.attr_query_arn for q in props.queries]
                    ),
                    iam.PolicyStatement(
                        actions=["config:SelectAggregateResourceConfig"],
                        resources=[props.aggregator.attr_configuration_aggregator_arn],
                    ),
                ],
                encryption_key=props.encryption_key,
                log_retention_days=props.log_retention_days,
                timeout=cdk.Duration.seconds(60),
                description="AgentZone: the agent inventory's saved Config queries as dashboard tables",
                policy_description="AgentZone inventory widget: read its stored queries, run them on the organization "
                "aggregator",
                role_description="Runs the AgentZone agent inventory dashboard's widgets",
                environment={
                    "AGENTZONE_AGGREGATOR": str(props.aggregator.configuration_aggregator_name),
                    "AGENTZONE_QUERIES": ",".join(names),
                },
            ),
        ).function
        _acknowledge_function(self.function)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=props.dashboard_name,
            widgets=[
                [
                    cloudwatch.CustomWidget(
                        function_arn=self.function.function_arn,
                        title=query.query_description or query.query_name,
                        params={"query": query.query_name},
                        width=24,
                        height=12,
                    )
                ]
                for query in props.queries
            ],
        )


def _acknowledge_function(function: lambda_.Function) -> None:
    acknowledge_compliance(
        function,
        "LambdaConcurrency",
        "Runs when someone opens or refreshes the inventory dashboard; reserving concurrency would take capacity "
        "from the security account's other functions.",
    )
    acknowledge_compliance(
        function,
        "LambdaDLQ",
        "CloudWatch invokes it synchronously for a dashboard viewer and shows any failure in the widget; there is no "
        "asynchronous event to dead-letter.",
    )
    acknowledge_compliance(
        function,
        "LambdaInsideVPC",
        "It calls only the regional AWS Config API; the security account has no VPC this construct could rely on.",
    )
