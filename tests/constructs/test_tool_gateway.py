"""Shared tool gateway construct: JWT in, Cedar in ENFORCE, IAM-only MCP runtimes as its targets, exact grants.

Cedar decisions, manifests and registration are tested under tests/tools/.
"""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk.assertions import Match, Template

from agentzone.cfn_lint import run_cfn_lint
from agentzone.config.model import McpServer
from agentzone.constructs import BaselineKey
from agentzone.constructs.tool_gateway import McpServerRuntime, McpServerRuntimeProps, ToolGateway, ToolGatewayProps
from agentzone.tools import cedar
from agentzone.tools.manifest import prefix_problems

from ..conftest import SAMPLE_CONFIG
from ..support import NAG_PACKS, Synth, new_app, synthesize

ENV = cdk.Environment(account="100000000011", region="eu-west-1")
DISCOVERY = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123/.well-known/openid-configuration"
SCOPE = "agentzone/shared-tools/invoke"
POLICY_DIR = SAMPLE_CONFIG / "policies" / "shared-tools"


def shared_policies() -> dict[str, str]:
    policies, problems = cedar.load_policy_dir(POLICY_DIR)
    assert not problems
    return policies


def gateway(stack: cdk.Stack, **overrides) -> ToolGateway:
    props = dict(
        gateway_name="agentzone-shared-tools",
        discovery_url=DISCOVERY,
        allowed_scopes=[SCOPE],
        policies=shared_policies(),
        encryption_key=BaselineKey(stack, "Key", alias="alias/agentzone/tools", description="tools").key,
    )
    return ToolGateway(stack, "SharedTools", props=ToolGatewayProps(**{**props, **overrides}))


STACK = "ToolGatewayTest"
INVOKE = "bedrock-agentcore:InvokeAgentRuntime"


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Synth:
    """A gateway with two MCP runtimes, synthesized through every nag pack (synth raises on an unacknowledged error)."""
    app = new_app(tmp_path_factory.mktemp("tool-gateway") / "cdk.out")
    stack = cdk.Stack(app, STACK, env=ENV)
    gw = gateway(stack)
    McpServerRuntime(
        stack,
        "ClaimsMcp",
        props=McpServerRuntimeProps(
            name="claims",
            gateway=gw,
            image_uri="100000000011.dkr.ecr.eu-west-1.amazonaws.com/agentzone/platform/claims-mcp:1.4.0",
            environment_variables={"LOG_LEVEL": "INFO"},
        ),
    )
    McpServerRuntime(
        stack,
        "DocsMcp",
        props=McpServerRuntimeProps(
            name="docs_search",
            target_name="shared-docs",
            gateway=gw,
            repository=ecr.Repository.from_repository_name(stack, "DocsRepo", "agentzone/platform/docs-mcp"),
            tag="2.0.1",
        ),
    )
    return synthesize(app, STACK)


@pytest.fixture(scope="module")
def template(synth) -> Template:
    return synth.template


def logical_id(raw: dict, kind: str, prefix: str) -> str:
    (found,) = [k for k, v in raw["Resources"].items() if v["Type"] == kind and k.startswith(prefix)]
    return found


def gateway_role_policy(raw: dict) -> dict:
    return raw["Resources"][logical_id(raw, "AWS::IAM::Policy", "SharedToolsGatewayServiceRoleDefaultPolicy")]


# ------------------------------------------------------------------ constructs


def test_gateway_uses_central_jwt_cmk_and_mcp(template):
    template.has_resource_properties(
        "AWS::BedrockAgentCore::Gateway",
        {
            "Name": "agentzone-shared-tools",
            "ProtocolType": "MCP",
            "AuthorizerType": "CUSTOM_JWT",
            "AuthorizerConfiguration": {"CustomJWTAuthorizer": {"DiscoveryUrl": DISCOVERY, "AllowedScopes": [SCOPE]}},
            "KmsKeyArn": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
            "ExceptionLevel": Match.absent(),  # sanitized messages
            "ProtocolConfiguration": {"Mcp": Match.object_like({"SearchType": "SEMANTIC"})},
        },
    )
    template.resource_count_is("AWS::Cognito::UserPool", 0)  # never a gateway-private identity


def test_policy_engine_enforces_config_policies(template):
    template.has_resource_properties(
        "AWS::BedrockAgentCore::PolicyEngine",
        {
            "Name": "agentzone_shared_tools",
            "EncryptionKeyArn": {"Fn::GetAtt": [Match.any_value(), "Arn"]},
        },
    )
    template.has_resource_properties(
        "AWS::BedrockAgentCore::Gateway",
        {
            "PolicyEngineConfiguration": {
                "Mode": "ENFORCE",
                "Arn": {"Fn::GetAtt": [Match.string_like_regexp("PolicyEngine"), "PolicyEngineArn"]},
            },
        },
    )
    policies = template.find_resources("AWS::BedrockAgentCore::Policy")
    assert sorted(p["Properties"]["Name"] for p in policies.values()) == ["baseline", "claims_limit"]
    for policy in policies.values():
        props = policy["Properties"]
        assert props["ValidationMode"] == "FAIL_ON_ANY_FINDINGS"
        parts = props["Definition"]["Cedar"]["Statement"]["Fn::Join"][1]
        assert any(
            isinstance(x, dict) and x.get("Fn::GetAtt", [None, None])[1] == "GatewayArn" for x in parts
        )  # placeholder replaced
        assert not any(cedar.GATEWAY_ARN_PLACEHOLDER in x for x in parts if isinstance(x, str))
    claims = next(p for p in policies.values() if p["Properties"]["Name"] == "claims_limit")
    text = "".join(
        x for x in claims["Properties"]["Definition"]["Cedar"]["Statement"]["Fn::Join"][1] if isinstance(x, str)
    )
    assert (
        'action == AgentCore::Action::"shared-claims___submit_claim"' in text
        and "context.input.amount <= 10000" in text
    )


