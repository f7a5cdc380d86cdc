"""AgentCore Runtime blueprint: one agent per tenant environment, its endpoints pinned to immutable versions.

Why: AgentCore keeps every configuration a runtime has run as an
immutable, numbered version, and an endpoint (DEV, PREPROD, PROD, ...) is a
named pointer at one version. The tenant's YAML names, per environment, the
image tag the runtime's newest version runs and the version each endpoint
serves::

    runtime:
      agent:
        image: agent
        protocol: A2A
        releases:
          dev:  {image_tag: "1.9.0", endpoints: {DEV: 9}}
          prod: {image_tag: "1.7.2", endpoints: {PROD: 7, PREPROD: 8}}

Promotion is one config line (``PROD: 7`` -> ``PROD: 8``) and rollback is the
same line back: no image is rebuilt, no other endpoint moves, and the version
an endpoint served is still there to return to. A new ``image_tag`` creates the
next version on deploy; an endpoint can name a version only once it exists
(deploy the tag, then point the endpoint at the new number).

What the agent gets by default: its image from the environment's
shared-services ECR (pull rights on exactly that repository), inbound JWT auth
through the central identity (or IAM/SigV4 when none is configured), tracing,
AgentCore's managed network (or an isolated VPC of its own), lifecycle limits,
and per-endpoint alarms on system errors, throttles and p95 latency.

Environment variables the agent sees (see :data:`RUNTIME_VARIABLES`): the
runtime's own ``AGENTZONE_*`` names, the config ``environment`` map (which may
not use the ``AGENTZONE_`` prefix), and what each attachment returns
(``AGENTZONE_MEMORY_<ALIAS>_ID``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..config.model import AgentRuntimeBlueprint, RuntimeRelease
from ..constructs.isolated_vpc import IsolatedVpc, IsolatedVpcProps, PrivateService
from ..nag import acknowledge_runtime_role
from ..patterns import AGENTCORE_NAME_PATTERN, IMAGE_TAG_PATTERN, REPOSITORY_PATTERN
from .context import AgentAttachment, BlueprintContext, CentralIdentity, ImageRegistry, tag_map
from .registry import BlueprintSpec, not_offered

RuntimeProtocol = Literal["HTTP", "MCP", "A2A", "AGUI"]

RESERVED_PREFIX = "AGENTZONE_"
TENANT_VARIABLE = "AGENTZONE_TENANT"
ENVIRONMENT_VARIABLE = "AGENTZONE_ENVIRONMENT"
AGENT_VARIABLE = "AGENTZONE_AGENT"  # safety.circuit_breaker.ENV_AGENT: the breaker checks an agent's own limits
FM_GATEWAY_URL_VARIABLE = "AGENTZONE_FM_GATEWAY_URL"
RUNTIME_VARIABLES = {
    TENANT_VARIABLE: "the tenant id (from_config)",
    ENVIRONMENT_VARIABLE: "the tenant environment, e.g. dev (from_config)",
    AGENT_VARIABLE: "the agent's name in config, which it sends the circuit breaker (from_config)",
    FM_GATEWAY_URL_VARIABLE: "the environment's FM gateway URL, once the platform has deployed it (from_config)",
}
INVOKE_ACTION = "bedrock-agentcore:InvokeAgentRuntime"
DEFAULT_ENDPOINT = "DEFAULT"  # AgentCore's own endpoint, always on the newest version: never pinned, never granted

# Interface endpoints of the isolated VPC: what an agent calls, and what AgentCore needs to start it there.
RUNTIME_VPC_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "BedrockRuntime": ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,  # models (with the guardrail)
    "AgentCore": ec2.InterfaceVpcEndpointAwsService.BEDROCK_AGENTCORE,  # memory, identity tokens, other agents
    "AgentCoreGateway": ec2.InterfaceVpcEndpointAwsService.BEDROCK_AGENTCORE_GATEWAY,  # tool gateways (MCP)
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,  # image pull: authorization, manifests
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "S3": ec2.InterfaceVpcEndpointAwsService.S3,  # image layers (presigned S3 URLs), data bucket
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,  # EMF/PutMetricData (session cost)
    "XRay": ec2.InterfaceVpcEndpointAwsService.XRAY,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,  # kill switch and circuit-breaker settings (Parameter Store)
}

_NAME = re.compile(AGENTCORE_NAME_PATTERN)  # runtime and endpoint names (AgentCore)
_VARIABLE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,99}$")
_TAG = re.compile(IMAGE_TAG_PATTERN)
_REPOSITORY = re.compile(REPOSITORY_PATTERN)
_ECR_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?P<cn>\.cn)?/(?P<repo>[a-z0-9._/-]+):(?P<tag>[\w.-]{1,128})$"
)


# --------------------------------------------------------------------- props


@dataclass(frozen=True)
class RuntimeImage:
    """An ECR image by repository and tag; the runtime's role may pull from exactly this repository.

    Build one with :meth:`from_registry` (the landing zone's shared-services
    ECR), :meth:`from_uri` (any ECR image URI, for teams outside the landing
    zone) or :meth:`from_repository` (a repository in your own app).
    """

    repository_arn: str
    repository_name: str
    tag: str

    def __post_init__(self) -> None:
        if not cdk.Token.is_unresolved(self.tag) and (self.tag == "latest" or not _TAG.match(self.tag)):
            raise ValueError(
                f"image tag {self.tag!r}: pin a release tag (letters, digits, '_', '.', '-'), not 'latest'"
            )
        if not cdk.Token.is_unresolved(self.repository_name) and not _REPOSITORY.match(self.repository_name):
            raise ValueError(f"{self.repository_name!r} is not an ECR repository name")

    @classmethod
    def from_registry(cls, registry: ImageRegistry, *, tenant: str, image: str, tag: str) -> RuntimeImage:
        """``agentzone/<tenant>/<image>:<tag>`` in the environment's shared-services ECR (cross-account)."""
        return cls(
            repository_arn=registry.repository_arn(tenant, image, partition=cdk.Aws.PARTITION),
            repository_name=registry.repository_name(tenant, image),
            tag=tag,
        )

    @classmethod
    def from_uri(cls, uri: str) -> RuntimeImage:
        """``<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>``."""
        match = _ECR_URI.match(uri)
        if not match:
            raise ValueError(
                f"image URI {uri!r} is not an ECR image URI "
                "(<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>)"
            )
        return cls(
            repository_arn=f"arn:{cdk.Aws.PARTITION}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}",
            repository_name=match["repo"],
            tag=match["tag"],
        )

    @classmethod
    def from_repository(cls, repository: ecr.IRepository, tag: str) -> RuntimeImage:
        return cls(repository_arn=repository.repository_arn, repository_name=repository.repository_name, tag=tag)


