"""Typed configuration: what a platform team and each use-case team may write.

Field docstrings (``description=``) flow into the JSON Schema the sample YAML
files point at, so editors show them as hover help.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..patterns import (
    ACCOUNT_PATTERN,
    AGENTCORE_NAME_PATTERN,
    CERTIFICATE_ARN_PATTERN,
    COST_CENTER_PATTERN,
    DOMAIN_PATTERN,
    EMAIL_PATTERN,
    ENV_PATTERN,
    GATEWAY_MODEL_PATTERN,
    GLUE_CRON_PATTERN,
    HTTP_HEADER_PATTERN,
    IMAGE_NAME_PATTERN,
    IMAGE_TAG_PATTERN,
    LAMBDA_FUNCTION_NAME_PATTERN,
    METRIC_NAME_PATTERN,
    MODEL_PATTERN,
    ORG_ID_PATTERN,
    REGION_PATTERN,
    REGISTRY_CREDENTIAL_ARN_PATTERN,
    REPOSITORY_PATTERN,
    ROLE_NAME_PATTERN,
    ROOT_ID_PATTERN,
    S3_PREFIX_PATTERN,
    SCHEDULE_PATTERN,
    SCOPE_PATTERN,
    SEMVER_PATTERN,
    SINK_ARN_PATTERN,
    SLUG_PATTERN,
    USE_CASE_PATTERN,
    USER_POOL_ID_PATTERN,
    WORDS_PATTERN,
    ZONE_PATTERN,
)

AccountId = Annotated[
    str, StringConstraints(pattern=ACCOUNT_PATTERN), Field(description="12-digit AWS account id, quoted")
]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Region = Annotated[str, StringConstraints(pattern=REGION_PATTERN), Field(description="AWS region code, e.g. eu-west-1")]
Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN)]
CostCenter = Annotated[str, StringConstraints(pattern=COST_CENTER_PATTERN)]
EnvName = Annotated[str, StringConstraints(pattern=ENV_PATTERN)]
ModelId = Annotated[
    str,
    StringConstraints(pattern=MODEL_PATTERN, max_length=96),
    Field(description="Bedrock model id, e.g. amazon.nova-lite-v1:0"),
]
RoleName = Annotated[str, StringConstraints(pattern=ROLE_NAME_PATTERN), Field(description="IAM role name")]


def tenant_model_problem(model: str, models: Collection[str]) -> str | None:
    """The one rule for every model a blueprint names: it is one of the tenant's ``models``.

    The platform approves those (the tenant SCP denies every other), so config
    checks and blueprints report the same problem; None when there is none.
    """
    if model in models:
        return None
    approved = ", ".join(sorted(models)) or "none"
    return f"{model} is not in the tenant's models ({approved}); add it there (platform approval)"


Scope = Annotated[str, StringConstraints(pattern=SCOPE_PATTERN), Field(description="OAuth2 scope name, e.g. invoke")]

# Upper bounds that keep generated SCPs under the 5,120-character limit (tests check the largest case).
MAX_ALLOWED_REGIONS = 16
MAX_TENANT_MODELS = 20
MAX_ADMIN_ROLES = 5
# A tenant's resources in the platform accounts are in its own stacks; what still grows with tenants in the
# platform stacks is the list of their accounts in resource policies. At 500 tenants the largest are the
# shared-services key policy (26 of KMS's 32 KB) and the catalog tables' policies (18 of DynamoDB's 20 KB)
# (measured, docs/scale.md).
MAX_TENANTS_PER_ENVIRONMENT = 500
# Tenant accounts that send feedback to the central lake (namespaces' feedback_from) are listed in the feedback
# bus policy, which EventBridge caps at 10 KB: about 33 bytes each.
MAX_FEEDBACK_SENDERS = 250

PLATFORM_ROLES = ("shared_services", "logging", "security", "data_lake")


class Strict(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# ---------------------------------------------------------------- organization


class PlatformTeam(Strict):
    owner: Email = Field(description="Team mailbox that owns the platform accounts")
    cost_center: CostCenter = Field(description="Cost center the platform's spend is booked to")


class PlatformEnvironment(Strict):
    """The four platform accounts of one platform environment."""

    shared_services: AccountId
    logging: AccountId
    security: AccountId
    data_lake: AccountId
    region: Region | None = Field(None, description="Defaults to home_region")
    monthly_budget_usd: float | None = Field(
        None,
        gt=0,
        le=10_000_000,
        description="Budget for the four platform accounts of this environment (management account)",
    )
    observability_sink: Annotated[str, StringConstraints(pattern=SINK_ARN_PATTERN)] | None = Field(
        None,
        description=(
            "Adopt an existing OAM sink (ARN, in this environment's logging account and region). Unset: accounts "
            "link to the sink the Logging stack creates and shares (nothing to copy)."
        ),
    )
    identity_user_pool_id: Annotated[str, StringConstraints(pattern=USER_POOL_ID_PATTERN)] | None = Field(
        None,
        description="Adopt an existing agent identity user pool (id, in this environment's region). Unset: gateways "
        "and JWT authorizers trust the pool the Security stack creates and shares (nothing to copy).",
    )
    fm_gateway_certificate_arn: Annotated[str, StringConstraints(pattern=CERTIFICATE_ARN_PATTERN)] | None = Field(
        None,
        description="ACM certificate in this environment's shared-services account for "
        "shared_services.fm_gateway.domain_name; "
        "the gateway serves HTTPS only, so it is not deployed here until this is set",
    )
    registry_credential_arn: Annotated[str, StringConstraints(pattern=REGISTRY_CREDENTIAL_ARN_PATTERN)] | None = Field(
        None,
        description="An existing Secrets Manager secret ecr-pullthroughcache/... in this environment's "
        "shared-services account holding the upstream registry's read-only login (shared_services.fm_gateway."
        "pull_through_cache); without it the stack creates that secret with a placeholder to fill in",
    )


class NagSettings(Strict):
    """Rule packs run on every synth; any unacknowledged error fails it."""

    aws_solutions: bool = Field(True, description="cdk-nag AwsSolutions pack")
    nist_800_53_r5: bool = Field(True, description="cdk-nag NIST 800-53 rev 5 pack")
    hipaa_security: bool = Field(True, description="cdk-nag HIPAA Security pack")
    pci_dss_321: bool = Field(True, description="cdk-nag PCI DSS 3.2.1 pack")


class Guardrails(Strict):
    """Inputs to the service control policies (see docs/organization.md)."""

    admin_roles: list[RoleName] = Field(
        default=["AgentZoneBreakGlass"],
        max_length=MAX_ADMIN_ROLES,
        description="Break-glass role names exempt from the baseline-protection SCPs (in every account)",
    )
    bootstrap_qualifier: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,10}$")] = Field(
        "agentzone",
        description="cdk bootstrap --qualifier the platform deploys with; its roles are protected and exempt",
    )


class ArchiveSettings(Strict):
    """The central log archive in each logging account."""

    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        "COMPLIANCE", description="COMPLIANCE: nobody, not even root, can delete before retention ends"
    )
    retention_days: int = Field(365, ge=1, le=3650, description="Default Object Lock retention of every log object")
    glacier_ir_after_days: int = Field(90, ge=30, le=3650, description="Move logs to Glacier Instant Retrieval after")
    deep_archive_after_days: int | None = Field(
        365, ge=180, le=3650, description="Move logs to Deep Archive after (null: never)"
    )
    expire_after_days: int | None = Field(
        None, ge=1, le=36500, description="Delete logs after (must be >= retention_days; null: keep forever)"
    )


class DataEvents(Strict):
    """CloudTrail data events on the organization trail (billed per event)."""

    bedrock: bool = Field(True, description="Agents, knowledge bases, flows, guardrails and prompts")
    agentcore: bool = Field(True, description="AgentCore runtimes, gateways, memories and workload identities")


class Audit(Strict):
    central_environment: EnvName | None = Field(
        None,
        description="Platform environment whose logging and security accounts serve the whole organization "
        "(organization trail, delegated administrators). Defaults to the last environment.",
    )
    archive: ArchiveSettings = ArchiveSettings()
    data_events: DataEvents = DataEvents()
    trail_log_retention_days: int = Field(90, ge=1, le=3653, description="CloudWatch Logs copy of the trail, days")


class Observability(Strict):
    transaction_search_percent: float = Field(
        1, ge=0, le=100, description="Share of X-Ray spans indexed for transaction search (all spans are stored)"
    )
    log_retention_days: int = Field(365, ge=1, le=3653, description="Retention of platform-created log groups")


ModelPrice = Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=2, max_length=2)]


class SecuritySettings(Strict):
    securityhub_standards: list[Literal["aws-foundational", "cis-3.0", "nist-800-53", "pci-dss"]] = Field(
        default=["aws-foundational", "cis-3.0"],
        min_length=1,
        description="Security Hub standards enabled in every account",
    )
    access_token_minutes: int = Field(
        60, ge=5, le=1440, description="Lifetime of agent access tokens from the central identity"
    )


# ------------------------------------------------------------- shared services

TIER_RANK = {"premium": 3, "standard": 2, "economy": 1}
GatewayModelName = Annotated[
    str,
    StringConstraints(pattern=GATEWAY_MODEL_PATTERN),
    Field(description="Model name callers send to the FM gateway, e.g. claude-sonnet"),
]


class ContainerImage(Strict):
    """An image in the shared-services account's ECR (a repository or a pull-through-cache path)."""

    repository: Annotated[str, StringConstraints(pattern=REPOSITORY_PATTERN, max_length=256)] = Field(
        description="ECR repository name in the shared-services account, e.g. ghcr/berriai/litellm"
    )
    tag: Annotated[str, StringConstraints(pattern=IMAGE_TAG_PATTERN)] = Field(
        description="Pinned image tag (not latest)"
    )


