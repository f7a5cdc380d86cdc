"""Shared tool gateway: constructs (JWT, Cedar in ENFORCE, IAM-only MCP runtimes), Cedar decisions, manifests and
registration."""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import boto3
import botocore.session
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk.assertions import Match, Template
from botocore.validate import validate_parameters
from moto import mock_aws

from agentzone.config.model import McpServer, NagSettings
from agentzone.constructs import BaselineKey
from agentzone.constructs.tool_gateway import McpServerRuntime, McpServerRuntimeProps, ToolGateway, ToolGatewayProps
from agentzone.nag import PACK_PREFIXES, add_rule_packs
from agentzone.report import acknowledgements
from agentzone.synth import run_cfn_lint
from agentzone.tools import cedar
from agentzone.tools.cli import run
from agentzone.tools.manifest import load_manifests, prefix_problems
from agentzone.tools.register import create_request, register

from .conftest import ROOT, SAMPLE_CONFIG

ENV = cdk.Environment(account="100000000011", region="eu-west-1")
DISCOVERY = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123/.well-known/openid-configuration"
SCOPE = "agentzone/shared-tools/invoke"
POLICY_DIR = SAMPLE_CONFIG / "policies" / "shared-tools"
EXAMPLES = ROOT / "examples" / "tools"
GATEWAY_ARN = "arn:aws:bedrock-agentcore:eu-west-1:100000000011:gateway/agentzone-shared-tools-abcdefghij"


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
VAULT = "arn:aws:bedrock-agentcore:eu-west-1:100000000011:token-vault/default"  # the token vault of the test account
NAG_PACKS = set(PACK_PREFIXES)
INVOKE = "bedrock-agentcore:InvokeAgentRuntime"


@dataclass(frozen=True)
class Synth:
    template: Template
    raw: dict
    path: Path  # the template file, for cfn-lint
    outdir: Path  # the cloud assembly, for its acknowledgements


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Synth:
    """A gateway with two MCP runtimes, synthesized through every nag pack (synth raises on an unacknowledged error)."""
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("tool-gateway") / "cdk.out"))
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
    add_rule_packs(app, NagSettings())
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(STACK)
    return Synth(
        Template.from_json(artifact.template),
        artifact.template,
        Path(assembly.directory) / artifact.template_file,
        Path(assembly.directory),
    )


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
    app = cdk.App()
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
    assert len(invoke) == len(runtimes)
    granted = set()
    for statement in invoke:
        assert statement["Effect"] == "Allow" and statement["Action"] == INVOKE and "Condition" not in statement
        arn, endpoint = statement["Resource"]  # the runtime and its DEFAULT endpoint, nothing else
        runtime = arn["Fn::GetAtt"][0]
        assert arn == {"Fn::GetAtt": [runtime, "AgentRuntimeArn"]}
        assert endpoint == {"Fn::Join": ["", [arn, "/runtime-endpoint/DEFAULT"]]}
        granted.add(runtime)
    assert sorted(granted) == runtimes
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
    acks = [a for a in acknowledgements(synth.outdir, STACK) if a.pack in NAG_PACKS]
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
    stack = cdk.Stack(cdk.App(), "Bad", env=ENV)
    with pytest.raises(ValueError, match=message):
        gateway(stack, policies=policies)


def test_runtime_needs_a_pinned_ecr_image_and_a_shared_target_name():
    stack = cdk.Stack(cdk.App(), "BadImage", env=ENV)
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
    stack = cdk.Stack(cdk.App(), "Names", env=ENV)
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
    stack = cdk.Stack(cdk.App(), "Names", env=ENV)
    with pytest.raises(ValueError, match="target name"):
        McpServerRuntime(
            stack,
            "M",
            props=McpServerRuntimeProps(
                name=name, gateway=gateway(stack), image_uri="100000000011.dkr.ecr.eu-west-1.amazonaws.com/a:1"
            ),
        )
    assert not _config_name_ok(name)


# ------------------------------------------------------------------ Cedar decisions