@dataclass(frozen=True)
class RuntimeVpcProps:
    """Run the agent in an isolated VPC of its own (see :class:`~agentzone.constructs.isolated_vpc.IsolatedVpc`)."""

    cidr: str = "10.80.0.0/22"
    zones: tuple[str, ...] = ("a", "b")
    log_retention_days: int = 365
    private_services: tuple[PrivateService, ...] = ()  # PrivateLink services the agent calls (the FM gateway)


@dataclass(frozen=True)
class RuntimeAlarmThresholds:
    """Per endpoint: sums over 5 minutes, and p95 latency over three 5-minute periods."""

    system_errors: int = 1
    throttles: int = 5
    p95_latency_seconds: float = 30


@dataclass(frozen=True)
class AgentRuntimeProps:
    """Everything an agent runtime needs, without the landing-zone config.

    ``endpoints`` maps endpoint names to the immutable runtime version each
    serves. ``identity`` switches inbound auth to JWT; without it callers
    need IAM (SigV4) and an explicit :meth:`AgentRuntime.grant_invoke`.
    ``attachments`` grant the execution role what the agent uses and add
    their environment variables. ``encryption_key`` is required with ``vpc``
    (flow logs); ``alarm_topic`` gets every alarm and its recovery.
    """

    runtime_name: str
    image: RuntimeImage
    endpoints: Mapping[str, int]
    protocol: RuntimeProtocol = "HTTP"
    description: str | None = None
    identity: CentralIdentity | None = None
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    attachments: Sequence[AgentAttachment] = ()
    idle_timeout_minutes: int = 15
    max_lifetime_hours: int = 8
    vpc: RuntimeVpcProps | None = None
    encryption_key: kms.IKey | None = None
    alarms: RuntimeAlarmThresholds = field(default_factory=RuntimeAlarmThresholds)
    alarm_topic: sns.ITopic | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not _NAME.match(self.runtime_name):
            problems.append(
                f"runtime_name {self.runtime_name!r}: letters, digits and '_', starting with a letter, at most 48"
            )
        if not self.endpoints:
            problems.append("endpoints: at least one endpoint name -> runtime version")
        for name, version in self.endpoints.items():
            if not _NAME.match(name) or name.upper() == DEFAULT_ENDPOINT:
                problems.append(
                    f"endpoint {name!r}: letters, digits and '_', starting with a letter, not {DEFAULT_ENDPOINT}"
                )
            if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= 99_999:
                problems.append(f"endpoint {name!r}: version {version!r} is not a runtime version (1 to 99999)")
        if self.protocol not in ("HTTP", "MCP", "A2A", "AGUI"):
            problems.append(f"protocol {self.protocol!r}: one of HTTP, MCP, A2A, AGUI")
        if self.identity is not None and not (self.identity.allowed_scopes or self.identity.allowed_clients):
            problems.append(
                "identity: name allowed_scopes or allowed_clients, or every token of the pool could call the agent"
            )
        problems += [
            f"environment variable {k!r}: letters, digits and '_', not starting with a digit"
            for k in self.environment_variables
            if not _VARIABLE.match(k)
        ]
        if not 1 <= self.idle_timeout_minutes <= 480:
            problems.append(f"idle_timeout_minutes {self.idle_timeout_minutes}: 1 to 480")
        if not 1 <= self.max_lifetime_hours <= 8:
            problems.append(f"max_lifetime_hours {self.max_lifetime_hours}: 1 to 8")
        elif self.idle_timeout_minutes > self.max_lifetime_hours * 60:
            problems.append(
                f"idle_timeout_minutes {self.idle_timeout_minutes} is longer than "
                f"max_lifetime_hours {self.max_lifetime_hours}"
            )
        if self.vpc is not None and self.encryption_key is None:
            problems.append("vpc: pass encryption_key too (the VPC's flow logs are encrypted with it)")
        if problems:
            raise ValueError(f"invalid AgentRuntimeProps for {self.runtime_name!r}:\n  " + "\n  ".join(problems))


