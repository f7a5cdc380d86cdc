"""The security accounts: central agent identity everywhere, organization-wide detection in the central one."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.session
import pytest
from aws_cdk.assertions import Match, Template
from moto import mock_aws

from agentzone.composition import Unit, compose_unit, create_app, tenant_target
from agentzone.config import load_landing_zone
from agentzone.handlers import platform_resources as security_resources  # serves the security types too
from agentzone.nag import add_rule_packs
from agentzone.organization_policies import exempt_principals
from agentzone.safety.killswitch import PROTECTED_ROLE_TAG
from agentzone.stacks import SecurityStack, StackTarget, TenantIdentityStack
from agentzone.stacks.base import PLATFORM_USE_CASE
from agentzone.stacks.security import (
    AGENT_DATA_RULES,
    AGENT_RESOURCE_TYPES,
    INVENTORY_RESOURCE_TYPES,
    INVENTORY_TAGS,
    inventory_tag_policy,
)

from ..conftest import SAMPLE_CONFIG

ENVS = ("dev", "staging", "prod")
SECURITY_ACCOUNT = {"dev": "100000000013", "staging": "100000000023", "prod": "100000000033"}
TENANT_ACCOUNTS = {
    "claims": {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"},
    "fraud": {"dev": "444444444444", "staging": "555555555555", "prod": "666666666666"},
}
SCOPES = {"claims": ["claims.read", "invoke"], "fraud": ["invoke"]}  # sorted: config order must not matter
HANDLERS_DIR = Path(security_resources.__file__).parent


def template(sample_assembly, env: str) -> Template:
    return Template.from_json(sample_assembly.template(f"AgentZone-Security-{env}"))


def logical_id(t: Template, type_: str, props: dict) -> str:
    found = t.find_resources(type_, {"Properties": props})
    assert len(found) == 1, (type_, props, list(found))
    return next(iter(found))


def synth_security(config_dir: Path, env: str) -> Template:
    """One security stack from an edited config, through the nag gate like the real app."""
    lz = load_landing_zone(config_dir)
    org, platform = lz.organization, lz.organization.environments[env]
    app = create_app()
    target = StackTarget(
        env, platform.security, lz.region_of(platform), org.platform.owner, org.platform.cost_center, PLATFORM_USE_CASE
    )
    SecurityStack(app, f"AgentZone-Security-{env}", target=target, lz=lz)
    add_rule_packs(app, org.nag)
    return Template.from_json(app.synth().get_stack_by_name(f"AgentZone-Security-{env}").template)


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    assert old in path.read_text(), f"test setup: {old!r} not in {rel}"
    path.write_text(path.read_text().replace(old, new, 1))


# ------------------------------------------------------------------ identity


@pytest.mark.parametrize("env", ENVS)
def test_user_pool_is_retained_invite_only_mfa_and_threat_protected(sample_assembly, env):
    t = template(sample_assembly, env)
    t.resource_count_is("AWS::Cognito::UserPool", 1)
    t.has_resource(
        "AWS::Cognito::UserPool",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "UserPoolName": f"agentzone-agents-{env}",
                    "DeletionProtection": "ACTIVE",
                    "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
                    "MfaConfiguration": "ON",
                    "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
                    "UserPoolTier": "PLUS",
                    "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"},
                    "Policies": {
                        "PasswordPolicy": Match.object_like(
                            {
                                "MinimumLength": 14,
                                "RequireLowercase": True,
                                "RequireUppercase": True,
                                "RequireNumbers": True,
                                "RequireSymbols": True,
                            }
                        )
                    },
                }
            ),
        },
    )
    t.has_resource_properties("AWS::Cognito::UserPoolDomain", {"Domain": f"acme-agents-{env}-{SECURITY_ACCOUNT[env]}"})


def identity(sample_assembly, tenant: str, env: str) -> Template:
    """The tenant's own stack in the security account."""
    return Template.from_json(sample_assembly.template(f"AgentZone-{tenant}-{env}-identity"))