class PullThroughCache(Strict):
    """Lets ECR fetch the gateway image from its upstream registry on first pull, so tasks never reach the internet."""

    prefix: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$", max_length=30)] = Field(
        description="ECR repository prefix of the cache; the image repository must start with it"
    )
    upstream: Literal["ghcr.io", "public.ecr.aws", "registry-1.docker.io", "quay.io"] = Field(
        description="Upstream registry"
    )
    # ghcr.io and Docker Hub need a login (REGISTRIES_WITH_LOGIN): an existing secret named by
    # environments.<env>.registry_credential_arn, else the stack creates ecr-pullthroughcache/<prefix>
    # (AWS-managed key: ECR's service-linked role reads it) for the operator to fill (docs/shared-services.md).


class GatewayModel(Strict):
    name: GatewayModelName
    model: ModelId = Field(description="Bedrock model id or cross-region inference profile id")
    tier: Literal["premium", "standard", "economy"] = Field(description="Fallbacks may only go to lower tiers")
    fallbacks: list[GatewayModelName] = Field(
        default=[], max_length=5, description="Tried in order when this model is throttled or fails; lower tiers only"
    )


class GatewayDatabase(Strict):
    """Aurora PostgreSQL Serverless v2: virtual keys, teams, budgets and spend."""

    min_capacity_acu: float = Field(0.5, ge=0.5, le=256)
    max_capacity_acu: float = Field(4, ge=1, le=256)
    backup_retention_days: int = Field(14, ge=1, le=35)