# ------------------------------------------------------------------ construct


class AgentRuntime(Construct):
    """An agent on AgentCore Runtime: pinned endpoints, JWT (or IAM) inbound, tracing, alarms.

    Usable from a tenant YAML file (``blueprints: {runtime: {<name>: ...}}``, see
    :meth:`from_config`) or directly::

        agent = AgentRuntime(stack, "Agent", props=AgentRuntimeProps(
            runtime_name="claims_triage_dev",
            image=RuntimeImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/triage:1.4.0"),
            endpoints={"DEV": 3},
            identity=CentralIdentity(discovery_url=url, allowed_scopes=("claims/invoke",)),
            attachments=[memory.for_agent("read_write", alias="claims")],
        ))
        agent.grant_invoke(caller_role)        # IAM-auth runtimes only
        agent.metric_latency("DEV", statistic="p99")

    **Inbound auth.** With ``identity`` the runtime accepts only bearer
    tokens from the central identity pool carrying one of its scopes (and
    from one of its clients, when named). Without it the runtime stays on
    AgentCore's IAM (SigV4) inbound auth: the secure fallback, since then
    no one may invoke it except principals granted
    ``bedrock-agentcore:InvokeAgentRuntime`` (:meth:`grant_invoke`); there is
    never an unauthenticated runtime.

    **Execution role.** The construct creates the role itself (trusting
    AgentCore for runtimes of this name in this account only) and passes
    it to the L2, because attachments must grant on it and return their
    environment variables *before* the runtime exists: the L2 takes
    environment variables only at construction. The L2 then adds to this
    role exactly what it adds to a role it creates (runtime logs, traces,
    the bedrock-agentcore metric namespace, workload identity, image pull on
    the one repository), so nothing is granted beyond the L2's defaults plus
    the attachments' grants. ``bedrock:InvokeModel`` comes only from an
    attachment that grants it (the guardrail, the FM gateway).

    The runtime's ``DEFAULT`` endpoint always follows the newest version; it
    is neither pinned nor granted, so callers use the named endpoints.

    Alarm and metric dimensions follow the L2's (``Name`` =
    ``<runtime name>::<endpoint>``); an encrypted ``alarm_topic`` must let
    CloudWatch use its key.
    """

    REGISTRY_NAME = "runtime"

    def __init__(self, scope: Construct, construct_id: str, *, props: AgentRuntimeProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.runtime_name = props.runtime_name
        self._role = self._execution_role(props)
        self.environment_variables = self._attach(props)
        self.network: IsolatedVpc | None = None
        self.security_group: ec2.SecurityGroup | None = None
        network_configuration = self._isolated_network(props) if props.vpc is not None else None
        self.runtime = self._runtime(props, network_configuration)
        self._endpoints = self._pinned_endpoints(props)
        self.alarms = self._alarms(props.alarms, props.alarm_topic)
        self._acknowledge()

    # ---------------------------------------------------------- construction

    def _execution_role(self, props: AgentRuntimeProps) -> iam.Role:
        """The runtime's role, trusting AgentCore for runtimes of this name in this account only."""
        stack = cdk.Stack.of(self)
        return iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal(
                "bedrock-agentcore.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    # Runtime ids are <name>-<10 characters>: this runtime and no other.
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="bedrock-agentcore", resource="runtime", resource_name=f"{props.runtime_name}-*"
                        )
                    },
                },
            ),
            description=f"Execution role of the AgentCore runtime {props.runtime_name}",
            max_session_duration=cdk.Duration.hours(8),
        )

    def _isolated_network(self, props: AgentRuntimeProps) -> agentcore.RuntimeNetworkConfiguration:
        """An isolated VPC of the runtime's own, reaching AWS only through its interface endpoints."""
        assert props.vpc is not None and props.encryption_key is not None  # checked by the props
        self.network = IsolatedVpc(
            self,
            "Network",
            props=IsolatedVpcProps(
                purpose=f"AgentCore runtime {props.runtime_name}",
                cidr=props.vpc.cidr,
                zones=props.vpc.zones,
                encryption_key=props.encryption_key,
                interface_endpoints=RUNTIME_VPC_ENDPOINTS,
                log_retention_days=props.vpc.log_retention_days,
            ),
        )
        for service in props.vpc.private_services:
            self.network.add_private_service(service)
        self.security_group = self.network.https_only_security_group(
            self,
            "SecurityGroup",
            description=f"AgentCore runtime {props.runtime_name}: HTTPS to the VPC endpoints only",
        )
        return agentcore.RuntimeNetworkConfiguration.using_vpc(
            self, vpc=self.network.vpc, security_groups=[self.security_group], vpc_subnets=self.network.subnets
        )

    def _runtime(
        self, props: AgentRuntimeProps, network_configuration: agentcore.RuntimeNetworkConfiguration | None
    ) -> agentcore.Runtime:
        repository = ecr.Repository.from_repository_attributes(
            self, "Repository", repository_arn=props.image.repository_arn, repository_name=props.image.repository_name
        )
        runtime = agentcore.Runtime(
            self,
            "Runtime",
            runtime_name=props.runtime_name,
            description=props.description,
            execution_role=self._role,
            agent_runtime_artifact=agentcore.AgentRuntimeArtifact.from_ecr_repository(repository, props.image.tag),
            protocol_configuration=_PROTOCOLS[props.protocol],
            authorizer_configuration=self._authorizer(props.identity),
            network_configuration=network_configuration,
            environment_variables=self.environment_variables,
            lifecycle_configuration=agentcore.LifecycleConfiguration(
                idle_runtime_session_timeout=cdk.Duration.minutes(props.idle_timeout_minutes),
                max_lifetime=cdk.Duration.hours(props.max_lifetime_hours),
            ),
            tracing_enabled=True,
            tags=tag_map(dict(props.tags)),
        )
        if self.network is not None:
            # AgentCore pulls the image through the VPC when it creates the runtime: the endpoints come first.
            runtime.node.add_dependency(*self.network.endpoints.values())
        return runtime

    def _pinned_endpoints(self, props: AgentRuntimeProps) -> dict[str, agentcore.RuntimeEndpoint]:
        """One endpoint per configured name, each on the immutable version config pins."""
        return {
            name: agentcore.RuntimeEndpoint(
                self,
                f"Endpoint{name}",  # stable: the construct id never depends on the version it points at
                agent_runtime_id=self.runtime.agent_runtime_id,
                agent_runtime_version=str(version),
                endpoint_name=name,
                description=f"{name} endpoint of {props.runtime_name}",
                tags=tag_map(dict(props.tags)),
            )
            for name, version in sorted(props.endpoints.items())
        }

    def _attach(self, props: AgentRuntimeProps) -> dict[str, str]:
        """Let each attachment grant on the execution role; merge the variables it returns."""
        variables = dict(props.environment_variables)
        source = {name: "the runtime's environment" for name in variables}
        for attachment in props.attachments:
            label = f"attachment {type(attachment).__name__}"
            returned = attachment.attach_to_agent(self._role)
            for name, value in sorted(returned.items()):
                if not name.startswith(RESERVED_PREFIX) or not _VARIABLE.match(name):
                    raise ValueError(
                        f"{label} returned environment variable {name!r}; "
                        f"attachments name theirs {RESERVED_PREFIX}<NAME>"
                    )
                if name in source:
                    raise ValueError(
                        f"environment variable {name} is set by both {source[name]} and {label}; "
                        "each name must have one source"
                    )
                variables[name] = value
                source[name] = label
        if len(variables) > 50:
            raise ValueError(f"{len(variables)} environment variables; AgentCore allows at most 50")
        return dict(sorted(variables.items()))

    @staticmethod
    def _authorizer(identity: CentralIdentity | None) -> agentcore.RuntimeAuthorizerConfiguration:
        if identity is None:
            return agentcore.RuntimeAuthorizerConfiguration.using_iam()
        return agentcore.RuntimeAuthorizerConfiguration.using_jwt(
            identity.discovery_url,
            allowed_scopes=list(identity.allowed_scopes) or None,
            allowed_clients=list(identity.allowed_clients) or None,
        )

    def _alarms(
        self, thresholds: RuntimeAlarmThresholds, topic: sns.ITopic | None
    ) -> dict[str, dict[str, cloudwatch.Alarm]]:
        five_minutes = cdk.Duration.minutes(5)
        at_least = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        alarms: dict[str, dict[str, cloudwatch.Alarm]] = {}
        for endpoint in sorted(self._endpoints):
            specs = {
                "system_errors": (
                    "SystemErrors",
                    self.metric_system_errors(endpoint, period=five_minutes),
                    thresholds.system_errors,
                    1,
                    at_least,
                    "server-side errors (5 minutes)",
                ),
                "throttles": (
                    "Throttles",
                    self.metric_throttles(endpoint, period=five_minutes),
                    thresholds.throttles,
                    1,
                    at_least,
                    "throttled invocations (5 minutes)",
                ),
                # AgentCore reports Latency in milliseconds.
                "p95_latency": (
                    "LatencyP95",
                    self.metric_latency(endpoint, period=five_minutes, statistic="p95"),
                    thresholds.p95_latency_seconds * 1000,
                    3,
                    cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    f"p95 latency above {thresholds.p95_latency_seconds:g} s for 15 minutes",
                ),
            }
            alarms[endpoint] = {}
            for key, (construct_name, metric, threshold, periods, operator, what) in specs.items():
                alarm = cloudwatch.Alarm(
                    self,
                    f"{endpoint}{construct_name}Alarm",
                    metric=metric,
                    threshold=threshold,
                    evaluation_periods=periods,
                    comparison_operator=operator,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,  # no traffic is not an incident
                    alarm_description=f"AgentCore runtime {self.runtime_name}, endpoint {endpoint}: {what}",
                )
                if topic is not None:
                    alarm.add_alarm_action(cw_actions.SnsAction(topic))
                    alarm.add_ok_action(cw_actions.SnsAction(topic))
                alarms[endpoint][key] = alarm
        return alarms

    def _acknowledge(self) -> None:
        acknowledge_runtime_role(
            self._role.node.find_child("DefaultPolicy"), "The AgentCore Runtime L2 and the agent's attachments write"
        )

    # ---------------------------------------------------------------- config

    @classmethod
    def from_config(
        cls,
        scope: Construct,
        construct_id: str,
        *,
        context: BlueprintContext,
        name: str,
        config: AgentRuntimeBlueprint,
        attachments: Sequence[AgentAttachment] = (),
    ) -> AgentRuntime:
        """The runtime a tenant YAML file describes, in ``context.environment``.

        Raises ValueError when config has no release for this environment, no
        image registry is known, or the config ``environment`` map uses an
        ``AGENTZONE_`` name (those belong to the runtime and its attachments).
        ``config.memory`` is resolved by the caller into ``attachments``
        (:func:`agentzone.blueprints.memory.memory_attachments`): a blueprint
        never looks up another blueprint itself.
        """
        release, registry = _release_and_registry(context, name, config)
        variables = _runtime_variables(context, name, config)
        vpc = None
        if config.vpc:
            private = context.fm_gateway_private_link(scope)
            vpc = RuntimeVpcProps(
                cidr=config.vpc.cidr, zones=tuple(config.vpc.zones), private_services=(private,) if private else ()
            )
        return cls(
            scope,
            construct_id,
            props=AgentRuntimeProps(
                runtime_name=context.resource_name(name, separator="_"),
                image=RuntimeImage.from_registry(
                    registry, tenant=context.tenant, image=config.image, tag=release.image_tag
                ),
                endpoints=dict(release.endpoints),
                protocol=config.protocol,
                description=config.description or f"{name} agent of {context.tenant} ({context.environment})",
                identity=context.identity,
                environment_variables=variables,
                attachments=tuple(attachments),
                idle_timeout_minutes=config.idle_timeout_minutes,
                max_lifetime_hours=config.max_lifetime_hours,
                vpc=vpc,
                encryption_key=context.encryption_key,
                alarms=RuntimeAlarmThresholds(
                    system_errors=config.alarms.system_errors,
                    throttles=config.alarms.throttles,
                    p95_latency_seconds=config.alarms.p95_latency_seconds,
                ),
                alarm_topic=context.alarm_topic,
                tags=context.tags,
            ),
        )

    # ------------------------------------------------------------ attributes

    @property
    def runtime_arn(self) -> str:
        return self.runtime.agent_runtime_arn

    @property
    def runtime_id(self) -> str:
        return self.runtime.agent_runtime_id

    @property
    def runtime_version(self) -> str:
        """The newest version (what DEFAULT serves); named endpoints serve the versions config pins."""
        version = self.runtime.agent_runtime_version
        if version is None:  # only imported runtimes lack it; this construct always creates its runtime
            raise ValueError(f"runtime {self.runtime_name} has no version attribute")
        return version

    @property
    def role(self) -> iam.IRole:
        return self._role

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self._role

    @property
    def endpoints(self) -> dict[str, agentcore.RuntimeEndpoint]:
        return dict(self._endpoints)

    def endpoint(self, name: str) -> agentcore.RuntimeEndpoint:
        if name not in self._endpoints:
            raise ValueError(
                f"runtime {self.runtime_name} has no endpoint {name!r}; it has: {', '.join(sorted(self._endpoints))}"
            )
        return self._endpoints[name]

    def endpoint_arn(self, name: str) -> str:
        return self.endpoint(name).agent_runtime_endpoint_arn

    # ---------------------------------------------------------------- grants

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """``InvokeAgentRuntime`` on this runtime through its named endpoints (not DEFAULT, not other runtimes).

        Only IAM-auth runtimes (no ``identity``) check it; JWT runtimes accept bearer tokens only.
        """
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[INVOKE_ACTION],
            resource_arns=[
                self.runtime_arn,
                *(self._endpoints[name].agent_runtime_endpoint_arn for name in sorted(self._endpoints)),
            ],
        )

    # --------------------------------------------------------------- metrics

    def metric(self, metric_name: str, endpoint: str | None = None, **kwargs) -> cloudwatch.Metric:
        """A runtime metric for one named endpoint (``endpoint`` may be omitted when there is only one)."""
        name = self._metric_endpoint(endpoint)
        dimensions = {"Name": f"{self.runtime_name}::{name}", **kwargs.pop("dimensions_map", {})}
        return self.runtime.metric(metric_name, dimensions_map=dimensions, **kwargs)

    def metric_invocations(self, endpoint: str | None = None, **kwargs) -> cloudwatch.Metric:
        return self.metric("Invocations", endpoint, **{"statistic": "Sum", **kwargs})

    def metric_system_errors(self, endpoint: str | None = None, **kwargs) -> cloudwatch.Metric:
        return self.metric("SystemErrors", endpoint, **{"statistic": "Sum", **kwargs})

    def metric_user_errors(self, endpoint: str | None = None, **kwargs) -> cloudwatch.Metric:
        return self.metric("UserErrors", endpoint, **{"statistic": "Sum", **kwargs})

    def metric_throttles(self, endpoint: str | None = None, **kwargs) -> cloudwatch.Metric:
        return self.metric("Throttles", endpoint, **{"statistic": "Sum", **kwargs})

    def metric_latency(self, endpoint: str | None = None, **kwargs) -> cloudwatch.Metric:
        """Milliseconds from request to final response token (average unless ``statistic`` says otherwise)."""
        return self.metric("Latency", endpoint, **{"statistic": "Average", **kwargs})

    def _metric_endpoint(self, endpoint: str | None) -> str:
        if endpoint is None:
            if len(self._endpoints) != 1:
                raise ValueError(
                    f"runtime {self.runtime_name} has endpoints {sorted(self._endpoints)}: name the one to measure"
                )
            return next(iter(self._endpoints))
        self.endpoint(endpoint)  # raises on an unknown name
        return endpoint


