"""Tenant tool gateway blueprint: the team's own AgentCore Gateway for tools only that team uses.

Why: agents reach tools only through AgentCore Gateways (MCP), never
by calling APIs and functions directly. Org-wide tools sit behind the shared
gateway in the shared-services account (:class:`~agentzone.constructs.tool_gateway.ToolGateway`,
``agentzone-shared-tools``); a team's own tools sit behind a gateway in the
team's account, built here from the same construct. Either way a Cedar policy
engine decides every tool call, in ENFORCE mode unless the team sets
``enforce: false`` (LOG_ONLY, for trying policies on live traffic).

What the gateway gets:

* its name, ``agentzone-<tenant>-tools``: the name ``agentzone tools register``
  looks up for a tenant's tool manifests. Every tenant environment is its own
  account, so the name needs no environment suffix (and stays within
  AgentCore's 48 characters for every valid tenant slug);
* inbound auth: JWTs from the central identity carrying one of the tenant's
  scopes (``BlueprintContext.identity``). Before the platform has deployed the
  identity (``identity`` is None) callers sign with IAM (SigV4) instead:
  still authenticated, still decided by Cedar (as ``AgentCore::IamEntity``
  principals), never a gateway-private Cognito pool;
* Lambda targets: a function of the team's account and region, its tool
  definitions inline from a JSON file. The gateway role may invoke exactly
  those functions (their unqualified ARNs: the target calls nothing else);
* OpenAPI targets: an OpenAPI 3 document whose first server is https, inline.
  The API key lives in the team's Secrets Manager secret; CloudFormation
  resolves it at deploy time (a dynamic reference: the key is never in the
  template) into an AgentCore Identity API key credential provider, and the
  gateway puts it in the configured header. The gateway role may read that
  provider's key and its token-vault secret, nothing else. The team's own
  secret is read only by CloudFormation at deploy time: after rotating it,
  deploy again so the provider holds the new key.

Deploy order: AgentCore checks each policy against the tools on the gateway,
so the policies here depend on this gateway's targets (they are created after
them). A policy naming a tool registered later with ``agentzone tools register``
must wait for that registration (see docs/tools.md).

Use it from a tenant YAML file (``blueprints: {tool_gateway: ...}``) or directly::

    tools = TenantToolGateway(stack, "ToolGateway", props=TenantToolGatewayProps(
        gateway_name="agentzone-claims-tools", encryption_key=key, policies=policies,
        identity=CentralIdentity.for_tenant(region="eu-west-1", user_pool_id=pool, tenant="claims", scopes=["invoke"]),
        lambda_targets=(LambdaTargetProps(name="claim-lookup", description="Claims by number",
                                          function_name="claims-lookup", tools=tools_json),)))
    tools.attach_to_agent(runtime_role)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from .. import naming
from ..config.model import ToolGatewayBlueprint
from ..constructs.tool_gateway import ToolGateway, ToolGatewayProps
from ..nag import acknowledge, nag_arn
from ..patterns import HTTP_HEADER_PATTERN, LAMBDA_FUNCTION_NAME_PATTERN
from ..tools.cedar import load_policy_files
from ..tools.schemas import openapi_problems, read_openapi, read_tools, tool_problems
from ..tools.targets import PREFIX_MAX, PREFIX_PATTERN
from .context import BlueprintContext, CentralIdentity
from .registry import Attach, BlueprintSpec, not_offered

TOOL_GATEWAY_URL_VARIABLE = "AGENTZONE_TOOL_GATEWAY_URL"
INVOKE_FUNCTION = "lambda:InvokeFunction"
# What a gateway role needs to send an API key from AgentCore Identity (gateway-outbound-auth docs).
WORKLOAD_ACCESS_TOKEN = "bedrock-agentcore:GetWorkloadAccessToken"
GET_API_KEY = "bedrock-agentcore:GetResourceApiKey"
GET_SECRET_VALUE = "secretsmanager:GetSecretValue"
# AgentCore Identity keeps each API key credential provider's key in a secret it names
# bedrock-agentcore-identity!default/apikey/<provider name>-<6 random characters>.
TOKEN_VAULT_API_KEY_SECRET = "bedrock-agentcore-identity!default/apikey/{name}-??????"
GATEWAY_NAME = re.compile(r"^([0-9a-zA-Z][-]?){1,48}$")  # AgentCore Gateway name rule
GATEWAY_NAME_MAX = 48
FUNCTION_NAME = re.compile(LAMBDA_FUNCTION_NAME_PATTERN)
API_KEY_HEADER = re.compile(HTTP_HEADER_PATTERN)
# The JSON Schema subset AgentCore takes for inline tool definitions (CloudFormation SchemaDefinition);
# tools.schemas checks it, this maps it.
SCHEMA_TYPES = {
    "string": agentcore.SchemaDefinitionType.STRING,
    "number": agentcore.SchemaDefinitionType.NUMBER,
    "integer": agentcore.SchemaDefinitionType.INTEGER,
    "boolean": agentcore.SchemaDefinitionType.BOOLEAN,
    "array": agentcore.SchemaDefinitionType.ARRAY,
    "object": agentcore.SchemaDefinitionType.OBJECT,
}


def tenant_gateway_name(tenant: str) -> str:
    """``agentzone-<tenant>-tools``, the name ``agentzone tools register`` looks up for a tenant's manifests."""
    return naming.tenant_tool_gateway(tenant)


