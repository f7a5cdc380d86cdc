"""Tenant tool gateway blueprint: JWT or IAM in, Cedar deciding, Lambda and OpenAPI targets with exact grants."""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from agentzone.blueprints.context import AgentAttachment, BlueprintContext, CentralIdentity
from agentzone.blueprints.tool_gateway import GATEWAY_NAME as GATEWAY_NAME_PATTERN
from agentzone.blueprints.tool_gateway import (
    GATEWAY_NAME_MAX,
    TOOL_GATEWAY_URL_VARIABLE,
    LambdaTargetProps,
    TenantToolGateway,
    TenantToolGatewayProps,
    tenant_gateway_name,
)
from agentzone.cfn_lint import run_cfn_lint
from agentzone.config.model import SLUG_PATTERN, ToolGatewayBlueprint
from agentzone.constructs import BaselineKey
from agentzone.tools import cedar

from ..support import Synth, new_app, synthesize_stacks
from ..test_tags import as_dict, tag_property

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
POOL = "eu-west-1_Tenant1"
DISCOVERY = f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL}/.well-known/openid-configuration"
SCOPES = ["agentzone/claims/claims.read", "agentzone/claims/invoke"]  # sorted, whatever the order in config
GATEWAY_NAME = "agentzone-claims-tools"
JWT_STACK, IAM_STACK = "TenantTools", "TenantToolsIam"
TAGS = {"owner": "claims-ai@example.com", "cost-center": "CC-1234", "use-case": "UC-0042", "environment": "dev"}

CALLERS = """\
// Callers with the claims scope may use the team's tools.
permit(
  principal is AgentCore::OAuthUser,
  action,
  resource == AgentCore::Gateway::"{{gateway_arn}}"
) when { principal.hasTag("scope") && principal.getTag("scope") like "*agentzone/claims/invoke*" };
"""
LIMIT = """\
forbid(
  principal,
  action == AgentCore::Action::"claim-lookup___list_open_claims",
  resource == AgentCore::Gateway::"{{gateway_arn}}"
) when { context.input.limit > 100 };
"""
LOOKUP_TOOLS = [
    {
        "name": "get_claim",
        "description": "Fetch a claim by its number.",
        "inputSchema": {
            "type": "object",
            "properties": {"claim_number": {"type": "string", "description": "e.g. CL-2026-000123"}},
            "required": ["claim_number"],
        },
        "outputSchema": {"type": "object", "properties": {"status": {"type": "string"}}},
    },
    {
        "name": "list_open_claims",
        "description": "List the open claims of one policy holder.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "policy_number": {"type": "string"},
                "limit": {"type": "integer"},
                "states": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["policy_number"],
        },
    },
]
NOTES_TOOLS = [
    {
        "name": "add_note",
        "description": "Add a note to a claim.",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}},
    }
]
POLICY_ADMIN = """\
openapi: 3.0.3
info: {title: Policy administration, version: 1.2.0}
servers:
  - url: https://policy-admin.internal.example.com/v1
paths:
  /policies/{policyNumber}:
    get:
      operationId: getPolicy
      parameters:
        - {name: policyNumber, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: The policy
          content:
            application/json:
              schema: {type: object, properties: {holder: {type: string}}}
"""
WEATHER = {
    "openapi": "3.1.0",
    "info": {"title": "Weather", "version": "1"},
    "servers": [{"url": "https://weather.example.com"}],
    "paths": {"/forecast": {"get": {"operationId": "forecast", "responses": {"200": {"description": "ok"}}}}},
}