class GatewayCache(Strict):
    """ElastiCache Redis (non-cluster mode, TLS and AUTH): shared rpm/tpm counters and response cache."""

    node_type: Annotated[str, StringConstraints(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")] = "cache.t4g.small"
    replicas: int = Field(
        1, ge=1, le=5, description="Read replicas in other zones; at least one for automatic failover"
    )


PiiType = Literal[
    "EMAIL",
    "PHONE",
    "NAME",
    "ADDRESS",
    "AGE",
    "USERNAME",
    "CREDIT_DEBIT_CARD_NUMBER",
    "US_SOCIAL_SECURITY_NUMBER",
    "IP_ADDRESS",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "PASSWORD",
    "UK_NATIONAL_INSURANCE_NUMBER",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "SWIFT_CODE",
    "LICENSE_PLATE",
    "VEHICLE_IDENTIFICATION_NUMBER",
]


class GatewayGuardrail(Strict):
    """The Bedrock guardrail the gateway applies to every call (tenants may add their own)."""

    content_filter_strength: Literal["LOW", "MEDIUM", "HIGH"] = "HIGH"
    prompt_attack_strength: Literal["LOW", "MEDIUM", "HIGH"] = "HIGH"
    anonymize_pii: list[PiiType] = Field(
        default=["EMAIL", "PHONE", "CREDIT_DEBIT_CARD_NUMBER", "AWS_SECRET_KEY"],
        description="PII types masked in prompts and answers",
    )


class GatewaySizing(Strict):
    """How big one FM gateway is: the platform's shared gateway and a tenant's dedicated one are sized alike."""

    vpc_cidr: str = Field("10.64.0.0/20", description="CIDR of the gateway VPC (/16 to /22); private subnets only")
    zones: list[Annotated[str, StringConstraints(pattern=ZONE_PATTERN)]] = Field(
        default=["a", "b"], min_length=2, max_length=3, description="Availability zone letters in the region"
    )
    cpu: Literal[512, 1024, 2048, 4096] = Field(1024, description="Fargate CPU units per task")
    memory_mib: int = Field(2048, ge=1024, le=30720, description="Fargate memory per task")
    min_tasks: int = Field(2, ge=1, le=50)
    max_tasks: int = Field(6, ge=1, le=200)
    target_cpu_percent: int = Field(60, ge=20, le=90, description="Scale out above this average CPU")
    target_requests_per_task: int = Field(
        300, ge=10, le=100_000, description="Scale out above this many requests per task per minute"
    )
    database: GatewayDatabase = GatewayDatabase()
    cache: GatewayCache = GatewayCache()


class FmGatewaySettings(GatewaySizing):
    """LiteLLM proxy on ECS Fargate behind an internal ALB, reached by tenants over PrivateLink."""

    image: ContainerImage
    pull_through_cache: PullThroughCache | None = None
    domain_name: Annotated[str, StringConstraints(pattern=DOMAIN_PATTERN, max_length=253)] = Field(
        description="DNS name tenants call the gateway by; its certificate must be publicly trusted (ACM public, "
        "DNS-validated) while the name resolves privately (tenant VPCs map it to their PrivateLink endpoint)"
    )
    models: list[GatewayModel] = Field(min_length=1, max_length=50)
    guardrail: GatewayGuardrail = GatewayGuardrail()
    spend_log_retention_days: int = Field(
        30, ge=1, le=365, description="Request spend logs are deleted after this many days"
    )
    request_timeout_seconds: int = Field(600, ge=10, le=3600)
    num_retries: int = Field(2, ge=0, le=5, description="Retries on the same model before falling back")
    waf_requests_per_5min: int = Field(
        6000,
        ge=100,
        le=2_000_000,
        description=(
            "WAF rate limit per caller API key (Authorization / x-api-key header): behind PrivateLink every "
            "request comes from the NLB"
        ),
    )
    default_tenant_rpm: int = Field(
        600, ge=1, le=1_000_000, description="Requests per minute per tenant unless the tenant sets its own"
    )
    default_tenant_tpm: int = Field(
        400_000, ge=1, le=100_000_000, description="Tokens per minute per tenant unless set"
    )


class McpServer(Strict):
    """An MCP server the platform hosts on AgentCore Runtime behind the shared tool gateway."""

    name: Annotated[str, StringConstraints(pattern=WORDS_PATTERN, min_length=3, max_length=32)] = Field(
        description="Lowercase words joined by single hyphens; the gateway target is shared-<name>"
    )
    description: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    owner: Email
    version: Annotated[str, StringConstraints(pattern=SEMVER_PATTERN)] = Field(
        description="Semantic version, shown on the runtime; register it in the component catalog with agentzone "
        "catalog register"
    )
    image: ContainerImage
    environment: dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")],
        Annotated[str, StringConstraints(max_length=2048)],
    ] = {}


class ToolGatewaySettings(Strict):
    """The organization-wide AgentCore Gateway for shared tools."""

    policies: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_./-]+\.cedar$")]] = Field(
        default=[], max_length=50, description="Cedar policy files, relative to the config directory"
    )
    enforce: bool = Field(True, description="ENFORCE denies calls the policies do not permit; false logs only")
    mcp_servers: list[McpServer] = Field(default=[], max_length=20)


class AgentImages(Strict):
    """ECR repositories for tenants' agent images."""

    keep_tagged: int = Field(50, ge=1, le=1000, description="Tagged images kept per repository (oldest expire)")
    untagged_expire_days: int = Field(7, ge=1, le=365)


class ExperimentTracking(Strict):
    """SageMaker managed MLflow tracking server."""

    size: Literal["Small", "Medium", "Large"] = "Small"
    mlflow_version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+(\.\d+)?$")] = "3.0"
    maintenance_window: Annotated[str, StringConstraints(pattern=r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):\d{2}:\d{2}$")] = (
        "Sun:02:00"
    )


class SharedServicesSettings(Strict):
    fm_gateway: FmGatewaySettings | None = Field(None, description="The FM gateway; omit to run without one")
    tool_gateway: ToolGatewaySettings = ToolGatewaySettings()
    agent_images: AgentImages = AgentImages()
    experiment_tracking: ExperimentTracking | None = Field(None, description="Managed MLflow; omit to run without it")