def decide(context, *, principal=None, tool="submit_claim", target="shared-claims", gateway_arn=GATEWAY_ARN):
    who = (
        principal
        if principal is not None
        else cedar.oauth_user("agent-claims-1", scope=f"agentzone/claims/invoke {SCOPE}")
    )
    return cedar.evaluate(
        shared_policies(),
        principal=who,
        action=cedar.tool_action(target, tool),
        resource=cedar.gateway_resource(gateway_arn),
        context=context,
        gateway_arn=GATEWAY_ARN,
    )


def test_claims_at_the_limit_are_allowed():
    result = decide({"input": {"policy_id": "P-1", "amount": 10000}})
    assert result.allowed and result.diagnostics.reasons == ["policy0"]


@pytest.mark.parametrize(
    "context", [{"input": {"amount": 10001}}, {"input": {"amount": 250000}}, {"input": {"policy_id": "P-1"}}, {}]
)
def test_claims_above_the_limit_or_without_amount_are_refused(context):
    assert not decide(context).allowed


def test_other_tools_are_not_limited():
    assert decide({"input": {"claim_id": "C-1", "amount": 99999}}, tool="claim_status").allowed


@pytest.mark.parametrize(
    "principal",
    [
        'AgentCore::OAuthUser::"stranger"',  # unknown caller: no claims at all
        cedar.oauth_user("agent-fraud-1", scope="agentzone/fraud/invoke"),  # authenticated, but not for shared tools
        cedar.oauth_user("agent-x", scope=f"{SCOPE}-admin"),  # a longer scope is not the scope
        'AgentCore::IamEntity::"arn:aws:iam::444444444444:role/x"',
    ],
)
def test_callers_without_the_shared_tools_scope_are_denied(principal):
    assert not decide({"input": {"amount": 1}}, principal=principal).allowed


def test_another_gateway_is_not_covered():
    assert not decide({"input": {"amount": 1}}, gateway_arn=GATEWAY_ARN.replace("abcdefghij", "zzzzzzzzzz")).allowed


def test_cedar_syntax_errors_name_file_and_line(tmp_path):
    (tmp_path / "good.cedar").write_text(
        '// ok\npermit(principal, action, resource == AgentCore::Gateway::"{{gateway_arn}}");\n'
    )
    (tmp_path / "bad.cedar").write_text(
        textwrap.dedent("""\
        // a comment; with a semicolon
        permit(principal, action, resource == AgentCore::Gateway::"{{gateway_arn}}");

        forbid(principal, action, resource == AgentCore::Gateway::"{{gateway_arn}}")
        when { context.input.amount > };
        """)
    )
    policies, problems = cedar.load_policy_dir(tmp_path)
    assert list(policies) == ["good"]
    assert [(p.file.endswith("bad.cedar"), p.line) for p in problems] == [(True, 5)]
    assert "Cedar syntax error" in problems[0].message


def test_multi_statement_files_become_numbered_policies(tmp_path):
    (tmp_path / "two-rules.cedar").write_text(
        'forbid(principal, action == AgentCore::Action::"a___b", resource == AgentCore::Gateway::"{{gateway_arn}}");\n'
        'forbid(principal, action == AgentCore::Action::"a___c", resource == AgentCore::Gateway::"{{gateway_arn}}");\n'
    )
    policies, problems = cedar.load_policy_dir(tmp_path)
    assert not problems and list(policies) == ["two_rules_1", "two_rules_2"]


# ------------------------------------------------------------------ manifests


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


LAMBDA_MANIFEST = """\
    name: {name}
    description: Look up customers
    gateway: {gateway}
    {tenant}
    prefix: {prefix}
    target:
      lambda_function:
        arn: arn:aws:lambda:eu-west-1:100000000011:function:lookup
        tools:
          - name: lookup_customer
            description: Find a customer
            input_schema: {{type: object, properties: {{id: {{type: string}}}}, required: [id]}}
    auth:
      gateway_iam_role: {{}}
    compliance:
      data_classification: internal
      pii: true
      owner: team@example.com
      approved_by: security@example.com
      catalog_ref: CAT-1
    """


def lambda_manifest(
    tmp_path, file="m.yaml", *, name="lookup", gateway="tenant", tenant="tenant: claims", prefix="claims-lookup"
):
    return write(tmp_path, file, LAMBDA_MANIFEST.format(name=name, gateway=gateway, tenant=tenant, prefix=prefix))