def write_config(root: Path) -> Path:
    """A config directory with the files a tenant's tool_gateway names."""
    files = {
        "policies/claims/callers.cedar": CALLERS,
        "policies/claims/lookup-limit.cedar": LIMIT,
        "tools/claims/lookup.json": json.dumps(LOOKUP_TOOLS),
        "tools/claims/notes.json": json.dumps(NOTES_TOOLS),
        "tools/claims/policy-admin.yaml": POLICY_ADMIN,
        "tools/claims/weather.json": json.dumps(WEATHER),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def gateway_config(**overrides) -> ToolGatewayBlueprint:
    body = {
        "policies": ["policies/claims/callers.cedar", "policies/claims/lookup-limit.cedar"],
        "lambda_targets": [
            {
                "name": "claim-lookup",
                "description": "Claims records",
                "function": "claims-lookup",
                "tools": "tools/claims/lookup.json",
            },
            {
                "name": "claim-notes",
                "description": "Notes on claims",
                "function": "claims-notes",
                "tools": "tools/claims/notes.json",
            },
        ],
        "openapi_targets": [
            {
                "name": "policy-admin",
                "description": "Policy administration API",
                "schema_file": "tools/claims/policy-admin.yaml",
                "api_key_secret": "agentzone/claims/policy-admin-api-key",
            },
            {
                "name": "weather",
                "description": "Weather forecasts",
                "schema_file": "tools/claims/weather.json",
                "api_key_secret": "agentzone/claims/weather-key",
                "api_key_header": "Authorization",
            },
        ],
    }
    return ToolGatewayBlueprint.model_validate({**body, **overrides})


def context(stack: cdk.Stack, config_dir: Path | None, *, identity: bool = True) -> BlueprintContext:
    return BlueprintContext(
        tenant="claims",
        environment="dev",
        encryption_key=BaselineKey(stack, "Key", alias="alias/agentzone/claims", description="claims").key,
        tags=TAGS,
        config_dir=config_dir,
        identity=CentralIdentity.for_tenant(
            region="eu-west-1", user_pool_id=POOL, tenant="claims", scopes=["invoke", "claims.read"]
        )
        if identity
        else None,
    )


@dataclass(frozen=True)
class Built:
    """Both stacks as synthesized, by stack name, and the gateways built in them."""

    stacks: dict[str, Synth]
    gateways: dict[str, TenantToolGateway]


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory) -> Path:
    return write_config(tmp_path_factory.mktemp("config"))


@pytest.fixture(scope="module")
def built(tmp_path_factory, config_dir) -> Built:
    """Two tenant gateways through every nag pack (synth raises on an unacknowledged error):
    JWT + ENFORCE with all target kinds, and the IAM fallback with enforce off."""
    app = new_app(tmp_path_factory.mktemp("tenant-tools") / "cdk.out")
    gateways = {}
    stack = cdk.Stack(app, JWT_STACK, env=ENV)
    gateways[JWT_STACK] = TenantToolGateway.from_config(
        stack, "ToolGateway", context=context(stack, config_dir), config=gateway_config()
    )
    stack = cdk.Stack(app, IAM_STACK, env=ENV)
    iam_config = gateway_config(enforce=False, policies=["policies/claims/callers.cedar"], openapi_targets=[])
    gateways[IAM_STACK] = TenantToolGateway.from_config(
        stack, "ToolGateway", context=context(stack, config_dir, identity=False), config=iam_config
    )
    return Built(synthesize_stacks(app), gateways)


@pytest.fixture(scope="module")
def template(built) -> Template:
    return built.stacks[JWT_STACK].template


@pytest.fixture(scope="module")
def raw(built) -> dict:
    return built.stacks[JWT_STACK].raw


def of_type(raw: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in raw["Resources"].items() if v["Type"] == kind}


def target(raw: dict, name: str) -> dict:
    (found,) = [
        v for v in of_type(raw, "AWS::BedrockAgentCore::GatewayTarget").values() if v["Properties"]["Name"] == name
    ]
    return found


def role_policy(raw: dict) -> tuple[str, dict]:
    (found,) = [
        (k, v)
        for k, v in of_type(raw, "AWS::IAM::Policy").items()
        if k.startswith("ToolGatewayServiceRoleDefaultPolicy")
    ]
    return found


def statements(raw: dict, action: str) -> list[dict]:
    """Statements of the gateway role that allow ``action``."""
    out = []
    for statement in role_policy(raw)[1]["Properties"]["PolicyDocument"]["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if action in actions:
            assert statement["Effect"] == "Allow" and "Condition" not in statement
            out.append(statement)
    return out


def resources(statement: dict) -> list:
    return statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]