IMPORTED_POOL = {"Fn::ImportValue": "agentzone-identity-user-pool-id"}
IMPORTED_KEY = {"Fn::ImportValue": "agentzone-identity-client-credentials-key-arn"}


@pytest.mark.parametrize("env", ENVS)
def test_the_security_stack_has_only_the_shared_tools_resource_server_and_no_tenant_client(sample_assembly, env):
    """Tenant servers, clients and secrets are in the tenants' identity stacks: this stack does not grow with them."""
    t = template(sample_assembly, env)
    servers = t.find_resources("AWS::Cognito::UserPoolResourceServer")
    assert [s["Properties"]["Identifier"] for s in servers.values()] == ["agentzone/shared-tools"]
    for type_ in ("AWS::Cognito::UserPoolClient", "AWS::SecretsManager::Secret"):
        t.resource_count_is(type_, 0)
    outputs = t.to_json()["Outputs"]
    pool = logical_id(t, "AWS::Cognito::UserPool", {})
    key = logical_id(t, "AWS::KMS::Key", {"Description": Match.string_like_regexp("client credentials")})
    assert outputs["AgentIdentityUserPoolId"]["Value"] == {"Ref": pool}
    assert outputs["AgentIdentityUserPoolId"]["Export"] == {"Name": IMPORTED_POOL["Fn::ImportValue"]}
    assert outputs["ClientCredentialsKeyArn"]["Value"] == {"Fn::GetAtt": [key, "Arn"]}
    assert outputs["ClientCredentialsKeyArn"]["Export"] == {"Name": IMPORTED_KEY["Fn::ImportValue"]}


@pytest.mark.parametrize("env", ENVS)
def test_one_resource_server_per_tenant_with_its_scopes(sample_assembly, env):
    for name, scopes in SCOPES.items():
        t = identity(sample_assembly, name, env)
        (server,) = t.find_resources("AWS::Cognito::UserPoolResourceServer").values()
        assert server["Properties"]["Identifier"] == f"agentzone/{name}"
        assert server["Properties"]["UserPoolId"] == IMPORTED_POOL
        assert [x["ScopeName"] for x in server["Properties"]["Scopes"]] == scopes


@pytest.mark.parametrize("env", ENVS)
def test_each_tenant_client_is_client_credentials_only_and_limited_to_its_own_scopes(sample_assembly, env):
    for name, scopes in SCOPES.items():
        t = identity(sample_assembly, name, env)
        server = logical_id(t, "AWS::Cognito::UserPoolResourceServer", {"Identifier": f"agentzone/{name}"})
        t.has_resource_properties(
            "AWS::Cognito::UserPoolClient",
            {
                "UserPoolId": IMPORTED_POOL,
                "ClientName": f"{name}-agents",
                "GenerateSecret": True,
                "AllowedOAuthFlows": ["client_credentials"],
                "AllowedOAuthFlowsUserPoolClient": True,
                "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],  # no user sign-in flow
                # The shared tools' scope is the security stack's resource server, deployed before this stack.
                "AllowedOAuthScopes": [{"Fn::Join": ["", [{"Ref": server}, f"/{scope}"]]} for scope in scopes]
                + ["agentzone/shared-tools/invoke"],
                "AccessTokenValidity": 60,
                "TokenValidityUnits": {"AccessToken": "minutes"},
                "EnableTokenRevocation": True,
            },
        )


