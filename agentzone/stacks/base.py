"""What every AgentZone stack starts with: explicit env, tags, a baseline CMK."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ram as ram
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .. import naming
from ..config.model import LandingZone
from ..constructs import AccessLogsBucket, BaselineKey, ObservabilityLink, PlatformResourceProvider, SecureBucket

PLATFORM_USE_CASE = "platform"


@dataclass(frozen=True)
class StackTarget:
    """Where a stack deploys and whom its resources belong to."""

    environment: str
    account: str
    region: str
    owner: str
    cost_center: str
    use_case_id: str

    @property
    def tags(self) -> dict[str, str]:
        return {
            "owner": self.owner,
            "cost-center": self.cost_center,
            "use-case-id": self.use_case_id,
            "environment": self.environment,
            "managed-by": "agentzone",
        }


REQUIRED_TAGS = ("owner", "cost-center", "use-case-id", "environment")


# Raw CfnResources aws-cdk-lib's singleton custom-resource providers write (e.g. the VPC default-security-group
# restriction) that ``Tags.of`` cannot reach: resource type -> the property holding its tags.
_PROVIDER_TAGGABLE = {"AWS::IAM::Role": "Tags", "AWS::Lambda::Function": "Tags"}


def tag_cdk_providers(scope: Construct) -> None:
    """Tag those raw resources in every AgentZone stack under ``scope`` with their stack's tags.

    One walk of the finished construct tree, after composition (and of each pipeline stage once built, because the
    pipeline synthesizes its stages while composing): as a Python aspect this cost a jsii callback from Node for
    every construct of every stack.
    """
    for node in scope.node.find_all():
        if type(node) is cdk.CfnResource and node.cfn_resource_type in _PROVIDER_TAGGABLE:
            stack = cdk.Stack.of(node)
            if isinstance(stack, AgentZoneStack):
                tags = [{"Key": k, "Value": v} for k, v in sorted(stack.target.tags.items())]
                node.add_property_override(_PROVIDER_TAGGABLE[node.cfn_resource_type], tags)


class AgentZoneStack(cdk.Stack):
    """Base for every account-role stack.

    Subclasses set ROLE; the construct ids below are part of the contract:
    renaming them would replace retained resources.
    """

    ROLE = "Base"
    # Per-tenant stacks that share an account with other tenants' stacks (management, shared services)
    # qualify account-unique names such as the key alias with the tenant.
    PER_TENANT_IN_SHARED_ACCOUNT = False
    # Stacks that hold only roles, dashboards or resources encrypted with a key of the platform stack in the same
    # account set this to False: an idle key per tenant and environment would cost a dollar a month for nothing.
    OWNS_BASELINE_KEY = True

    def __init__(
        self, scope: Construct, construct_id: str, *, target: StackTarget, description: str, tenant: str = ""
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=target.account, region=target.region),
            # The same CloudFormation stack name whether deployed by `cdk deploy` or inside a pipeline stage.
            stack_name=construct_id,
            description=description,
            termination_protection=target.environment == "prod",
        )
        self.target = target
        # Read back by the synth summary and the CI shard tooling.
        self.template_options.metadata = {
            "AgentZone": {"role": self.ROLE, "environment": target.environment, "tenant": tenant}
        }
        for key, value in target.tags.items():
            cdk.Tags.of(self).add(key, value)
        self.baseline_key = (
            BaselineKey(
                self,
                "BaselineKey",
                alias=f"alias/agentzone/{tenant}/{self.ROLE.lower()}"
                if self.PER_TENANT_IN_SHARED_ACCOUNT
                else f"alias/agentzone/{self.ROLE.lower()}",
                description=f"AgentZone {self.ROLE} baseline key ({target.environment})",
            )
            if self.OWNS_BASELINE_KEY
            else None
        )
        self._access_logs: AccessLogsBucket | None = None

    @property
    def availability_zones(self) -> list[str]:
        """Zone names derived from the region instead of looked up, so synth needs no AWS credentials.

        Only used to check the zones a VPC names explicitly (from config); no
        construct here spreads over "all" zones.
        """
        return [f"{self.region}{letter}" for letter in "abcdef"]

    @property
    def key(self):
        if self.baseline_key is None:
            raise TypeError(f"{type(self).__name__} owns no baseline key (OWNS_BASELINE_KEY is False)")
        return self.baseline_key.key

    @property
    def access_logs(self) -> AccessLogsBucket:
        """Created on first use so stacks without buckets do not carry an empty log bucket."""
        if self._access_logs is None:
            self._access_logs = AccessLogsBucket(self, "AccessLogs")
        return self._access_logs

    def secure_bucket(self, construct_id: str, **kwargs) -> SecureBucket:
        kwargs.setdefault("encryption_key", self.key)
        return SecureBucket(self, construct_id, access_logs=self.access_logs, **kwargs)

    def service_linked_role(self, service: str, role: str = "*") -> iam.PolicyStatement:
        """Creating ``service``'s service-linked role (``role``: its name; ``*``: whatever the service calls it) in
        this account, which an organization switch or a delegated administrator needs, and no other role."""
        return iam.PolicyStatement(
            actions=["iam:CreateServiceLinkedRole"],
            resources=[f"arn:{self.partition}:iam::{self.account}:role/aws-service-role/{service}/{role}"],
            conditions={"StringEquals": {"iam:AWSServiceName": service}},
        )

    def publish_to_organization(
        self, lz: LandingZone, construct_id: str, name: str, value: str, description: str
    ) -> None:
        """A value other accounts read at deploy time: an advanced-tier SSM parameter (only those can be shared)
        shared with the organization through RAM (switched on by the Bootstrap stack). Consumers read it with
        ``read_shared``; nobody copies it into config."""
        org = lz.organization
        parameter = ssm.StringParameter(
            self,
            construct_id,
            parameter_name=name,
            string_value=value,
            tier=ssm.ParameterTier.ADVANCED,
            description=description,
        )
        ram.CfnResourceShare(
            self,
            f"{construct_id}Share",
            name=name.strip("/").replace("/", "-"),
            resource_arns=[parameter.parameter_arn],
            principals=[naming.organization_arn(org.management_account, org.organization_id, self.partition)],
            allow_external_principals=False,
        )

    @property
    def platform_resources(self) -> PlatformResourceProvider:
        """A member account's custom-resource provider; its role is named so the SCPs can exempt it."""
        return PlatformResourceProvider.of(
            self, encryption_key=self.key, role_name=f"{naming.PLATFORM_RESOURCES_ROLE}-{self.region}"
        )

    def read_shared(self, construct_id: str, name: str, account: str, region: str) -> str:
        """A parameter another account publishes with ``publish_to_organization``, resolved when this stack deploys:
        in its region, a template parameter of type AWS::SSM::Parameter::Value<String> whose default is the
        parameter's full ARN (the only way CloudFormation reads a shared parameter; dynamic references cannot)."""
        arn = naming.shared_parameter_arn(name, account, region, self.partition)
        if region == self.region:
            return ssm.StringParameter.from_string_parameter_arn(self, construct_id, arn).string_value
        # A template parameter reads only its own region's parameters; from another region, a custom resource reads
        # it (on create, and whenever the ARN changes) with GetParameter in the parameter's region.
        reader = self.platform_resources.resource(
            self,
            construct_id,
            resource_type="Custom::SharedParameter",
            properties={"ParameterArn": arn},
            statements=[iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[arn])],
        )
        return reader.get_att_string("Value")

    def link_observability(self, lz: LandingZone, *, transaction_search: bool) -> ObservabilityLink:
        """Link to the environment's OAM sink (same region only: OAM is regional): the one config adopts, or the
        one the environment's Logging stack publishes to the organization.

        ``transaction_search`` where agents run: their spans become logs the
        tenant reader role can be scoped to.
        """
        env_name = self.target.environment
        env = lz.organization.environments[env_name]
        region = lz.region_of(env)
        sink = None
        if region == self.region:
            sink = env.observability_sink or self.read_shared(
                "ObservabilitySinkArn", naming.observability_sink_parameter(env_name), env.logging, region
            )
        percent = lz.organization.observability.transaction_search_percent if transaction_search else None
        return ObservabilityLink(self, "Observability", sink_arn=sink, transaction_search_percent=percent)
