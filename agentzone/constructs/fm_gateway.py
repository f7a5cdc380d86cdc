"""The FM gateway: a LiteLLM proxy on ECS Fargate that tenants reach only over PrivateLink.

::

    tenant VPC endpoint ──PrivateLink──▶ NLB (TCP 443) ──▶ internal ALB (HTTPS, WAF) ──▶ Fargate tasks (LiteLLM :4000)
                                                                                          ├─▶ Aurora PostgreSQL Serverless v2 (keys, teams, budgets, spend)
                                                                                          ├─▶ ElastiCache Redis (TLS + AUTH: shared rpm/tpm, cache)
                                                                                          └─▶ Bedrock, S3, Secrets Manager, ECR, Logs, STS via VPC endpoints

Everything runs in PRIVATE_ISOLATED subnets: no internet gateway, no NAT. The
image comes from ECR in the same account (a repository, or a pull-through-cache
path that ECR fills from its upstream on first pull). LiteLLM reads its
configuration at start from an S3 object (``LITELLM_CONFIG_BUCKET_NAME`` /
``LITELLM_CONFIG_BUCKET_OBJECT_KEY``, LiteLLM's documented mechanism for
Fargate); the object key is the SHA-256 of the configuration, so a change
rolls the service and a rollback finds the old object still there.

The construct takes :class:`FmGatewayProps`, never the landing-zone config,
so a heavy tenant can vend a dedicated copy from its own CDK app::

    gateway = FmGateway(self, "FmGateway", props=FmGatewayProps(
        name="claims", certificate_arn=cert_arn, domain_name="llm.claims.example.internal",
        image_repository="ghcr/berriai/litellm", image_tag="v1.77.7-stable",
        model_ids=("eu.anthropic.claude-sonnet-4-5-v1:0",), allowed_principal_accounts=("111111111111",),
    ), encryption_key=key, proxy_config=config)

Environment the container gets (the LiteLLM config refers to these with
``os.environ/NAME``): see :data:`CONTAINER_ENVIRONMENT`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as elbv2_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ..nag import acknowledge, acknowledge_compliance
from ..naming import FM_GATEWAY_ROLE_PREFIX, PREFIX, split_profile
from ..patterns import DOMAIN_PATTERN, MODEL_PATTERN, REPOSITORY_PATTERN, ZONE_PATTERN
from .alarm_topic import encrypted_alarm_topic
from .ids import invalid_accounts
from .retention import retained_log_group
from .secure_bucket import AccessLogsBucket, SecureBucket

if TYPE_CHECKING:
    from ..config.model import FmGatewaySettings

# ----------------------------------------------------------------- constants

CONTAINER_PORT = 4000
HTTPS_PORT = 443
POSTGRES_PORT = 5432
REDIS_PORT = 6379
HEALTH_PATH = "/health/liveliness"  # LiteLLM's unauthenticated liveness probe (sic)
DATABASE_NAME = "litellm"
DATABASE_USER = "litellm"
AURORA_VERSION = rds.AuroraPostgresEngineVersion.VER_16_9
REDIS_ENGINE_VERSION = "7.1"  # redis-py (LiteLLM's client) speaks it; non-cluster mode
REDIS_PARAMETER_GROUP = "default.redis7"
CONFIG_PREFIX = "config/"

# What the container sees; the LiteLLM config generator refers to these names.
CONTAINER_ENVIRONMENT = {
    "LITELLM_CONFIG_BUCKET_NAME": "bucket holding the proxy config (LiteLLM loads it at start)",
    "LITELLM_CONFIG_BUCKET_OBJECT_KEY": "object key of the proxy config (config/<sha256>.yaml)",
    "LITELLM_MASTER_KEY": "secret: admin key, starts with sk-",
    "LITELLM_SALT_KEY": "secret: encrypts credentials LiteLLM stores in Postgres; never changes",
    "DATABASE_HOST": "Aurora writer endpoint host:port (LiteLLM builds DATABASE_URL from DATABASE_*)",
    "DATABASE_NAME": "database name",
    "DATABASE_USERNAME": "secret: database user",
    "DATABASE_PASSWORD": "secret: database password",
    "REDIS_HOST": "primary endpoint of the Redis replication group",
    "REDIS_PORT": "Redis port",
    "REDIS_PASSWORD": "secret: Redis AUTH token",
    "REDIS_SSL": "True: ElastiCache requires TLS",
    "AWS_REGION_NAME": "region LiteLLM calls Bedrock in",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True: use the bundled price map, there is no internet egress",
}

# Interface endpoints the tasks (and the ECS agent acting for them) need; S3 is a gateway endpoint.
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "Bedrock": ec2.InterfaceVpcEndpointAwsService.BEDROCK,
    "BedrockRuntime": ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
}

# AWSManagedRulesCommonRuleSet rules that would block legitimate LLM traffic; counted, not blocked.
WAF_COUNT_ONLY_RULES = {
    "SizeRestrictions_BODY": "Prompts routinely exceed the rule's 8 KB body limit; LiteLLM enforces its own request limits.",
    "CrossSiteScripting_BODY": "Prompts legitimately carry HTML and code; the gateway is a JSON API, never rendered by a browser.",
}

# Upstreams that need a login (a Secrets Manager secret ecr-pullthroughcache/<prefix>) and their ECR names.
PULL_THROUGH_UPSTREAMS = {
    "ghcr.io": ("github-container-registry", True),
    "registry-1.docker.io": ("docker-hub", True),
    "quay.io": ("quay", False),
    "public.ecr.aws": ("ecr-public", False),
}
# Geography prefixes of Bedrock system-defined (cross-region) inference profiles.
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
            pull_through_cache=PullThroughCacheProps(prefix=ptc.prefix, upstream=ptc.upstream) if ptc else None,
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


# ------------------------------------------------------------ model ARNs


@dataclass(frozen=True)
class BedrockResources:
    """The ARNs the gateway may invoke, grouped by how IAM must name them."""

    foundation_models: tuple[str, ...]  # in this region, invoked directly
    inference_profiles: tuple[str, ...]  # system-defined cross-region profiles, in this account and region
    profile_models: tuple[str, ...]  # the models behind those profiles, in any region the profile routes to
    application_profiles: str  # per-tenant application inference profiles in this account


def bedrock_resources(model_ids: Sequence[str], *, partition: str, region: str, account: str) -> BedrockResources:
    direct, profiles, behind = [], [], []
    for model_id in dict.fromkeys(model_ids):
        geography, model = split_profile(model_id)
        if geography is None:
            direct.append(f"arn:{partition}:bedrock:{region}::foundation-model/{model}")
        else:
            profiles.append(f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{model_id}")
            behind.append(f"arn:{partition}:bedrock:*::foundation-model/{model}")
    return BedrockResources(
        foundation_models=tuple(direct),
        inference_profiles=tuple(profiles),
        profile_models=tuple(dict.fromkeys(behind)),
        application_profiles=f"arn:{partition}:bedrock:{region}:{account}:application-inference-profile/*",
    )


# ------------------------------------------------------------------ construct


class FmGateway(Construct):
    """LiteLLM on Fargate behind an internal ALB with WAF, Aurora, Redis, PrivateLink and alarms.

    Attributes for the team-provisioning function and other stacks: ``vpc``,
    ``admin_security_group`` (may reach the ALB on 443 and the VPC endpoints),
    ``gateway_url`` (resolves to the ALB inside the gateway VPC through a
    private hosted zone), ``master_key_secret``, ``encryption_key``,
    ``endpoint_service`` / ``endpoint_service_name``, ``alarm_topic``,
    ``alarms``, ``service``, ``load_balancer``, ``database``, ``cache``.

    ``encryption_key`` must let CloudWatch Logs in this account use it (as
    :class:`~agentzone.constructs.encryption_key.BaselineKey` does); the
    construct adds the CloudWatch alarm grant when it creates the alarm topic.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: FmGatewayProps,
        encryption_key: kms.IKey,
        proxy_config: Mapping,
        alarm_topic: sns.ITopic | None = None,
        access_logs: AccessLogsBucket | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        if cdk.Token.is_unresolved(stack.region) or cdk.Token.is_unresolved(stack.account):
            raise ValueError(
                "FmGateway needs a stack with an explicit env (account and region): zones are named, not looked up"
            )
        self.props = props
        self.encryption_key = encryption_key
        self.gateway_url = f"https://{props.domain_name}"
        self._access_logs = access_logs or AccessLogsBucket(self, "AccessLogs")

        self._network()
        self._secrets()
        self._database()
        self._cache()
        self._config_object(proxy_config)
        self._service()
        self._load_balancers()
        self._firewall()
        self._private_link()
        self._scaling()
        self.alarm_topic = alarm_topic or self._topic()
        self._alarms()

    # ---------------------------------------------------------------- network

    def _network(self) -> None:
        props, stack = self.props, cdk.Stack.of(self)
        flow_logs = self._log_group("FlowLogs")
        vpc_prefix = int(props.vpc_cidr.split("/")[1])
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(props.vpc_cidr),
            availability_zones=[f"{stack.region}{z}" for z in props.zones],
            nat_gateways=0,
            create_internet_gateway=False,
            restrict_default_security_group=True,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=vpc_prefix + 2
                )
            ],
        )
        flow_log_role = iam.Role(
            self,
            "FlowLogRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="Writes the FM gateway VPC's flow logs to its log group",
        )
        iam.ManagedPolicy(
            self,
            "FlowLogPolicy",
            roles=[flow_log_role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[flow_logs.log_group_arn],
                )
            ],
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs, flow_log_role.without_policy_updates()),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        self._subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        cidr = ec2.Peer.ipv4(props.vpc_cidr)  # literal: nag's port rules cannot evaluate Fn::GetAtt CidrBlock

        def group(construct_id: str, description: str) -> ec2.SecurityGroup:
            return ec2.SecurityGroup(
                self, construct_id, vpc=self.vpc, description=description, allow_all_outbound=False
            )

        self._endpoint_sg = group(
            "EndpointSecurityGroup", "FM gateway VPC interface endpoints: HTTPS from inside the VPC"
        )
        self._endpoint_sg.add_ingress_rule(cidr, ec2.Port.tcp(HTTPS_PORT), "HTTPS from the gateway VPC")
        for name, service in INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                private_dns_enabled=True,
                subnets=self._subnets,
                security_groups=[self._endpoint_sg],
                open=False,
            )
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[self._subnets])

        self._task_sg = group("TaskSecurityGroup", "FM gateway tasks")
        # Without an internet gateway or NAT, 443 reaches only the VPC endpoints and the S3 gateway endpoint
        # (whose prefix list cannot be named without a lookup).
        self._task_sg.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS_PORT), "AWS APIs through the VPC endpoints"
        )
        self._alb_sg = group(
            "AlbSecurityGroup", "FM gateway ALB: HTTPS from the PrivateLink NLB and the admin function"
        )
        self._nlb_sg = group("NlbSecurityGroup", "FM gateway PrivateLink NLB")
        self._nlb_sg.add_ingress_rule(cidr, ec2.Port.tcp(HTTPS_PORT), "HTTPS from PrivateLink and the gateway VPC")
        self._nlb_sg.add_egress_rule(self._alb_sg, ec2.Port.tcp(HTTPS_PORT), "to the ALB")
        self._alb_sg.add_ingress_rule(self._nlb_sg, ec2.Port.tcp(HTTPS_PORT), "from the PrivateLink NLB")
        self.admin_security_group = group(
            "AdminSecurityGroup",
            "Attach to functions that administer the gateway (teams, keys): may reach the ALB and the VPC endpoints",
        )
        self.admin_security_group.add_egress_rule(self._alb_sg, ec2.Port.tcp(HTTPS_PORT), "to the gateway ALB")
        self.admin_security_group.add_egress_rule(self._endpoint_sg, ec2.Port.tcp(HTTPS_PORT), "to the VPC endpoints")
        self._alb_sg.add_ingress_rule(self.admin_security_group, ec2.Port.tcp(HTTPS_PORT), "from the admin function")

    # ---------------------------------------------------------------- secrets

    def _secret(self, construct_id: str, description: str, **kwargs) -> secretsmanager.Secret:
        return secretsmanager.Secret(
            self,
            construct_id,
            description=description,
            encryption_key=self.encryption_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            **kwargs,
        )

    def _secrets(self) -> None:
        # LiteLLM wants the master key to start with sk-; Secrets Manager cannot prefix a generated value,
        # so the key is "sk-" + a generated seed, joined by CloudFormation through a dynamic reference.
        seed = self._secret(
            "MasterKeySeed",
            "FM gateway: random part of the LiteLLM master key (the key is sk-<this>)",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=48),
        )
        self.master_key_secret = self._secret(
            "MasterKey",
            "FM gateway: LiteLLM master key (admin API); plain string starting with sk-",
            secret_string_value=cdk.SecretValue.unsafe_plain_text("sk-" + seed.secret_value.unsafe_unwrap()),
        )
        self.salt_key_secret = self._secret(
            "SaltKey",
            "FM gateway: LITELLM_SALT_KEY, encrypts credentials stored in the database; never change it",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=64),
        )
        # ElastiCache AUTH tokens: 16-128 printable characters without spaces, '/', '"' or '@'.
        self.redis_auth_secret = self._secret(
            "RedisAuthToken",
            "FM gateway: Redis AUTH token",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=64),
        )
        reasons = {
            seed: "The seed only exists to build the master key; rotating it alone would desynchronize the two.",
            self.master_key_secret: "LiteLLM rotates its master key through its own API (re-encrypting stored "
            "credentials); a Secrets Manager rotation would lock the gateway out of its database records.",
            self.salt_key_secret: "LITELLM_SALT_KEY encrypts credentials stored in Postgres; changing it makes "
            "them unreadable, so it must never rotate.",
            self.redis_auth_secret: "ElastiCache AUTH rotation needs a coordinated ROTATE/SET on the replication "
            "group and a task restart; it is an operator runbook step, not an unattended rotation.",
        }
        for secret, reason in reasons.items():
            _no_rotation(secret, reason)

    # --------------------------------------------------------------- database

    def _database(self) -> None:
        props = self.props
        self._db_sg = ec2.SecurityGroup(
            self,
            "DatabaseSecurityGroup",
            vpc=self.vpc,
            description="FM gateway Aurora: Postgres from the tasks only",
            allow_all_outbound=False,
        )
        self._db_sg.add_ingress_rule(self._task_sg, ec2.Port.tcp(POSTGRES_PORT), "Postgres from the gateway tasks")
        self._task_sg.add_egress_rule(self._db_sg, ec2.Port.tcp(POSTGRES_PORT), "to Aurora")
        engine = rds.DatabaseClusterEngine.aurora_postgres(version=AURORA_VERSION)
        # RDS publishes the postgresql log here; created first so it carries the CMK and a retention.
        db_logs = self._log_group("DatabaseLogs", log_group_name=f"/aws/rds/cluster/{props.resource_name}/postgresql")
        instance = dict(
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
            enable_performance_insights=True,
            performance_insight_encryption_key=self.encryption_key,
        )
        zones = self.vpc.availability_zones
        self.database = rds.DatabaseCluster(
            self,
            "Database",
            engine=engine,
            cluster_identifier=props.resource_name,
            credentials=rds.Credentials.from_generated_secret(
                DATABASE_USER,
                encryption_key=self.encryption_key,
                exclude_characters=" %+~`#$&*()|[]{}:;<>?!'/@\"\\",
            ),
            default_database_name=DATABASE_NAME,
            writer=rds.ClusterInstance.serverless_v2("Writer", availability_zone=zones[0], **instance),
            readers=[
                rds.ClusterInstance.serverless_v2(
                    "Reader", availability_zone=zones[1], scale_with_writer=True, **instance
                )
            ],
            serverless_v2_min_capacity=props.database.min_capacity_acu,
            serverless_v2_max_capacity=props.database.max_capacity_acu,
            vpc=self.vpc,
            vpc_subnets=self._subnets,
            security_groups=[self._db_sg],
            port=POSTGRES_PORT,
            storage_encrypted=True,
            storage_encryption_key=self.encryption_key,
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            backup=rds.BackupProps(
                retention=cdk.Duration.days(props.database.backup_retention_days), preferred_window="02:00-03:00"
            ),
            preferred_maintenance_window="sun:04:00-sun:05:00",
            iam_authentication=True,
            cloudwatch_logs_exports=["postgresql"],
            monitoring_interval=cdk.Duration.seconds(60),
            copy_tags_to_snapshot=True,
            parameter_group=rds.ParameterGroup(
                self,
                "DatabaseParameters",
                engine=engine,
                description="FM gateway Aurora: TLS only",
                parameters={"rds.force_ssl": "1"},
            ),
        )
        self.database.node.add_dependency(db_logs)
        self.database_secret = self.database.secret
        assert self.database_secret is not None
        generated_secret = self.database.node.find_child("Secret")  # cluster.secret is its attachment
        generated_secret.apply_removal_policy(cdk.RemovalPolicy.RETAIN)  # a retained database keeps its credentials
        _no_rotation(
            generated_secret,
            "LiteLLM reads DATABASE_PASSWORD once at task start for its connection pool; an unattended rotation "
            "would break new connections until every task restarts. Rotate with a redeploy (runbook).",
        )
        for instance_id in ("Writer", "Reader"):
            acknowledge_compliance(
                self.database.node.find_child(instance_id),
                "RDSInBackupPlan",
                "Aurora's continuous backup gives point-in-time recovery over the configured retention window; "
                "the database holds keys, budgets and spend that LiteLLM can rebuild from config and usage logs.",
            )
        monitoring_role = self.database.node.try_find_child("MonitoringRole")
        if monitoring_role is not None:
            acknowledge(
                monitoring_role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
                "RDS enhanced monitoring publishes OS metrics with this AWS-maintained service policy; it grants "
                "only log writes to the RDSOSMetrics log group.",
            )

    # ------------------------------------------------------------------ cache

    def _cache(self) -> None:
        props = self.props
        self._cache_sg = ec2.SecurityGroup(
            self,
            "CacheSecurityGroup",
            vpc=self.vpc,
            description="FM gateway Redis: from the tasks only",
            allow_all_outbound=False,
        )
        self._cache_sg.add_ingress_rule(self._task_sg, ec2.Port.tcp(REDIS_PORT), "Redis from the gateway tasks")
        self._task_sg.add_egress_rule(self._cache_sg, ec2.Port.tcp(REDIS_PORT), "to Redis")
        subnet_group = elasticache.CfnSubnetGroup(
            self,
            "CacheSubnets",
            description="FM gateway Redis: isolated subnets",
            subnet_ids=self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
        )
        slow_log = self._log_group("CacheSlowLog")
        nodes = 1 + props.cache.replicas
        zones = self.vpc.availability_zones
        self.cache = elasticache.CfnReplicationGroup(
            self,
            "Cache",
            replication_group_id=props.cache_id,
            replication_group_description=f"FM gateway {props.name}: LiteLLM rate limits and response cache",
            engine="redis",
            engine_version=REDIS_ENGINE_VERSION,
            cache_parameter_group_name=REDIS_PARAMETER_GROUP,
            cache_node_type=props.cache.node_type,
            num_cache_clusters=nodes,
            preferred_cache_cluster_a_zs=[zones[i % len(zones)] for i in range(nodes)],
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            port=REDIS_PORT,
            cache_subnet_group_name=subnet_group.ref,
            security_group_ids=[self._cache_sg.security_group_id],
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=self.redis_auth_secret.secret_value.unsafe_unwrap(),  # {{resolve:secretsmanager:...}}
            at_rest_encryption_enabled=True,
            kms_key_id=self.encryption_key.key_arn,
            snapshot_retention_limit=props.cache.snapshot_retention_days,
            snapshot_window="02:00-03:00",
            preferred_maintenance_window="sun:04:00-sun:05:00",
            auto_minor_version_upgrade=True,
            log_delivery_configurations=[
                elasticache.CfnReplicationGroup.LogDeliveryConfigurationRequestProperty(
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type="slow-log",
                    destination_details=elasticache.CfnReplicationGroup.DestinationDetailsProperty(
                        cloud_watch_logs_details=elasticache.CfnReplicationGroup.CloudWatchLogsDestinationDetailsProperty(
                            log_group=slow_log.log_group_name
                        )
                    ),
                )
            ],
        )
        for resource in (self.cache, subnet_group):
            resource.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        acknowledge(
            self.cache,
            "AwsSolutions-AEC5",
            "A non-default port hides nothing from a scanner; the cache sits in isolated subnets, its security group "
            "admits only the gateway tasks, and it requires TLS and an AUTH token.",
        )
        self._cache_nodes = [f"{props.cache_id}-{i:03d}" for i in range(1, nodes + 1)]

    # ----------------------------------------------------------------- config

    def _config_object(self, proxy_config: Mapping) -> None:
        stack = cdk.Stack.of(self)
        # Hash the resolved form: tokens (e.g. a guardrail id) hash as their CloudFormation expressions.
        digest = hashlib.sha256(json.dumps(stack.resolve(dict(proxy_config)), sort_keys=True).encode()).hexdigest()
        self.config_object_key = f"{CONFIG_PREFIX}{digest}.yaml"
        self.config_bucket = SecureBucket(
            self, "ConfigBucket", encryption_key=self.encryption_key, access_logs=self._access_logs
        )
        deployment_logs = self._log_group("ConfigDeploymentLogs")
        deployment_sg = ec2.SecurityGroup(
            self,
            "ConfigDeploymentSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="FM gateway config upload: HTTPS to S3 through the gateway endpoint",
        )
        deployment_sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS_PORT), "S3 through the gateway endpoint")
        self._config_deployment = s3_deployment.BucketDeployment(
            self,
            "ConfigDeployment",
            destination_bucket=self.config_bucket.bucket,
            sources=[s3_deployment.Source.yaml_data(self.config_object_key, dict(proxy_config))],
            prune=False,  # earlier configs stay for rollbacks and tasks still starting
            retain_on_delete=True,
            vpc=self.vpc,
            vpc_subnets=self._subnets,
            security_groups=[deployment_sg],
            log_group=deployment_logs,
            memory_limit=256,
        )
        self._acknowledge_config_deployment()

    # ---------------------------------------------------------------- service

    def _service(self) -> None:
        props, stack = self.props, cdk.Stack.of(self)
        self.cluster = ecs.Cluster(self, "Cluster", vpc=self.vpc, container_insights_v2=ecs.ContainerInsights.ENHANCED)
        repository = ecr.Repository.from_repository_name(self, "Repository", props.image_repository)
        if props.pull_through_cache:
            self._pull_through_cache(props.pull_through_cache)
        container_logs = self._log_group("ContainerLogs")

        execution_role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=self._ecs_tasks_principal(),
            description="FM gateway: pulls the image, reads the container secrets, writes container logs",
        )
        secrets = [self.master_key_secret, self.salt_key_secret, self.redis_auth_secret, self.database_secret]
        execution_statements = [
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(
                actions=["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                resources=[repository.repository_arn],
            ),
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[container_logs.log_group_arn]
            ),
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[s.secret_arn for s in secrets]),
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[self.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{stack.region}.{stack.url_suffix}"}},
            ),
        ]
        if props.pull_through_cache:
            # The first pull through the cache creates the repository and imports the image as the puller.
            execution_statements.append(
                iam.PolicyStatement(
                    actions=["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                    resources=[repository.repository_arn],
                )
            )
        self._execution_policy = iam.ManagedPolicy(
            self, "ExecutionPolicy", roles=[execution_role], statements=execution_statements
        )
        acknowledge(
            self._execution_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken has no resource-level permissions; image pulls are limited to the gateway's repository.",
        )

        self.task_role = iam.Role(
            self,
            "TaskRole",
            role_name=props.role_name,
            assumed_by=self._ecs_tasks_principal(),
            description="FM gateway tasks: invoke the gateway's Bedrock models, apply its guardrail, read its config",
        )
        self._task_policy = iam.ManagedPolicy(
            self, "TaskPolicy", roles=[self.task_role], statements=self._task_statements()
        )
        self._acknowledge_task_policy()

        task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            cpu=props.cpu,
            memory_limit_mib=props.memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=getattr(ecs.CpuArchitecture, props.cpu_architecture),
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            # Immutable: every permission is in the managed policies above, nothing is added behind them.
            execution_role=execution_role.without_policy_updates(),
            task_role=self.task_role.without_policy_updates(),
        )
        database_secret = self.database_secret
        self.container = task_definition.add_container(
            "litellm",
            image=ecs.ContainerImage.from_ecr_repository(repository, tag=props.image_tag),
            essential=True,
            port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT, protocol=ecs.Protocol.TCP)],
            environment={
                "LITELLM_CONFIG_BUCKET_NAME": self.config_bucket.bucket_name,
                "LITELLM_CONFIG_BUCKET_OBJECT_KEY": self.config_object_key,
                "DATABASE_HOST": f"{self.database.cluster_endpoint.hostname}:{POSTGRES_PORT}",
                "DATABASE_NAME": DATABASE_NAME,
                "REDIS_HOST": self.cache.attr_primary_end_point_address,
                "REDIS_PORT": str(REDIS_PORT),
                "REDIS_SSL": "True",
                "AWS_REGION_NAME": stack.region,
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            },
            secrets={
                "LITELLM_MASTER_KEY": ecs.Secret.from_secrets_manager(self.master_key_secret),
                "LITELLM_SALT_KEY": ecs.Secret.from_secrets_manager(self.salt_key_secret),
                "DATABASE_USERNAME": ecs.Secret.from_secrets_manager(database_secret, "username"),
                "DATABASE_PASSWORD": ecs.Secret.from_secrets_manager(database_secret, "password"),
                "REDIS_PASSWORD": ecs.Secret.from_secrets_manager(self.redis_auth_secret),
            },
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix="litellm",
                log_group=container_logs,
                mode=ecs.AwsLogDriverMode.NON_BLOCKING,
                max_buffer_size=cdk.Size.mebibytes(25),
            ),
            health_check=ecs.HealthCheck(
                command=[
                    "CMD-SHELL",
                    f"python3 -c \"import urllib.request; urllib.request.urlopen('http://localhost:{CONTAINER_PORT}{HEALTH_PATH}')\"",
                ],
                interval=cdk.Duration.seconds(30),
                timeout=cdk.Duration.seconds(5),
                retries=3,
                start_period=cdk.Duration.seconds(120),
            ),
            stop_timeout=cdk.Duration.seconds(120),
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=task_definition,
            desired_count=props.min_tasks,
            min_healthy_percent=100,
            max_healthy_percent=200,
            assign_public_ip=False,
            vpc_subnets=self._subnets,
            security_groups=[self._task_sg],
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            health_check_grace_period=cdk.Duration.minutes(5),  # first start runs database migrations
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
        )
        # Tasks read the config object at start with the task role's policy, after pulling with the execution
        # role's: all three must exist first.
        self.service.node.add_dependency(self._config_deployment, self._execution_policy, self._task_policy)
        acknowledge(
            task_definition,
            "AwsSolutions-ECS2",
            "The plain environment holds only endpoints, names and flags LiteLLM reads at start; the master key, salt "
            "key, database credentials and Redis token come from Secrets Manager through the container's secrets.",
        )

    def _ecs_tasks_principal(self) -> iam.IPrincipal:
        stack = cdk.Stack.of(self)
        return iam.ServicePrincipal("ecs-tasks.amazonaws.com").with_conditions(
            {"StringEquals": {"aws:SourceAccount": stack.account}}
        )

    def _task_statements(self) -> list[iam.PolicyStatement]:
        props, stack = self.props, cdk.Stack.of(self)
        arns = bedrock_resources(props.model_ids, partition=stack.partition, region=stack.region, account=stack.account)
        self.bedrock = arns
        invoke = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
        statements = [
            iam.PolicyStatement(
                sid="InvokeGatewayModels",
                actions=invoke,
                resources=[*arns.foundation_models, *arns.inference_profiles, arns.application_profiles],
            ),
        ]
        if arns.profile_models:
            # A cross-region profile routes to the model in any region of its geography; allow that only
            # through an inference profile of this account (system profile or a tenant's application profile).
            statements.append(
                iam.PolicyStatement(
                    sid="InvokeModelsBehindProfiles",
                    actions=invoke,
                    resources=list(arns.profile_models),
                    conditions={
                        "StringLike": {
                            "bedrock:InferenceProfileArn": [*arns.inference_profiles, arns.application_profiles]
                        }
                    },
                )
            )
        if props.guardrail_arn:
            statements.append(
                iam.PolicyStatement(
                    sid="ApplyGatewayGuardrail",
                    actions=["bedrock:ApplyGuardrail", "bedrock:GetGuardrail"],
                    resources=[props.guardrail_arn],
                )
            )
        statements += [
            iam.PolicyStatement(
                sid="ReadProxyConfig",
                actions=["s3:GetObject"],
                resources=[self.config_bucket.bucket.arn_for_objects(f"{CONFIG_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="DecryptProxyConfig",
                actions=["kms:Decrypt"],
                resources=[self.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.{stack.url_suffix}"}},
            ),
        ]
        return statements

    def _pull_through_cache(self, ptc: PullThroughCacheProps) -> None:
        credential = None
        if ptc.needs_credentials:
            # Encrypted with aws/secretsmanager on purpose: ECR reads it as its pull-through-cache service-linked
            # role, whose policy has no kms:Decrypt and which a key policy cannot name before it exists.
            credential = secretsmanager.Secret(
                self,
                "PullThroughCacheCredential",
                secret_name=ptc.credential_secret_name,
                description=f"Registry login for the ECR pull-through cache of {ptc.upstream}: "
                'replace with {"username": ..., "accessToken": ...} (a read-only token)',
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    secret_string_template=json.dumps({"username": "REPLACE_ME"}),
                    generate_string_key="accessToken",
                ),
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            acknowledge_compliance(
                credential,
                "SecretsManagerUsingKMSKey",
                "ECR reads pull-through-cache credentials with its service-linked role, which has no kms:Decrypt and "
                "cannot be named in a key policy before it exists; the secret holds a read-only registry token.",
            )
            acknowledge(credential, "AwsSolutions-SMG4", _PTC_NO_ROTATION)
            acknowledge_compliance(credential, "SecretsManagerRotationEnabled", _PTC_NO_ROTATION)
        ecr.CfnPullThroughCacheRule(
            self,
            "PullThroughCache",
            ecr_repository_prefix=ptc.prefix,
            upstream_registry=PULL_THROUGH_UPSTREAMS[ptc.upstream][0],
            upstream_registry_url=ptc.upstream,
            credential_arn=credential.secret_arn if credential else None,
        )
        self.pull_through_cache_credential = credential

    # --------------------------------------------------------- load balancers

    def _load_balancers(self) -> None:
        props = self.props
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.vpc,
            vpc_subnets=self._subnets,
            internet_facing=False,
            security_group=self._alb_sg,
            deletion_protection=True,
            drop_invalid_header_fields=True,
            desync_mitigation_mode=elbv2.DesyncMitigationMode.DEFENSIVE,
            # Streaming completions can stay open up to the request timeout.
            idle_timeout=cdk.Duration.seconds(min(4000, props.request_timeout_seconds + 60)),
        )
        self.load_balancer.log_access_logs(self._access_logs.bucket, prefix=f"fm-gateway-{props.name}/alb")
        self.listener = self.load_balancer.add_listener(
            "Https",
            port=HTTPS_PORT,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_arn(props.certificate_arn)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            open=False,
        )
        self.target_group = self.listener.add_targets(
            "Gateway",
            port=CONTAINER_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.service.load_balancer_target(container_name="litellm", container_port=CONTAINER_PORT)],
            health_check=elbv2.HealthCheck(
                path=HEALTH_PATH,
                healthy_http_codes="200",
                interval=cdk.Duration.seconds(15),
                timeout=cdk.Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
            deregistration_delay=cdk.Duration.seconds(min(3600, props.request_timeout_seconds)),
        )
        # Inside the gateway VPC (the admin function) the domain resolves to the ALB, so TLS verifies against
        # the certificate; tenants map the same name to their PrivateLink endpoint in their own VPCs.
        self.hosted_zone = route53.PrivateHostedZone(
            self,
            "Zone",
            zone_name=props.domain_name,
            vpc=self.vpc,
            comment=f"FM gateway {props.name}: the ALB inside the gateway VPC",
        )
        route53.ARecord(
            self,
            "AlbRecord",
            zone=self.hosted_zone,
            target=route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(self.load_balancer)),
        )

    # ------------------------------------------------------------------- WAF

    def _firewall(self) -> None:
        props, stack = self.props, cdk.Stack.of(self)
        waf = wafv2.CfnWebACL
        visibility = lambda name: waf.VisibilityConfigProperty(  # noqa: E731
            cloud_watch_metrics_enabled=True,
            metric_name=f"fm-gateway-{props.name}-{name}",
            sampled_requests_enabled=True,
        )

        def managed(priority: int, name: str, count_only: Mapping[str, str] = {}) -> wafv2.CfnWebACL.RuleProperty:
            return waf.RuleProperty(
                name=name,
                priority=priority,
                override_action=waf.OverrideActionProperty(none={}),
                statement=waf.StatementProperty(
                    managed_rule_group_statement=waf.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS",
                        name=name,
                        rule_action_overrides=[
                            waf.RuleActionOverrideProperty(name=rule, action_to_use=waf.RuleActionProperty(count={}))
                            for rule in sorted(count_only)
                        ]
                        or None,
                    )
                ),
                visibility_config=visibility(name),
            )

        def per_key_rate(priority: int, name: str, header: str) -> wafv2.CfnWebACL.RuleProperty:
            # Behind PrivateLink every request comes from the NLB's addresses, so a per-IP limit would throttle
            # all tenants together; the limit applies per API key instead.
            return waf.RuleProperty(
                name=name,
                priority=priority,
                action=waf.RuleActionProperty(block={}),
                statement=waf.StatementProperty(
                    rate_based_statement=waf.RateBasedStatementProperty(
                        limit=props.waf_requests_per_5min,
                        evaluation_window_sec=300,
                        aggregate_key_type="CUSTOM_KEYS",
                        custom_keys=[
                            waf.RateBasedStatementCustomKeyProperty(
                                header=waf.RateLimitHeaderProperty(
                                    name=header,
                                    text_transformations=[waf.TextTransformationProperty(priority=0, type="NONE")],
                                )
                            )
                        ],
                    )
                ),
                visibility_config=visibility(name),
            )

        self.web_acl = waf(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=waf.DefaultActionProperty(allow={}),
            description=f"FM gateway {props.name}: managed rules and a per-API-key rate limit",
            visibility_config=visibility("acl"),
            rules=[
                per_key_rate(0, "RatePerApiKey", "authorization"),
                per_key_rate(1, "RatePerAnthropicApiKey", "x-api-key"),
                managed(2, "AWSManagedRulesCommonRuleSet", WAF_COUNT_ONLY_RULES),
                managed(3, "AWSManagedRulesKnownBadInputsRuleSet"),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.load_balancer.load_balancer_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
        waf_logs = self._log_group("WafLogs", log_group_name=f"aws-waf-logs-{PREFIX}-fm-gateway-{props.name}")
        wafv2.CfnLoggingConfiguration(
            self,
            "WafLogging",
            resource_arn=self.web_acl.attr_arn,
            # WAF wants the log group ARN without the trailing ':*'.
            log_destination_configs=[
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=waf_logs.log_group_name,
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            redacted_fields=[  # API keys never reach the logs
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "authorization"}),
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "x-api-key"}),
            ],
        )

    # ------------------------------------------------------------ PrivateLink

    def _private_link(self) -> None:
        props, stack = self.props, cdk.Stack.of(self)
        self.network_load_balancer = elbv2.NetworkLoadBalancer(
            self,
            "PrivateLinkLoadBalancer",
            vpc=self.vpc,
            vpc_subnets=self._subnets,
            internet_facing=False,
            cross_zone_enabled=True,
            deletion_protection=True,
            security_groups=[self._nlb_sg],
            # Who may connect is decided by the endpoint service's allowed principals.
            enforce_security_group_inbound_rules_on_private_link_traffic=False,
        )
        self.network_load_balancer.log_access_logs(self._access_logs.bucket, prefix=f"fm-gateway-{props.name}/nlb")
        listener = self.network_load_balancer.add_listener("Tcp443", port=HTTPS_PORT, protocol=elbv2.Protocol.TCP)
        acknowledge_compliance(
            listener,
            "ELBv2ACMCertificateRequired",
            "PrivateLink needs a Network Load Balancer, and an ALB target group on it must be TCP: TLS passes through "
            "unbroken to the internal ALB, whose HTTPS listener terminates it with the ACM certificate.",
        )
        listener.add_targets(
            "Alb",
            port=HTTPS_PORT,
            targets=[elbv2_targets.AlbListenerTarget(self.listener)],
            health_check=elbv2.HealthCheck(
                protocol=elbv2.Protocol.HTTPS, path=HEALTH_PATH, interval=cdk.Duration.seconds(30)
            ),
        )
        self.endpoint_service = ec2.VpcEndpointService(
            self,
            "EndpointService",
            vpc_endpoint_service_load_balancers=[self.network_load_balancer],
            acceptance_required=False,
            allowed_principals=[
                iam.ArnPrincipal(f"arn:{stack.partition}:iam::{account}:root")
                for account in props.allowed_principal_accounts
            ],
        )
        cdk.CfnOutput(
            self,
            "EndpointServiceName",
            value=self.endpoint_service.vpc_endpoint_service_name,
            description=f"Tenants create an interface endpoint to this service and map {props.domain_name} to it",
        )

    # ------------------------------------------------------------- scaling

    def _scaling(self) -> None:
        props = self.props
        scaling = self.service.auto_scale_task_count(min_capacity=props.min_tasks, max_capacity=props.max_tasks)
        scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=props.target_cpu_percent,
            scale_in_cooldown=cdk.Duration.minutes(5),
            scale_out_cooldown=cdk.Duration.minutes(1),
        )
        scaling.scale_on_request_count(
            "Requests",
            requests_per_target=props.target_requests_per_task,
            target_group=self.target_group,
            scale_in_cooldown=cdk.Duration.minutes(5),
            scale_out_cooldown=cdk.Duration.minutes(1),
        )

    # ------------------------------------------------------------- alarms

    def _topic(self) -> sns.Topic:
        return encrypted_alarm_topic(
            self, "AlarmTopic", encryption_key=self.encryption_key, display_name=f"FM gateway {self.props.name} alarms"
        )

    def _alarms(self) -> None:
        props = self.props
        five_minutes = cdk.Duration.minutes(5)
        not_breaching = cloudwatch.TreatMissingData.NOT_BREACHING
        alb, tg = self.load_balancer.metrics, self.target_group.metrics
        cache_metric = lambda name, stat: cloudwatch.MathExpression(  # noqa: E731
            expression=f"MAX([{','.join(f'n{i}' for i in range(len(self._cache_nodes)))}])",
            using_metrics={
                f"n{i}": cloudwatch.Metric(
                    namespace="AWS/ElastiCache",
                    metric_name=name,
                    statistic=stat,
                    dimensions_map={"CacheClusterId": node},
                    period=five_minutes,
                )
                for i, node in enumerate(self._cache_nodes)
            },
            label=f"{name} (highest node)",
            period=five_minutes,
        )
        specs = {
            "Alb5xx": (
                alb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=five_minutes, statistic="Sum"),
                10,
                1,
                not_breaching,
                "The ALB itself returned 5xx (no healthy target, timeouts)",
            ),
            "Target5xx": (
                alb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=five_minutes, statistic="Sum"),
                25,
                1,
                not_breaching,
                "LiteLLM returned 5xx (provider errors after retries and fallbacks)",
            ),
            "TargetLatencyP95": (
                alb.target_response_time(period=five_minutes, statistic="p95"),
                props.latency_alarm_seconds,
                3,
                not_breaching,
                "p95 time to first byte from LiteLLM",
            ),
            "UnhealthyTasks": (
                tg.unhealthy_host_count(period=cdk.Duration.minutes(1), statistic="Maximum"),
                1,
                3,
                not_breaching,
                "A gateway task fails its health check",
            ),
            "NoHealthyTasks": (
                tg.healthy_host_count(period=cdk.Duration.minutes(1), statistic="Minimum"),
                1,
                2,
                cloudwatch.TreatMissingData.BREACHING,
                "No healthy gateway task: the gateway is down",
            ),
            "ServiceCpuHigh": (
                self.service.metric_cpu_utilization(period=five_minutes, statistic="Average"),
                85,
                3,
                not_breaching,
                "Tasks stay above 85% CPU (scaling is at its limit or too slow)",
            ),
            "DatabaseAtMaxCapacity": (
                self.database.metric("ServerlessDatabaseCapacity", period=five_minutes, statistic="Maximum"),
                props.database.max_capacity_acu,
                3,
                not_breaching,
                "Aurora runs at its maximum ACUs",
            ),
            "CacheCpuHigh": (
                cache_metric("EngineCPUUtilization", "Maximum"),
                80,
                3,
                not_breaching,
                "Redis engine CPU above 80%",
            ),
            "CacheMemoryHigh": (
                cache_metric("DatabaseMemoryUsagePercentage", "Maximum"),
                80,
                3,
                not_breaching,
                "Redis memory above 80%: rate-limit counters are at risk of eviction",
            ),
            "CacheEvictions": (
                cache_metric("Evictions", "Sum"),
                1,
                1,
                not_breaching,
                "Redis evicted keys: rate-limit counters may have been lost",
            ),
        }
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        below = {"NoHealthyTasks"}
        for name, (metric, threshold, periods, missing, description) in specs.items():
            alarm = cloudwatch.Alarm(
                self,
                f"{name}Alarm",
                metric=metric,
                threshold=threshold,
                evaluation_periods=periods,
                comparison_operator=(
                    cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
                    if name in below
                    else cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
                ),
                treat_missing_data=missing,
                alarm_description=f"FM gateway {props.name}: {description}",
            )
            alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
            alarm.add_ok_action(cw_actions.SnsAction(self.alarm_topic))
            self.alarms[name] = alarm

    # ------------------------------------------------------------- helpers

    def _log_group(self, construct_id: str, log_group_name: str | None = None) -> logs.LogGroup:
        return retained_log_group(
            self,
            construct_id,
            log_group_name=log_group_name,
            encryption_key=self.encryption_key,
            retention_days=self.props.log_retention_days,
        )

    def _acknowledge_task_policy(self) -> None:
        stack = cdk.Stack.of(self)
        policy, arns = self._task_policy, self.bedrock
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{_nag(arns.application_profiles)}]",
            "Tenants' application inference profiles are created in this account by their own stacks, after this "
            "one; the wildcard is limited to application profiles in this account and region.",
        )
        for arn in arns.profile_models:
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::{_nag(arn)}]",
                "A cross-region inference profile may route to this model in any region of its geography; the "
                "statement only applies through this account's inference profiles (bedrock:InferenceProfileArn).",
            )
        bucket = self.config_bucket.bucket.node.default_child
        assert isinstance(bucket, cdk.CfnResource)
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(bucket)}.Arn>/{CONFIG_PREFIX}*]",
            "Config objects are named by their hash; tasks of the previous task definition must still read theirs "
            "during a rolling deployment or rollback. Read-only, one prefix of the gateway's own bucket.",
        )

    def _acknowledge_config_deployment(self) -> None:
        """The config upload runs in aws-cdk-lib's BucketDeployment singleton; acknowledge its findings on it only."""
        stack = cdk.Stack.of(self)
        deployment = self._config_deployment
        role = deployment.handler_role
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "aws-cdk-lib's BucketDeployment handler role writes its own logs with this AWS-maintained policy.",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
            "The BucketDeployment handler runs in the isolated subnets (S3 through the gateway endpoint) and needs ENI management.",
        )
        policy = role.node.try_find_child("DefaultPolicy")
        assert policy is not None
        wildcard_actions = {
            "s3:GetObject*": "read the deployment's source asset and the destination object",
            "s3:GetBucket*": "read bucket location and settings of the asset and config buckets",
            "s3:List*": "list the asset and config buckets during the copy",
            "s3:Abort*": "abort its own multipart uploads to the config bucket",
            "s3:DeleteObject*": "granted by BucketDeployment's read/write grant; prune is off so nothing is deleted",
            "kms:GenerateDataKey*": "encrypt the config object with the gateway's CMK",
            "kms:ReEncrypt*": "part of BucketDeployment's grant on the gateway's CMK only",
        }
        for action, why in wildcard_actions.items():
            acknowledge(policy, f"AwsSolutions-IAM5[Action::{action}]", f"aws-cdk-lib's BucketDeployment grant: {why}.")
        bucket = self.config_bucket.bucket.node.default_child
        assert isinstance(bucket, cdk.CfnResource)
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(bucket)}.Arn>/*]",
            "BucketDeployment writes the proxy config into the gateway's own config bucket; no other bucket.",
        )
        for resource in _asset_bucket_wildcards(stack, policy):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::{resource}]",
                "The CDK bootstrap asset bucket holds the zipped config this deployment copies; asset keys are content hashes.",
            )
        acknowledge_compliance(
            policy,
            "IAMNoInlinePolicy",
            "aws-cdk-lib's BucketDeployment writes its handler's grants as a policy attached only to that role.",
        )
        function = next(
            (
                c
                for c in stack.node.children
                if c.node.id.startswith("Custom::CDKBucketDeployment") and role.node.path.startswith(c.node.path + "/")
            ),
            None,
        )
        assert function is not None, "BucketDeployment handler not found"
        acknowledge(
            function,
            "AwsSolutions-L1",
            "aws-cdk-lib pins the BucketDeployment handler's runtime (with its AWS CLI layer); it moves with CDK upgrades.",
        )
        acknowledge_compliance(
            function,
            "LambdaConcurrency",
            "Invoked only by CloudFormation when the gateway config changes; reserving concurrency would take it from the account.",
        )
        acknowledge_compliance(
            function,
            "LambdaDLQ",
            "CloudFormation invokes it synchronously and receives every failure as a FAILED response; nothing to dead-letter.",
        )

    # ----------------------------------------------------------- attributes

    @property
    def endpoint_service_name(self) -> str:
        return self.endpoint_service.vpc_endpoint_service_name

    def grant_admin(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let an admin function read the master key (it also needs ``admin_security_group``)."""
        return self.master_key_secret.grant_read(grantee)


def _no_rotation(secret: Construct, reason: str) -> None:
    acknowledge(secret, "AwsSolutions-SMG4", reason)
    acknowledge_compliance(secret, "SecretsManagerRotationEnabled", reason)


def _nag(arn: str) -> str:
    """An ARN as cdk-nag prints it in finding ids (an unresolved partition as <AWS::Partition>)."""
    return re.sub(r"\$\{Token\[AWS\.Partition\.\d+\]\}", "<AWS::Partition>", arn)


def _asset_bucket_wildcards(stack: cdk.Stack, policy: iam.Policy) -> list[str]:
    """Literal CDK-asset-bucket object wildcards in a policy, as cdk-nag names them."""
    found = []
    for statement in stack.resolve(policy.document).get("Statement", []):
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            if isinstance(resource, str) and "-assets-" in resource and resource.endswith("/*"):
                found.append(resource)
    return sorted(set(found))


_PTC_NO_ROTATION = (
    "The registry token is issued by the upstream registry (GitHub, Docker Hub), not by AWS; the operator "
    "replaces it there and in this secret before it expires."
)
