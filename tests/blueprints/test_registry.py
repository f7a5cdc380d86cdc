"""The sample tenants' blueprints as vended from YAML: the wiring between blueprints, per environment."""

from __future__ import annotations

import json

import pytest

from agentzone import naming
from agentzone.blueprints import REGISTRY
from agentzone.blueprints.registry import RegistryError, registry_of
from agentzone.config.blueprint_checks import BLUEPRINT_CHECKS
from agentzone.config.model import Blueprints

from ..conftest import ROOT

CLAIMS_ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}


def resources(sample_assembly, stack: str, type_: str) -> dict[str, dict]:
    return sample_assembly.resources(stack, type_)


def runtime(sample_assembly, stack: str, agent: str) -> tuple[str, dict]:
    (item,) = [
        (k, v)
        for k, v in resources(sample_assembly, stack, "AWS::BedrockAgentCore::Runtime").items()
        if v["Properties"]["AgentRuntimeName"] == f"{stack.split('-')[1]}_{agent}_{stack.split('-')[2]}"
    ]
    return item


def role_statements(sample_assembly, stack: str, runtime_resource: dict) -> list[dict]:
    """Every statement of every policy attached to the runtime's execution role."""
    role_id = runtime_resource["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    out = []
    for policy in resources(sample_assembly, stack, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def actions(statement: dict) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def memory_id(sample_assembly, stack: str, name: str) -> str:
    (logical_id,) = [
        k
        for k, v in resources(sample_assembly, stack, "AWS::BedrockAgentCore::Memory").items()
        if v["Properties"]["Name"] == name
    ]
    return logical_id


@pytest.mark.parametrize(
    "env,versions", [("dev", {"DEV": "12"}), ("staging", {"PREPROD": "9"}), ("prod", {"PROD": "7"})]
)
def test_endpoints_serve_the_versions_config_names_per_environment(sample_assembly, env, versions):
    stack = f"AgentZone-claims-{env}"
    runtime_id, _ = runtime(sample_assembly, stack, "intake")
    endpoints = {
        e["Properties"]["Name"]: e["Properties"]["AgentRuntimeVersion"]
        for e in resources(sample_assembly, stack, "AWS::BedrockAgentCore::RuntimeEndpoint").values()
        if e["Properties"]["AgentRuntimeId"] == {"Fn::GetAtt": [runtime_id, "AgentRuntimeId"]}
    }
    assert endpoints == versions


def test_fraud_prod_runs_a_canary_endpoint_next_to_prod(sample_assembly):
    names = {
        e["Properties"]["Name"]: e["Properties"]["AgentRuntimeVersion"]
        for e in resources(sample_assembly, "AgentZone-fraud-prod", "AWS::BedrockAgentCore::RuntimeEndpoint").values()
    }
    assert names == {"PROD": "3", "CANARY": "4"}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_agents_pull_their_own_image_from_the_environments_shared_services_ecr(sample_assembly, env):
    shared = {"dev": "100000000011", "prod": "100000000031"}[env]
    tag = {"dev": "1.5.0", "prod": "1.4.2"}[env]
    _, intake = runtime(sample_assembly, f"AgentZone-claims-{env}", "intake")
    uri = json.dumps(intake["Properties"]["AgentRuntimeArtifact"])
    assert f"{shared}.dkr.ecr.eu-west-1." in uri and f"/agentzone/claims/intake:{tag}" in uri


def test_agents_accept_only_the_tenants_tokens_from_the_central_identity(sample_assembly):
    _, intake = runtime(sample_assembly, "AgentZone-claims-prod", "intake")
    jwt = intake["Properties"]["AuthorizerConfiguration"]["CustomJWTAuthorizer"]
    # The prod Security stack's user pool, read at deploy time from the parameter it shares with the organization.
    prefix, pool, suffix = jwt["DiscoveryUrl"]["Fn::Join"][1]
    assert (prefix, suffix) == ("https://cognito-idp.eu-west-1.amazonaws.com/", "/.well-known/openid-configuration")
    parameter = sample_assembly.template("AgentZone-claims-prod")["Parameters"][pool["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert parameter["Default"] == naming.shared_parameter_arn(
        naming.identity_user_pool_parameter("prod"), "100000000033", "eu-west-1"
    )
    assert jwt["AllowedScopes"] == ["agentzone/claims/claims.read", "agentzone/claims/invoke"]


def test_two_agents_share_one_memory_and_each_writes_only_its_own(sample_assembly):
    """Seed 001: each application keeps its own memory and both read a shared one."""
    stack = "AgentZone-claims-dev"
    claims, customers = (
        memory_id(sample_assembly, stack, "claims_claims_dev"),
        memory_id(sample_assembly, stack, "claims_customers_dev"),
    )

    def access(agent: str) -> dict[str, set[str]]:
        _, resource = runtime(sample_assembly, stack, agent)
        out: dict[str, set[str]] = {claims: set(), customers: set()}
        for statement in role_statements(sample_assembly, stack, resource):
            for memory in (claims, customers):
                if statement.get("Resource") == {"Fn::GetAtt": [memory, "MemoryArn"]}:
                    out[memory] |= set(actions(statement))
        return out

    intake, settlement = access("intake"), access("settlement")
    assert (
        "bedrock-agentcore:CreateEvent" in intake[claims] and "bedrock-agentcore:CreateEvent" not in intake[customers]
    )
    assert (
        "bedrock-agentcore:CreateEvent" in settlement[customers]
        and "bedrock-agentcore:CreateEvent" not in settlement[claims]
    )
    for agent in (intake, settlement):  # both read both, long- and short-term
        for memory in (claims, customers):
            assert {"bedrock-agentcore:RetrieveMemoryRecords", "bedrock-agentcore:ListEvents"} <= agent[memory]
    _, resource = runtime(sample_assembly, stack, "intake")
    variables = resource["Properties"]["EnvironmentVariables"]
    assert variables["AGENTZONE_MEMORY_CLAIMS_ID"] == {"Fn::GetAtt": [claims, "MemoryId"]}
    assert variables["AGENTZONE_MEMORY_CUSTOMERS_ID"] == {"Fn::GetAtt": [customers, "MemoryId"]}


@pytest.mark.parametrize(
    "stack,agent", [("AgentZone-claims-staging", "settlement"), ("AgentZone-fraud-prod", "investigator")]
)
def test_agents_call_models_only_with_their_accounts_guardrail(sample_assembly, stack, agent):
    # The account's own guardrail (a dedicated FM gateway has another: GatewayGuardrail)
    (guardrail,) = [
        k for k in resources(sample_assembly, stack, "AWS::Bedrock::Guardrail") if k.startswith("Guardrail")
    ]
    (version,) = [
        k for k in resources(sample_assembly, stack, "AWS::Bedrock::GuardrailVersion") if k.startswith("Guardrail")
    ]
    _, resource = runtime(sample_assembly, stack, agent)
    invoke = [
        s
        for s in role_statements(sample_assembly, stack, resource)
        if any(a.startswith("bedrock:InvokeModel") for a in actions(s))
    ]
    assert invoke
    for statement in invoke:
        condition = statement["Condition"]["StringEquals"]["bedrock:GuardrailIdentifier"]
        rendered = json.dumps(condition)
        assert guardrail in rendered and version in rendered  # <guardrail ARN>:<published version>
    variables = resource["Properties"]["EnvironmentVariables"]
    assert variables["AGENTZONE_GUARDRAIL_VERSION"] == {"Fn::GetAtt": [version, "Version"]}


def test_every_claims_agent_gets_prompts_knowledge_base_and_tool_gateway(sample_assembly):
    stack = "AgentZone-claims-prod"
    # One knowledge base and one prompt per account, shared by its agents.
    assert len(resources(sample_assembly, stack, "AWS::Bedrock::KnowledgeBase")) == 1
    assert len(resources(sample_assembly, stack, "AWS::Bedrock::Prompt")) == 1
    for agent in ("intake", "settlement"):
        _, resource = runtime(sample_assembly, stack, agent)
        variables = resource["Properties"]["EnvironmentVariables"]
        assert {
            "AGENTZONE_KNOWLEDGE_BASE_ID",
            "AGENTZONE_TOOL_GATEWAY_URL",
            "AGENTZONE_PROMPT_TRIAGE",
            "AGENTZONE_FM_GATEWAY_URL",
        } <= set(variables)
        assert variables["AGENTZONE_FM_GATEWAY_URL"] == "https://llm.agents.example.com"
        granted = {a for s in role_statements(sample_assembly, stack, resource) for a in actions(s)}
        assert {"bedrock:Retrieve", "bedrock:GetPrompt", "bedrock-agentcore:InvokeGateway"} <= granted


def test_prod_serves_the_prompt_version_config_names(sample_assembly):
    def served(env: str) -> str:
        (version,) = resources(sample_assembly, f"AgentZone-claims-{env}", "AWS::Bedrock::PromptVersion").values()
        return version["Properties"]["Description"]

    assert served("prod").startswith("label 1 ") and served("dev").startswith("label 2 ")


def test_only_the_vpc_agent_gets_a_network_of_its_own(sample_assembly):
    _, intake = runtime(sample_assembly, "AgentZone-claims-dev", "intake")
    _, settlement = runtime(sample_assembly, "AgentZone-claims-dev", "settlement")
    assert intake["Properties"]["NetworkConfiguration"]["NetworkMode"] == "VPC"
    assert settlement["Properties"]["NetworkConfiguration"]["NetworkMode"] == "PUBLIC"
    assert list(resources(sample_assembly, "AgentZone-claims-dev", "AWS::EC2::VPC")) == [
        next(
            k
            for k in resources(sample_assembly, "AgentZone-claims-dev", "AWS::EC2::VPC")
            if k.startswith("RuntimeIntake")
        )
    ]


def test_agent_alarms_mail_the_tenant_owner_through_an_encrypted_topic(sample_assembly):
    stack = "AgentZone-fraud-dev"
    ((topic_id, topic),) = resources(sample_assembly, stack, "AWS::SNS::Topic").items()
    assert "KmsMasterKeyId" in topic["Properties"]
    (subscription,) = resources(sample_assembly, stack, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "fraud-ai@example.com"
    alarms = resources(sample_assembly, stack, "AWS::CloudWatch::Alarm")
    runtime_alarms = [k for k in alarms if k.startswith("RuntimeInvestigator")]
    safety_alarms = [k for k in alarms if k.startswith("Safety")]
    assert len(runtime_alarms) == 3  # errors, throttles, p95 latency on the DEV endpoint
    assert len(safety_alarms) == 2  # per-session and daily cost
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": topic_id}] for a in alarms.values())


# ------------------------------------------------------------------ the registry drives the wiring


def test_the_registry_covers_every_config_key_and_its_checks():
    assert set(REGISTRY) == set(Blueprints.model_fields) == set(BLUEPRINT_CHECKS)


def test_blueprints_are_created_in_the_order_templates_depend_on():
    """Agents after what they attach; the evaluation pipeline after the agents it watches.

    The order of creation is the order of grants and environment variables in each agent's templates: the
    blueprints that existed before the registry keep theirs, wherever a new one is inserted.
    """
    established = [
        "guardrail",
        "memory",
        "prompt_store",
        "knowledge_base",
        "tool_gateway",
        "hitl",
        "runtime",
        "eval_pipeline",
    ]
    assert [key for key in REGISTRY if key in established] == established
    order = list(REGISTRY)
    assert all(order.index(key) < order.index("runtime") for key, spec in REGISTRY.items() if spec.attaches)


def test_a_registry_that_misses_a_config_key_or_creates_an_agent_too_early_is_refused():
    specs = list(REGISTRY.values())
    with pytest.raises(RegistryError, match=r"no spec for \['hitl'\]"):
        registry_of(spec for spec in specs if spec.key != "hitl")
    runtime_first = [REGISTRY["runtime"], *(spec for spec in specs if spec.key != "runtime")]
    with pytest.raises(RegistryError, match="runtime is created before guardrail, hitl, knowledge_base"):
        registry_of(runtime_first)
    with pytest.raises(RegistryError, match="registered twice"):
        registry_of([*specs, REGISTRY["memory"]])


def test_the_docs_index_lists_every_registered_blueprint():
    docs = ROOT / "docs"
    index = (docs / "blueprints.md").read_text()
    rows = {line for line in index.splitlines() if line.startswith("| `")}
    links = {line for line in index.splitlines() if line.startswith("- [`")}
    assert rows == {f"| `{key}` | `{spec.construct.__name__}` | {spec.summary} |" for key, spec in REGISTRY.items()}
    assert links == {f"- [`{key}`: {spec.title}]({spec.docs})" for key, spec in REGISTRY.items()}
    assert all((docs / spec.docs).is_file() for spec in REGISTRY.values())