def granted(raw: dict, action: str) -> list:
    """Every resource the gateway role may ``action`` on, over all its statements (each grants that action alone)."""
    found = statements(raw, action)
    assert found and all(s["Action"] == action for s in found)
    return [r for s in found for r in resources(s)]


def joined(value) -> str:
    """An ARN as one string. Under cdk.json's partition literals it is one already ("arn:aws:..."); an Fn::Join
    (a token in it) reads as its parts, with {Ref: AWS::Partition} written as <p>."""
    if isinstance(value, str):
        return value
    parts = value["Fn::Join"][1]
    return "".join(
        p if isinstance(p, str) else "<p>" if p == {"Ref": "AWS::Partition"} else json.dumps(p) for p in parts
    )


# ------------------------------------------------------------------ gateway and inbound auth


def test_gateway_trusts_the_central_identity_with_the_tenant_scopes(template, built):
    template.has_resource_properties(
        "AWS::BedrockAgentCore::Gateway",
        {
            "Name": GATEWAY_NAME,
            "ProtocolType": "MCP",
            "AuthorizerType": "CUSTOM_JWT",
            "AuthorizerConfiguration": {"CustomJWTAuthorizer": {"DiscoveryUrl": DISCOVERY, "AllowedScopes": SCOPES}},
            "KmsKeyArn": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
            "ExceptionLevel": Match.absent(),
            "Tags": Match.object_like(TAGS),
        },
    )
    template.resource_count_is("AWS::Cognito::UserPool", 0)  # never a gateway-private identity
    assert not built.gateways[JWT_STACK].uses_iam_auth


def test_without_identity_callers_sign_with_iam(built):
    gateway = built.stacks[IAM_STACK].template.find_resources("AWS::BedrockAgentCore::Gateway")
    (props,) = [g["Properties"] for g in gateway.values()]
    assert props["AuthorizerType"] == "AWS_IAM" and "AuthorizerConfiguration" not in props
    built.stacks[IAM_STACK].template.resource_count_is("AWS::Cognito::UserPool", 0)
    assert built.gateways[IAM_STACK].uses_iam_auth


def test_iam_fallback_warns_about_oauth_only_policies(built):
    metadata = json.loads((built.stacks[IAM_STACK].outdir / f"{IAM_STACK}.metadata.json").read_text())
    warnings = [e["data"] for entries in metadata.values() for e in entries if e["type"] == "aws:cdk:warning"]
    assert any("AgentCore::IamEntity" in w for w in warnings)


# ------------------------------------------------------------------ Cedar


def test_policy_engine_enforces_config_policies_with_the_gateway_arn(template, raw):
    template.has_resource_properties(
        "AWS::BedrockAgentCore::Gateway",
        {
            "PolicyEngineConfiguration": {
                "Mode": "ENFORCE",
                "Arn": {"Fn::GetAtt": [Match.string_like_regexp("PolicyEngine"), "PolicyEngineArn"]},
            },
        },
    )
    template.has_resource_properties("AWS::BedrockAgentCore::PolicyEngine", {"Name": "agentzone_claims_tools"})
    policies = of_type(raw, "AWS::BedrockAgentCore::Policy")
    assert sorted(p["Properties"]["Name"] for p in policies.values()) == ["callers", "lookup_limit"]
    (gateway_id,) = of_type(raw, "AWS::BedrockAgentCore::Gateway")
    targets = sorted(of_type(raw, "AWS::BedrockAgentCore::GatewayTarget"))
    for policy in policies.values():
        parts = policy["Properties"]["Definition"]["Cedar"]["Statement"]["Fn::Join"][1]
        assert {"Fn::GetAtt": [gateway_id, "GatewayArn"]} in parts  # {{gateway_arn}} rendered
        assert not any(cedar.GATEWAY_ARN_PLACEHOLDER in p for p in parts if isinstance(p, str))
        assert policy["Properties"]["ValidationMode"] == "FAIL_ON_ANY_FINDINGS"
        # AgentCore checks a policy against the gateway's tools: every target exists first.
        assert set(targets) <= set(policy["DependsOn"])


