"""The use-case team path: a stand-alone CDK app imports two blueprints and synthesizes under every nag pack."""

from __future__ import annotations

import ast
import importlib.util
import json

import pytest

from agentzone.cfn_lint import run_cfn_lint

from ..conftest import ROOT
from ..support import Synth, new_app, synthesize

APP = ROOT / "examples" / "team_app" / "app.py"


def load_example():
    spec = importlib.util.spec_from_file_location("team_app", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory) -> Synth:
    app = new_app(tmp_path_factory.mktemp("team") / "cdk.out")
    load_example().build(app)
    return synthesize(app, "ClaimsTeamAgent")  # every nag pack: raises on any unacknowledged error


def of_type(template: dict, type_: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def test_the_example_imports_only_the_public_blueprint_api():
    """Team apps use ``agentzone.blueprints`` (plus nag wiring and an alarm topic).

    Never the landing zone's stacks or config loader.
    """
    modules = {node.module for node in ast.walk(ast.parse(APP.read_text())) if isinstance(node, ast.ImportFrom)}
    agentzone_modules = {m for m in modules if m and m.startswith("agentzone")}
    assert agentzone_modules == {
        "agentzone.blueprints",
        "agentzone.config.model",
        "agentzone.constructs",
        "agentzone.nag",
    }


def test_memory_and_runtime_are_wired_together(synthesized):
    template = synthesized.raw
    (memory,) = of_type(template, "AWS::BedrockAgentCore::Memory").values()
    assert memory["Properties"]["Name"] == "claims_team_dev"
    assert memory["DeletionPolicy"] == "Retain"
    (memory_id,) = of_type(template, "AWS::BedrockAgentCore::Memory")
    (runtime,) = of_type(template, "AWS::BedrockAgentCore::Runtime").values()
    props = runtime["Properties"]
    assert props["AgentRuntimeName"] == "claims_team_intake_dev"
    assert props["ProtocolConfiguration"] == "A2A"
    assert props["AgentRuntimeArtifact"]["ContainerConfiguration"]["ContainerUri"] == {
        "Fn::Join": [
            "",
            ["100000000011.dkr.ecr.eu-west-1.", {"Ref": "AWS::URLSuffix"}, "/agentzone/claims/intake:1.5.0"],
        ]
    }
    jwt = props["AuthorizerConfiguration"]["CustomJWTAuthorizer"]
    assert jwt["DiscoveryUrl"].endswith("/eu-west-1_AgZnDev01/.well-known/openid-configuration")
    assert jwt["AllowedScopes"] == ["agentzone/claims/invoke"]
    variables = props["EnvironmentVariables"]
    assert variables["AGENTZONE_MEMORY_MEMORY_ID"] == {"Fn::GetAtt": [memory_id, "MemoryId"]}
    (endpoint,) = of_type(template, "AWS::BedrockAgentCore::RuntimeEndpoint").values()
    assert endpoint["Properties"]["Name"] == "DEV" and endpoint["Properties"]["AgentRuntimeVersion"] == "1"


def test_the_agent_role_may_use_the_memory_and_pull_only_its_image(synthesized):
    template = synthesized.raw
    statements = [
        s
        for p in of_type(template, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    text = json.dumps(statements)
    assert "bedrock-agentcore:CreateEvent" in text and "bedrock-agentcore:RetrieveMemoryRecords" in text
    pulls = [
        s
        for s in statements
        if "ecr:BatchGetImage" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]
    assert pulls and all("repository/agentzone/claims/intake" in json.dumps(s["Resource"]) for s in pulls)
    assert "bedrock:InvokeModel" not in text  # no model access without a guardrail attachment


def test_the_team_app_is_cfn_lint_clean(synthesized):
    assert run_cfn_lint(sorted(synthesized.outdir.glob("*.template.json"))).errors == []