class DataLakeSettings(Strict):
    """The data lake account of every platform environment (docs/data-lake.md)."""

    admin_roles: list[RoleName] = Field(
        default=[],
        max_length=MAX_ADMIN_ROLES,
        description="Roles in each data lake account made Lake Formation administrators, besides the deploy role",
    )
    unmasked_environments: list[EnvName] = Field(
        default=["prod"],
        description="Tenant environments that may read curated (unmasked) data; all others read masked data only",
    )
    raw_expire_days: int | None = Field(
        365, ge=1, le=3650, description="Raw objects are deleted after this many days (null: kept)"
    )
    infrequent_access_after_days: int = Field(
        90, ge=30, le=3650, description="Objects in every zone move to Standard-IA after"
    )
    job_schedule: Annotated[str, StringConstraints(pattern=GLUE_CRON_PATTERN)] = Field(
        "cron(0 * * * ? *)", description="When each namespace's crawler and curate-and-mask job run (Glue cron)"
    )
    quality_schedule: Annotated[str, StringConstraints(pattern=SCHEDULE_PATTERN)] = Field(
        "cron(30 2 * * ? *)", description="When the data quality rules run on each curated dataset"
    )
    stream_buffer_seconds: int = Field(
        300, ge=0, le=900, description="Firehose buffers this long before writing a raw object"
    )


class DeliverySettings(Strict):
    """CDK Pipelines for the platform and each tenant (docs/delivery.md)."""

    account: AccountId | None = Field(
        None, description="Account the pipelines run in; default: the central environment's shared-services account"
    )
    region: Region | None = Field(None, description="Defaults to home_region")
    repository: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")] = Field(
        description="Source repository, owner/name, reached through the CodeConnections connection"
    )
    branch: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/-]{1,100}$")] = "main"
    connection_arn: Annotated[
        str,
        StringConstraints(
            pattern=r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"
        ),
    ] = Field(
        description="CodeConnections connection to the repository host (created once, by hand, in the pipeline account)"
    )
    approval_before: list[EnvName] | None = Field(
        None, description="Environments a human approves before they deploy; default: the last environment"
    )
    canary_watch_minutes: int = Field(
        30, ge=0, le=1440, description="How long a canary endpoint must stay alarm-free after a prod deploy"
    )


class Organization(Strict):
    organization: Slug = Field(description="Short name of the organization, used in resource names")
    home_region: Region
    allowed_regions: list[Region] = Field(
        min_length=1, max_length=MAX_ALLOWED_REGIONS, description="Regions workloads may use; home_region must be one"
    )
    management_account: AccountId
    organization_id: Annotated[str, StringConstraints(pattern=ORG_ID_PATTERN)] = Field(
        description="AWS Organizations id (o-...), used in aws:PrincipalOrgID and aws:SourceOrgID conditions"
    )
    root_id: Annotated[str, StringConstraints(pattern=ROOT_ID_PATTERN)] = Field(
        description="Organization root id (r-...), parent of the AgentZone OUs"
    )
    platform: PlatformTeam
    environments: dict[EnvName, PlatformEnvironment] = Field(
        min_length=1, description="Platform environments in promotion order, e.g. dev, staging, prod"
    )
    guardrails: Guardrails = Guardrails()
    audit: Audit = Audit()
    observability: Observability = Observability()
    security: SecuritySettings = SecuritySettings()
    model_prices: dict[Annotated[str, StringConstraints(pattern=MODEL_PATTERN)], ModelPrice] = Field(
        default={}, description="USD per 1,000 [input, output] tokens, for the estimated-cost dashboard widgets"
    )
    shared_services: SharedServicesSettings = SharedServicesSettings()
    data_lake: DataLakeSettings = DataLakeSettings()
    delivery: DeliverySettings | None = Field(None, description="Pipelines; omit to deploy with the CDK CLI only")
    nag: NagSettings = NagSettings()

    @property
    def central_environment(self) -> str:
        return self.audit.central_environment or list(self.environments)[-1]

    @property
    def approval_environments(self) -> list[str]:
        """Environments a human approves before a pipeline deploys them."""
        if self.delivery is None:
            return []
        return (
            list(self.delivery.approval_before)
            if self.delivery.approval_before is not None
            else [list(self.environments)[-1]]
        )

    @property
    def delivery_account(self) -> str | None:
        if self.delivery is None:
            return None
        return self.delivery.account or self.environments[self.central_environment].shared_services


# --------------------------------------------------------------------- tenants


class TenantEnvironment(Strict):
    account: AccountId
    region: Region | None = Field(None, description="Defaults to the organization's home_region")


class Budget(Strict):
    monthly_usd: float = Field(gt=0, le=10_000_000, description="Monthly spend budget per account, USD")
    session_usd: float | None = Field(None, gt=0, le=10_000, description="Cost ceiling for one agent session, USD")
    alert_at_percent: list[Annotated[int, Field(gt=0, le=200)]] = Field(
        default=[80, 100], min_length=1, description="Notify the owner at these percentages of the monthly budget"
    )


CertificateArn = Annotated[str, StringConstraints(pattern=CERTIFICATE_ARN_PATTERN)]
RegistryCredentialArn = Annotated[str, StringConstraints(pattern=REGISTRY_CREDENTIAL_ARN_PATTERN)]


class DedicatedGateway(GatewaySizing):
    """The tenant's own FM gateway in the accounts of the environments ``certificates`` names: the platform's
    gateway blueprint (image, models, guardrail and limits from shared_services.fm_gateway), sized here, serving
    only this tenant's team. Its other environments stay on the shared gateway."""

    domain_name: Annotated[str, StringConstraints(pattern=DOMAIN_PATTERN, max_length=253)] = Field(
        description="DNS name the tenant's agents call its gateway by (publicly trusted certificate, private name)"
    )
    certificates: dict[EnvName, CertificateArn] = Field(
        min_length=1,
        description="ACM certificate for domain_name in the tenant's account and region, per environment: the "
        "environments named here run the dedicated gateway, the others use the shared one",
    )
    registry_credentials: dict[EnvName, RegistryCredentialArn] = Field(
        default={},
        description="An existing secret ecr-pullthroughcache/... in the tenant's account, per environment, holding "
        "the upstream registry's read-only login; without it the stack creates that secret to fill in",
    )