def test_log_only_when_not_enforced(built):
    built.stacks[IAM_STACK].template.has_resource_properties(
        "AWS::BedrockAgentCore::Gateway",
        {
            "PolicyEngineConfiguration": {"Mode": "LOG_ONLY", "Arn": Match.any_value()},
        },
    )


def test_log_only_needs_no_policy(config_dir):
    stack = cdk.Stack(new_app(), "NoPolicies", env=ENV)
    TenantToolGateway.from_config(
        stack,
        "ToolGateway",
        context=context(stack, config_dir),
        config=gateway_config(enforce=False, policies=[], openapi_targets=[]),
    )
    Template.from_stack(stack).resource_count_is("AWS::BedrockAgentCore::Policy", 0)


# ------------------------------------------------------------------ Lambda targets


def test_lambda_targets_carry_the_tool_schema_from_the_file(raw):
    props = target(raw, "claim-lookup")["Properties"]
    assert props["Description"] == "Claims records"
    lambda_config = props["TargetConfiguration"]["Mcp"]["Lambda"]
    assert joined(lambda_config["LambdaArn"]) == "arn:aws:lambda:eu-west-1:111111111111:function:claims-lookup"
    assert props["CredentialProviderConfigurations"] == [{"CredentialProviderType": "GATEWAY_IAM_ROLE"}]
    assert lambda_config["ToolSchema"]["InlinePayload"] == [
        {
            "Name": "get_claim",
            "Description": "Fetch a claim by its number.",
            "InputSchema": {
                "Type": "object",
                "Properties": {"claim_number": {"Type": "string", "Description": "e.g. CL-2026-000123"}},
                "Required": ["claim_number"],
            },
            "OutputSchema": {"Type": "object", "Properties": {"status": {"Type": "string"}}},
        },
        {
            "Name": "list_open_claims",
            "Description": "List the open claims of one policy holder.",
            "InputSchema": {
                "Type": "object",
                "Properties": {
                    "policy_number": {"Type": "string"},
                    "limit": {"Type": "integer"},
                    "states": {"Type": "array", "Items": {"Type": "string"}},
                },
                "Required": ["policy_number"],
            },
        },
    ]


def test_gateway_role_may_invoke_exactly_the_named_functions(raw, built):
    assert sorted(joined(r) for r in granted(raw, "lambda:InvokeFunction")) == [
        "arn:aws:lambda:eu-west-1:111111111111:function:claims-lookup",
        "arn:aws:lambda:eu-west-1:111111111111:function:claims-notes",
    ]  # unqualified ARNs only: no versions or aliases (':*'), no other function
    for name in ("claim-lookup", "claim-notes"):
        assert role_policy(raw)[0] in target(raw, name)["DependsOn"]  # the grant exists before the target
    for stack in (JWT_STACK, IAM_STACK):
        stack_raw = built.stacks[stack].raw
        assert "lambda:*" not in json.dumps(stack_raw) and ":function:claims-lookup:*" not in json.dumps(stack_raw)
        assert of_type(stack_raw, "AWS::Lambda::Permission") == {}  # no resource policy on the team's functions
    others = [
        k
        for k, v in of_type(raw, "AWS::IAM::Policy").items()
        if "lambda:" in json.dumps(v) and k != role_policy(raw)[0]
    ]
    assert others == []


# ------------------------------------------------------------------ OpenAPI targets