def test_log_only_mode_when_not_enforced():
    app = new_app()
    stack = cdk.Stack(app, "LogOnly", env=ENV)
    gateway(stack, enforce=False, debug_exceptions=True)
    t = Template.from_stack(stack)
    t.has_resource_properties(
        "AWS::BedrockAgentCore::Gateway",
        {"PolicyEngineConfiguration": {"Mode": "LOG_ONLY", "Arn": Match.any_value()}, "ExceptionLevel": "DEBUG"},
    )


def test_mcp_runtimes_are_separate_iam_only_mcp_runtimes(template):
    runtimes = template.find_resources("AWS::BedrockAgentCore::Runtime")
    assert len(runtimes) == 2  # one resource each: they scale independently
    for runtime in runtimes.values():
        props = runtime["Properties"]
        assert props["ProtocolConfiguration"] == "MCP"
        assert "AuthorizerConfiguration" not in props  # no JWT authorizer: AgentCore's default, IAM (SigV4)
    template.resource_count_is("AWS::BedrockAgentCore::OAuth2CredentialProvider", 0)  # no client secret anywhere
    template.has_resource_properties(
        "AWS::BedrockAgentCore::Runtime",
        {
            "AgentRuntimeName": "claims",
            "EnvironmentVariables": {"LOG_LEVEL": "INFO"},
            "AgentRuntimeArtifact": {
                "ContainerConfiguration": {
                    "ContainerUri": {
                        "Fn::Join": ["", Match.array_with([Match.string_like_regexp("claims-mcp:1.4.0$")])]
                    }
                }
            },
        },
    )
    # Pull rights on exactly the image's repository, also for an image given by URI.
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": Match.array_with(["ecr:BatchGetImage"]),
                                "Resource": {
                                    "Fn::Join": [
                                        "",
                                        [
                                            "arn:",
                                            {"Ref": "AWS::Partition"},
                                            ":ecr:eu-west-1:100000000011:repository/agentzone/platform/claims-mcp",
                                        ],
                                    ]
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


def test_runtimes_are_mcp_targets_of_the_gateway_with_its_iam_role(synth):
    targets = synth.template.find_resources("AWS::BedrockAgentCore::GatewayTarget")
    assert sorted(t["Properties"]["Name"] for t in targets.values()) == ["shared-claims", "shared-docs"]
    policy = logical_id(synth.raw, "AWS::IAM::Policy", "SharedToolsGatewayServiceRoleDefaultPolicy")
    for target in targets.values():
        props = target["Properties"]
        assert props["GatewayIdentifier"]["Fn::GetAtt"][1] == "GatewayIdentifier"
        endpoint = props["TargetConfiguration"]["Mcp"]["McpServer"]["Endpoint"]["Fn::Join"][1]
        assert (
            endpoint[0] == "https://bedrock-agentcore.eu-west-1." and endpoint[-1] == "/invocations?qualifier=DEFAULT"
        )
        assert "AgentRuntimeArn" in json.dumps(endpoint)
        assert props["CredentialProviderConfigurations"] == [
            {
                "CredentialProviderType": "GATEWAY_IAM_ROLE",
                "CredentialProvider": {
                    "IamCredentialProvider": {"Service": "bedrock-agentcore"}
                },  # SigV4 for the runtime
            }
        ]
        # Creating an MCP target lists the server's tools: the gateway role holds its grant first.
        assert policy in target["DependsOn"]


def test_gateway_role_may_invoke_exactly_its_runtimes(synth):
    runtimes = sorted(k for k, v in synth.raw["Resources"].items() if v["Type"] == "AWS::BedrockAgentCore::Runtime")
    statements = gateway_role_policy(synth.raw)["Properties"]["PolicyDocument"]["Statement"]
    agentcore = [s for s in statements if any(a.startswith("bedrock-agentcore:") for a in _list(s["Action"]))]
    invoke = [s for s in agentcore if any("Invoke" in a or a.endswith("*") for a in _list(s["Action"]))]
    # One statement: cdk.json's minimizePolicies merges the per-runtime grants (and sorts their resources).
    (statement,) = invoke
    assert statement["Effect"] == "Allow" and statement["Action"] == INVOKE and "Condition" not in statement
    arns = [{"Fn::GetAtt": [runtime, "AgentRuntimeArn"]} for runtime in runtimes]
    endpoints = [{"Fn::Join": ["", [arn, "/runtime-endpoint/DEFAULT"]]} for arn in arns]
    assert statement["Resource"] == arns + endpoints  # each runtime and its DEFAULT endpoint, nothing else
    text = json.dumps(statements)
    assert "InvokeAgentRuntimeForUser" not in text and "bedrock-agentcore:*" not in text
    assert (
        "secretsmanager" not in text and "token-vault" not in text and "GetResourceOauth2Token" not in text
    )  # no OAuth path
    # Only the gateway role may invoke: no other policy in the stack grants InvokeAgentRuntime.
    others = [
        k
        for k, v in synth.raw["Resources"].items()
        if v["Type"] == "AWS::IAM::Policy"
        and INVOKE in json.dumps(v)
        and not k.startswith("SharedToolsGatewayServiceRole")
    ]
    assert others == []


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_nag_passed_with_narrow_acknowledgements(synth):
    # The fixture's synth would have raised on any unacknowledged error; here: what was acknowledged, and where.
    acks = synth.acknowledgements()
    assert {a.pack for a in acks} == NAG_PACKS
    for ack in acks:
        assert re.fullmatch(
            rf"/{STACK}/(SharedTools/Gateway/ServiceRole|(ClaimsMcp|DocsMcp)/Runtime/ExecutionRole)/DefaultPolicy",
            ack.path,
        ), ack
    on_gateway = {a.finding for a in acks if "/SharedTools/" in a.path and a.pack == "AwsSolutions"}
    # The runtime grant needs no acknowledgement: it names the runtimes, no wildcard.
    assert on_gateway == {
        "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
    }
    assert not any("bedrock-agentcore-identity" in a.finding or "runtime/" in a.finding for a in acks)


def test_cfn_lint_is_clean(synth):
    result = run_cfn_lint([synth.path])
    assert result.errors == [], result.render()


@pytest.mark.parametrize(
    "policies, message",
    [
        ({"two": "permit(principal, action, resource);\nforbid(principal, action, resource);"}, "2 statements"),
        ({"broken": "permit(principal, action, resource) when { context.input.amount <= };"}, "Cedar syntax error"),
        ({"literal": 'permit(principal, action, resource == AgentCore::Gateway::"arn:aws:x");'}, "literal ARN"),
        ({"bad-name": "permit(principal, action, resource);"}, "policy name"),
    ],
)
def test_bad_policies_fail_synth_with_their_name(policies, message):
    stack = cdk.Stack(new_app(), "Bad", env=ENV)
    with pytest.raises(ValueError, match=message):
        gateway(stack, policies=policies)


def test_runtime_needs_a_pinned_ecr_image_and_a_shared_target_name():
    stack = cdk.Stack(new_app(), "BadImage", env=ENV)
    gw = gateway(stack)
    with pytest.raises(ValueError, match="not an ECR image URI"):
        McpServerRuntime(
            stack, "M", props=McpServerRuntimeProps(name="x", gateway=gw, image_uri="docker.io/library/python:3")
        )
    with pytest.raises(ValueError, match="must start with 'shared-'"):
        McpServerRuntime(
            stack,
            "N",
            props=McpServerRuntimeProps(
                name="x",
                target_name="claims-x",
                gateway=gw,
                image_uri="100000000011.dkr.ecr.eu-west-1.amazonaws.com/a:1",
            ),
        )


def _config_name_ok(name: str) -> bool:
    field = McpServer.model_fields["name"]
    pattern = next(m.pattern for m in field.metadata if getattr(m, "pattern", None))
    length = next(m for m in field.metadata if getattr(m, "max_length", None))
    return bool(re.match(pattern, name)) and length.min_length <= len(name) <= length.max_length


@pytest.mark.parametrize("name", ["abc", "claims", "docs-search-2", "a1-b2-c3", "m" * 32, "a" + "-b" * 15 + "c"])
def test_every_config_server_name_gives_a_valid_runtime_and_target(name):
    assert _config_name_ok(name)  # the config accepts it ...
    stack = cdk.Stack(new_app(), "Names", env=ENV)
    server = McpServerRuntime(
        stack,
        "M",
        props=McpServerRuntimeProps(
            name=name, gateway=gateway(stack), image_uri="100000000011.dkr.ecr.eu-west-1.amazonaws.com/a:1"
        ),
    )
    assert server.target_name == f"shared-{name}" and not prefix_problems(
        server.target_name, "shared"
    )  # ... and so does the construct


@pytest.mark.parametrize("name", ["docs--search", "docs-", "-docs", "Docs"])
def test_names_the_construct_refuses_the_config_refuses_too(name):
    stack = cdk.Stack(new_app(), "Names", env=ENV)
    with pytest.raises(ValueError, match="target name"):
        McpServerRuntime(
            stack,
            "M",
            props=McpServerRuntimeProps(
                name=name, gateway=gateway(stack), image_uri="100000000011.dkr.ecr.eu-west-1.amazonaws.com/a:1"
            ),
        )
    assert not _config_name_ok(name)