class TenantGateway(Strict):
    """This tenant's team on the FM gateway: the environment's shared gateway, or its own (``dedicated``)."""

    models: list[GatewayModelName] | None = Field(
        None,
        description="Gateway models the team may call; default: every gateway model whose Bedrock model is in models",
    )
    monthly_budget_usd: float | None = Field(
        None, gt=0, le=10_000_000, description="Gateway spend per month; default: budget.monthly_usd"
    )
    rpm: int | None = Field(
        None, ge=1, le=1_000_000, description="Requests per minute; default: the gateway's default_tenant_rpm"
    )
    tpm: int | None = Field(
        None, ge=1, le=100_000_000, description="Tokens per minute; default: the gateway's default_tenant_tpm"
    )
    dedicated: DedicatedGateway | None = Field(
        None,
        description="Run a gateway of the tenant's own in each of its accounts, for a tenant that would saturate the "
        "shared one; its agents call it instead of the shared gateway",
    )


# ------------------------------------------------------------------ blueprints
# What a use-case team selects under ``blueprints:`` in its tenant file. Every
# per-environment difference (image tag, endpoint versions, prompt versions)
# is written here, never branched on in code.

MemoryStrategyName = Literal["semantic", "summary", "user_preference", "episodic"]
MemoryAccess = Literal["read", "read_short_term", "read_long_term", "write", "read_write"]
BlueprintName = Annotated[str, StringConstraints(pattern=WORDS_PATTERN, min_length=2, max_length=20)]
ConfigFile = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$", max_length=200)]
EndpointName = Annotated[str, StringConstraints(pattern=AGENTCORE_NAME_PATTERN)]
VersionLabel = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$")]
EnvVarName = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")]
Namespace = Annotated[str, StringConstraints(pattern=r"^/?[A-Za-z0-9{}/_.:-]{1,255}$")]
FilterStrength = Literal["NONE", "LOW", "MEDIUM", "HIGH"]


class CustomMemoryStrategy(Strict):
    """A built-in strategy type with its own namespaces and extraction instructions."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,47}$")]
    type: MemoryStrategyName
    namespaces: list[Namespace] = Field(
        min_length=1,
        max_length=5,
        description=(
            "Where extracted records go, e.g. /claims/{actorId}/facts ({actorId}, {sessionId}, "
            "{memoryStrategyId} are filled in)"
        ),
    )
    instructions: Annotated[str, StringConstraints(min_length=1, max_length=4000)] | None = Field(
        None, description="Appended to the built-in extraction prompt"
    )
    model: ModelId | None = Field(
        None, description="Model that runs the extraction (must be in the tenant's models); default: the built-in one"
    )


class MemoryResource(Strict):
    """One AgentCore Memory: short-term events plus long-term extraction strategies."""

    expiry_days: int = Field(90, ge=7, le=365, description="Days raw events are kept (AgentCore allows 7-365)")
    strategies: list[MemoryStrategyName] = Field(
        default=["semantic", "summary"], description="Built-in long-term extraction strategies"
    )
    custom_strategies: list[CustomMemoryStrategy] = Field(default=[], max_length=6)
    description: Annotated[str, StringConstraints(max_length=200)] | None = None


class RuntimeRelease(Strict):
    """What one environment's runtime runs, and which immutable version each endpoint serves."""

    image_tag: Annotated[str, StringConstraints(pattern=IMAGE_TAG_PATTERN)] = Field(
        description="Image tag the runtime's newest version runs (changing it creates a new runtime version)"
    )
    endpoints: dict[EndpointName, Annotated[int, Field(ge=1, le=100_000)]] = Field(
        min_length=1,
        max_length=10,
        description="Endpoint name to runtime version, e.g. {PROD: 7}; promotion and rollback change one number",
    )


class RuntimeVpc(Strict):
    """Run the agent in a VPC of its own: isolated subnets, interface endpoints, no internet route."""

    cidr: str = Field("10.80.0.0/22", description="IPv4 CIDR, /16 to /24")
    zones: list[Annotated[str, StringConstraints(pattern=ZONE_PATTERN)]] = Field(
        default=["a", "b"], min_length=2, max_length=3
    )


class AgentLimits(Strict):
    """An agent's own circuit breaker stops, tighter than its tenant's ``safety`` (unset: the tenant's)."""

    max_tool_calls: int | None = Field(None, ge=1, le=10_000, description="Tool calls per session")
    max_tokens: int | None = Field(None, ge=100, le=10_000_000, description="Input plus output tokens per session")
    max_output_tokens: int | None = Field(None, ge=1, le=10_000_000, description="Output tokens per session")
    max_session_cost_usd: float | None = Field(None, gt=0, le=100_000, description="Estimated USD per session")
    max_loop_cost_usd: float | None = Field(None, gt=0, le=10_000, description="Estimated USD per loop iteration")
    max_step_retries: int | None = Field(None, ge=1, le=100, description="Retries of one step")
    human_checkpoint_after: int | None = Field(
        None, ge=1, le=1000, description="Consecutive tool calls on one task before a human decides"
    )


class RuntimeAlarms(Strict):
    system_errors: int = Field(1, ge=1, le=100_000, description="Alarm at this many system errors in 5 minutes")
    throttles: int = Field(5, ge=1, le=100_000, description="Alarm at this many throttles in 5 minutes")
    p95_latency_seconds: float = Field(
        30, gt=0, le=900, description="Alarm when p95 invocation latency exceeds this for 15 minutes"
    )