def test_openapi_targets_use_their_api_key_provider_and_header(raw):
    providers = of_type(raw, "AWS::BedrockAgentCore::ApiKeyCredentialProvider")
    by_name = {p["Properties"]["Name"]: logical for logical, p in providers.items()}
    assert set(by_name) == {"agentzone-claims-tools-policy-admin", "agentzone-claims-tools-weather"}

    admin = target(raw, "policy-admin")["Properties"]
    assert json.loads(admin["TargetConfiguration"]["Mcp"]["OpenApiSchema"]["InlinePayload"]) == yaml.safe_load(
        POLICY_ADMIN
    )
    assert admin["CredentialProviderConfigurations"] == [
        {
            "CredentialProviderType": "API_KEY",
            "CredentialProvider": {
                "ApiKeyCredentialProvider": {
                    "ProviderArn": {
                        "Fn::GetAtt": [by_name["agentzone-claims-tools-policy-admin"], "CredentialProviderArn"]
                    },
                    "CredentialLocation": "HEADER",
                    "CredentialParameterName": "x-api-key",  # the bare key: no 'Bearer ' prefix on a custom header
                }
            },
        }
    ]
    weather = target(raw, "weather")["Properties"]
    assert json.loads(weather["TargetConfiguration"]["Mcp"]["OpenApiSchema"]["InlinePayload"]) == WEATHER
    assert weather["CredentialProviderConfigurations"][0]["CredentialProvider"]["ApiKeyCredentialProvider"] == {
        "ProviderArn": {"Fn::GetAtt": [by_name["agentzone-claims-tools-weather"], "CredentialProviderArn"]},
        "CredentialLocation": "HEADER",
        "CredentialParameterName": "Authorization",
        "CredentialPrefix": "Bearer ",
    }


def test_api_keys_come_from_secrets_manager_by_dynamic_reference(raw):
    keys = {
        p["Properties"]["Name"]: p["Properties"]["ApiKey"]
        for p in of_type(raw, "AWS::BedrockAgentCore::ApiKeyCredentialProvider").values()
    }
    assert keys == {
        "agentzone-claims-tools-policy-admin": (
            "{{resolve:secretsmanager:agentzone/claims/policy-admin-api-key:SecretString:::}}"
        ),
        "agentzone-claims-tools-weather": "{{resolve:secretsmanager:agentzone/claims/weather-key:SecretString:::}}",
    }
    # Resolved by CloudFormation at deploy time: no parameter, output or other property carries a key.
    assert "Parameters" not in raw or set(raw["Parameters"]) == {"BootstrapVersion"}
    assert raw.get("Outputs", {}) == {}


def test_gateway_role_reads_only_its_own_providers_keys(raw):
    providers = sorted(of_type(raw, "AWS::BedrockAgentCore::ApiKeyCredentialProvider"))
    get_key = granted(raw, "bedrock-agentcore:GetResourceApiKey")
    assert sorted(r["Fn::GetAtt"][0] for r in get_key if "Fn::GetAtt" in r) == providers
    assert sorted({joined(r) for r in get_key if "Fn::GetAtt" not in r}) == [
        "arn:aws:bedrock-agentcore:eu-west-1:111111111111:token-vault/default",
        "arn:aws:bedrock-agentcore:eu-west-1:111111111111:workload-identity-directory/default",
        f"arn:aws:bedrock-agentcore:eu-west-1:111111111111:workload-identity-directory/default/workload-identity/{GATEWAY_NAME}-*",
    ]
    assert sorted(joined(r) for r in granted(raw, "bedrock-agentcore:GetWorkloadAccessToken")) == [
        "arn:aws:bedrock-agentcore:eu-west-1:111111111111:workload-identity-directory/default",
        f"arn:aws:bedrock-agentcore:eu-west-1:111111111111:workload-identity-directory/default/workload-identity/{GATEWAY_NAME}-*",
    ]
    # Each provider's own token-vault secret (6-character random suffix), not the whole vault, not the team's secrets.
    assert sorted(joined(r) for r in granted(raw, "secretsmanager:GetSecretValue")) == [
        f"arn:aws:secretsmanager:eu-west-1:111111111111:secret:bedrock-agentcore-identity!default/apikey/{GATEWAY_NAME}-{name}-??????"
        for name in ("policy-admin", "weather")
    ]
    text = json.dumps(role_policy(raw)[1])
    assert "bedrock-agentcore-identity!*" not in text and "agentzone/claims/" not in text
    for name in ("policy-admin", "weather"):
        assert role_policy(raw)[0] in target(raw, name)["DependsOn"]


# ------------------------------------------------------------------ nag, lint


