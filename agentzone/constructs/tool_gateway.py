"""The shared AgentCore Gateway for org-wide tools, and MCP servers the platform hosts behind it.

One gateway for org-wide tools lives in each shared-services account:
callers authenticate with the central identity (JWT), and a Cedar policy
engine in ENFORCE mode decides every tool call. Policies come from config
(``config/policies/shared-tools/*.cedar``, see :mod:`agentzone.tools.cedar`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..nag import acknowledge, acknowledge_compliance, acknowledge_runtime_role
from ..patterns import AGENTCORE_NAME_PATTERN
from ..tools.cedar import GATEWAY_ARN_PLACEHOLDER, POLICY_NAME, check_syntax, render, split_statements
from ..tools.targets import SHARED, prefix_problems

_ECR_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?"
    r"/(?P<repo>[a-z0-9._/-]+):(?P<tag>[\w.-]{1,128})$"
)
MCP_VERSIONS = [agentcore.MCPProtocolVersion.MCP_2025_06_18, agentcore.MCPProtocolVersion.MCP_2025_03_26]


@dataclass(frozen=True)
class ToolGatewayProps:
    """``policies`` maps policy names to one Cedar statement each (the gateway's ARN written ``{{gateway_arn}}``).
    ``discovery_url=None``: IAM (SigV4) inbound auth instead of the central identity's JWTs; then pass no
    ``allowed_scopes`` or ``allowed_clients``."""

    gateway_name: str
    discovery_url: str | None
    policies: Mapping[str, str]
    encryption_key: kms.IKey
    allowed_scopes: Sequence[str] = ()
    enforce: bool = True
    allowed_clients: Sequence[str] | None = None
    description: str = "Org-wide tools for agents"
    instructions: str = "Org-wide tools approved for agents. Search for a tool by what you need done."
    strict_policy_validation: bool = True
    debug_exceptions: bool = False


class ToolGateway(Construct):
    """An MCP AgentCore Gateway: central-identity JWT in, Cedar policies enforced, CMK-encrypted.

    ``policies`` maps policy names to one Cedar statement each; write the
    gateway's ARN as ``{{gateway_arn}}``. With ``enforce=False`` the engine
    only logs its decisions (LOG_ONLY), for trying policies on live traffic.
    Exception messages stay sanitized unless ``debug_exceptions`` (dev only).

    Policies that name a tool action (``AgentCore::Action::"<target>___<tool>"``)
    pass AgentCore's schema check only once that target is on the gateway:
    register the tool first, then add its policy.

    MCP servers on AgentCore Runtime (:class:`McpServerRuntime`) need nothing
    here: the gateway calls them with its own execution role (SigV4).

    ``discovery_url=None`` switches inbound auth to IAM (SigV4): callers then
    need ``bedrock-agentcore:InvokeGateway`` (:meth:`grant_invoke`), and Cedar
    sees them as ``AgentCore::IamEntity`` principals, not ``OAuthUser``. It is
    the fallback for accounts that have no central identity yet; it never
    falls back to a gateway-private Cognito pool.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: ToolGatewayProps) -> None:
        super().__init__(scope, construct_id)
        _check_auth(props)
        self._check_policies(props.policies)
        self.gateway_name = props.gateway_name
        self.discovery_url = props.discovery_url
        self.mode = agentcore.PolicyEngineMode.ENFORCE if props.enforce else agentcore.PolicyEngineMode.LOG_ONLY

        self.policy_engine = agentcore.PolicyEngine(
            self,
            "PolicyEngine",
            policy_engine_name=props.gateway_name.replace("-", "_")[:48],
            description=f"Cedar policies deciding every tool call on {props.gateway_name}",
            kms_key=props.encryption_key,
        )
        self.gateway = agentcore.Gateway(
            self,
            "Gateway",
            gateway_name=props.gateway_name,
            description=props.description,
            authorizer_configuration=self._authorizer(props.discovery_url, props.allowed_scopes, props.allowed_clients),
            protocol_configuration=agentcore.McpProtocolConfiguration(
                supported_versions=MCP_VERSIONS,
                search_type=agentcore.McpGatewaySearchType.SEMANTIC,
                instructions=props.instructions,
            ),
            kms_key=props.encryption_key,
            exception_level=agentcore.GatewayExceptionLevel.DEBUG if props.debug_exceptions else None,
            policy_engine_configuration=agentcore.GatewayPolicyEngineConfig(
                policy_engine=self.policy_engine, mode=self.mode
            ),
        )
        self.policies = self._add_policies(props)
        self._acknowledge()

    def _add_policies(self, props: ToolGatewayProps) -> dict[str, agentcore.Policy]:
        validation = (
            agentcore.PolicyValidationMode.FAIL_ON_ANY_FINDINGS
            if props.strict_policy_validation
            else agentcore.PolicyValidationMode.IGNORE_ALL_FINDINGS
        )
        policies: dict[str, agentcore.Policy] = {}
        for name in sorted(props.policies):  # sorted: the L2 chains policies in order of addition
            policies[name] = self.policy_engine.add_policy(
                f"Policy-{name}",
                policy_name=name,
                statement=agentcore.PolicyStatement.from_cedar(
                    render(props.policies[name].strip(), self.gateway.gateway_arn)
                ),
                validation_mode=validation,
            )
        return policies

    @staticmethod
    def _authorizer(
        discovery_url: str | None, allowed_scopes: Sequence[str], allowed_clients: Sequence[str] | None
    ) -> agentcore.IGatewayAuthorizerConfig:
        # Never let the L2 create its own Cognito pool: tokens come from the central identity, or callers sign with IAM.
        if discovery_url is None:
            return agentcore.GatewayAuthorizer.using_aws_iam()
        return agentcore.GatewayAuthorizer.using_custom_jwt(
            discovery_url=discovery_url,
            allowed_scopes=list(allowed_scopes),
            allowed_clients=list(allowed_clients) if allowed_clients else None,
        )

    @staticmethod
    def _check_policies(policies: Mapping[str, str]) -> None:
        """Fail synth on a bad policy name or statement, saying which one (config checks say where)."""
        for name, text in policies.items():
            if not POLICY_NAME.match(name):
                raise ValueError(f"policy name {name!r}: start with a letter; at most 48 letters, digits or '_'")
            problems = check_syntax(text, name)
            if problems:
                raise ValueError(f"policy {name!r}: {problems[0].message}")
            if len(split_statements(text)) != 1:
                raise ValueError(
                    f"policy {name!r} holds {len(split_statements(text))} statements; AgentCore stores one per policy"
                )
            if "AgentCore::Gateway::" in text and GATEWAY_ARN_PLACEHOLDER not in text:
                raise ValueError(
                    f"policy {name!r} names a gateway by literal ARN; write "
                    f'AgentCore::Gateway::"{GATEWAY_ARN_PLACEHOLDER}"'
                )

    def _acknowledge(self) -> None:
        policy = self.gateway.role.node.find_child("DefaultPolicy")
        findings = {
            "Action::kms:ReEncrypt*": "The gateway role re-encrypts only under the gateway's own CMK (the resource "
            "is that key's ARN); the L2 writes ReEncrypt* for ReEncryptFrom/To.",
            "Action::kms:GenerateDataKey*": "The gateway role generates data keys only under the gateway's own CMK "
            "(the resource is that key's ARN); the L2 writes the GenerateDataKey* family.",
        }
        for finding, reason in findings.items():
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)
        acknowledge_compliance(
            policy,
            "IAMNoInlinePolicy",
            "The AgentCore Gateway L2 writes its service role's grants (CMK, policy "
            "engine, MCP runtimes it invokes) as a policy attached only to that role.",
        )

    # ------------------------------------------------------------ attributes

    @property
    def gateway_id(self) -> str:
        return self.gateway.gateway_id

    @property
    def gateway_arn(self) -> str:
        return self.gateway.gateway_arn

    @property
    def gateway_url(self) -> str:
        url = self.gateway.gateway_url
        if url is None:  # typed optional by the L2; every gateway it creates has one
            raise AttributeError(f"gateway {self.gateway_name} has no URL")
        return url

    @property
    def role(self) -> iam.IRole:
        return self.gateway.role

    @property
    def policy_engine_arn(self) -> str:
        return self.policy_engine.policy_engine_arn

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.gateway.grant_invoke(grantee)

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.gateway.grant_read(grantee)

    def metric_invocations(self, **kwargs) -> cloudwatch.Metric:
        return self.gateway.metric_invocations(**kwargs)

    def metric_system_errors(self, **kwargs) -> cloudwatch.Metric:
        return self.gateway.metric_system_errors(**kwargs)

    def metric_user_errors(self, **kwargs) -> cloudwatch.Metric:
        return self.gateway.metric_user_errors(**kwargs)

    def metric_throttles(self, **kwargs) -> cloudwatch.Metric:
        return self.gateway.metric_throttles(**kwargs)


