"""A tenant account's side of the data lake: resource links and the feedback connector.

Lake Formation shares a namespace with the account (the data lake stack's
LF-tag grants, with grant option); this account sees it through a resource
link of the same name, and its deploy role becomes a Lake Formation admin
here (appended, never replacing the team's own) so the team's stacks can
grant their roles. Where a namespace asks for feedback from this
environment, evaluation results and alarm state changes are forwarded to the
central lake's feedback bus, which writes them into the namespace's raw zone.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lakeformation as lf
from constructs import Construct

from .. import naming
from ..nag import acknowledge_compliance

EVALUATION_SOURCE = "agentzone.evaluation"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"


@dataclass(frozen=True)
class DataLakeLinkProps:
    """``namespaces``: the tenant's namespace names; ``forward_feedback``: some namespace asks for this
    environment's monitoring signals (its ``feedback_from``)."""

    tenant: str
    namespaces: tuple[str, ...]
    lake_account: str
    lake_region: str
    bootstrap_qualifier: str
    forward_feedback: bool = False


class DataLakeLink(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: DataLakeLinkProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        stack = cdk.Stack.of(self)
        self.settings = lf.CfnDataLakeSettings(
            self,
            "LakeFormationAdmin",
            admins=[
                lf.CfnDataLakeSettings.DataLakePrincipalProperty(
                    data_lake_principal_identifier=naming.cfn_exec_role_arn(
                        props.bootstrap_qualifier, stack.account, stack.region, stack.partition
                    )
                )
            ],
            mutation_type="APPEND",
        )
        self.resource_links = {name: self._resource_link(name) for name in sorted(props.namespaces)}
        self.feedback_rules: list[events.Rule] = []
        if props.forward_feedback:
            self._forward_feedback()

    def _resource_link(self, namespace: str) -> glue.CfnDatabase:
        """This account sees the shared namespace through a resource link of the same name."""
        props, stack = self.props, cdk.Stack.of(self)
        database = naming.namespace_database(props.tenant, namespace)
        link = glue.CfnDatabase(
            self,
            f"Link-{namespace}",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database,
                description=f"Resource link to the data lake namespace {namespace} "
                f"({props.lake_account}, {props.lake_region})",
                target_database=glue.CfnDatabase.DatabaseIdentifierProperty(
                    catalog_id=props.lake_account, database_name=database, region=props.lake_region
                ),
            ),
        )
        link.add_resource_dependency(self.settings)
        return link

    def _forward_feedback(self) -> None:
        """Evaluation results and alarm state changes go to the central lake's feedback bus."""
        props, stack = self.props, cdk.Stack.of(self)
        bus = events.EventBus.from_event_bus_arn(
            self, "LakeFeedbackBus", naming.feedback_bus_arn(props.lake_account, props.lake_region, stack.partition)
        )
        self.forwarding_role = iam.Role(
            self,
            "ForwardingRole",
            description="EventBridge: forwards agent monitoring signals to the data lake's feedback bus, nothing else",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
        patterns = {
            "EvaluationSignals": events.EventPattern(source=[EVALUATION_SOURCE]),
            "AlarmSignals": events.EventPattern(source=["aws.cloudwatch"], detail_type=[ALARM_STATE_CHANGE]),
        }
        for name, pattern in patterns.items():
            self.feedback_rules.append(
                events.Rule(
                    self,
                    name,
                    description=f"Forward {props.tenant}'s agent monitoring signals to the data lake's feedback bus",
                    event_pattern=pattern,
                    targets=[targets.EventBus(bus, role=self.forwarding_role)],
                )
            )
        acknowledge_compliance(
            self.forwarding_role.node.find_child("DefaultPolicy"),
            "IAMNoInlinePolicy",
            "The events-target L2 writes PutEvents on the lake's feedback bus as a policy attached only to this "
            "forwarding role.",
        )