def test_nag_passed_with_narrow_acknowledgements(built):
    # The fixture's synth would have raised on any unacknowledged error; here: what was acknowledged, and where.
    for stack in (JWT_STACK, IAM_STACK):
        acks = built.stacks[stack].acknowledgements()
        assert {a.path for a in acks} == {f"/{stack}/ToolGateway/Gateway/Gateway/ServiceRole/DefaultPolicy"}
    acks = {a.finding for a in built.stacks[JWT_STACK].acknowledgements() if a.pack == "AwsSolutions"}
    workload = (
        "AwsSolutions-IAM5[Resource::arn:aws:bedrock-agentcore:eu-west-1:111111111111:"
        f"workload-identity-directory/default/workload-identity/{GATEWAY_NAME}-*]"
    )
    assert acks == {
        "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        workload,
    }
    # Without API key targets there is no workload identity grant to acknowledge.
    assert workload not in {a.finding for a in built.stacks[IAM_STACK].acknowledgements()}


@pytest.mark.parametrize("stack", [JWT_STACK, IAM_STACK])
def test_cfn_lint_is_clean(built, stack):
    result = run_cfn_lint([built.stacks[stack].path])
    assert result.errors == [], result.render()


# ------------------------------------------------------------------ API


def test_attach_to_agent_grants_invoke_and_names_the_url(config_dir):
    stack = cdk.Stack(new_app(), "Attach", env=ENV)
    gateway = TenantToolGateway.from_config(
        stack, "ToolGateway", context=context(stack, config_dir), config=gateway_config(openapi_targets=[])
    )
    agent = iam.Role(stack, "Agent", assumed_by=iam.ServicePrincipal("bedrock-agentcore.amazonaws.com"))
    assert isinstance(gateway, AgentAttachment)
    env = gateway.attach_to_agent(agent)
    assert list(env) == [TOOL_GATEWAY_URL_VARIABLE] == ["AGENTZONE_TOOL_GATEWAY_URL"]
    (gateway_id,) = Template.from_stack(stack).find_resources("AWS::BedrockAgentCore::Gateway")
    assert stack.resolve(env[TOOL_GATEWAY_URL_VARIABLE]) == {"Fn::GetAtt": [gateway_id, "GatewayUrl"]}
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": Match.string_like_regexp("^Agent")}],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "bedrock-agentcore:InvokeGateway",
                        "Effect": "Allow",
                        "Resource": {"Fn::GetAtt": [gateway_id, "GatewayArn"]},
                    }
                ]
            },
        },
    )
    assert set(gateway.targets) == {"claim-lookup", "claim-notes"}
    assert stack.resolve(gateway.gateway_arn) == {"Fn::GetAtt": [gateway_id, "GatewayArn"]}
    assert stack.resolve(gateway.gateway_id) == {"Fn::GetAtt": [gateway_id, "GatewayIdentifier"]}
    metric = gateway.metric_invocations()
    assert (metric.namespace, metric.metric_name) == ("AWS/Bedrock-AgentCore", "Invocations")
    assert gateway.metric_system_errors().metric_name == "SystemErrors"
    assert gateway.metric_user_errors().metric_name == "UserErrors"
    assert gateway.metric_throttles().metric_name == "Throttles"


