"""The FM gateway's props (validated on construction) and the ports and names its parts share."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import aws_cdk as cdk

from ...naming import FM_GATEWAY_ROLE_PREFIX, PREFIX
from ...patterns import DOMAIN_PATTERN, MODEL_PATTERN, REGISTRIES_WITH_LOGIN, REPOSITORY_PATTERN, ZONE_PATTERN
from ..ids import invalid_accounts

if TYPE_CHECKING:
    from ...config.model import FmGatewaySettings

# ------------------------------------------------------------ shared by the parts

CONTAINER_PORT = 4000
HTTPS_PORT = 443
POSTGRES_PORT = 5432
REDIS_PORT = 6379
HEALTH_PATH = "/health/liveliness"  # LiteLLM's unauthenticated liveness probe (sic)
DATABASE_NAME = "litellm"
CONFIG_PREFIX = "config/"

# Upstreams that need a login (a Secrets Manager secret ecr-pullthroughcache/<prefix>) and their ECR names.
PULL_THROUGH_UPSTREAMS = {
    upstream: (ecr_name, upstream in REGISTRIES_WITH_LOGIN)
    for upstream, ecr_name in {
        "ghcr.io": "github-container-registry",
        "registry-1.docker.io": "docker-hub",
        "quay.io": "quay",
        "public.ecr.aws": "ecr-public",
    }.items()
}

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,41}[a-z0-9]$")
_ZONE = re.compile(ZONE_PATTERN)
_MODEL = re.compile(MODEL_PATTERN)
_REPOSITORY = re.compile(REPOSITORY_PATTERN)
_DOMAIN = re.compile(DOMAIN_PATTERN)
_GUARDRAIL_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:guardrail/[a-z0-9]+$")


# --------------------------------------------------------------------- props


@dataclass(frozen=True)
class PullThroughCacheProps:
    """ECR fetches the image from ``upstream`` on first pull into repositories named ``<prefix>/...``."""

    prefix: str
    upstream: Literal["ghcr.io", "public.ecr.aws", "registry-1.docker.io", "quay.io"]
    credential_arn: str | None = None  # an existing login secret; None: the construct creates one to fill in

    @property
    def needs_credentials(self) -> bool:
        return PULL_THROUGH_UPSTREAMS[self.upstream][1]

    @property
    def credential_secret_name(self) -> str:
        return f"ecr-pullthroughcache/{self.prefix}"


@dataclass(frozen=True)
class FmGatewayDatabaseProps:
    """Aurora PostgreSQL Serverless v2."""

    min_capacity_acu: float = 0.5
    max_capacity_acu: float = 4
    backup_retention_days: int = 14


@dataclass(frozen=True)
class FmGatewayCacheProps:
    """ElastiCache Redis, non-cluster mode: one primary and ``replicas`` replicas in other zones."""

    node_type: str = "cache.t4g.small"
    replicas: int = 1
    snapshot_retention_days: int = 15


@dataclass(frozen=True)
class FmGatewayProps:
    """Everything an FM gateway needs, without the landing-zone config.

    ``name`` is the stable suffix of physical names (task role
    ``agentzone-fm-gateway-<name>``, database and cache identifiers): the
    platform environment for the shared gateway, the tenant for a dedicated
    copy. Changing it replaces the database and the cache.
    """

    name: str
    certificate_arn: str
    domain_name: str
    image_repository: str
    image_tag: str
    model_ids: tuple[str, ...]
    allowed_principal_accounts: tuple[str, ...]
    pull_through_cache: PullThroughCacheProps | None = None
    guardrail_arn: str | None = None
    zones: tuple[str, ...] = ("a", "b")
    vpc_cidr: str = "10.64.0.0/20"
    cpu: int = 1024
    memory_mib: int = 2048
    cpu_architecture: Literal["X86_64", "ARM64"] = "X86_64"
    min_tasks: int = 2
    max_tasks: int = 6
    target_cpu_percent: int = 60
    target_requests_per_task: int = 300
    request_timeout_seconds: int = 600
    waf_requests_per_5min: int = 6000
    log_retention_days: int = 365
    latency_alarm_seconds: int = 60
    database: FmGatewayDatabaseProps = field(default_factory=FmGatewayDatabaseProps)
    cache: FmGatewayCacheProps = field(default_factory=FmGatewayCacheProps)

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not _NAME.match(self.name):
            problems.append(f"name {self.name!r}: lowercase letters, digits and hyphens, 2-43 characters")
        if not _DOMAIN.match(self.domain_name):
            problems.append(f"domain_name {self.domain_name!r} is not a DNS name")
        if not _REPOSITORY.match(self.image_repository):
            problems.append(f"image_repository {self.image_repository!r} is not an ECR repository name")
        if self.image_tag in ("", "latest"):
            problems.append("image_tag: pin a release tag, not latest")
        if not self.model_ids:
            problems.append("model_ids: at least one Bedrock model or inference profile id")
        problems += [f"model_ids: {m!r} is not a Bedrock model id" for m in self.model_ids if not _MODEL.match(m)]
        if not self.allowed_principal_accounts:
            problems.append("allowed_principal_accounts: at least one account may connect")
        problems += [
            f"allowed_principal_accounts: {a!r} is not a 12-digit account id"
            for a in invalid_accounts(self.allowed_principal_accounts)
        ]
        if (
            len(self.zones) < 2
            or len(set(self.zones)) != len(self.zones)
            or not all(_ZONE.match(z) for z in self.zones)
        ):
            problems.append(f"zones {self.zones!r}: at least two distinct zone letters a-f")
        prefix = int(self.vpc_cidr.split("/")[1]) if "/" in self.vpc_cidr else -1
        if not 16 <= prefix <= 22:
            problems.append(f"vpc_cidr {self.vpc_cidr!r}: a /16 to /22 block")
        if not 1 <= self.min_tasks <= self.max_tasks:
            problems.append(f"min_tasks {self.min_tasks} / max_tasks {self.max_tasks}: need 1 <= min <= max")
        if self.database.min_capacity_acu > self.database.max_capacity_acu:
            problems.append("database: min_capacity_acu above max_capacity_acu")
        if not 1 <= self.cache.replicas <= 5:
            problems.append("cache.replicas: 1 to 5 (automatic failover needs a replica)")
        if self.pull_through_cache and not self.image_repository.startswith(self.pull_through_cache.prefix + "/"):
            problems.append(
                f"image_repository {self.image_repository!r} must start with the pull-through-cache prefix "
                f"'{self.pull_through_cache.prefix}/'"
            )
        if (
            self.guardrail_arn
            and not cdk.Token.is_unresolved(self.guardrail_arn)
            and not _GUARDRAIL_ARN.match(self.guardrail_arn)
        ):
            problems.append(
                f"guardrail_arn {self.guardrail_arn!r}: arn:aws:bedrock:<region>:<account>:guardrail/<id>, no version"
            )
        if problems:
            raise ValueError("invalid FmGatewayProps:\n  " + "\n  ".join(problems))

    @classmethod
    def from_settings(
        cls,
        settings: FmGatewaySettings,
        *,
        name: str,
        certificate_arn: str,
        allowed_principal_accounts: Sequence[str],
        guardrail_arn: str | None = None,
        log_retention_days: int = 365,
        registry_credential_arn: str | None = None,
    ) -> FmGatewayProps:
        """Props from the landing-zone's ``shared_services.fm_gateway`` section."""
        ptc = settings.pull_through_cache
        return cls(
            name=name,
            certificate_arn=certificate_arn,
            domain_name=settings.domain_name,
            image_repository=settings.image.repository,
            image_tag=settings.image.tag,
            model_ids=tuple(dict.fromkeys(m.model for m in settings.models)),
            allowed_principal_accounts=tuple(sorted(set(allowed_principal_accounts))),
            pull_through_cache=(
                PullThroughCacheProps(ptc.prefix, ptc.upstream, registry_credential_arn) if ptc else None
            ),
            guardrail_arn=guardrail_arn,
            zones=tuple(settings.zones),
            vpc_cidr=settings.vpc_cidr,
            cpu=settings.cpu,
            memory_mib=settings.memory_mib,
            min_tasks=settings.min_tasks,
            max_tasks=settings.max_tasks,
            target_cpu_percent=settings.target_cpu_percent,
            target_requests_per_task=settings.target_requests_per_task,
            request_timeout_seconds=settings.request_timeout_seconds,
            waf_requests_per_5min=settings.waf_requests_per_5min,
            log_retention_days=log_retention_days,
            database=FmGatewayDatabaseProps(
                min_capacity_acu=settings.database.min_capacity_acu,
                max_capacity_acu=settings.database.max_capacity_acu,
                backup_retention_days=settings.database.backup_retention_days,
            ),
            cache=FmGatewayCacheProps(node_type=settings.cache.node_type, replicas=settings.cache.replicas),
        )

    @property
    def role_name(self) -> str:
        return f"{FM_GATEWAY_ROLE_PREFIX}-{self.name}"

    @property
    def resource_name(self) -> str:
        """Identifier of the database cluster and its log group."""
        return f"{PREFIX}-fm-gateway-{self.name}"

    @property
    def cache_id(self) -> str:
        """Replication group id: at most 40 characters, so long names are shortened with a hash."""
        base = f"{PREFIX}-fm-{self.name}"
        if len(base) <= 40:
            return base
        return f"{base[:31].rstrip('-')}-{hashlib.sha256(base.encode()).hexdigest()[:8]}"