class AgentRuntimeBlueprint(Strict):
    """An agent on AgentCore Runtime, from an image in the shared-services ECR."""

    image: Annotated[str, StringConstraints(pattern=IMAGE_NAME_PATTERN)] = Field(
        description="One of the tenant's images: agentzone/<tenant>/<image> in the environment's shared-services ECR"
    )
    protocol: Literal["HTTP", "MCP", "A2A"] = "HTTP"
    description: Annotated[str, StringConstraints(max_length=200)] | None = None
    releases: dict[EnvName, RuntimeRelease] = Field(min_length=1, description="One entry per tenant environment")
    vpc: RuntimeVpc | None = Field(None, description="Omit for AgentCore's managed network")
    idle_timeout_minutes: int = Field(15, ge=1, le=480, description="Idle sessions stop after this")
    max_lifetime_hours: int = Field(8, ge=1, le=8, description="Sessions end after this, idle or not")
    memory: dict[BlueprintName, MemoryAccess] = Field(
        default={},
        description="Memories this agent uses and how (read, read_short_term, read_long_term, write, read_write)",
    )
    environment: dict[EnvVarName, Annotated[str, StringConstraints(max_length=2048)]] = Field(default={}, max_length=50)
    alarms: RuntimeAlarms = RuntimeAlarms()
    safety: AgentLimits | None = Field(
        None, description="This agent's own circuit breaker stops, tighter than the tenant's safety section"
    )


class GroundingThresholds(Strict):
    grounding: float = Field(0.75, ge=0, le=0.99, description="Block answers less grounded in the sources than this")
    relevance: float = Field(0.75, ge=0, le=0.99, description="Block answers less relevant to the query than this")


class DeniedTopic(Strict):
    name: Annotated[str, StringConstraints(pattern=r"^[0-9a-zA-Z_ !?.-]{1,100}$")]
    definition: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    examples: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(default=[], max_length=5)


class PiiHandling(Strict):
    anonymize: list[PiiType] = Field(
        default=["EMAIL", "PHONE", "NAME", "ADDRESS"], description="Masked in prompts and answers"
    )
    block: list[PiiType] = Field(
        default=["CREDIT_DEBIT_CARD_NUMBER", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "PASSWORD"],
        description="Requests or answers carrying these are refused",
    )


class GuardrailBlueprint(Strict):
    """A Bedrock guardrail with a published version; the agent may call models only with it."""

    content_filter_strength: FilterStrength = "HIGH"
    prompt_attack_strength: FilterStrength = "HIGH"
    denied_topics: list[DeniedTopic] = Field(default=[], max_length=30)
    pii: PiiHandling = PiiHandling()
    words: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default=[], max_length=1000, description="Words and phrases blocked in prompts and answers"
    )
    profanity: bool = Field(True, description="Block AWS's managed profanity list")
    grounding: GroundingThresholds | None = Field(
        None, description="Contextual grounding check for RAG answers; omit to turn off"
    )
    blocked_message: Annotated[str, StringConstraints(min_length=1, max_length=500)] = (
        "Sorry, I can't help with that request."
    )


class PromptBlueprint(Strict):
    """One managed prompt: its text versions live in files; each environment names the version it serves."""

    description: Annotated[str, StringConstraints(max_length=200)] | None = None
    model: ModelId = Field(description="Model the prompt is written for (one of the tenant's models)")
    versions: dict[VersionLabel, ConfigFile] = Field(
        min_length=1,
        max_length=50,
        description="Version label to a text file under the config directory; {{variable}} marks inputs",
    )
    environments: dict[EnvName, VersionLabel] = Field(
        min_length=1, description="Version each environment serves; promotion changes one label"
    )
    temperature: float = Field(0.2, ge=0, le=1)
    max_tokens: int = Field(1024, ge=1, le=64_000)


class KnowledgeBaseBlueprint(Strict):
    """A Bedrock knowledge base over the tenant's data bucket, vectors in S3 Vectors."""

    embedding_model: ModelId = Field(
        "amazon.titan-embed-text-v2:0", description="Embedding model (must be in the tenant's models)"
    )
    dimensions: Literal[256, 512, 1024] = 1024
    source_prefix: Annotated[str, StringConstraints(pattern=S3_PREFIX_PATTERN)] = Field(
        "knowledge/", description="Prefix in the tenant's agent-data bucket that is ingested"
    )
    chunk_max_tokens: int = Field(300, ge=20, le=8192)
    chunk_overlap_percent: int = Field(20, ge=1, le=99)
    sync_schedule: Annotated[str, StringConstraints(pattern=SCHEDULE_PATTERN)] = Field(
        "rate(1 day)", description="EventBridge Scheduler expression for ingestion jobs"
    )


class LambdaToolTarget(Strict):
    name: Annotated[str, StringConstraints(pattern=WORDS_PATTERN, max_length=40)]
    description: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    function: Annotated[str, StringConstraints(pattern=LAMBDA_FUNCTION_NAME_PATTERN)] = Field(
        description="Lambda function name in each of the tenant's accounts"
    )
    tools: ConfigFile = Field(description="JSON file: a list of tools, each {name, description, inputSchema}")


class OpenApiToolTarget(Strict):
    name: Annotated[str, StringConstraints(pattern=WORDS_PATTERN, max_length=40)]
    description: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    schema_file: ConfigFile = Field(description="OpenAPI 3 document (JSON or YAML) with the server URL")
    api_key_secret: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")] = Field(
        description="Secrets Manager secret in each tenant account holding the API key"
    )
    api_key_header: Annotated[str, StringConstraints(pattern=HTTP_HEADER_PATTERN)] = "x-api-key"


class ToolGatewayBlueprint(Strict):
    """This team's own AgentCore Gateway: its Lambda and OpenAPI tools behind Cedar policies."""

    policies: list[ConfigFile] = Field(
        default=[], max_length=50, description="Cedar policy files under the config directory"
    )
    enforce: bool = Field(True, description="ENFORCE denies calls the policies do not permit; false logs only")
    lambda_targets: list[LambdaToolTarget] = Field(default=[], max_length=20)
    openapi_targets: list[OpenApiToolTarget] = Field(default=[], max_length=20)


ActionCategory = Annotated[str, StringConstraints(pattern=WORDS_PATTERN, max_length=40)]
MetricName = Annotated[str, StringConstraints(pattern=METRIC_NAME_PATTERN)]