def test_direct_use_without_config_files():
    stack = cdk.Stack(new_app(), "Direct", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/agentzone/direct", description="direct").key
    gateway = TenantToolGateway(
        stack,
        "Tools",
        props=TenantToolGatewayProps(
            gateway_name="agentzone-fraud-tools",
            encryption_key=key,
            policies={"callers": CALLERS},
            identity=CentralIdentity(
                discovery_url=DISCOVERY, allowed_scopes=("agentzone/fraud/invoke",), allowed_clients=("client1",)
            ),
            lambda_targets=(
                LambdaTargetProps(
                    name="score", description="Fraud score", function_name="fraud-score", tools=tuple(NOTES_TOOLS)
                ),
            ),
        ),
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::BedrockAgentCore::Gateway",
        {
            "Name": "agentzone-fraud-tools",
            "AuthorizerConfiguration": {
                "CustomJWTAuthorizer": {
                    "DiscoveryUrl": DISCOVERY,
                    "AllowedScopes": ["agentzone/fraud/invoke"],
                    "AllowedClients": ["client1"],
                }
            },
        },
    )
    assert set(gateway.targets) == {"score"}


# ------------------------------------------------------------------ errors


def build(config_dir: Path | None, **overrides) -> None:
    stack = cdk.Stack(new_app(), "Bad", env=ENV)
    TenantToolGateway.from_config(
        stack, "ToolGateway", context=context(stack, config_dir), config=gateway_config(**overrides)
    )


def test_enforce_without_policies_is_refused(config_dir):
    with pytest.raises(ValueError, match="no Cedar policies, every tool call is denied"):
        build(config_dir, policies=[])


def write(root: Path, rel: str, text: str) -> str:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(textwrap.dedent(text))
    return rel


def lambda_with(tools_file: str) -> list[dict]:
    return [{"name": "claim-lookup", "description": "d", "function": "claims-lookup", "tools": tools_file}]


@pytest.mark.parametrize(
    "text, message",
    [
        ('[{"name": "a", ', r"tools/bad\.json: not valid JSON"),
        (json.dumps({"name": "a"}), r"tools/bad\.json: must be a non-empty JSON list"),
        (
            json.dumps([NOTES_TOOLS[0], {"name": "b", "inputSchema": {"type": "object"}}]),
            r"tools/bad\.json: tool \[1\]: description is required",
        ),
        (
            json.dumps([NOTES_TOOLS[0], {"name": "b", "description": "d", "inputSchema": {"type": "string"}}]),
            r"tools/bad\.json: tool \[1\]: inputSchema must be a JSON schema of type object",
        ),
    ],
)
def test_bad_tools_json_names_file_and_index(tmp_path, text, message):
    root = write_config(tmp_path)
    rel = write(root, "tools/bad.json", text)
    with pytest.raises(ValueError, match=message):
        build(root, lambda_targets=lambda_with(rel), openapi_targets=[])


@pytest.mark.parametrize(
    "schema, message",
    [
        (
            {"type": "object", "properties": {"kind": {"type": "string", "enum": ["a", "b"]}}},
            r"tool \[0\]\.inputSchema\.properties\.kind: unsupported keys \['enum'\]",
        ),
        (
            {"type": "object", "properties": {"n": {"type": "float"}}},
            r"tool \[0\]\.inputSchema\.properties\.n\.type: 'float'",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]},
            r"tool \[0\]\.inputSchema\.required: \['b'\]",
        ),
    ],
)
def test_tool_schemas_outside_agentcores_subset_are_refused(tmp_path, schema, message):
    root = write_config(tmp_path)
    rel = write(root, "tools/bad.json", json.dumps([{"name": "a", "description": "d", "inputSchema": schema}]))
    with pytest.raises(ValueError, match=r"tools/bad\.json: " + message):
        build(root, lambda_targets=lambda_with(rel), openapi_targets=[])


def test_tool_names_must_fit_with_the_target_name(tmp_path):
    root = write_config(tmp_path)
    rel = write(
        root, "tools/long.json", json.dumps([{"name": "x" * 60, "description": "d", "inputSchema": {"type": "object"}}])
    )
    with pytest.raises(ValueError, match=r"tool \[0\]: agents see 'claim-lookup___x+' \(75 characters\)"):
        build(root, lambda_targets=lambda_with(rel), openapi_targets=[])


@pytest.mark.parametrize("servers", ["servers: [{url: 'http://policy-admin.example.com'}]", "servers: []", ""])
def test_openapi_without_an_https_server_is_refused(tmp_path, servers):
    root = write_config(tmp_path)
    rel = write(
        root,
        "tools/plain.yaml",
        POLICY_ADMIN.replace("servers:\n  - url: https://policy-admin.internal.example.com/v1", servers),
    )
    target = {"name": "plain", "description": "d", "schema_file": rel, "api_key_secret": "k"}
    with pytest.raises(ValueError, match=r"tools/plain\.yaml: servers\[0\]\.url must be an https:// URL"):
        build(root, openapi_targets=[target])