def test_example_manifests_are_valid():
    loaded, problems = load_manifests(sorted(EXAMPLES.glob("*.yaml")), known_tenants={"claims", "fraud"})
    assert not problems and {m.manifest.prefix for m in loaded} == {"shared-claims", "fraud-scoring"}


@pytest.mark.parametrize(
    "prefix, owner, fragment",
    [
        ("claims-lookup", "claims", None),
        ("shared-docs", "shared", None),
        ("Claims-Lookup", "claims", "lowercase"),
        ("claims--lookup", "claims", "single '-'"),
        ("claims_lookup", "claims", "lowercase"),
        ("lookup", "claims", "must start with 'claims-'"),
        ("claims-", "claims", "must start with 'claims-'"),
        ("claims", "claims", "must start with 'claims-'"),
        ("fraud-lookup", "claims", "must start with 'claims-'"),
        ("claims-lookup", "shared", "must start with 'shared-'"),
        ("shared-" + "x" * 40, "shared", "at most 40"),
    ],
)
def test_prefix_rules(prefix, owner, fragment):
    problems = prefix_problems(prefix, owner)
    assert (not problems) if fragment is None else any(fragment in p for p in problems), problems


def test_several_problems_at_once_with_lines(tmp_path):
    path = write(
        tmp_path,
        "bad.yaml",
        f"""\
        name: lookup
        description: Look up customers
        gateway: tenant
        prefix: shared-lookup
        target:
          lambda_function:
            arn: arn:aws:lambda:eu-west-1:100000000011:function:lookup
            tool_schema_s3_uri: s3://schemas-bucket/lookup.json
          mcp_server:
            endpoint: https://mcp.example.com/mcp
        auth:
          oauth:
            provider_arn: {VAULT}/oauth2credentialprovider/x
            scopes: [read]
        compliance:
          data_classification: secret
          pii: yes please
          owner: team@example.com
          approved_by: team@example.com
          catalog_ref: CAT-1
          ownr: me
        """,
    )
    loaded, problems = load_manifests([path])
    found = {(p.line, p.path) for p in problems}
    assert (16, "compliance.data_classification") in found
    assert (17, "compliance.pii") in found
    assert (21, "compliance.ownr") in found
    assert all(p.file.endswith("bad.yaml") for p in problems) and not loaded
    assert any("did you mean 'owner'" in p.message for p in problems)


def test_semantic_problems_point_at_their_keys(tmp_path):
    path = write(
        tmp_path,
        "bad.yaml",
        f"""\
        name: lookup
        description: Look up customers
        gateway: tenant
        prefix: lookup
        target:
          lambda_function:
            arn: arn:aws:lambda:eu-west-1:100000000011:function:lookup
            tool_schema_s3_uri: s3://schemas-bucket/lookup.json
        auth:
          oauth:
            provider_arn: {VAULT}/oauth2credentialprovider/x
            scopes: [read]
        compliance:
          data_classification: internal
          pii: false
          owner: team@example.com
          approved_by: Team@example.com
          catalog_ref: CAT-1
        """,
    )
    _, problems = load_manifests([path])
    by_path = {p.path: (p.line, p.message) for p in problems}
    assert by_path["gateway"][0] == 3 and "needs 'tenant" in by_path["gateway"][1]
    assert (
        by_path["prefix"][0] == 4 and "must start with 'shared-'" in by_path["prefix"][1]
    )  # no tenant: a platform tool
    assert (
        by_path["auth.oauth"][0] == 10 and "lambda_function targets accept gateway_iam_role" in by_path["auth.oauth"][1]
    )
    assert by_path["compliance.approved_by"][0] == 17


def test_exactly_one_target_and_auth(tmp_path):
    path = write(
        tmp_path,
        "m.yaml",
        LAMBDA_MANIFEST.format(name="xyz", gateway="shared", tenant="", prefix="shared-xyz").replace(
            "      gateway_iam_role: {}",
            f"      gateway_iam_role: {{}}\n      api_key: {{provider_arn: {VAULT}/apikeycredentialprovider/k}}",
        ),
    )
    _, problems = load_manifests([path])
    assert [(p.path, p.line) for p in problems] == [("auth", 13)]
    assert "exactly one auth method" in problems[0].message