@pytest.mark.parametrize("env", ENVS)
def test_client_credentials_are_readable_by_exactly_the_tenant_account(sample_assembly, env):
    for name, accounts in TENANT_ACCOUNTS.items():
        account = accounts[env]
        t = identity(sample_assembly, name, env)
        client = logical_id(t, "AWS::Cognito::UserPoolClient", {"ClientName": f"{name}-agents"})
        secret = logical_id(t, "AWS::SecretsManager::Secret", {"Name": f"agentzone/identity/{name}/client-credentials"})
        resource = t.to_json()["Resources"][secret]
        assert resource["DeletionPolicy"] == "Retain"
        assert resource["Properties"]["KmsKeyId"] == IMPORTED_KEY
        value = json.dumps(resource["Properties"]["SecretString"])
        assert json.dumps({"Fn::GetAtt": [client, "ClientSecret"]}) in value
        assert (
            f"https://acme-agents-{env}-{SECURITY_ACCOUNT[env]}.auth.eu-west-1.amazoncognito.com/oauth2/token" in value
        )
        assert json.dumps(IMPORTED_POOL) in value  # the discovery URL names the pool
        (policy,) = t.find_resources("AWS::SecretsManager::ResourcePolicy").values()
        assert policy["Properties"]["SecretId"] == {"Ref": secret}
        (statement,) = policy["Properties"]["ResourcePolicy"]["Statement"]
        assert statement["Effect"] == "Allow" and statement["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
        assert statement["Action"] == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]


@pytest.mark.parametrize("env", ENVS)
def test_tenant_accounts_decrypt_client_credentials_only_through_secrets_manager(sample_assembly, env):
    """One key-policy statement for every tenant account; which secret each may read is its secret's policy."""
    t = template(sample_assembly, env)
    key = logical_id(t, "AWS::KMS::Key", {"Description": Match.string_like_regexp("client credentials")})
    statements = t.to_json()["Resources"][key]["Properties"]["KeyPolicy"]["Statement"]
    (decrypt,) = [s for s in statements if s.get("Sid") == "TenantAccountsDecryptClientCredentials"]
    assert decrypt["Principal"] == {
        "AWS": sorted(f"arn:aws:iam::{accounts[env]}:root" for accounts in TENANT_ACCOUNTS.values())
    }
    assert decrypt["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"},
        "StringLike": {
            "kms:EncryptionContext:SecretARN": f"arn:aws:secretsmanager:eu-west-1:{SECURITY_ACCOUNT[env]}:"
            "secret:agentzone/identity/*/client-credentials-??????"
        },
    }


def test_stack_exposes_the_oidc_discovery_url_for_jwt_authorizers(sample_assembly):
    outputs = template(sample_assembly, "prod").to_json()["Outputs"]
    pool = logical_id(template(sample_assembly, "prod"), "AWS::Cognito::UserPool", {})
    assert outputs["AgentIdentityDiscoveryUrl"]["Value"] == {
        "Fn::Join": [
            "",
            ["https://cognito-idp.eu-west-1.amazonaws.com/", {"Ref": pool}, "/.well-known/openid-configuration"],
        ]
    }
    assert "/oauth2/token" in json.dumps(outputs["AgentIdentityTokenEndpoint"]["Value"])


def test_tenants_get_identity_only_in_their_environments_with_configured_token_lifetime(config_copy):
    edit(config_copy, "tenants/fraud.yaml", '  dev:     {account: "444444444444"}\n', "")
    # Per-environment blueprint settings name only environments the tenant has.
    edit(config_copy, "tenants/fraud.yaml", '        dev:     {image_tag: "2.1.0", endpoints: {DEV: 5}}\n', "")
    edit(
        config_copy,
        "tenants/fraud.yaml",
        'environments: {dev: "1", staging: "1", prod: "1"}',
        'environments: {staging: "1", prod: "1"}',
    )
    edit(config_copy, "organization.yaml", "access_token_minutes: 60", "access_token_minutes: 15")
    dev = synth_security(config_copy, "dev")
    statements = [
        s
        for key in dev.find_resources("AWS::KMS::Key").values()
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "TenantAccountsDecryptClientCredentials"
    ]
    assert [s["Principal"] for s in statements] == [{"AWS": "arn:aws:iam::111111111111:root"}]
    lz = load_landing_zone(config_copy)
    assert compose_unit(create_app(), lz, Unit("tenant", "fraud", "dev")) == []  # no dev stacks, no dev identity
    claims, platform = lz.tenant("claims"), lz.organization.environments["dev"]
    target = tenant_target(lz, claims, "dev", platform.security, lz.region_of(platform))
    stack = TenantIdentityStack(create_app(), "AgentZone-claims-dev-identity", target=target, tenant=claims, lz=lz)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Cognito::UserPoolClient", {"ClientName": "claims-agents", "AccessTokenValidity": 15}
    )