@dataclass(frozen=True)
class LambdaTargetProps:
    """A Lambda function of this account and region as a gateway target.

    ``tools`` are tool definitions as in the config's JSON files:
    ``{"name", "description", "inputSchema"[, "outputSchema"]}``; schemas use
    the subset AgentCore accepts (type, description, properties, required, items).
    Agents see each tool as ``<name>___<tool name>``.
    """

    name: str
    description: str
    function_name: str
    tools: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class OpenApiTargetProps:
    """An HTTPS API described by an OpenAPI 3 document, called with an API key.

    ``api_key_secret`` names a Secrets Manager secret in this account and
    region whose string value is the key; the gateway sends it in
    ``api_key_header`` (as ``Bearer <key>`` when the header is
    ``Authorization``, the bare key otherwise). Agents see each operation as
    ``<name>___<operationId>``.
    """

    name: str
    description: str
    document: Mapping[str, Any]
    api_key_secret: str
    api_key_header: str = "x-api-key"


@dataclass(frozen=True)
class TenantToolGatewayProps:
    """A tenant's tool gateway. Secure defaults: Cedar ENFORCE, JWT inbound when ``identity`` is set.

    ``policies`` maps policy names to one Cedar statement each (write the
    gateway's ARN as ``{{gateway_arn}}``). With ``enforce`` and no policy,
    Cedar would deny every call: that is refused. ``tags`` go on every
    resource of the construct.
    """

    gateway_name: str
    encryption_key: kms.IKey
    policies: Mapping[str, str] = field(default_factory=dict)
    enforce: bool = True
    identity: CentralIdentity | None = None
    lambda_targets: tuple[LambdaTargetProps, ...] = ()
    openapi_targets: tuple[OpenApiTargetProps, ...] = ()
    description: str | None = None
    debug_exceptions: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)