def test_duplicate_prefixes_and_names_across_manifests(tmp_path):
    a = lambda_manifest(tmp_path, "a.yaml")
    b = lambda_manifest(tmp_path, "b.yaml", prefix="Claims-Lookup".lower())
    _, problems = load_manifests([a, b])
    assert {(Path(p.file).name, p.line, p.path) for p in problems} == {("b.yaml", 1, "name"), ("b.yaml", 5, "prefix")}
    assert "already used by" in problems[0].message and "a.yaml:" in problems[0].message


def test_unknown_tenant_is_reported(tmp_path):
    _, problems = load_manifests(
        [lambda_manifest(tmp_path, tenant="tenant: billing", prefix="billing-lookup")], {"claims", "fraud"}
    )
    assert [(p.path, p.line) for p in problems] == [("tenant", 4)]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("name: [unclosed\n", "invalid YAML"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("", "file is empty"),
    ],
)
def test_broken_files_are_problems_not_tracebacks(tmp_path, capsys, text, fragment):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    assert run(["tools", "validate", str(path)]) == 2
    assert fragment in capsys.readouterr().err


def test_tool_names_must_fit_with_the_prefix(tmp_path):
    long_prefix = "claims-" + "x" * 33
    path = lambda_manifest(tmp_path, prefix=long_prefix)
    path.write_text(path.read_text().replace("lookup_customer", "lookup_customer_by_identifier"))
    _, problems = load_manifests([path])
    assert [(p.path, p.line) for p in problems] == [("target.lambda_function.tools[0].name", 10)]


# ------------------------------------------------------------------ request shapes


OPERATION = (
    botocore.session.get_session().get_service_model("bedrock-agentcore-control").operation_model("CreateGatewayTarget")
)


@pytest.mark.parametrize(
    "target, auth",
    [
        (
            "lambda_function: {arn: 'arn:aws:lambda:eu-west-1:100000000011:function:f', tool_schema_s3_uri: 's3://bucket-x/t.json'}",
            "gateway_iam_role: {}",
        ),
        (
            "openapi: {inline: {openapi: 3.0.0, paths: {}}}",
            f"api_key: {{provider_arn: '{VAULT}/apikeycredentialprovider/k', parameter_name: x-api-key}}",
        ),
        (
            "openapi: {s3_uri: 's3://bucket-x/o.json', bucket_owner: '100000000011'}",
            "gateway_iam_role: {service: execute-api}",
        ),
        ("smithy: {s3_uri: 's3://bucket-x/model.json'}", "gateway_iam_role: {}"),
        (
            "mcp_server: {endpoint: 'https://mcp.example.com/mcp', listing_mode: DYNAMIC}",
            f"oauth: {{provider_arn: '{VAULT}/oauth2credentialprovider/p', scopes: [a]}}",
        ),
        (
            "mcp_server: {endpoint: 'https://bedrock-agentcore.eu-west-1.amazonaws.com/runtimes/x/invocations?qualifier=DEFAULT'}",
            "gateway_iam_role: {service: bedrock-agentcore}",
        ),
    ],
)
def test_requests_match_the_api_model(tmp_path, target, auth):
    path = write(
        tmp_path,
        "m.yaml",
        f"""\
        name: tool
        description: d
        gateway: shared
        prefix: shared-tool
        target: {{{target}}}
        auth: {{{auth}}}
        compliance:
          data_classification: public
          pii: false
          owner: a@example.com
          approved_by: b@example.com
          catalog_ref: CAT-9
        """,
    )
    loaded, problems = load_manifests([path])
    assert not problems
    request = create_request(loaded[0].manifest, "agentzone-shared-tools-abcdefghij")
    validate_parameters(request, OPERATION.input_shape)  # raises ParamValidationError on a wrong shape


# ------------------------------------------------------------------ registration against moto


@pytest.fixture
def agentcore(monkeypatch):
    for key, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        client = boto3.client("bedrock-agentcore-control", region_name="eu-west-1")
        client.create_gateway(
            name="agentzone-shared-tools",
            roleArn="arn:aws:iam::100000000011:role/gw",
            protocolType="MCP",
            authorizerType="CUSTOM_JWT",
            authorizerConfiguration={"customJWTAuthorizer": {"discoveryUrl": DISCOVERY}},
        )
        client.create_gateway(
            name="agentzone-claims-tools",
            roleArn="arn:aws:iam::100000000011:role/gw",
            protocolType="MCP",
            authorizerType="CUSTOM_JWT",
            authorizerConfiguration={"customJWTAuthorizer": {"discoveryUrl": DISCOVERY}},
        )
        yield client