class HitlBlueprint(Strict):
    """Human approval for the agent actions config names: a Step Functions workflow per request."""

    approvers: list[Email] = Field(
        min_length=1, max_length=20, description="Notified of every request; may approve or reject"
    )
    categories: list[ActionCategory] = Field(
        min_length=1,
        max_length=30,
        description="Action categories that need a human decision, e.g. payment, account-change",
    )
    timeout_minutes: int = Field(60, ge=5, le=10_080, description="Wait this long for a decision before escalating")
    escalation: list[Email] = Field(
        default=[], max_length=20, description="Notified when the first wait times out; empty: reject on timeout"
    )
    escalation_timeout_minutes: int = Field(
        60, ge=5, le=10_080, description="Second wait, after escalation; then the request is rejected"
    )
    record_retention_days: int = Field(
        365, ge=1, le=3650, description="Decision records are immutable (S3 Object Lock, compliance mode) this long"
    )
    approver_roles: list[RoleName] = Field(
        default=[],
        max_length=20,
        description=(
            "IAM role names (in each tenant account) whose sessions may decide; empty: nobody until grant_approve"
        ),
    )


class EvalPipelineBlueprint(Strict):
    """Offline evaluation of an agent version against thresholds and the last approved baseline."""

    thresholds: dict[MetricName, Annotated[float, Field(ge=0, le=1)]] = Field(
        min_length=1, max_length=30, description="Minimum score per metric (0-1), e.g. correctness: 0.9"
    )
    max_regression: float = Field(
        0.02, ge=0, le=1, description="Largest allowed drop per metric against the approved baseline"
    )
    command: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        None, description="The team's own evaluation command (run in CodeBuild); omit to run a Bedrock evaluation job"
    )
    evaluator_model: ModelId | None = Field(
        None, description="Judge model for Bedrock evaluation jobs (one of the tenant's models)"
    )
    online_sampling_percent: float = Field(10, gt=0, le=100, description="AgentCore online evaluation sample in prod")
    canary_schedule: Annotated[str, StringConstraints(pattern=SCHEDULE_PATTERN)] = Field(
        "rate(1 hour)", description="Scheduled canary replay of the golden set in staging and prod"
    )
    canary_environments: list[EnvName] = Field(
        default=["staging", "prod"], description="Environments the canary runs in"
    )


class SafetyControls(Strict):
    """Hard stops every agent goes through: per-session limits, the kill switch, cost alarms."""

    max_tool_calls: int = Field(
        25, ge=1, le=10_000, description="Tool calls per session before the circuit breaker trips"
    )
    max_tokens: int = Field(50_000, ge=100, le=10_000_000, description="Input plus output tokens per session")
    max_session_minutes: int = Field(30, ge=1, le=480, description="Wall-clock minutes per session")
    kill_switch_cache_seconds: int = Field(
        30, ge=1, le=300, description="How long the agent may cache the kill-switch value"
    )
    daily_cost_usd: float | None = Field(
        None,
        gt=0,
        le=1_000_000,
        description="Alarm when a day's estimated spend passes this; default: budget.monthly_usd / 30",
    )
    max_output_tokens: int | None = Field(
        None, ge=1, le=10_000_000, description="Output tokens per session (within max_tokens); unset: not checked"
    )
    max_loop_cost_usd: float | None = Field(
        None, gt=0, le=10_000, description="Estimated USD one loop iteration (a model call and its tool calls) may cost"
    )
    max_step_retries: int = Field(3, ge=1, le=100, description="Retries of one step before the breaker refuses it")
    human_checkpoint_after: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="Consecutive tool calls on one task after which the breaker answers needs_human_approval and the "
        "agent asks the tenant's HITL workflow (category agent-checkpoint)",
    )


# The session store's key: one item per snapshot, strings (an ISO-8601 UTC time sorts as text).
SESSION_STORE_PARTITION_KEY = "session_id"
SESSION_STORE_SORT_KEY = "snapshot_at"


class SessionStoreBlueprint(Strict):
    """A DynamoDB table where agents keep snapshots of their session state; snapshots expire."""

    ttl_attribute: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")] = Field(
        "expires_at", description="Number attribute (epoch seconds) after which DynamoDB deletes a snapshot"
    )
    ttl_days: int = Field(
        7, ge=1, le=365, description="How long agents keep a snapshot: they set the TTL attribute to now + this"
    )
    agents: list[BlueprintName] = Field(
        default=[], max_length=10, description="Agents (blueprints.runtime) that read and write it; empty: every agent"
    )


# ------------------------------------------------------------------ data lake

DataName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,30}$")]
ColumnName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
FEEDBACK_DATASET = "agent_signals"


class DataColumn(Strict):
    name: ColumnName
    type: Literal["string", "int", "bigint", "double", "boolean", "timestamp", "date"] = "string"
    required: bool = Field(False, description="Records without a value here are rejected on the way to curated")
    pii: Literal["hash", "redact", "partial"] | None = Field(
        None,
        description=(
            "How the masked zone hides it: hash (keyed HMAC, still joinable), redact (null), partial (last 4 kept)"
        ),
    )
    description: Annotated[str, StringConstraints(max_length=255)] | None = None


class Dataset(Strict):
    """One table in each zone: raw_<name>, curated_<name>, masked_<name>."""

    name: DataName
    description: Annotated[str, StringConstraints(max_length=255)] | None = None
    ingestion: Literal["batch", "stream"] = Field(
        "batch",
        description=(
            "batch: files under the raw prefix, partitioned dt=YYYY-MM-DD; stream: a Firehose stream writes them"
        ),
    )
    columns: list[DataColumn] = Field(min_length=1, max_length=200)
    quality_rules: list[Annotated[str, StringConstraints(min_length=3, max_length=1000)]] = Field(
        default=[],
        max_length=50,
        description='Glue Data Quality (DQDL) rules on the curated table, e.g. ColumnValues "amount" >= 0',
    )


