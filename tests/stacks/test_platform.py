"""The shared-services account as the sample config composes it: who can reach what, across accounts.

The constructs have their own tests under tests/constructs/ (fm_gateway, tool_gateway, catalog, agent_images,
experiment_tracking, agent_registry); these check the wiring from config: principals are exactly the environment's
tenant accounts, the gateways point at the environment's identity, and per-tenant resources land in the tenant's
own stack.
"""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from agentzone import naming
from agentzone.composition import Selection, compose
from agentzone.config import load_landing_zone

from ..conftest import SAMPLE_CONFIG
from ..support import new_app, synthesize_stacks

ENVS = ("dev", "staging", "prod")
SHARED_ACCOUNT = {"dev": "100000000011", "staging": "100000000021", "prod": "100000000031"}
TENANT_ACCOUNTS = {
    "dev": {"claims": "111111111111", "fraud": "444444444444"},
    "staging": {"claims": "222222222222", "fraud": "555555555555"},
    "prod": {"claims": "333333333333", "fraud": "666666666666"},
}
SECURITY_ACCOUNT = {"dev": "100000000013", "staging": "100000000023", "prod": "100000000033"}


def shared(sample_assembly, env: str) -> dict:
    return sample_assembly.template(f"AgentZone-SharedServices-{env}")


def principals(value) -> list:
    """Every AWS principal in a policy document, as written."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Principal" and isinstance(item, dict) and "AWS" in item:
                aws = item["AWS"]
                found += aws if isinstance(aws, list) else [aws]
            else:
                found += principals(item)
    elif isinstance(value, list):
        for item in value:
            found += principals(item)
    return found


ELB_LOG_DELIVERY_EU_WEST_1 = "156460612806"  # AWS's account that writes ALB access logs in eu-west-1


def account_of(principal) -> str:
    if isinstance(principal, dict) and ("Fn::GetAtt" in principal or "Ref" in principal):
        return "this stack"
    text = json.dumps(principal)
    for account in [
        *SHARED_ACCOUNT.values(),
        *(a for env in TENANT_ACCOUNTS.values() for a in env.values()),
        "100000000000",
        ELB_LOG_DELIVERY_EU_WEST_1,
    ]:
        if account in text:
            return account
    return text


@pytest.mark.parametrize("env", ENVS)
def test_cross_account_principals_are_only_this_environments_tenant_accounts(sample_assembly, env):
    """No policy in the shared-services stack names another environment's accounts or anyone outside."""
    allowed = set(TENANT_ACCOUNTS[env].values()) | {SHARED_ACCOUNT[env], "this stack", ELB_LOG_DELIVERY_EU_WEST_1}
    named = {account_of(p) for p in principals(shared(sample_assembly, env)["Resources"]) if p != "*"}
    assert named <= allowed, named - allowed
    assert set(TENANT_ACCOUNTS[env].values()) <= named  # the tenants are actually let in


@pytest.mark.parametrize("env", ENVS)
def test_no_public_ingress_and_an_internal_https_only_gateway(sample_assembly, env):
    t = Template.from_json(shared(sample_assembly, env))
    for group in t.find_resources("AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") != "0.0.0.0/0" and rule.get("CidrIpv6") != "::/0", rule
    for rule in t.find_resources("AWS::EC2::SecurityGroupIngress").values():
        assert rule["Properties"].get("CidrIp") != "0.0.0.0/0", rule
    t.resource_count_is("AWS::EC2::InternetGateway", 0)
    t.resource_count_is("AWS::EC2::NatGateway", 0)
    for lb in t.find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer").values():
        assert lb["Properties"]["Scheme"] == "internal"
    listeners = t.find_resources("AWS::ElasticLoadBalancingV2::Listener")
    assert {(li["Properties"]["Protocol"], li["Properties"]["Port"]) for li in listeners.values()} == {
        ("HTTPS", 443),
        ("TCP", 443),
    }


@pytest.mark.parametrize("env", ENVS)
def test_gateway_endpoint_service_admits_exactly_this_environments_tenants(sample_assembly, env):
    t = Template.from_json(shared(sample_assembly, env))
    (permissions,) = t.find_resources("AWS::EC2::VPCEndpointServicePermissions").values()
    # fraud runs a gateway of its own in prod (fm_gateway.dedicated): the shared prod gateway admits only claims
    tenants = ["claims"] if env == "prod" else ["claims", "fraud"]
    assert sorted(permissions["Properties"]["AllowedPrincipals"]) == sorted(
        f"arn:aws:iam::{TENANT_ACCOUNTS[env][t]}:root" for t in tenants
    )