def targets(client, name="agentzone-shared-tools") -> dict[str, dict]:
    gid = next(g["gatewayId"] for g in client.list_gateways()["items"] if g["name"] == name)
    return {
        t["name"]: client.get_gateway_target(gatewayIdentifier=gid, targetId=t["targetId"])
        for t in client.list_gateway_targets(gatewayIdentifier=gid)["items"]
    }


def test_register_creates_the_target(agentcore, capsys):
    assert run(["tools", "register", str(EXAMPLES / "shared-claims.yaml")]) == 0
    target = targets(agentcore)["shared-claims"]
    assert target["description"] == "Submit insurance claims and look up their status"
    tools = target["targetConfiguration"]["mcp"]["lambda"]["toolSchema"]["inlinePayload"]
    assert [t["name"] for t in tools] == ["submit_claim", "claim_status"]
    assert tools[0]["inputSchema"]["properties"]["amount"] == {
        "type": "integer",
        "description": "Claimed amount in whole euros",
    }
    assert target["credentialProviderConfigurations"] == [{"credentialProviderType": "GATEWAY_IAM_ROLE"}]
    assert "created target 'shared-claims'" in capsys.readouterr().out


def test_reregistering_an_identical_manifest_changes_nothing(agentcore, capsys):
    assert run(["tools", "register", str(EXAMPLES / "shared-claims.yaml")]) == 0
    before = targets(agentcore)["shared-claims"]
    assert run(["tools", "register", str(EXAMPLES / "shared-claims.yaml")]) == 0
    assert "unchanged target 'shared-claims'" in capsys.readouterr().out
    after = targets(agentcore)["shared-claims"]
    assert after["targetId"] == before["targetId"] and after["updatedAt"] == before["updatedAt"]
    assert len(targets(agentcore)) == 1


def test_reregistering_reports_unchanged_in_json(agentcore, capsys):
    run(["tools", "register", str(EXAMPLES / "shared-claims.yaml")])
    capsys.readouterr()
    assert run(["tools", "register", str(EXAMPLES / "shared-claims.yaml"), "--json"]) == 0
    (outcome,) = json.loads(capsys.readouterr().out)
    assert outcome["action"] == "unchanged" and outcome["compliance"]["catalog_ref"] == "CAT-0042"


def test_name_conflict_is_refused_and_nothing_is_registered(agentcore, tmp_path, capsys):
    gid = next(g["gatewayId"] for g in agentcore.list_gateways()["items"] if g["name"] == "agentzone-shared-tools")
    agentcore.create_gateway_target(
        gatewayIdentifier=gid,
        name="shared-claims",
        description="someone else's",
        targetConfiguration={"mcp": {"mcpServer": {"endpoint": "https://other.example.com/mcp"}}},
    )
    other = write(
        tmp_path,
        "docs.yaml",
        (EXAMPLES / "shared-claims.yaml")
        .read_text()
        .replace("prefix: shared-claims", "prefix: shared-docs")
        .replace("name: claims-submission", "name: docs"),
    )
    assert run(["tools", "register", str(EXAMPLES / "shared-claims.yaml"), str(other)]) == 1
    err = capsys.readouterr().err
    assert "conflict target 'shared-claims'" in err and "different description, targetConfiguration" in err
    assert "nothing registered" in err
    assert set(targets(agentcore)) == {"shared-claims"}  # the batch is refused whole: shared-docs was not created


def test_names_differing_only_in_case_conflict(agentcore, capsys):
    gid = next(g["gatewayId"] for g in agentcore.list_gateways()["items"] if g["name"] == "agentzone-shared-tools")
    agentcore.create_gateway_target(
        gatewayIdentifier=gid,
        name="Shared-Claims",
        targetConfiguration={"mcp": {"mcpServer": {"endpoint": "https://other.example.com/mcp"}}},
    )
    assert run(["tools", "register", str(EXAMPLES / "shared-claims.yaml")]) == 1
    assert "differs only in case" in capsys.readouterr().err