def test_openapi_the_l2_refuses_is_a_value_error_naming_the_target(tmp_path):
    root = write_config(tmp_path)
    document = {**WEATHER, "security": [{"key": []}]}  # outbound auth belongs to the gateway, not the document
    rel = write(root, "tools/secured.json", json.dumps(document))
    target = {"name": "secured", "description": "d", "schema_file": rel, "api_key_secret": "k"}
    with pytest.raises(
        ValueError, match=r"(?s)target 'secured': .*security schemes at the OpenAPI specification level"
    ):
        build(root, openapi_targets=[target])


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"policies": ["policies/claims/nope.cedar"]}, "no Cedar policy file policies/claims/nope.cedar under"),
        ({"lambda_targets": lambda_with("tools/claims/nope.json")}, "no tool schema file tools/claims/nope.json under"),
        (
            {
                "openapi_targets": [
                    {"name": "x", "description": "d", "schema_file": "tools/nope.yaml", "api_key_secret": "k"}
                ]
            },
            "no OpenAPI file tools/nope.yaml under",
        ),
        (
            {"lambda_targets": lambda_with("tools/../../outside.json")},
            r"no tool schema file tools/\.\./\.\./outside\.json under",
        ),
    ],
)
def test_missing_files_are_named(config_dir, overrides, message):
    with pytest.raises(ValueError, match=message):
        build(config_dir, **overrides)


def test_config_dir_is_required():
    with pytest.raises(ValueError, match=r"set BlueprintContext\.config_dir"):
        build(None)


def test_bad_cedar_names_its_file(tmp_path):
    root = write_config(tmp_path)
    write(
        root, "policies/claims/broken.cedar", "permit(principal, action, resource) when { context.input.amount <= };\n"
    )
    with pytest.raises(ValueError, match=r"policies/claims/broken\.cedar.*Cedar syntax error"):
        build(root, policies=["policies/claims/broken.cedar"])


def test_duplicate_target_names_are_refused(config_dir):
    duplicate = {
        "name": "claim-lookup",
        "description": "d",
        "schema_file": "tools/claims/weather.json",
        "api_key_secret": "k",
    }
    with pytest.raises(ValueError, match="target name 'claim-lookup' is used twice"):
        build(config_dir, openapi_targets=[duplicate])


@pytest.mark.parametrize("name", ["agentzone-" + "x" * 40, "bad--name", "-bad"])
def test_gateway_names_agentcore_refuses_fail_early(name):
    stack = cdk.Stack(new_app(), "BadName", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/agentzone/bad", description="bad").key
    with pytest.raises(ValueError, match="gateway name"):
        TenantToolGateway(
            stack, "Tools", props=TenantToolGatewayProps(gateway_name=name, encryption_key=key, enforce=False)
        )


def test_every_valid_tenant_slug_gives_a_valid_gateway_name():
    longest = "t" + "a" * 30 + "z"
    assert re.match(SLUG_PATTERN, longest)
    name = tenant_gateway_name(longest)
    assert len(name) == GATEWAY_NAME_MAX and GATEWAY_NAME_PATTERN.match(name)


def test_built_from_props_every_taggable_resource_carries_the_tags():
    """Tags travel in the props: a team that builds the gateway itself gets them on every resource, as from YAML."""
    stack = cdk.Stack(new_app(), "PropsTags", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/agentzone/props", description="props").key
    TenantToolGateway(
        stack,
        "Tools",
        props=TenantToolGatewayProps(
            gateway_name="agentzone-fraud-tools",
            encryption_key=key,
            policies={"callers": CALLERS},
            lambda_targets=(
                LambdaTargetProps(
                    name="score", description="Fraud score", function_name="fraud-score", tools=tuple(NOTES_TOOLS)
                ),
            ),
            tags=TAGS,
        ),
    )
    resources = Template.from_stack(stack).to_json()["Resources"]
    tagged = {
        logical_id: as_dict(resource["Properties"].get(prop, []))
        for logical_id, resource in resources.items()
        if logical_id.startswith("Tools") and (prop := tag_property("eu-west-1", resource["Type"])) is not None
    }
    assert {resources[k]["Type"] for k in tagged} >= {"AWS::BedrockAgentCore::Gateway", "AWS::IAM::Role"}
    assert {k: v for k, v in tagged.items() if not TAGS.items() <= v.items()} == {}