def test_gateway_config_carries_the_guardrail_models_and_tenant_teams(sample_assembly):
    t = Template.from_json(shared(sample_assembly, "dev"))
    (guardrail,) = t.find_resources("AWS::Bedrock::Guardrail").values()
    filters = {f["Type"]: f for f in guardrail["Properties"]["ContentPolicyConfig"]["FiltersConfig"]}
    assert filters["PROMPT_ATTACK"]["InputStrength"] == "HIGH" and filters["HATE"]["OutputStrength"] == "HIGH"
    assert guardrail["Properties"]["KmsKeyArn"]
    t.resource_count_is("AWS::Bedrock::GuardrailVersion", 1)
    # The task role that calls Bedrock is the one the SCPs exempt from the per-call guardrail rule.
    roles = [r["Properties"].get("RoleName") for r in t.find_resources("AWS::IAM::Role").values()]
    assert f"{naming.FM_GATEWAY_ROLE_PREFIX}-dev" in roles


@pytest.mark.parametrize("env", ENVS)
def test_shared_tool_gateway_trusts_this_environments_identity_with_the_shared_tools_scope(sample_assembly, env):
    t = Template.from_json(shared(sample_assembly, env))
    t.has_resource_properties(
        "AWS::BedrockAgentCore::Gateway",
        {
            "Name": naming.SHARED_TOOL_GATEWAY,
            "AuthorizerType": "CUSTOM_JWT",
            "AuthorizerConfiguration": {
                "CustomJWTAuthorizer": Match.object_like(
                    {
                        "DiscoveryUrl": {
                            "Fn::Join": [
                                "",
                                [
                                    "https://cognito-idp.eu-west-1.amazonaws.com/",
                                    {"Ref": "AgentIdentityUserPoolIdParameter"},
                                    "/.well-known/openid-configuration",
                                ],
                            ]
                        },
                        "AllowedScopes": ["agentzone/shared-tools/invoke"],
                    }
                )
            },
        },
    )
    # The environment's own user pool, read at deploy time from the parameter its Security stack shares.
    parameter = shared(sample_assembly, env)["Parameters"]["AgentIdentityUserPoolIdParameter"]
    assert parameter["Default"] == naming.shared_parameter_arn(
        naming.identity_user_pool_parameter(env), SECURITY_ACCOUNT[env], "eu-west-1"
    )
    engines = t.find_resources("AWS::BedrockAgentCore::PolicyEngine")
    assert len(engines) == 1
    statements = [
        p["Properties"]["Definition"]["Cedar"]["Statement"]
        for p in t.find_resources("AWS::BedrockAgentCore::Policy").values()
    ]
    assert any("shared-claims___submit_claim" in json.dumps(s) for s in statements)


def test_catalog_tables_are_readable_by_this_environments_tenants_only(sample_assembly):
    t = Template.from_json(shared(sample_assembly, "staging"))
    tables = t.find_resources("AWS::DynamoDB::GlobalTable")
    assert {tb["Properties"]["TableName"] for tb in tables.values()} == {
        naming.MODEL_CATALOG_TABLE,
        naming.COMPONENT_CATALOG_TABLE,
    }
    for table in tables.values():
        assert table["DeletionPolicy"] == "Retain"
        replica = table["Properties"]["Replicas"][0]
        policy = replica["ResourcePolicy"]["PolicyDocument"]
        assert sorted(account_of(p) for p in principals(policy)) == sorted(TENANT_ACCOUNTS["staging"].values())
        assert all(
            not a.startswith(("dynamodb:Put", "dynamodb:Delete", "dynamodb:Update"))
            for s in policy["Statement"]
            for a in s["Action"]
        )


@pytest.mark.parametrize("tenant", ["claims"])  # fraud's team and profiles are in its own accounts
def test_each_tenant_gets_its_repository_profiles_and_team_in_its_own_stack(sample_assembly, tenant):
    t = Template.from_json(sample_assembly.template(f"AgentZone-{tenant}-prod-services"))
    account = TENANT_ACCOUNTS["prod"][tenant]
    images = {"claims": ["intake", "settlement"], "fraud": ["agent"]}[tenant]
    repos = t.find_resources("AWS::ECR::Repository").values()
    assert sorted(r["Properties"]["RepositoryName"] for r in repos) == [
        naming.tenant_repository(tenant, i) for i in images
    ]
    for repo in repos:
        assert {account_of(p) for p in principals(repo["Properties"]["RepositoryPolicyText"])} == {account}
    profiles = t.find_resources("AWS::Bedrock::ApplicationInferenceProfile")
    assert profiles
    use_case = {"claims": "UC-0042", "fraud": "UC-0051"}[tenant]
    for profile in profiles.values():  # Cost Explorer splits Bedrock spend by these tags
        tags = profile["Properties"]["Tags"]
        assert {"Key": "tenant", "Value": tenant} in tags and {"Key": "use-case-id", "Value": use_case} in tags
    (team,) = t.find_resources("Custom::LiteLLMTeam").values()
    # The gateway admin function in the same account, found by name: a tenant shard needs no platform stack.
    assert team["Properties"]["ServiceToken"] == naming.fm_gateway_admin_token(SHARED_ACCOUNT["prod"], "eu-west-1")
    functions = Template.from_json(shared(sample_assembly, "prod")).find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": naming.FM_GATEWAY_ADMIN_FUNCTION}}
    )
    assert len(functions) == 1