class TenantToolGateway(Construct):
    """The tenant's own AgentCore Gateway (MCP): its Lambda and OpenAPI tools, Cedar deciding every call.

    Attributes mirror the L2 gateway (``gateway_id``, ``gateway_arn``,
    ``gateway_url``, ``role``); ``targets`` maps target names to their
    ``GatewayTarget``. The construct ids of targets and credential providers
    carry the target names: renaming a target replaces it.
    """

    REGISTRY_NAME = "tool_gateway"

    def __init__(self, scope: Construct, construct_id: str, *, props: TenantToolGatewayProps) -> None:
        super().__init__(scope, construct_id)
        self._validate(props)
        identity = props.identity
        self.tool_gateway = ToolGateway(
            self,
            "Gateway",
            props=ToolGatewayProps(
                gateway_name=props.gateway_name,
                discovery_url=identity.discovery_url if identity else None,
                # Sorted: the order of scopes or clients in config must not change the template.
                allowed_scopes=tuple(sorted(identity.allowed_scopes)) if identity else (),
                allowed_clients=(tuple(sorted(identity.allowed_clients)) or None) if identity else None,
                policies=props.policies,
                encryption_key=props.encryption_key,
                enforce=props.enforce,
                description=props.description or f"Tools of {props.gateway_name}",
                instructions="This team's own tools. Search for a tool by what you need done.",
                debug_exceptions=props.debug_exceptions,
            ),
        )
        if identity is None and any("AgentCore::OAuthUser" in text for text in props.policies.values()):
            cdk.Annotations.of(self).add_warning_v2(
                "agentzone:toolGatewayIamPrincipals",
                "No central identity: callers sign with IAM and Cedar sees them as AgentCore::IamEntity; "
                "policies written for AgentCore::OAuthUser match no caller until the identity is configured.",
            )
        self._target_gateway = self._target_view(props.gateway_name)
        self._targets: dict[str, agentcore.GatewayTarget] = {}
        self.api_key_providers: dict[str, agentcore.ApiKeyCredentialProvider] = {}
        for lambda_target in sorted(props.lambda_targets, key=lambda t: t.name):
            self._add_lambda_target(lambda_target)
        if props.openapi_targets:
            self._grant_workload_access_token(props.gateway_name)
        for openapi_target in sorted(props.openapi_targets, key=lambda t: t.name):
            self._add_openapi_target(openapi_target)
        # AgentCore checks a policy against the gateway's tools: create the policies after the targets.
        for policy in self.tool_gateway.policies.values():
            for gateway_target in self._targets.values():
                policy.node.add_dependency(gateway_target)
        for key, value in sorted(props.tags.items()):
            cdk.Tags.of(self).add(key, value)

    def _target_view(self, gateway_name: str) -> agentcore.IGateway:
        """The gateway as the L2 target constructors see it: with an immutable role.

        Those constructors grant the gateway role more than a target needs (every version and alias of a
        function; every secret of the token vault). Through this view their grants are no-ops; the exact
        grants are made by :meth:`_add_lambda_target` and :meth:`_add_openapi_target`.
        """
        view = agentcore.Gateway.from_gateway_attributes(
            self,
            "TargetView",
            gateway_arn=self.gateway_arn,
            gateway_id=self.gateway_id,
            gateway_name=gateway_name,
            role=iam.Role.from_role_arn(self, "TargetViewRole", self.role.role_arn, mutable=False),
        )
        cdk.Annotations.of(view).acknowledge_warning(
            "aws-cdk-lib.aws-bedrockagentcore:wildcardSecretArnGrant",
            "The L2's token-vault wildcard grant lands on the immutable view and is dropped; the gateway role gets "
            "GetSecretValue on each provider's own secret only (_add_openapi_target).",
        )
        return view

    # ------------------------------------------------------------------ validation

    @staticmethod
    def _validate(props: TenantToolGatewayProps) -> None:
        if not GATEWAY_NAME.match(props.gateway_name) or len(props.gateway_name) > GATEWAY_NAME_MAX:
            raise ValueError(
                f"gateway name {props.gateway_name!r}: at most {GATEWAY_NAME_MAX} letters, digits "
                "and single '-' between them"
            )
        if props.enforce and not props.policies:
            raise ValueError(
                "tool gateway: with enforce on and no Cedar policies, every tool call is denied; "
                "add at least one policy file or set enforce: false (LOG_ONLY)"
            )
        seen: set[str] = set()
        targets: tuple[LambdaTargetProps | OpenApiTargetProps, ...] = (*props.lambda_targets, *props.openapi_targets)
        for target in targets:
            if not PREFIX_PATTERN.match(target.name) or len(target.name) > PREFIX_MAX:
                raise ValueError(
                    f"target name {target.name!r}: lowercase letters and digits in words joined by single '-', "
                    f"at most {PREFIX_MAX} characters"
                )
            if target.name in seen:
                raise ValueError(f"target name {target.name!r} is used twice; target names are unique per gateway")
            seen.add(target.name)
            if not 1 <= len(target.description) <= 200:
                raise ValueError(f"target {target.name!r}: description must have 1-200 characters")
        for lambda_target in props.lambda_targets:
            if not FUNCTION_NAME.match(lambda_target.function_name):
                raise ValueError(
                    f"target {lambda_target.name!r}: function {lambda_target.function_name!r} "
                    "is not a Lambda function name"
                )
            if not lambda_target.tools:
                raise ValueError(f"target {lambda_target.name!r}: needs at least one tool definition")
        for openapi_target in props.openapi_targets:
            if not API_KEY_HEADER.match(openapi_target.api_key_header):
                raise ValueError(
                    f"target {openapi_target.name!r}: api_key_header {openapi_target.api_key_header!r} "
                    "is not an HTTP header name"
                )

    # ------------------------------------------------------------------ Lambda targets

    def _add_lambda_target(self, target: LambdaTargetProps) -> None:
        stack = cdk.Stack.of(self)
        function_arn = stack.format_arn(
            service="lambda",
            resource="function",
            resource_name=target.function_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        # skip_permissions with same_environment=False: the L2's grant must not turn into a resource policy
        # (lambda:AddPermission) on a function this stack does not own; the role grant below is the only one.
        function = lambda_.Function.from_function_attributes(
            self, f"Function-{target.name}", function_arn=function_arn, same_environment=False, skip_permissions=True
        )
        definitions = [
            self._tool(target.name, tool, f"target {target.name!r} tools[{i}]") for i, tool in enumerate(target.tools)
        ]
        grant = iam.Grant.add_to_principal(grantee=self.role, actions=[INVOKE_FUNCTION], resource_arns=[function_arn])
        self._targets[target.name] = agentcore.GatewayTarget.for_lambda(
            self,
            f"Lambda-{target.name}",
            gateway=self._target_gateway,
            gateway_target_name=target.name,
            description=target.description,
            lambda_function=function,
            tool_schema=agentcore.ToolSchema.from_inline(definitions),
        )
        grant.apply_before(self._targets[target.name])

    @classmethod
    def _tool(cls, target: str, tool: Mapping[str, Any], where: str) -> agentcore.ToolDefinition:
        problems = tool_problems(tool, where, target)
        if problems:
            raise ValueError(problems[0])
        output = tool.get("outputSchema")
        return agentcore.ToolDefinition(
            name=tool["name"],
            description=tool["description"],
            input_schema=cls._schema(tool["inputSchema"]),
            output_schema=cls._schema(output) if output is not None else None,
        )

    @classmethod
    def _schema(cls, node: Mapping[str, Any]) -> agentcore.SchemaDefinition:
        """The L2 form of a schema :func:`agentzone.tools.schemas.schema_problems` accepted."""
        properties, items = node.get("properties"), node.get("items")
        return agentcore.SchemaDefinition(
            type=SCHEMA_TYPES[node["type"]],
            description=node.get("description"),
            properties={key: cls._schema(value) for key, value in properties.items()}
            if properties is not None
            else None,
            required=list(node["required"]) if node.get("required") is not None else None,
            items=cls._schema(items) if items is not None else None,
        )

    # ------------------------------------------------------------------ OpenAPI targets

    def _grant_workload_access_token(self, gateway_name: str) -> None:
        """The gateway's workload identity token, which it exchanges for API keys (once for all API key targets)."""
        directory, identity = self._workload_identity_arns(gateway_name)
        self._workload_grant = iam.Grant.add_to_principal(
            grantee=self.role, actions=[WORKLOAD_ACCESS_TOKEN], resource_arns=[directory, identity]
        )
        identities = nag_arn(
            self, "bedrock-agentcore", f"workload-identity-directory/default/workload-identity/{gateway_name}-*"
        )
        acknowledge(
            self.role.node.find_child("DefaultPolicy"),
            f"AwsSolutions-IAM5[Resource::{identities}]",
            "AgentCore creates the gateway's workload identity as <gateway name>-<suffix> when the gateway is "
            "created; the suffix is unknown at synth. The grant covers only this gateway's identities, for its "
            "outbound API keys.",
        )

    def _workload_identity_arns(self, gateway_name: str) -> tuple[str, str]:
        stack = cdk.Stack.of(self)
        directory = stack.format_arn(
            service="bedrock-agentcore",
            resource="workload-identity-directory",
            resource_name="default",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        return directory, f"{directory}/workload-identity/{gateway_name}-*"

    def _add_openapi_target(self, target: OpenApiTargetProps) -> None:
        document = self._openapi_document(target)
        provider_name = f"{self.tool_gateway.gateway_name}-{target.name}"
        provider = agentcore.ApiKeyCredentialProvider(
            self,
            f"ApiKey-{target.name}",
            api_key_credential_provider_name=provider_name,
            # A CloudFormation dynamic reference: resolved at deploy time, never written into the template.
            api_key=cdk.SecretValue.secrets_manager(target.api_key_secret),
        )
        self.api_key_providers[target.name] = provider
        grant = self._grant_api_key(provider_name, provider)
        authorization = target.api_key_header.lower() == "authorization"
        location = agentcore.ApiKeyCredentialLocation.header(
            credential_parameter_name=target.api_key_header, credential_prefix="Bearer " if authorization else None
        )
        try:
            gateway_target = agentcore.GatewayTarget.for_open_api(
                self,
                f"OpenApi-{target.name}",
                gateway=self._target_gateway,
                gateway_target_name=target.name,
                description=target.description,
                api_schema=agentcore.ApiSchema.from_inline(json.dumps(document, default=str)),
                credential_provider_configurations=[
                    agentcore.GatewayCredentialProvider.from_api_key_identity(provider, credential_location=location)
                ],
            )
        except RuntimeError as error:  # the L2's OpenAPI checks (JSON Schema composition, media types, ...)
            raise ValueError(f"target {target.name!r}: {_l2_message(error)}") from None
        if not authorization:
            # The L2 always writes a 'Bearer ' prefix; a custom header carries the bare key.
            resource = gateway_target.node.default_child
            assert isinstance(resource, cdk.CfnResource)
            resource.add_property_deletion_override(
                "CredentialProviderConfigurations.0.CredentialProvider.ApiKeyCredentialProvider.CredentialPrefix"
            )
        grant.apply_before(gateway_target)
        self._workload_grant.apply_before(gateway_target)
        self._targets[target.name] = gateway_target

    def _grant_api_key(self, provider_name: str, provider: agentcore.ApiKeyCredentialProvider) -> iam.Grant:
        """The gateway role may read this provider's API key and its token-vault secret, nothing else."""
        stack = cdk.Stack.of(self)
        directory, identity = self._workload_identity_arns(self.tool_gateway.gateway_name)
        token_vault = stack.format_arn(
            service="bedrock-agentcore",
            resource="token-vault",
            resource_name="default",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        vault_secret = stack.format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=TOKEN_VAULT_API_KEY_SECRET.format(name=provider_name),
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        return iam.Grant.add_to_principal(
            grantee=self.role,
            actions=[GET_API_KEY],
            resource_arns=[token_vault, provider.credential_provider_arn, directory, identity],
        ).combine(
            iam.Grant.add_to_principal(grantee=self.role, actions=[GET_SECRET_VALUE], resource_arns=[vault_secret])
        )

    def _openapi_document(self, target: OpenApiTargetProps) -> Mapping[str, Any]:
        problems = openapi_problems(target.document, target.name)
        if problems:
            raise ValueError(f"target {target.name!r}: {problems[0]}")
        return target.document

    # ------------------------------------------------------------------ config entry point

    @classmethod
    def from_config(
        cls, scope: Construct, construct_id: str, *, context: BlueprintContext, config: ToolGatewayBlueprint
    ) -> TenantToolGateway:
        """The tenant's gateway as its YAML describes it; files are read from ``context.config_dir``."""
        config_dir = context.config_dir
        if config_dir is None:
            raise ValueError(
                "tool_gateway reads policy, tool and OpenAPI files named in config; set BlueprintContext.config_dir"
            )
        paths = [_config_file(config_dir, rel, "Cedar policy") for rel in config.policies]
        policies, problems = load_policy_files(paths, display=lambda path: str(path.relative_to(config_dir)))
        if problems:
            raise ValueError("tool_gateway policies: " + "; ".join(p.render() for p in problems))
        return cls(
            scope,
            construct_id,
            props=TenantToolGatewayProps(
                gateway_name=tenant_gateway_name(context.tenant),
                encryption_key=context.encryption_key,
                policies=policies,
                enforce=config.enforce,
                identity=context.identity,
                lambda_targets=_lambda_targets(config_dir, config),
                openapi_targets=_openapi_targets(config_dir, config),
                description=f"Tools of {context.tenant} ({context.environment})",
                tags=context.tags,
            ),
        )

    # ------------------------------------------------------------------ attributes

    @property
    def gateway_id(self) -> str:
        return self.tool_gateway.gateway_id

    @property
    def gateway_arn(self) -> str:
        return self.tool_gateway.gateway_arn

    @property
    def gateway_url(self) -> str:
        return self.tool_gateway.gateway_url

    @property
    def gateway_name(self) -> str:
        return self.tool_gateway.gateway_name

    @property
    def role(self) -> iam.IRole:
        """The gateway's execution role: it invokes the targets and reads their API keys."""
        return self.tool_gateway.role

    @property
    def targets(self) -> dict[str, agentcore.GatewayTarget]:
        """Gateway targets by name (Lambda and OpenAPI)."""
        return dict(self._targets)

    @property
    def uses_iam_auth(self) -> bool:
        """True when callers sign with IAM because no central identity was configured."""
        return self.tool_gateway.discovery_url is None

    # ------------------------------------------------------------------ grants

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """``bedrock-agentcore:InvokeGateway`` on this gateway.

        With JWT inbound auth the caller also needs a central-identity token carrying one of the
        tenant's scopes; with IAM inbound auth this grant is what lets it in. Cedar decides each call either way.
        """
        return self.tool_gateway.grant_invoke(grantee)

    def attach_to_agent(self, grantee: iam.IGrantable) -> dict[str, str]:
        """AgentAttachment: the agent may invoke the gateway and finds it by ``AGENTZONE_TOOL_GATEWAY_URL``."""
        self.grant_invoke(grantee)
        return {TOOL_GATEWAY_URL_VARIABLE: self.gateway_url}

    # ------------------------------------------------------------------ metrics

    def metric_invocations(self, **kwargs) -> cloudwatch.Metric:
        return self.tool_gateway.metric_invocations(**kwargs)

    def metric_system_errors(self, **kwargs) -> cloudwatch.Metric:
        return self.tool_gateway.metric_system_errors(**kwargs)

    def metric_user_errors(self, **kwargs) -> cloudwatch.Metric:
        return self.tool_gateway.metric_user_errors(**kwargs)

    def metric_throttles(self, **kwargs) -> cloudwatch.Metric:
        return self.tool_gateway.metric_throttles(**kwargs)


def _lambda_targets(config_dir: Path, config: ToolGatewayBlueprint) -> tuple[LambdaTargetProps, ...]:
    """Config's Lambda targets, their tool definitions read from the files it names."""
    targets = []
    for target in config.lambda_targets:
        tools, problems = read_tools(_config_file(config_dir, target.tools, "tool schema"), target.name)
        if problems:
            raise ValueError(f"{target.tools}: " + "; ".join(problems))
        targets.append(
            LambdaTargetProps(
                name=target.name, description=target.description, function_name=target.function, tools=tuple(tools)
            )
        )
    return tuple(targets)


def _openapi_targets(config_dir: Path, config: ToolGatewayBlueprint) -> tuple[OpenApiTargetProps, ...]:
    """Config's OpenAPI targets, their documents read from the files it names."""
    targets = []
    for target in config.openapi_targets:
        document, problems = read_openapi(_config_file(config_dir, target.schema_file, "OpenAPI"), target.name)
        if problems:
            raise ValueError(f"{target.schema_file}: " + "; ".join(problems))
        targets.append(
            OpenApiTargetProps(
                name=target.name,
                description=target.description,
                document=document,
                api_key_secret=target.api_key_secret,
                api_key_header=target.api_key_header,
            )
        )
    return tuple(targets)


def _config_file(config_dir: Path, relative: str, what: str) -> Path:
    path = config_dir / relative
    if ".." in Path(relative).parts or not path.is_file():
        raise ValueError(f"tool_gateway: no {what} file {relative} under {config_dir}")
    return path


def _l2_message(error: RuntimeError) -> str:
    """The L2's validation message without jsii's stack trace."""
    text = str(error).strip()
    return text.split("\n    at ", 1)[0]


# ------------------------------------------------------------------ registry

SPEC = BlueprintSpec(
    construct=TenantToolGateway,
    config=ToolGatewayBlueprint,
    construct_id="ToolGateway",
    title="the team's own tool gateway",
    summary="account-level AgentCore Gateway: Lambda and OpenAPI targets, Cedar policies",
    docs="blueprint-tool-gateway.md",
    to_agents=Attach.EVERY_AGENT,
    catalog=not_offered(
        "Needs the environment's central identity (JWT authorizer), Cedar policy and tool schema files from config, "
        "and a Secrets Manager API key per OpenAPI target."
    ),
)


__all__ = [
    "TOOL_GATEWAY_URL_VARIABLE",
    "LambdaTargetProps",
    "OpenApiTargetProps",
    "TenantToolGateway",
    "TenantToolGatewayProps",
    "tenant_gateway_name",
]
