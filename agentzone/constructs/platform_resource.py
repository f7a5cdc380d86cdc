"""One small Lambda per stack that applies control-plane settings CloudFormation has no type for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..nag import acknowledge, acknowledge_compliance
from .retention import retained_log_group

HANDLERS_DIR = Path(__file__).resolve().parents[1] / "handlers"
PROVIDER_ID = "PlatformResourceProvider"


def custom_resource_function(
    scope: Construct,
    construct_id: str,
    *,
    handler: str,
    role: iam.IRole,
    log_group: logs.ILogGroup,
    timeout: cdk.Duration,
    description: str,
    **kwargs,
) -> lambda_.Function:
    """A Lambda running a handler from ``agentzone/handlers`` for CloudFormation custom resources.

    Both compliance findings every such function raises are acknowledged here once: it only runs when
    CloudFormation calls it, synchronously.
    """
    function = lambda_.Function(
        scope,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler=handler,
        code=lambda_.Code.from_asset(str(HANDLERS_DIR), exclude=["__pycache__", "*.pyc", "__init__.py"]),
        role=role,
        timeout=timeout,
        memory_size=256,
        log_group=log_group,
        description=description,
        **kwargs,
    )
    acknowledge_compliance(
        function,
        "LambdaConcurrency",
        "Invoked only by CloudFormation during deployments; reserving concurrency would take capacity from new "
        "accounts whose whole limit is 10.",
    )
    acknowledge_compliance(
        function,
        "LambdaDLQ",
        "CloudFormation invokes it synchronously and receives every failure as a FAILED response; there is no "
        "asynchronous event to dead-letter.",
    )
    return function


@dataclass(frozen=True)
class HandlerFunctionProps:
    """A single-module Lambda with its own retained, encrypted log group and a role holding exactly ``statements``
    (besides writing that log group). ``prefix`` starts the ids of the log group, policy and role
    (``<prefix>Logs``, ``<prefix>Policy``, ``<prefix>Role``): never change it, logical ids would move."""

    module: str
    statements: Sequence[iam.PolicyStatement]
    encryption_key: kms.IKey
    log_retention_days: int
    timeout: cdk.Duration
    description: str
    policy_description: str
    role_description: str
    environment: Mapping[str, str]
    prefix: str = ""


@dataclass(frozen=True)
class HandlerFunction:
    function: lambda_.Function
    role: iam.Role
    policy: iam.ManagedPolicy  # for the caller's acknowledgements of its own statements


def handler_function(scope: Construct, construct_id: str, props: HandlerFunctionProps) -> HandlerFunction:
    """A Lambda running ``<module>.handler`` from ``agentzone/handlers``, its asset holding that one file only (a
    change to another handler never redeploys it), with its log group and its least-privilege role."""
    log_group = retained_log_group(
        scope, f"{props.prefix}Logs", encryption_key=props.encryption_key, retention_days=props.log_retention_days
    )
    policy = iam.ManagedPolicy(
        scope,
        f"{props.prefix}Policy",
        description=props.policy_description,
        statements=[
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            ),
            *props.statements,
        ],
    )
    role = iam.Role(
        scope,
        f"{props.prefix}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=props.role_description,
        managed_policies=[policy],
    )
    function = lambda_.Function(
        scope,
        construct_id,
        role=role,
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler=f"{props.module}.handler",
        code=lambda_.Code.from_asset(str(HANDLERS_DIR), exclude=["*", f"!{props.module}.py"]),
        timeout=props.timeout,
        memory_size=256,
        log_group=log_group,
        description=props.description,
        environment=dict(props.environment),
    )
    return HandlerFunction(function, role, policy)


class PlatformResourceProvider(Construct):
    """Backs every ``Custom::*`` type in ``agentzone/handlers/platform_resources.py``.

    Use :meth:`of` to get the stack's single instance; each resource adds only
    the permissions its API calls need, to one customer-managed policy.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        log_retention_days: int = 365,
        role_name: str | None = None,
        timeout: cdk.Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = retained_log_group(
            self, "Logs", encryption_key=encryption_key, retention_days=log_retention_days
        )
        self.policy = iam.ManagedPolicy(
            self, "Policy", description="AgentZone platform custom resources: exactly the API calls they make"
        )
        self.policy.add_statements(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn]
            )
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            role_name=role_name,
            description="Runs AgentZone platform custom resources",
            managed_policies=[self.policy],
        )
        self.function = custom_resource_function(
            self,
            "Function",
            handler="platform_resources.handler",
            role=self.role,
            log_group=self.log_group,
            timeout=timeout or cdk.Duration.minutes(2),
            description="AgentZone control-plane settings without a CloudFormation type",
        )
        acknowledge_compliance(
            self.function,
            "LambdaInsideVPC",
            "It calls only AWS control-plane APIs (Organizations, Cost Explorer, GuardDuty, Bedrock); accounts such "
            "as the management account have no VPC to place it in.",
        )

    @classmethod
    def of(
        cls,
        scope: Construct,
        *,
        encryption_key: kms.IKey,
        role_name: str | None = None,
        timeout: cdk.Duration | None = None,
    ) -> PlatformResourceProvider:
        """The stack's instance. Member-account stacks name the role (see ``exempt_principals``
        in organization_policies.py) because it changes settings the SCPs protect. ``timeout`` (default 2
        minutes) for a stack whose resources wait on something, such as an account's bootstrap."""
        stack = cdk.Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if isinstance(existing, PlatformResourceProvider):
            return existing
        return cls(stack, PROVIDER_ID, encryption_key=encryption_key, role_name=role_name, timeout=timeout)

    def resource(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resource_type: str,
        properties: dict,
        statements: list[iam.PolicyStatement],
        wildcard_reason: str | None = None,
    ) -> cdk.CustomResource:
        """A custom resource of one of the handler's types, with the statements its calls need.

        APIs without resource-level permissions need ``resources=["*"]``; say
        why in ``wildcard_reason`` and it is acknowledged on this policy only.
        """
        for statement in statements:
            self.policy.add_statements(statement)
        if any("*" in statement.resources for statement in statements):
            if not wildcard_reason:
                raise ValueError(f"{construct_id}: a statement on resource '*' needs a wildcard_reason")
            acknowledge(self.policy, "AwsSolutions-IAM5[Resource::*]", wildcard_reason)
        resource = cdk.CustomResource(
            scope,
            construct_id,
            service_token=self.function.function_arn,
            resource_type=resource_type,
            properties=properties,
        )
        return resource