def _release_and_registry(
    context: BlueprintContext, name: str, config: AgentRuntimeBlueprint
) -> tuple[RuntimeRelease, ImageRegistry]:
    """This environment's release of a configured runtime and where its image is; raises when it cannot be built."""
    release = config.releases.get(context.environment)
    if release is None:
        raise ValueError(
            f"runtime {name!r} has no release for environment {context.environment!r}; add "
            f"releases.{context.environment} (image_tag and endpoints); "
            f"configured: {', '.join(sorted(config.releases)) or 'none'}"
        )
    if context.image_registry is None:
        raise ValueError(
            f"runtime {name!r}: set BlueprintContext.image_registry (the environment's shared-services ECR)"
        )
    reserved = sorted(key for key in config.environment if key.upper().startswith(RESERVED_PREFIX))
    if reserved:
        raise ValueError(
            f"runtime {name!r}: environment names {reserved} use the reserved prefix {RESERVED_PREFIX}; rename them"
        )
    return release, context.image_registry


def _runtime_variables(context: BlueprintContext, name: str, config: AgentRuntimeBlueprint) -> dict[str, str]:
    """The runtime's own ``AGENTZONE_*`` variables, then the config ``environment`` map."""
    variables = {TENANT_VARIABLE: context.tenant, ENVIRONMENT_VARIABLE: context.environment, AGENT_VARIABLE: name}
    if context.fm_gateway_url:
        variables[FM_GATEWAY_URL_VARIABLE] = context.fm_gateway_url
    variables.update(config.environment)
    return variables


_PROTOCOLS = {
    "HTTP": agentcore.ProtocolType.HTTP,
    "MCP": agentcore.ProtocolType.MCP,
    "A2A": agentcore.ProtocolType.A2_A,
    "AGUI": agentcore.ProtocolType.AGUI,
}


# ------------------------------------------------------------------ registry

SPEC = BlueprintSpec(
    construct=AgentRuntime,
    config=AgentRuntimeBlueprint,
    construct_id="Runtime",
    title="AgentCore Runtime",
    summary="AgentCore Runtime + pinned endpoints, role, alarms, optional isolated VPC",
    docs="blueprint-runtime.md",
    named=True,
    agent=True,
    catalog=not_offered(
        "Agents must run behind the account's safety controls (kill switch, circuit breaker, cost alarms) that "
        "UseCaseStack attaches, and their image tags and endpoint versions per environment are the reviewed config."
    ),
)
