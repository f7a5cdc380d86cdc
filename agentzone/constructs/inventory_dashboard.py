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
from .platform_resource import handler_function
from .retention import retained_log_group

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
        log_group = retained_log_group(
            self, "Logs", encryption_key=props.encryption_key, retention_days=props.log_retention_days
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Runs the AgentZone agent inventory dashboard's widgets",
            managed_policies=[_widget_policy(self, log_group.log_group_arn, props)],
        )
        self.function = handler_function(
            self,
            "Function",
            module=HANDLER_MODULE,
            role=role,
            timeout=cdk.Duration.seconds(60),
            log_group=log_group,
            description="AgentZone: the agent inventory's saved Config queries as dashboard tables",
            environment={
                "AGENTZONE_AGGREGATOR": str(props.aggregator.configuration_aggregator_name),
                "AGENTZONE_QUERIES": ",".join(names),
            },
        )
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


def _widget_policy(scope: Construct, log_group_arn: str, props: InventoryDashboardProps) -> iam.ManagedPolicy:
    """Read exactly the stored queries, run queries on exactly the aggregator, write its own log group."""
    return iam.ManagedPolicy(
        scope,
        "Policy",
        description="AgentZone inventory widget: read its stored queries, run them on the organization aggregator",
        statements=[
            iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group_arn]),
            iam.PolicyStatement(actions=["config:GetStoredQuery"], resources=[q.attr_query_arn for q in props.queries]),
            iam.PolicyStatement(
                actions=["config:SelectAggregateResourceConfig"],
                resources=[props.aggregator.attr_configuration_aggregator_arn],
            ),
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