def test_tenant_services_deploy_after_the_shared_services_stack():
    app = new_app()
    stacks = {s.stack_name: s for s in compose(app, load_landing_zone(SAMPLE_CONFIG), Selection(environment="dev"))}
    assert stacks["AgentZone-SharedServices-dev"] in stacks["AgentZone-claims-dev-services"].dependencies


def test_the_fm_gateway_waits_for_its_certificate_and_config_can_adopt_a_sink_and_a_user_pool(config_copy):
    """The certificate is an input (ACM validates it against the team's DNS); the sink and the user pool are
    published by the Logging and Security stacks, and config names existing ones only to adopt them."""
    pool, sink = "eu-west-1_AgZnDev01", "arn:aws:oam:eu-west-1:100000000012:sink/0d3f0f55-6b1a-4a8e-9d0c-2f1e3c4b5a61"
    org = config_copy / "organization.yaml"
    text = org.read_text()
    text = "\n".join(line for line in text.splitlines() if "certificate/3f1c2a4b" not in line) + "\n"
    adopted = f'    data_lake: "100000000014"\n    identity_user_pool_id: {pool}\n    observability_sink: {sink}\n'
    assert text.count('    data_lake: "100000000014"\n') == 1
    org.write_text(text.replace('    data_lake: "100000000014"\n', adopted))
    app = new_app()
    stacks = {s.stack_name: s for s in compose(app, load_landing_zone(config_copy), Selection(environment="dev"))}
    assembly = synthesize_stacks(app, nag=None)  # compose registered the sample's nag packs already
    dev = assembly["AgentZone-SharedServices-dev"].template
    dev.resource_count_is("AWS::ECS::Service", 0)
    dev.resource_count_is("AWS::DynamoDB::GlobalTable", 2)  # the catalogs do not wait
    services = assembly["AgentZone-claims-dev-services"].template
    services.resource_count_is("Custom::LiteLLMTeam", 0)
    services.resource_count_is("AWS::ECR::Repository", 2)
    assert "AgentZone-claims-dev-services" in stacks
    discovery = f"https://cognito-idp.eu-west-1.amazonaws.com/{pool}/.well-known/openid-configuration"
    (tools,) = dev.find_resources("AWS::BedrockAgentCore::Gateway").values()
    assert tools["Properties"]["AuthorizerConfiguration"]["CustomJWTAuthorizer"]["DiscoveryUrl"] == discovery
    # The tenant's agents trust the adopted pool and get no gateway URL; nothing reads a shared parameter.
    agents = assembly["AgentZone-claims-dev"].template
    for runtime in agents.find_resources("AWS::BedrockAgentCore::Runtime").values():
        assert runtime["Properties"]["AuthorizerConfiguration"]["CustomJWTAuthorizer"]["DiscoveryUrl"] == discovery
        assert "AGENTZONE_FM_GATEWAY_URL" not in runtime["Properties"]["EnvironmentVariables"]
    for name in ("AgentZone-SharedServices-dev", "AgentZone-claims-dev", "AgentZone-DataLake-dev"):
        template = assembly[name].template
        (link,) = template.find_resources("AWS::Oam::Link").values()
        assert link["Properties"]["SinkIdentifier"] == sink
        assert "observability" not in json.dumps(template.to_json().get("Parameters", {}))


def test_hosted_mcp_servers_from_config_run_on_their_own_runtime_behind_the_gateway(sample_assembly):
    t = Template.from_json(shared(sample_assembly, "dev"))
    (runtime,) = t.find_resources("AWS::BedrockAgentCore::Runtime").values()
    props = runtime["Properties"]
    assert props["ProtocolConfiguration"] == "MCP"
    assert "AuthorizerConfiguration" not in props  # IAM: only the gateway's role may call it
    assert "agentzone/mcp/policy-docs:1.2.0" in json.dumps(props["AgentRuntimeArtifact"])
    assert props["EnvironmentVariables"]["LOG_LEVEL"] == "INFO"
    (target,) = t.find_resources("AWS::BedrockAgentCore::GatewayTarget").values()
    assert target["Properties"]["Name"] == "shared-policy-docs"
    (credentials,) = target["Properties"]["CredentialProviderConfigurations"]
    assert credentials["CredentialProviderType"] == "GATEWAY_IAM_ROLE"