def test_domain_prefix_with_a_word_cognito_rejects_fails_at_synth(config_copy):
    edit(config_copy, "organization.yaml", "organization: acme-agents", "organization: amazonian-agents")
    with pytest.raises(ValueError, match="may not contain amazon"):
        synth_security(config_copy, "dev")


# ----------------------------------------------------------------- detection


def test_guardduty_detector_and_auto_enable_only_in_the_central_environment(sample_assembly):
    prod = template(sample_assembly, "prod")
    detector = logical_id(prod, "Custom::GuardDutyDetector", {"FindingPublishingFrequency": "FIFTEEN_MINUTES"})
    prod.has_resource_properties(
        "Custom::GuardDutyAutoEnable", {"DetectorId": {"Fn::GetAtt": [detector, "DetectorId"]}}
    )
    for env in ("dev", "staging"):  # members: the organization auto-enable covers them
        t = template(sample_assembly, env)
        for type_ in ("Custom::GuardDutyDetector", "Custom::GuardDutyAutoEnable", "AWS::GuardDuty::Detector"):
            t.resource_count_is(type_, 0)
    prod.resource_count_is("AWS::GuardDuty::Detector", 0)  # would collide with the one the delegation creates


def test_central_provider_runs_the_security_handler_with_the_calls_it_makes(sample_assembly):
    prod = template(sample_assembly, "prod")
    prod.has_resource_properties("AWS::Lambda::Function", {"Handler": "platform_resources.handler"})
    from agentzone.handlers import platform_resources

    assert {"Custom::GuardDutyDetector", "Custom::SecurityHubAccount", "Custom::GuardDutyAutoEnable"} <= set(
        platform_resources.HANDLERS
    )
    # The SCPs let only this role name change protected settings such as guardduty:UpdateDetector.
    prod.has_resource_properties("AWS::IAM::Role", {"RoleName": "agentzone-platform-resources-eu-west-1"})
    role_arn = "arn:aws:iam::100000000033:role/agentzone-platform-resources-eu-west-1"
    assert any(
        fnmatch.fnmatchcase(role_arn, p) for p in exempt_principals(load_landing_zone(SAMPLE_CONFIG).organization)
    )
    statements = next(iter(prod.find_resources("AWS::IAM::ManagedPolicy").values()))["Properties"]["PolicyDocument"][
        "Statement"
    ]
    granted = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {
        "guardduty:ListDetectors",
        "guardduty:CreateDetector",
        "guardduty:UpdateDetector",
        "guardduty:UpdateOrganizationConfiguration",
        "securityhub:DescribeHub",
        "securityhub:EnableSecurityHub",
    } <= granted
    # UpdateOrganizationConfiguration has no resource-level permissions: on detector ARNs it would grant nothing.
    (auto_enable,) = [s for s in statements if "guardduty:UpdateOrganizationConfiguration" in s["Action"]]
    assert auto_enable["Resource"] == "*" and "Condition" not in auto_enable
    slr = [s for s in statements if s["Action"] == "iam:CreateServiceLinkedRole"]
    assert {s["Condition"]["StringEquals"]["iam:AWSServiceName"] for s in slr} == {
        "guardduty.amazonaws.com",
        "securityhub.amazonaws.com",
    }