@dataclass(frozen=True)
class McpServerRuntimeProps:
    """The image is ``image_uri`` (an ECR URI with its tag) or ``repository`` + ``tag``; ``target_name``
    defaults to ``shared-<name>``."""

    name: str
    gateway: ToolGateway
    image_uri: str | None = None
    repository: ecr.IRepository | None = None
    tag: str | None = None
    environment_variables: Mapping[str, str] | None = None
    description: str | None = None
    target_name: str | None = None
    tracing: bool = True


class McpServerRuntime(Construct):
    """An MCP server on its own AgentCore Runtime, registered as a target of the shared gateway.

    The runtime keeps AgentCore's default inbound auth, IAM (SigV4): no JWT
    authorizer. The gateway calls it with its own execution role
    (``GATEWAY_IAM_ROLE`` outbound auth, signing for ``bedrock-agentcore``), and
    that role is granted ``bedrock-agentcore:InvokeAgentRuntime`` on exactly
    this runtime and its ``DEFAULT`` endpoint. The runtime has no resource
    policy, so no other account (no tenant) can invoke it: tenants reach its
    tools only through the gateway, past its JWT check and Cedar policies.

    Each server is its own Runtime resource, so each scales with its own
    sessions. Agents see its tools as ``<target_name>___<tool>`` (default
    target name ``shared-<name>``). The image is ``image_uri`` (an ECR URI) or
    ``repository`` + ``tag``.
    """

    QUALIFIER = "DEFAULT"  # the endpoint the gateway invokes; every runtime has it

    def __init__(self, scope: Construct, construct_id: str, *, props: McpServerRuntimeProps) -> None:
        super().__init__(scope, construct_id)
        name, gateway, description = props.name, props.gateway, props.description
        self.target_name = props.target_name or f"{SHARED}-{name}"
        problems = prefix_problems(self.target_name, SHARED)
        if problems:
            raise ValueError(f"target name {problems[0]}")
        runtime_name = name.replace("-", "_")
        if not re.match(AGENTCORE_NAME_PATTERN, runtime_name):
            raise ValueError(
                f"name {name!r} must give a runtime name of letters, digits and '_' (at most 48), "
                "starting with a letter"
            )

        self.runtime = agentcore.Runtime(
            self,
            "Runtime",
            runtime_name=runtime_name,
            description=description or f"MCP server {name} behind {gateway.gateway_name}",
            agent_runtime_artifact=self._artifact(props.image_uri, props.repository, props.tag),
            protocol_configuration=agentcore.ProtocolType.MCP,
            authorizer_configuration=agentcore.RuntimeAuthorizerConfiguration.using_iam(),
            environment_variables=dict(props.environment_variables or {}),
            tracing_enabled=props.tracing,
        )
        # Not Runtime.grant_invoke_runtime: it grants on <runtime ARN>/*, every endpoint. The gateway invokes
        # DEFAULT only, and InvokeAgentRuntime is authorized on both the runtime and that endpoint.
        self.invoke_grant = iam.Grant.add_to_principal(
            grantee=gateway.role,
            actions=["bedrock-agentcore:InvokeAgentRuntime"],
            resource_arns=[self.runtime_arn, f"{self.runtime_arn}/runtime-endpoint/{self.QUALIFIER}"],
        )
        self.target = agentcore.GatewayTarget.for_mcp_server(
            self,
            "Target",
            gateway=gateway.gateway,
            gateway_target_name=self.target_name,
            description=(description or f"MCP server {name} on AgentCore Runtime")[:200],
            endpoint=self.invocation_url,
            credential_provider_configurations=[
                agentcore.GatewayCredentialProvider.from_iam_role(service="bedrock-agentcore")
            ],
        )
        # Creating an MCP target lists the server's tools: the gateway role must already hold the grant.
        self.invoke_grant.apply_before(self.target)
        self._acknowledge()

    def _artifact(
        self, image_uri: str | None, repository: ecr.IRepository | None, tag: str | None
    ) -> agentcore.AgentRuntimeArtifact:
        """An ECR image either way, so the L2 grants the runtime role pull on exactly that repository."""
        if image_uri is not None and repository is None:
            if tag is not None:
                raise ValueError("tag goes with repository; image_uri carries its own tag")
            repository, tag = self._repository_of(image_uri)
        elif repository is None or image_uri is not None:
            raise ValueError("pass either image_uri or repository (+ tag)")
        if not tag:
            raise ValueError("pass the image tag to run (a pinned version, not 'latest')")
        return agentcore.AgentRuntimeArtifact.from_ecr_repository(repository, tag)

    def _repository_of(self, image_uri: str) -> tuple[ecr.IRepository, str]:
        """The repository an ECR image URI names (imported by ARN) and the URI's tag."""
        match = _ECR_URI.match(image_uri)
        if not match:
            raise ValueError(
                f"image_uri {image_uri!r} is not an ECR image URI "
                "(<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>)"
            )
        arn = f"arn:{cdk.Aws.PARTITION}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"
        repository = ecr.Repository.from_repository_attributes(
            self, "Repository", repository_arn=arn, repository_name=match["repo"]
        )
        return repository, match["tag"]

    @property
    def invocation_url(self) -> str:
        """https://bedrock-agentcore.<region>.<suffix>/runtimes/<URL-encoded ARN>/invocations?qualifier=DEFAULT"""
        stack = cdk.Stack.of(self)
        arn = self.runtime.agent_runtime_arn
        encoded = cdk.Fn.join("%2F", cdk.Fn.split("/", cdk.Fn.join("%3A", cdk.Fn.split(":", arn))))
        parts = [
            f"https://bedrock-agentcore.{stack.region}.",
            stack.url_suffix,
            "/runtimes/",
            encoded,
            f"/invocations?qualifier={self.QUALIFIER}",
        ]
        return cdk.Fn.join("", parts)

    def _acknowledge(self) -> None:
        acknowledge_runtime_role(self.runtime.role.node.find_child("DefaultPolicy"), "The AgentCore Runtime L2 writes")

    # ------------------------------------------------------------ attributes

    @property
    def runtime_arn(self) -> str:
        return self.runtime.agent_runtime_arn

    @property
    def runtime_id(self) -> str:
        return self.runtime.agent_runtime_id

    @property
    def target_id(self) -> str:
        return self.target.target_id

    @property
    def role(self) -> iam.IRole:
        return self.runtime.role

    def metric_invocations(self, **kwargs) -> cloudwatch.Metric:
        return self.runtime.metric_invocations(**kwargs)

    def metric_system_errors(self, **kwargs) -> cloudwatch.Metric:
        return self.runtime.metric_system_errors(**kwargs)

    def metric_throttles(self, **kwargs) -> cloudwatch.Metric:
        return self.runtime.metric_throttles(**kwargs)


def _check_auth(props: ToolGatewayProps) -> None:
    """JWT checks need a discovery URL and at least one scope; IAM inbound auth takes neither scopes nor clients."""
    if props.discovery_url is None:
        if props.allowed_scopes or props.allowed_clients:
            raise ValueError(
                "allowed_scopes and allowed_clients check JWTs; with IAM inbound auth (discovery_url=None) pass neither"
            )
    elif not props.allowed_scopes:
        raise ValueError("allowed_scopes must name at least one scope: a token without it must not reach the tools")