def test_update_replaces_a_changed_configuration(agentcore, tmp_path):
    assert run(["tools", "register", str(EXAMPLES / "shared-claims.yaml")]) == 0
    changed = write(
        tmp_path,
        "claims.yaml",
        (EXAMPLES / "shared-claims.yaml")
        .read_text()
        .replace("Submit insurance claims and look up their status", "Submit claims"),
    )
    assert run(["tools", "register", str(changed)]) == 1
    assert run(["tools", "register", str(changed), "--update"]) == 0
    assert targets(agentcore)["shared-claims"]["description"] == "Submit claims"


def test_dry_run_changes_nothing(agentcore, capsys):
    assert run(["tools", "register", str(EXAMPLES / "shared-claims.yaml"), "--dry-run"]) == 0
    assert "would-create target 'shared-claims'" in capsys.readouterr().out
    assert targets(agentcore) == {}


def test_mcp_server_targets_are_synchronized_when_possible(agentcore, tmp_path):
    path = write(
        tmp_path,
        "mcp.yaml",
        f"""\
        name: docs
        description: Search the platform docs
        gateway: shared
        prefix: shared-docs
        target:
          mcp_server: {{endpoint: "https://mcp.example.com/mcp"}}
        auth:
          oauth:
            provider_arn: {VAULT}/oauth2credentialprovider/docs
            scopes: [docs/read]
        compliance:
          data_classification: internal
          pii: false
          owner: a@example.com
          approved_by: b@example.com
          catalog_ref: CAT-7
        """,
    )
    loaded, problems = load_manifests([path])
    assert not problems
    (outcome,) = register(agentcore, loaded)
    assert outcome.action == "created" and outcome.synchronized is False  # moto has no SynchronizeGatewayTargets
    assert any("SynchronizeGatewayTargets is not implemented" in n for n in outcome.notes)
    cred = targets(agentcore)["shared-docs"]["credentialProviderConfigurations"][0]
    assert cred["credentialProvider"]["oauthCredentialProvider"] == {
        "providerArn": f"{VAULT}/oauth2credentialprovider/docs",
        "scopes": ["docs/read"],
        "grantType": "CLIENT_CREDENTIALS",
    }


def test_tenant_tools_go_to_the_tenant_gateway(agentcore, tmp_path):
    assert run(["tools", "register", str(lambda_manifest(tmp_path))]) == 0
    assert set(targets(agentcore, "agentzone-claims-tools")) == {"claims-lookup"}
    assert targets(agentcore) == {}


def test_gateway_errors_are_bad_input(agentcore, tmp_path, capsys):
    manifest = str(EXAMPLES / "shared-claims.yaml")
    assert run(["tools", "register", manifest, "--gateway-name", "nope"]) == 2
    assert run(["tools", "register", manifest, "--gateway-id", "nope-0123456789"]) == 2
    assert run(["tools", "register", str(lambda_manifest(tmp_path)), "--gateway-name", "agentzone-shared-tools"]) == 2
    assert "is the shared gateway" in capsys.readouterr().err
    assert run(["tools", "register", manifest, "--gateway-id", "x", "--gateway-name", "y"]) == 2  # mutually exclusive


def test_bad_manifest_is_exit_2_and_registers_nothing(agentcore, tmp_path, capsys):
    bad = lambda_manifest(tmp_path, prefix="fraud-lookup")
    assert run(["tools", "register", str(EXAMPLES / "shared-claims.yaml"), str(bad)]) == 2
    assert "must start with 'claims-'" in capsys.readouterr().err
    assert targets(agentcore) == {}


def test_validate_checks_tenants_against_the_config(tmp_path, capsys):
    assert run(["tools", "validate", str(EXAMPLES / "fraud-scoring.yaml"), "--config-dir", str(SAMPLE_CONFIG)]) == 0
    bad = lambda_manifest(tmp_path, tenant="tenant: billing", prefix="billing-lookup")
    assert run(["tools", "validate", str(bad), "--config-dir", str(SAMPLE_CONFIG)]) == 2
    assert "unknown tenant 'billing'" in capsys.readouterr().err