def test_security_hub_central_configuration_applies_the_configured_standards_from_the_root(sample_assembly):
    prod = template(sample_assembly, "prod")
    prod.resource_count_is("Custom::SecurityHubAccount", 1)
    prod.has_resource_properties(
        "AWS::SecurityHub::FindingAggregator", {"RegionLinkingMode": "SPECIFIED_REGIONS", "Regions": ["eu-central-1"]}
    )
    prod.has_resource_properties(
        "AWS::SecurityHub::OrganizationConfiguration",
        {"ConfigurationType": "CENTRAL", "AutoEnable": False, "AutoEnableStandards": "NONE"},
    )
    policy = logical_id(
        prod,
        "AWS::SecurityHub::ConfigurationPolicy",
        {
            "ConfigurationPolicy": {
                "SecurityHub": {
                    "ServiceEnabled": True,
                    "EnabledStandardIdentifiers": [
                        "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0",
                        "arn:aws:securityhub:eu-west-1::standards/cis-aws-foundations-benchmark/v/3.0.0",
                    ],
                    "SecurityControlsConfiguration": {"DisabledSecurityControlIdentifiers": []},
                }
            }
        },
    )
    prod.has_resource_properties(
        "AWS::SecurityHub::PolicyAssociation",
        {"ConfigurationPolicyId": {"Fn::GetAtt": [policy, "Id"]}, "TargetType": "ROOT", "TargetId": "r-a1b2"},
    )
    for env in ("dev", "staging"):
        assert not [
            v for v in template(sample_assembly, env).to_json()["Resources"].values() if "SecurityHub" in v["Type"]
        ]


def test_security_hub_standards_come_from_config(config_copy):
    edit(
        config_copy,
        "organization.yaml",
        "securityhub_standards: [aws-foundational, cis-3.0]",
        "securityhub_standards: [nist-800-53, pci-dss]",
    )
    prod = synth_security(config_copy, "prod")
    prod.has_resource_properties(
        "AWS::SecurityHub::ConfigurationPolicy",
        {
            "ConfigurationPolicy": {
                "SecurityHub": Match.object_like(
                    {
                        "EnabledStandardIdentifiers": [
                            "arn:aws:securityhub:eu-west-1::standards/nist-800-53/v/5.0.0",
                            "arn:aws:securityhub:eu-west-1::standards/pci-dss/v/4.0.1",
                        ]
                    }
                )
            }
        },
    )


@pytest.mark.parametrize(
    "env,kind,name",
    [
        ("dev", "ACCOUNT", "agentzone-account"),
        ("staging", "ACCOUNT", "agentzone-account"),
        ("prod", "ORGANIZATION", "agentzone-organization"),
    ],
)
def test_access_analyzer_is_organization_wide_only_in_the_central_environment(sample_assembly, env, kind, name):
    t = template(sample_assembly, env)
    t.resource_count_is("AWS::AccessAnalyzer::Analyzer", 1)
    t.has_resource_properties("AWS::AccessAnalyzer::Analyzer", {"Type": kind, "AnalyzerName": name})


def test_config_aggregator_collects_the_organization_in_allowed_regions(sample_assembly):
    prod = template(sample_assembly, "prod")
    role = logical_id(
        prod,
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Principal": {"Service": "config.amazonaws.com"}})]}
            )
        },
    )
    managed = json.dumps(prod.to_json()["Resources"][role]["Properties"]["ManagedPolicyArns"])
    assert "policy/service-role/AWSConfigRoleForOrganizations" in managed
    prod.has_resource_properties(
        "AWS::Config::ConfigurationAggregator",
        {
            "ConfigurationAggregatorName": "agentzone-organization",
            "OrganizationAggregationSource": {
                "RoleArn": {"Fn::GetAtt": [role, "Arn"]},
                "AllAwsRegions": False,
                "AwsRegions": ["eu-central-1", "eu-west-1"],
            },
        },
    )
    for env in ("dev", "staging"):
        template(sample_assembly, env).resource_count_is("AWS::Config::ConfigurationAggregator", 0)
        template(sample_assembly, env).resource_count_is("AWS::Config::OrganizationConfigRule", 0)


