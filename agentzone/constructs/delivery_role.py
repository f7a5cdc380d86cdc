"""The role a tenant pipeline's checks assume in the tenant's account.

The pipeline's CloudFormation deploys go through the CDK bootstrap roles; its
checks need something else: reading the evaluation store (the promotion
gate) and watching a canary endpoint's alarms, pointing it back at the
stable version when one fires (``agentzone release watch``). This role does
exactly that, and only the tenant's pipeline in the delivery account may
assume it.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .. import naming
from ..evaluation import record
from ..nag import acknowledge, acknowledge_compliance, nag_arn
from ..naming import delivery_role_name


@dataclass(frozen=True)
class DeliveryRoleProps:
    """``delivery_account``: where the tenant's pipeline runs; ``encryption_key``: the evaluation store's key."""

    tenant: str
    environment: str
    delivery_account: str
    encryption_key: kms.IKey


class DeliveryRole(Construct):
    """The role the tenant's pipeline checks assume here: the evaluation gate and the canary watch."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DeliveryRoleProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        tenant = props.tenant
        # CDK Pipelines names the step roles after the pipeline stack; the condition keeps every other role out.
        pipeline_roles = (
            f"arn:{stack.partition}:iam::{props.delivery_account}:role/{naming.tenant_pipeline_stack(tenant)}-*"
        )
        self.role = iam.Role(
            self,
            "Role",
            role_name=delivery_role_name(tenant),
            description=f"{tenant}'s pipeline checks: read the evaluation store, watch and roll back canary endpoints",
            assumed_by=iam.AccountPrincipal(props.delivery_account).with_conditions(
                {"ArnLike": {"aws:PrincipalArn": pipeline_roles}}
            ),
            max_session_duration=cdk.Duration.hours(2),
        )
        self._allow_evaluation_gate(props)
        self._allow_canary_watch(tenant)
        self._acknowledge(props)

    def _allow_evaluation_gate(self, props: DeliveryRoleProps) -> None:
        """Read the tenant's evaluation store in this environment (through DynamoDB's use of its key)."""
        stack = cdk.Stack.of(self)
        table = stack.format_arn(
            service="dynamodb", resource="table", resource_name=record.table_name(props.tenant, props.environment)
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="EvaluationGate",
                actions=["dynamodb:GetItem", "dynamodb:Query"],
                resources=[table, f"{table}/index/*"],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="EvaluationStoreKey",
                actions=["kms:Decrypt"],
                resources=[props.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{stack.region}.amazonaws.com"}},
            )
        )

    def _allow_canary_watch(self, tenant: str) -> None:
        """Watch alarms and point the tenant's runtime endpoints back at their stable version."""
        runtimes = cdk.Stack.of(self).format_arn(
            service="bedrock-agentcore", resource="runtime", resource_name=naming.tenant_agentcore_names(tenant)
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="CanaryWatch",
                actions=["cloudwatch:DescribeAlarms", "bedrock-agentcore:ListAgentRuntimes"],
                resources=["*"],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="CanaryRollback",
                actions=["bedrock-agentcore:UpdateAgentRuntimeEndpoint", "bedrock-agentcore:GetAgentRuntimeEndpoint"],
                resources=[runtimes, f"{runtimes}/runtime-endpoint/*"],
            )
        )

    def _acknowledge(self, props: DeliveryRoleProps) -> None:
        tenant = props.tenant
        policy = self.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:DescribeAlarms and bedrock-agentcore:ListAgentRuntimes "
            "support no resource-level permissions; both only read.",
        )
        table_name = record.table_name(tenant, props.environment)
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{nag_arn(self, 'dynamodb', f'table/{table_name}/index/*')}]",
            "The evaluation store's indexes (the approved-baseline index), read by the promotion gate.",
        )
        runtime_pattern = f"runtime/{naming.tenant_agentcore_names(tenant)}"
        for resource in (runtime_pattern, f"{runtime_pattern}/runtime-endpoint/*"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::{nag_arn(self, 'bedrock-agentcore', resource)}]",
                f"The tenant's runtimes are named {tenant}_<agent>_<environment>; AgentCore appends an id at creation.",
            )
        acknowledge_compliance(
            policy, "IAMNoInlinePolicy", "The pipeline checks' grants are a policy attached only to this role."
        )
