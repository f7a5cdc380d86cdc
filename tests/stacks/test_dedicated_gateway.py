"""``fm_gateway.dedicated``: the sample's fraud tenant runs the platform's gateway blueprint in its prod account, its
agents there call it, and the shared prod gateway no longer serves it (dev and staging stay on the shared one)."""

from __future__ import annotations

import json

import pytest

from agentzone.config import load_landing_zone
from agentzone.fm_gateway import dedicated_settings

from ..conftest import SAMPLE_CONFIG

PROD = "AgentZone-fraud-prod"  # eu-central-1: the shared gateway (eu-west-1) is out of PrivateLink's reach


def _one(sample_assembly, stack: str, type_: str, prefix: str = "") -> dict:
    found = {k: v for k, v in sample_assembly.resources(stack, type_).items() if k.startswith(prefix)}
    assert len(found) == 1, f"{stack}: {type_} {prefix}*: {sorted(found)}"
    return next(iter(found.values()))["Properties"]


def _statements(sample_assembly, stack: str, prefix: str) -> list[dict]:
    policies = sample_assembly.resources(stack, "AWS::IAM::ManagedPolicy") | sample_assembly.resources(
        stack, "AWS::IAM::Policy"
    )
    return [
        s for k, p in policies.items() if k.startswith(prefix) for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_gateway_runs_in_the_tenant_account_with_its_certificate_and_registry_login(sample_assembly):
    listener = _one(sample_assembly, PROD, "AWS::ElasticLoadBalancingV2::Listener", "FmGatewayLoadBalancerHttps")
    assert listener["Certificates"] == [
        {"CertificateArn": "arn:aws:acm:eu-central-1:666666666666:certificate/8e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a86"}
    ]
    cache = _one(sample_assembly, PROD, "AWS::ECR::PullThroughCacheRule")
    assert cache["CredentialArn"].startswith("arn:aws:secretsmanager:eu-central-1:666666666666:secret:ecr-pull")
    service = _one(sample_assembly, PROD, "AWS::ECS::Service")
    assert service["DesiredCount"] == 2  # the tenant's min_tasks
    target = _one(sample_assembly, PROD, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 4)
    assert _one(sample_assembly, PROD, "AWS::RDS::DBCluster")["ServerlessV2ScalingConfiguration"]["MaxCapacity"] == 2


def test_the_gateway_role_may_invoke_only_the_tenants_models_and_applies_its_own_guardrail(sample_assembly):
    role = _one(sample_assembly, PROD, "AWS::IAM::Role", "FmGatewayTaskRole")
    assert role["RoleName"] == "agentzone-fm-gateway-fraud"  # exempt from the guardrail SCP like the shared one
    statements = _statements(sample_assembly, PROD, "FmGatewayTaskPolicy")
    invoke = next(s for s in statements if "bedrock:InvokeModel" in s["Action"])
    assert sorted(invoke["Resource"]) == [
        "arn:aws:bedrock:eu-central-1:666666666666:application-inference-profile/*",
        "arn:aws:bedrock:eu-central-1::foundation-model/amazon.nova-pro-v1:0",  # not claude, not nova-lite
    ]
    apply = next(s for s in statements if "bedrock:ApplyGuardrail" in s["Action"])
    guardrails = sample_assembly.resources(PROD, "AWS::Bedrock::Guardrail")
    gateway_guardrail = next(k for k in guardrails if k.startswith("GatewayGuardrail"))
    assert apply["Resource"] == {"Fn::GetAtt": [gateway_guardrail, "GuardrailArn"]}
    assert guardrails[gateway_guardrail]["Properties"]["Name"] == "agentzone-fm-gateway-fraud-prod"


def test_the_team_and_its_tagged_profiles_are_in_the_same_stack(sample_assembly):
    team = _one(sample_assembly, PROD, "Custom::LiteLLMTeam")
    admin = next(k for k in sample_assembly.resources(PROD, "AWS::Lambda::Function") if k.startswith("FmGatewayAdmin"))
    assert team["ServiceToken"] == {"Fn::GetAtt": [admin, "Arn"]}
    payload = json.loads(team["Team"])
    assert (payload["team_id"], payload["max_budget"], payload["models"]) == (
        "fraud",
        8000,
        ["nova-pro", "fraud/nova-pro"],
    )
    profile = _one(sample_assembly, PROD, "AWS::Bedrock::ApplicationInferenceProfile")
    assert profile["InferenceProfileName"] == "agentzone-fraud-nova-pro"
    tags = {t["Key"]: t["Value"] for t in profile["Tags"]}
    assert (tags["cost-center"], tags["use-case-id"], tags["tenant"]) == ("CC-2211", "UC-0051", "fraud")
    service = next(k for k in sample_assembly.resources(PROD, "AWS::ECS::Service"))
    team_id = next(iter(sample_assembly.resources(PROD, "Custom::LiteLLMTeam")))
    assert service in sample_assembly.template(PROD)["Resources"][team_id]["DependsOn"]


def test_the_tenants_agents_call_their_own_gateway_through_an_endpoint_in_the_account(sample_assembly):
    runtime = _one(sample_assembly, PROD, "AWS::BedrockAgentCore::Runtime")
    assert runtime["EnvironmentVariables"]["AGENTZONE_FM_GATEWAY_URL"] == "https://llm.fraud.agents.example.com"
    endpoint = _one(sample_assembly, PROD, "AWS::EC2::VPCEndpoint", "RuntimeInvestigatorNetworkVpcFmGateway")
    service = next(iter(sample_assembly.resources(PROD, "AWS::EC2::VPCEndpointService")))
    assert {"Ref": service} in endpoint["ServiceName"]["Fn::Join"][1]
    zones = [z["Properties"]["Name"] for z in sample_assembly.resources(PROD, "AWS::Route53::HostedZone").values()]
    assert zones.count("llm.fraud.agents.example.com.") == 2  # the gateway's VPC and the agent's
    assert "FmGatewayServiceNameParameter" not in sample_assembly.template(PROD).get("Parameters", {})


def test_the_shared_gateway_serves_the_tenant_only_where_it_has_no_gateway_of_its_own(sample_assembly):
    for env, admitted in (("dev", ["111111111111", "444444444444"]), ("prod", ["333333333333"])):
        permissions = _one(
            sample_assembly, f"AgentZone-SharedServices-{env}", "AWS::EC2::VPCEndpointServicePermissions"
        )
        assert permissions["AllowedPrincipals"] == [f"arn:aws:iam::{a}:root" for a in admitted]
        assert sample_assembly.resources(f"AgentZone-claims-{env}-services", "Custom::LiteLLMTeam")
    assert sample_assembly.resources("AgentZone-fraud-dev-services", "Custom::LiteLLMTeam")
    assert not sample_assembly.resources("AgentZone-fraud-prod-services", "Custom::LiteLLMTeam")
    assert not sample_assembly.resources("AgentZone-fraud-dev", "AWS::ECS::Service")
    dev_agent = _one(sample_assembly, "AgentZone-fraud-dev", "AWS::BedrockAgentCore::Runtime")
    assert dev_agent["EnvironmentVariables"]["AGENTZONE_FM_GATEWAY_URL"] == "https://llm.agents.example.com"


@pytest.fixture(scope="module")
def lz():
    return load_landing_zone(SAMPLE_CONFIG)


def test_dedicated_settings_copy_the_platform_gateway_sized_by_the_tenant(lz):
    shared = lz.organization.shared_services.fm_gateway
    fraud = dedicated_settings(lz.tenant("fraud"), shared)
    assert [(m.name, m.fallbacks) for m in fraud.models] == [("nova-pro", [])]  # nova-lite is not fraud's
    assert (fraud.domain_name, fraud.vpc_cidr, fraud.max_tasks, fraud.database.max_capacity_acu) == (
        "llm.fraud.agents.example.com",
        "10.72.0.0/20",
        4,
        2,
    )
    assert (fraud.image, fraud.guardrail, fraud.num_retries) == (shared.image, shared.guardrail, shared.num_retries)
    with pytest.raises(ValueError, match="tenant claims has no dedicated gateway"):
        dedicated_settings(lz.tenant("claims"), shared)


def test_gateway_guardrail_names_fit_bedrocks_50_characters():
    from agentzone import naming

    assert naming.fm_gateway_guardrail("prod") == "agentzone-fm-gateway-prod"  # the shared gateway's, unchanged
    assert naming.fm_gateway_guardrail("fraud", "prod") == "agentzone-fm-gateway-fraud-prod"
    longest = naming.fm_gateway_guardrail("a" * 32, "e" * 16)
    other = naming.fm_gateway_guardrail("a" * 32, "e" * 15 + "f")
    assert len(longest) == len(other) == naming.GUARDRAIL_NAME_MAX and longest != other
    assert longest.startswith("agentzone-fm-gateway-aaaa")


def test_the_shared_gateway_is_left_out_where_no_tenant_would_use_it(config_copy):
    from agentzone.stacks.platform import gateway_deployment, gateway_tenants

    claims = config_copy / "tenants/claims.yaml"
    claims.write_text(
        claims.read_text()
        + "fm_gateway:\n  dedicated:\n    domain_name: llm.claims.agents.example.com\n    certificates:\n"
        + "      prod: arn:aws:acm:eu-west-1:333333333333:certificate/9f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b97\n"
    )
    lz = load_landing_zone(config_copy)
    assert gateway_tenants(lz, "prod") == [] and gateway_deployment(lz, "prod") is None  # it would admit nobody
    assert [t.tenant for t in gateway_tenants(lz, "dev")] == ["claims", "fraud"]
    assert gateway_deployment(lz, "dev") is not None