def test_agent_inventory_rule_checks_the_tags_on_agentcore_resources_organization_wide(sample_assembly):
    prod = template(sample_assembly, "prod")
    rule = {
        k: r
        for k, r in prod.find_resources("AWS::Config::OrganizationConfigRule").items()
        if "OrganizationCustomPolicyRuleMetadata" in r["Properties"]
    }
    assert len(rule) == 1  # the one Guard rule; the managed ones are test_agent_data_is_checked_...
    props = next(iter(rule.values()))["Properties"]
    assert props["OrganizationConfigRuleName"] == "agentzone-agent-inventory-tags"
    assert props["ExcludedAccounts"] == ["100000000000"]  # the management account records nothing
    meta = props["OrganizationCustomPolicyRuleMetadata"]
    assert meta["Runtime"] == "guard-2.x.x"
    assert meta["OrganizationConfigRuleTriggerTypes"] == ["ConfigurationItemChangeNotification"]
    assert meta["ResourceTypesScope"] == ["AWS::BedrockAgentCore::Runtime", "AWS::BedrockAgentCore::BrowserCustom"]
    assert INVENTORY_TAGS == ("owner", "cost-center", "use-case-id")
    for key in INVENTORY_TAGS:
        assert f"tags.'{key}' == /\\S/" in meta["PolicyText"]


def test_inventory_scope_is_every_agentcore_type_aws_config_can_record():
    """Gateway and Memory are not recordable yet; when the SDK lists them, this fails and they join the scope."""
    enum = botocore.session.get_session().get_service_model("config").shape_for("ResourceType").enum
    recordable = {t for t in enum if t.startswith("AWS::BedrockAgentCore::")}
    assert set(INVENTORY_RESOURCE_TYPES) == recordable


def test_agent_data_is_checked_organization_wide_for_public_access_encryption_and_tls(sample_assembly):
    rules = [
        r["Properties"]
        for r in template(sample_assembly, "prod").find_resources("AWS::Config::OrganizationConfigRule").values()
        if "OrganizationManagedRuleMetadata" in r["Properties"]
    ]
    by_identifier = {r["OrganizationManagedRuleMetadata"]["RuleIdentifier"]: r for r in rules}
    assert sorted(by_identifier) == sorted(AGENT_DATA_RULES)
    assert {"S3_BUCKET_PUBLIC_READ_PROHIBITED", "S3_DEFAULT_ENCRYPTION_KMS", "S3_BUCKET_SSL_REQUESTS_ONLY"} <= set(
        by_identifier
    )
    for rule in rules:
        assert rule["OrganizationManagedRuleMetadata"]["TagKeyScope"] == "use-case-id"  # every AgentZone resource
        assert rule["ExcludedAccounts"] == ["100000000000"]
        assert rule["OrganizationConfigRuleName"].startswith("agentzone-agent-data-")
        assert len(rule["OrganizationConfigRuleName"]) <= 64
    assert not template(sample_assembly, "dev").find_resources("AWS::Config::OrganizationConfigRule")


def test_the_agent_inventory_is_a_saved_query_over_every_recordable_agent_type_and_the_agent_roles(sample_assembly):
    queries = {
        q["Properties"]["QueryName"]: q["Properties"]["QueryExpression"]
        for q in template(sample_assembly, "prod").find_resources("AWS::Config::StoredQuery").values()
    }
    assert sorted(queries) == ["agentzone-agent-inventory", "agentzone-agent-roles"]
    enum = set(botocore.session.get_session().get_service_model("config").shape_for("ResourceType").enum)
    inventory = queries["agentzone-agent-inventory"]
    assert set(AGENT_RESOURCE_TYPES) <= enum  # only types Config records: a query on others returns nothing
    assert all(f"'{t}'" in inventory for t in AGENT_RESOURCE_TYPES) and "tags" in inventory
    # The agents' execution roles: the kill switch's tag marks exactly them.
    assert queries["agentzone-agent-roles"].endswith(f"AND tags.key = '{PROTECTED_ROLE_TAG}'")
    assert not template(sample_assembly, "dev").find_resources("AWS::Config::StoredQuery")  # central account only


