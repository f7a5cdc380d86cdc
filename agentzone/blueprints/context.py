"""What a blueprint needs from the account it lands in.

``UseCaseStack`` fills a :class:`BlueprintContext` from config; a team that
imports blueprints into its own CDK app builds one by hand (docs/blueprints.md).
Blueprints never read config files or stacks themselves: the
context and their props are all they see, so both paths behave the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast, runtime_checkable

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .. import naming
from ..constructs.isolated_vpc import PrivateService
from ..constructs.secure_bucket import AccessLogsBucket


@dataclass(frozen=True)
class CentralIdentity:
    """The environment's agent identity pool (Security account): who may call an agent or a gateway.

    Tokens must carry one of ``allowed_scopes``; with ``allowed_clients`` set,
    they must also come from one of those app clients.
    """

    discovery_url: str
    allowed_scopes: tuple[str, ...]
    allowed_clients: tuple[str, ...] = ()

    @classmethod
    def for_tenant(
        cls, *, region: str, user_pool_id: str, tenant: str, scopes: tuple[str, ...] | list[str]
    ) -> CentralIdentity:
        return cls(
            discovery_url=naming.cognito_discovery_url(region, user_pool_id),
            allowed_scopes=tuple(sorted(naming.tenant_scope(tenant, scope) for scope in scopes)),
        )


@dataclass(frozen=True)
class ImageRegistry:
    """Where agent images live: the environment's shared-services ECR (one repository per tenant image)."""

    account: str
    region: str

    def repository_name(self, tenant: str, image: str) -> str:
        return naming.tenant_repository(tenant, image)

    def repository_arn(self, tenant: str, image: str, partition: str = "aws") -> str:
        return f"arn:{partition}:ecr:{self.region}:{self.account}:repository/{self.repository_name(tenant, image)}"


@dataclass(frozen=True)
class SharedEndpointService:
    """A PrivateLink endpoint service another account publishes: its name in a RAM-shared SSM parameter (the
    parameter's full ARN), and the domain clients call it by."""

    parameter_arn: str
    domain: str

    def for_vpc(self, scope: Construct, construct_id: str) -> PrivateService:
        """The service as a VPC sees it: one template parameter per stack reads the shared name at deploy time."""
        stack = cdk.Stack.of(scope)
        reader = stack.node.try_find_child(f"{construct_id}ServiceName")
        if reader is None:
            reader = ssm.StringParameter.from_string_parameter_arn(
                stack, f"{construct_id}ServiceName", self.parameter_arn
            )
        return PrivateService(construct_id, cast(ssm.IStringParameter, reader).string_value, self.domain)


@dataclass(frozen=True)
class LocalEndpointService:
    """A PrivateLink endpoint service in the account itself (a tenant's dedicated FM gateway): its name is known
    in the same template, so the VPC uses it directly."""

    service_name: str
    domain: str

    def for_vpc(self, scope: Construct, construct_id: str) -> PrivateService:
        return PrivateService(construct_id, self.service_name, self.domain)


@dataclass(frozen=True)
class BlueprintContext:
    """The account-level inputs every blueprint may use.

    ``config_dir`` is where files named in config (prompts, tool schemas,
    Cedar policies) are read from. ``fm_gateway_url`` and ``identity`` are
    None until the platform has deployed them (see docs/deploy.md).
    """

    tenant: str
    environment: str
    encryption_key: kms.IKey
    tags: dict[str, str] = field(default_factory=dict)
    models: tuple[str, ...] = ()
    config_dir: Path | None = None
    data_bucket: s3.IBucket | None = None
    alarm_topic: sns.ITopic | None = None
    identity: CentralIdentity | None = None
    image_registry: ImageRegistry | None = None
    fm_gateway_url: str | None = None
    access_logs: AccessLogsBucket | None = None  # where blueprint buckets log their access; each creates one if None
    # What VPC agents connect to the FM gateway through: the environment's shared one, or the tenant's own.
    fm_gateway_endpoint: SharedEndpointService | LocalEndpointService | None = None

    def fm_gateway_private_link(self, scope: Construct) -> PrivateService | None:
        """The FM gateway's endpoint service for an agent VPC, when the environment's gateway is reachable."""
        return self.fm_gateway_endpoint.for_vpc(scope, "FmGateway") if self.fm_gateway_endpoint else None

    def resource_name(self, name: str, *, separator: str = "-", max_length: int = 48) -> str:
        """``<tenant><sep><name><sep><environment>``, e.g. claims_triage_dev for AgentCore names."""
        text = naming.resource_name(self.tenant, name, self.environment, separator=separator)
        if len(text) > max_length:
            raise ValueError(
                f"resource name {text!r} is longer than {max_length} characters; shorten the blueprint name {name!r}"
            )
        return text

    def read_file(self, relative: str) -> str:
        if self.config_dir is None:
            raise ValueError(f"{relative}: this blueprint reads files named in config; set BlueprintContext.config_dir")
        path = self.config_dir / relative
        if ".." in Path(relative).parts or not path.is_file():
            raise ValueError(f"no file {relative} under {self.config_dir}")
        return path.read_text()


@runtime_checkable
class AgentAttachment(Protocol):
    """Something an agent runtime uses (a memory with an access level, the guardrail, the knowledge base, ...).

    The runtime calls :meth:`attach_to_agent` with its execution role before
    it creates the runtime: the attachment grants exactly what an agent needs
    and returns the environment variables by which the agent finds it
    (``AGENTZONE_*`` names; two attachments must not return the same name).
    """

    def attach_to_agent(self, grantee: iam.IGrantable) -> dict[str, str]: ...


def tag_map(scope_tags: dict[str, str]) -> dict[str, str]:
    """Tags for L2s that take a ``tags`` mapping (AgentCore resources do not inherit stack tags on every type)."""
    return dict(sorted(scope_tags.items()))


def retain(resource: cdk.CfnResource) -> None:
    """Keep stateful blueprint resources when their stack or construct goes away."""
    resource.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