class DataNamespace(Strict):
    """A Glue database in the data lake that only this tenant's accounts can read."""

    name: DataName
    description: Annotated[str, StringConstraints(max_length=255)] | None = None
    datasets: list[Dataset] = Field(default=[], max_length=20)
    feedback_from: list[EnvName] = Field(
        default=[],
        description=f"Tenant environments whose agent monitoring signals land here as the {FEEDBACK_DATASET} dataset",
    )
    producers: list[AccountId] = Field(
        default=[], max_length=20, description="Accounts that may assume this namespace's ingest role to write raw data"
    )


class TenantData(Strict):
    namespaces: list[DataNamespace] = Field(
        default=[], max_length=10, description="This tenant's namespaces in the data lake"
    )


class Blueprints(Strict):
    """Blueprints this tenant vends into each of its accounts (docs/blueprints.md)."""

    guardrail: GuardrailBlueprint | None = None
    memory: dict[BlueprintName, MemoryResource] = Field(
        default={}, max_length=10, description="Named memories; agents pick theirs under runtime.<agent>.memory"
    )
    prompt_store: dict[BlueprintName, PromptBlueprint] = Field(default={}, max_length=50)
    knowledge_base: KnowledgeBaseBlueprint | None = None
    tool_gateway: ToolGatewayBlueprint | None = None
    runtime: dict[BlueprintName, AgentRuntimeBlueprint] = Field(
        default={}, max_length=10, description="Agents, by name"
    )
    hitl: HitlBlueprint | None = None
    eval_pipeline: EvalPipelineBlueprint | None = None
    session_store: SessionStoreBlueprint | None = None

    def selected(self) -> list[str]:
        """Names of the blueprints this tenant uses, in field order."""
        return [name for name in type(self).model_fields if getattr(self, name)]


class Tenant(Strict):
    tenant: Slug = Field(description="Unique slug of the use-case team, e.g. claims")
    owner: Email = Field(description="Team mailbox; receives budget notifications")
    cost_center: CostCenter
    use_case_id: Annotated[str, StringConstraints(pattern=USE_CASE_PATTERN)] = Field(
        description="Use-case id used for cost allocation, e.g. UC-0042"
    )
    description: str | None = Field(None, max_length=256)
    environments: dict[EnvName, TenantEnvironment] = Field(
        min_length=1, description="One account per platform environment the tenant deploys to"
    )
    models: list[ModelId] = Field(
        min_length=1,
        max_length=MAX_TENANT_MODELS,
        description="Foundation models this tenant may call (enforced by SCP)",
    )
    direct_model_access: bool = Field(
        False,
        description="Allow Bedrock calls without a guardrail from this tenant's accounts (otherwise only guarded calls "
        "or the FM gateway); needs platform approval",
    )
    auth_scopes: list[Scope] = Field(
        default=["invoke"], min_length=1, max_length=20, description="OAuth2 scopes of this tenant's resource server"
    )
    budget: Budget
    fm_gateway: TenantGateway = TenantGateway()
    images: list[Annotated[str, StringConstraints(pattern=IMAGE_NAME_PATTERN)]] = Field(
        default=["agent"],
        max_length=10,
        description="ECR repositories agentzone/<tenant>/<name> in each shared-services account",
    )
    catalog_launchers: list[RoleName] = Field(
        default_factory=list,
        max_length=10,
        description="IAM roles (names, in each of the tenant's accounts) that may launch its self-service "
        "products; the account imports its portfolio either way",
    )
    experiment_tracking: Literal[True, False, "isolated"] = Field(
        True,
        description="MLflow for this tenant: true, a role on the environment's shared tracking server (tenants see "
        "each other's experiments); isolated, a tracking server of its own that no other tenant can reach (billed "
        "per hour, per environment); false, none",
    )
    safety: SafetyControls = SafetyControls()
    data: TenantData = TenantData()
    blueprints: Blueprints = Blueprints()

    def dedicated_gateway(self, environment: str) -> DedicatedGateway | None:
        """The tenant's own FM gateway in ``environment`` (``fm_gateway.dedicated`` names a certificate there)."""
        dedicated = self.fm_gateway.dedicated
        return dedicated if dedicated is not None and environment in dedicated.certificates else None


def tenant_gateway_models(tenant: Tenant, settings: FmGatewaySettings) -> list[str]:
    """Gateway model names the tenant's team may call, in the gateway's model order.

    ``fm_gateway.models`` when the tenant sets it; otherwise every gateway
    model whose Bedrock model id is in the tenant's ``models`` allow-list
    (the same exact-id rule the config checks apply to an explicit list).
    """
    chosen = tenant.fm_gateway.models
    if chosen is not None:
        wanted = set(chosen)
        return [model.name for model in settings.models if model.name in wanted]
    allowed = set(tenant.models)
    return [model.name for model in settings.models if model.model in allowed]


def feedback_senders(tenants: Iterable[Tenant]) -> list[str]:
    """Tenant accounts named by some namespace's feedback_from: the lake's feedback bus policy lists them."""
    return sorted(
        {
            tenant.environments[env].account
            for tenant in tenants
            for ns in tenant.data.namespaces
            for env in ns.feedback_from
            if env in tenant.environments
        }
    )


class LandingZone(BaseModel):
    """The whole validated configuration, tenants sorted by name for deterministic synth."""

    model_config = ConfigDict(frozen=True)

    organization: Organization
    tenants: tuple[Tenant, ...]
    source_dir: str

    def region_of(self, env: PlatformEnvironment | TenantEnvironment) -> str:
        return env.region or self.organization.home_region

    def tenant_accounts(self, environment: str) -> list[str]:
        """The accounts tenants have in one environment, sorted (platform policies list them)."""
        return sorted({t.environments[environment].account for t in self.tenants if environment in t.environments})

    def tenant(self, name: str) -> Tenant:
        for tenant in self.tenants:
            if tenant.tenant == name:
                return tenant
        raise KeyError(name)