def test_the_inventory_dashboard_shows_each_saved_query_through_a_narrow_widget_function(sample_assembly):
    prod = sample_assembly.template("AgentZone-Security-prod")["Resources"]
    queries = {k: r for k, r in prod.items() if r["Type"] == "AWS::Config::StoredQuery"}
    (aggregator,) = [k for k, r in prod.items() if r["Type"] == "AWS::Config::ConfigurationAggregator"]
    (function,) = [
        k for k in prod if k.startswith("InventoryDashboardFunction") and prod[k]["Type"].endswith("Function")
    ]
    (dashboard,) = [r for r in prod.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    assert dashboard["Properties"]["DashboardName"] == "agentzone-agent-inventory"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for query in queries.values():  # one custom widget per saved query, naming it
        assert f'\\"query\\":\\"{query["Properties"]["QueryName"]}\\"' in body
    assert body.count('\\"type\\":\\"custom\\"') == len(queries) and function in body
    env = prod[function]["Properties"]["Environment"]["Variables"]
    assert env == {
        "AGENTZONE_AGGREGATOR": "agentzone-organization",
        "AGENTZONE_QUERIES": ",".join(sorted(q["Properties"]["QueryName"] for q in queries.values())),
    }
    (policy,) = [r for k, r in prod.items() if k.startswith("InventoryDashboardPolicy")]
    statements = {
        ",".join(s["Action"]) if isinstance(s["Action"], list) else s["Action"]: s["Resource"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    }
    assert sorted(statements) == [
        "config:GetStoredQuery",
        "config:SelectAggregateResourceConfig",
        "logs:CreateLogStream,logs:PutLogEvents",
    ]
    assert statements["config:SelectAggregateResourceConfig"] == {
        "Fn::GetAtt": [aggregator, "ConfigurationAggregatorArn"]
    }
    assert sorted(r["Fn::GetAtt"][0] for r in statements["config:GetStoredQuery"]) == sorted(queries)
    assert not template(sample_assembly, "dev").find_resources("AWS::CloudWatch::Dashboard")


@pytest.mark.parametrize(
    "resource_type,tags,status",
    [
        (
            "AWS::BedrockAgentCore::Runtime",
            {"owner": "a@example.com", "cost-center": "CC-1", "use-case-id": "UC-1"},
            "PASS",
        ),
        ("AWS::BedrockAgentCore::Runtime", {"owner": "a@example.com", "cost-center": "CC-1"}, "FAIL"),
        ("AWS::BedrockAgentCore::BrowserCustom", {"owner": " ", "cost-center": "CC-1", "use-case-id": "UC-1"}, "FAIL"),
        ("AWS::BedrockAgentCore::Runtime", None, "FAIL"),
        ("AWS::S3::Bucket", {}, "SKIP"),
    ],
)
def test_inventory_guard_policy_decides_on_configuration_items(resource_type, tags, status):
    guard = pytest.importorskip("cfn_guard_rs")
    item = {"resourceType": resource_type, "configuration": {}, **({"tags": tags} if tags is not None else {})}
    assert guard.run_checks(item, inventory_tag_policy()).status == status


# ------------------------------------------------------------------ handlers


@pytest.fixture
def aws(monkeypatch):
    for key, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


def event(resource_type: str, request: str = "Create", **props) -> dict:
    return {
        "RequestType": request,
        "ResourceType": resource_type,
        "LogicalResourceId": "R",
        "StackId": "s",
        "RequestId": "r",
        "ResourceProperties": {"ServiceToken": "arn", **props},
    }


def test_guardduty_detector_is_created_once_then_adopted_and_kept_on_delete(aws):
    gd = boto3.client("guardduty")
    created = security_resources.handler(
        event("Custom::GuardDutyDetector", FindingPublishingFrequency="FIFTEEN_MINUTES")
    )
    assert created["Status"] == "SUCCESS", created["Reason"]
    detector = created["Data"]["DetectorId"]
    assert gd.list_detectors()["DetectorIds"] == [detector] and created["PhysicalResourceId"] == detector
    again = security_resources.handler(
        event("Custom::GuardDutyDetector", "Update", FindingPublishingFrequency="FIFTEEN_MINUTES")
    )
    assert again["Data"]["DetectorId"] == detector and gd.list_detectors()["DetectorIds"] == [detector]
    assert (
        security_resources.handler(
            event("Custom::GuardDutyDetector", "Delete", FindingPublishingFrequency="FIFTEEN_MINUTES")
        )["Status"]
        == "SUCCESS"
    )
    assert gd.list_detectors()["DetectorIds"] == [detector]


def test_guardduty_detector_adopts_the_one_the_delegation_created(aws):
    gd = boto3.client("guardduty")
    existing = gd.create_detector(Enable=True, FindingPublishingFrequency="SIX_HOURS")["DetectorId"]
    result = security_resources.handler(
        event("Custom::GuardDutyDetector", FindingPublishingFrequency="FIFTEEN_MINUTES")
    )
    assert result["Data"]["DetectorId"] == existing
    assert gd.get_detector(DetectorId=existing)["FindingPublishingFrequency"] == "FIFTEEN_MINUTES"


def test_security_hub_is_enabled_without_default_standards_or_adopted(aws):
    hub = boto3.client("securityhub")
    first = security_resources.handler(event("Custom::SecurityHubAccount"))
    assert first["Status"] == "SUCCESS", first["Reason"]
    assert (
        first["Data"]["HubArn"]
        == hub.describe_hub()["HubArn"]
        == "arn:aws:securityhub:eu-west-1:123456789012:hub/default"
    )
    assert (
        security_resources.handler(event("Custom::SecurityHubAccount", "Update"))["PhysicalResourceId"]
        == first["PhysicalResourceId"]
    )


def test_security_hub_delete_leaves_the_service_on(aws):
    boto3.client("securityhub").enable_security_hub(EnableDefaultStandards=False)
    assert security_resources.handler(event("Custom::SecurityHubAccount", "Delete"))["Status"] == "SUCCESS"
    assert boto3.client("securityhub").describe_hub()["HubArn"]


def test_security_handler_also_serves_the_platform_types(aws):
    boto3.client("organizations").create_organization(FeatureSet="ALL")
    result = security_resources.handler(event("Custom::GuardDutyOrganizationAdmin", AccountId="100000000033"))
    assert result["Status"] == "SUCCESS", result["Reason"]
    admins = boto3.client("guardduty").list_organization_admin_accounts()["AdminAccounts"]
    assert [a["AdminAccountId"] for a in admins] == ["100000000033"]
    unknown = security_resources.handler(event("Custom::Nope"))
    assert unknown["Status"] == "FAILED"
    assert "Custom::GuardDutyAutoEnable" in unknown["Reason"] and "Custom::SecurityHubAccount" in unknown["Reason"]


def test_security_handler_imports_as_lambda_loads_it():
    """In Lambda the handlers folder is the code root: the relative import must fall back."""
    env = {**os.environ, "PYTHONPATH": str(HANDLERS_DIR)}
    code = "import platform_resources as s; print(len(s.HANDLERS))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=HANDLERS_DIR, env=env, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) == len(security_resources.HANDLERS)
