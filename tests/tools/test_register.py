"""Tool registration: requests match the AgentCore API model, and `agentzone tools register` against moto."""

from __future__ import annotations

import json

import boto3
import botocore.session
import pytest
from botocore.validate import validate_parameters
from moto import mock_aws

from agentzone.tools.cli import run
from agentzone.tools.manifest import load_manifests
from agentzone.tools.register import create_request, register

from .manifests import EXAMPLES, VAULT, lambda_manifest, write

DISCOVERY = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123/.well-known/openid-configuration"


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
