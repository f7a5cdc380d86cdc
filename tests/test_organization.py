"""Management-account controls: OUs, SCPs (statements, targets, size and attachment limits), tag policies, trail."""

from __future__ import annotations

import json

import pytest

from agentzone import organization_policies as policies
from agentzone.config import model as m
from agentzone.config import load_landing_zone

from .conftest import SAMPLE_CONFIG

ORG = "AgentZone-Organization"


def policies_by_name(sample_assembly, stack: str) -> dict[str, dict]:
    return {p["Properties"]["Name"]: p["Properties"] for p in sample_assembly.resources(stack, "AWS::Organizations::Policy").values()}


def ou_ref(sample_assembly, stack: str, name: str, parent: str | None = None) -> dict:
    for logical, ou in sample_assembly.resources(stack, "AWS::Organizations::OrganizationalUnit").items():
        if ou["Properties"]["Name"] == name and (parent is None or ou["Properties"]["ParentId"] == parent):
            return {"Fn::GetAtt": [logical, "Id"]}
    raise AssertionError(f"no OU {name} in {stack}")


def statement(policy: dict, sid: str) -> dict:
    return next(s for s in policy["Content"]["Statement"] if s["Sid"] == sid)


def test_ous_for_platform_and_workloads_by_environment(sample_assembly):
    ous = {o["Properties"]["Name"]: o for o in sample_assembly.resources(ORG, "AWS::Organizations::OrganizationalUnit").values()}
    assert ous["AgentZone-Platform"]["Properties"]["ParentId"] == "r-a1b2"
    assert ous["AgentZone-Workloads"]["Properties"]["ParentId"] == "r-a1b2"
    assert all(o["DeletionPolicy"] == "Retain" for o in ous.values())
    workloads = ou_ref(sample_assembly, ORG, "AgentZone-Workloads")
    params = {p["Properties"]["Name"]: p["Properties"]["Value"] for p in sample_assembly.resources(ORG, "AWS::SSM::Parameter").values()}
    assert sorted(params) == [f"/agentzone/organization/workloads-ou/{e}" for e in ("dev", "prod", "staging")]
    assert params["/agentzone/organization/workloads-ou/prod"] == ou_ref(sample_assembly, ORG, "prod", workloads)


def test_accounts_are_placed_from_config(sample_assembly):
    placements = {p["Properties"]["AccountId"]: p["Properties"]["ParentId"] for p in sample_assembly.resources(ORG, "Custom::AccountPlacement").values()}
    platform_prod = ou_ref(sample_assembly, ORG, "prod", ou_ref(sample_assembly, ORG, "AgentZone-Platform"))
    assert {a for a, parent in placements.items() if parent == platform_prod} == {"100000000031", "100000000032", "100000000033", "100000000034"}
    assert len(placements) == 12
    template = sample_assembly.template("AgentZone-claims-governance")
    tenant = {p["Properties"]["AccountId"]: p["Properties"]["ParentId"] for p in sample_assembly.resources("AgentZone-claims-governance", "Custom::AccountPlacement").values()}
    assert tenant["333333333333"] == ou_ref(sample_assembly, "AgentZone-claims-governance", "claims", {"Ref": next(
        k for k, v in template["Parameters"].items() if v.get("Default") == "/agentzone/organization/workloads-ou/prod")})


def test_baseline_protection_scp(sample_assembly):
    scp = policies_by_name(sample_assembly, ORG)["agentzone-baseline-protection"]
    assert scp["Type"] == "SERVICE_CONTROL_POLICY"
    assert sorted(scp["TargetIds"], key=json.dumps) == sorted(
        [ou_ref(sample_assembly, ORG, "AgentZone-Platform"), ou_ref(sample_assembly, ORG, "AgentZone-Workloads")], key=json.dumps)
    assert statement(scp, "DenyLeaveOrganization") == {
        "Sid": "DenyLeaveOrganization", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}
    protect = statement(scp, "ProtectAuditAndDetection")
    for action in ("cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "config:StopConfigurationRecorder", "guardduty:DeleteDetector",
                   "securityhub:DisableSecurityHub", "access-analyzer:DeleteAnalyzer", "oam:DeleteLink", "bedrock:DeleteModelInvocationLoggingConfiguration"):
        assert action in protect["Action"]
    exempt = protect["Condition"]["ArnNotLike"]["aws:PrincipalARN"]
    assert exempt == [
        "arn:aws:iam::*:role/AgentZoneBreakGlass",
        "arn:aws:iam::*:role/cdk-agentzone-cfn-exec-role-*",
        "arn:aws:iam::*:role/agentzone-platform-resources-*",
    ]
    roles = statement(scp, "ProtectPlatformRoles")
    assert "iam:CreateRole" in roles["Action"] and "iam:PutRolePolicy" in roles["Action"]
    assert roles["Resource"] == ["arn:aws:iam::*:role/agentzone-*", "arn:aws:iam::*:role/AgentZone-*", "arn:aws:iam::*:role/cdk-agentzone-*"]
    assert statement(scp, "ProtectPlatformBudgets")["Resource"] == "arn:aws:budgets::*:budget/agentzone-*"
    # Boundaries and launch policies (Service Catalog) keep their versions: a new default version would widen them.
    policies = statement(scp, "ProtectPlatformPolicies")
    assert {"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"} <= set(policies["Action"])
    assert policies["Resource"] == ["arn:aws:iam::*:policy/agentzone-*", "arn:aws:iam::*:policy/AgentZone-*"]
    assert policies["Condition"] == roles["Condition"]


def test_region_restriction_scp(sample_assembly):
    scp = policies_by_name(sample_assembly, ORG)["agentzone-region-restriction"]
    deny = statement(scp, "DenyOutsideAllowedRegions")
    assert deny["Condition"]["StringNotEquals"] == {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]}
    for global_action in ("iam:*", "sts:*", "organizations:*", "route53:*", "support:*", "budgets:*"):
        assert global_action in deny["NotAction"]
    assert "bedrock:*" not in deny["NotAction"]


def test_tenant_scp_allows_only_its_models_and_requires_a_guardrail(sample_assembly):
    scp = policies_by_name(sample_assembly, "AgentZone-claims-governance")["agentzone-tenant-claims"]
    models = statement(scp, "DenyModelsNotOnAllowList")
    assert models["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert models["NotResource"][:3] == [
        "arn:aws:bedrock:*::foundation-model/amazon.nova-lite-v1:0",
        "arn:aws:bedrock:*::foundation-model/amazon.titan-embed-text-v2:0",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-v1:0",
    ]
    guard = statement(scp, "DenyModelCallsWithoutGuardrail")
    assert guard["Condition"] == {
        "Null": {"bedrock:GuardrailIdentifier": "true"},
        "ArnNotLike": {"aws:PrincipalARN": ["arn:aws:iam::*:role/agentzone-fm-gateway*", "arn:aws:iam::*:role/agentzone-kb-*"]},
    }
    # The knowledge-base roles exempted above may call embedding models only.
    embedding_only = statement(scp, "DenyKnowledgeBaseRolesNonEmbeddingModels")
    assert embedding_only["Effect"] == "Deny" and embedding_only["Action"] == models["Action"]
    assert embedding_only["NotResource"] == "arn:aws:bedrock:*::foundation-model/*embed*"
    assert embedding_only["Condition"] == {"ArnLike": {"aws:PrincipalARN": "arn:aws:iam::*:role/agentzone-kb-*"}}
    ous = sample_assembly.resources("AgentZone-claims-governance", "AWS::Organizations::OrganizationalUnit")
    assert sorted(scp["TargetIds"], key=json.dumps) == sorted(({"Fn::GetAtt": [k, "Id"]} for k in ous), key=json.dumps)
    assert len(scp["TargetIds"]) == 3


def test_direct_model_access_drops_only_the_guardrail_statement():
    lz = load_landing_zone(SAMPLE_CONFIG)
    tenant = lz.tenant("fraud").model_copy(update={"direct_model_access": True})
    sids = [s["Sid"] for s in policies.tenant_guardrails(tenant).document["Statement"]]
    assert sids == ["DenyModelsNotOnAllowList"]
    # fraud judges its evaluations with amazon.nova-pro-v1:0: its evaluation role may call that model, unguarded, and nothing else.
    guarded = policies.tenant_guardrails(lz.tenant("fraud")).document["Statement"]
    assert [s["Sid"] for s in guarded] == [
        "DenyModelsNotOnAllowList", "DenyModelCallsWithoutGuardrail", "DenyKnowledgeBaseRolesNonEmbeddingModels", "DenyEvaluationRolesOtherModels",
    ]
    assert "arn:aws:iam::*:role/agentzone-eval-*" in guarded[1]["Condition"]["ArnNotLike"]["aws:PrincipalARN"]
    assert guarded[3]["NotResource"][0] == "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0"
    assert guarded[3]["Condition"] == {"ArnLike": {"aws:PrincipalARN": "arn:aws:iam::*:role/agentzone-eval-*"}}
    claims = [s["Sid"] for s in policies.tenant_guardrails(lz.tenant("claims")).document["Statement"]]
    assert "DenyEvaluationRolesOtherModels" not in claims  # claims runs its own evaluation command: no judge role


def test_inference_profile_ids_map_to_their_foundation_model():
    assert policies.foundation_model_arn("eu.anthropic.claude-sonnet-4-5-v1:0") == "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-v1:0"
    assert policies.foundation_model_arn("amazon.nova-pro-v1:0") == "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0"
    # Longer geography prefixes too: a wrong base model ARN would make the SCP deny the profile's model.
    assert policies.foundation_model_arn("global.anthropic.claude-sonnet-4-5-v1:0") == "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-v1:0"
    assert policies.foundation_model_arn("apac.amazon.nova-pro-v1:0") == "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0"
    assert policies.foundation_model_arn("us-gov.amazon.nova-pro-v1:0") == "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0"


def test_tag_policies_pin_values_per_ou(sample_assembly):
    claims = policies_by_name(sample_assembly, "AgentZone-claims-governance")["agentzone-tags-claims"]
    assert claims["Type"] == "TAG_POLICY"
    assert claims["Content"]["tags"]["cost-center"] == {"tag_key": {"@@assign": "cost-center"}, "tag_value": {"@@assign": ["CC-1234"]}}
    assert claims["Content"]["tags"]["use-case-id"]["tag_value"] == {"@@assign": ["UC-0042"]}
    platform = policies_by_name(sample_assembly, ORG)["agentzone-tags-platform"]
    assert platform["TargetIds"] == [ou_ref(sample_assembly, ORG, "AgentZone-Platform")]
    assert platform["Content"]["tags"]["use-case-id"]["tag_value"] == {"@@assign": ["platform"]}
    (tags,) = sample_assembly.resources(ORG, "Custom::CostAllocationTags").values()
    assert tags["Properties"]["TagKeys"] == ["cost-center", "environment", "owner", "use-case-id"]


def test_no_target_gets_more_than_five_scps(sample_assembly):
    per_target: dict[str, int] = {}
    for stack in sample_assembly.templates:
        for p in sample_assembly.resources(stack, "AWS::Organizations::Policy").values():
            if p["Properties"]["Type"] == "SERVICE_CONTROL_POLICY":
                for target in p["Properties"]["TargetIds"]:
                    key = f"{stack}:{json.dumps(target)}"
                    per_target[key] = per_target.get(key, 0) + 1
    # FullAWSAccess stays attached to every new OU and counts toward the quota.
    assert per_target and max(per_target.values()) + 1 <= policies.SCP_MAX_PER_TARGET


def largest_config() -> tuple[m.Organization, m.Tenant]:
    lz = load_landing_zone(SAMPLE_CONFIG)
    regions = [f"xx-{name}-{i}" for name in ("northeast", "southeast", "central", "northwest") for i in range(1, 5)]
    org = lz.organization.model_copy(update={
        "allowed_regions": regions[: m.MAX_ALLOWED_REGIONS],
        "guardrails": m.Guardrails(admin_roles=[f"{i}" + "r" * 63 for i in range(m.MAX_ADMIN_ROLES)], bootstrap_qualifier="q" * 10),
    })
    tenant = lz.tenant("claims").model_copy(update={
        "tenant": "t" * 32,
        "models": [f"eu.vendor{i:02d}." + "m" * 80 + ":0" for i in range(m.MAX_TENANT_MODELS)],
    })
    assert all(len(x) <= 96 for x in tenant.models)
    return org, tenant


def test_every_scp_fits_the_size_limit_even_for_the_largest_allowed_config():
    org, tenant = largest_config()
    generated = [policies.baseline_protection(org), policies.region_restriction(org), policies.tenant_guardrails(tenant)]
    for policy in generated:
        assert policy.size <= policies.SCP_MAX_CHARS, (policy.name, policy.size)
    # ...and the limit is real: the sample is far below it, the largest config close to it.
    assert max(p.size for p in generated) > policies.SCP_MAX_CHARS // 2


def test_organization_trail_delivers_to_the_central_archive(sample_assembly):
    (trail,) = sample_assembly.resources(ORG, "AWS::CloudTrail::Trail").values()
    props = trail["Properties"]
    assert props["IsOrganizationTrail"] is True and props["IsMultiRegionTrail"] is True
    assert props["EnableLogFileValidation"] is True and props["IncludeGlobalServiceEvents"] is True
    assert props["TrailName"] == "agentzone-organization"
    assert props["S3BucketName"] == "agentzone-logs-100000000032-eu-west-1"
    assert props["KMSKeyId"] == "arn:aws:kms:eu-west-1:100000000032:alias/agentzone/log-archive"
    assert "EventSelectors" not in props
    selectors = props["AdvancedEventSelectors"]
    assert selectors[0]["FieldSelectors"] == [{"Field": "eventCategory", "Equals": ["Management"]}]
    types = {f["Equals"][0] for s in selectors[1:] for f in s["FieldSelectors"] if f["Field"] == "resources.type"}
    assert {"AWS::BedrockAgentCore::Runtime", "AWS::BedrockAgentCore::Gateway", "AWS::BedrockAgentCore::Memory", "AWS::Bedrock::AgentAlias"} <= types
    assert "CloudWatchLogsLogGroupArn" in props


def test_security_services_are_delegated_to_the_central_security_account(sample_assembly):
    admins = {a["Properties"]["ServicePrincipal"]: a["Properties"]["AccountId"] for a in sample_assembly.resources(ORG, "Custom::DelegatedAdministrator").values()}
    assert admins == {p: "100000000033" for p in ("access-analyzer.amazonaws.com", "config.amazonaws.com", "config-multiaccountsetup.amazonaws.com")}
    (guardduty,) = sample_assembly.resources(ORG, "Custom::GuardDutyOrganizationAdmin").values()
    assert guardduty["Properties"]["AccountId"] == "100000000033"
    (hub,) = sample_assembly.resources(ORG, "AWS::SecurityHub::DelegatedAdmin").values()
    assert hub["Properties"]["AdminAccountId"] == "100000000033"


@pytest.mark.parametrize("stack", [ORG, "AgentZone-fraud-governance"])
def test_custom_resource_role_may_only_do_what_its_resources_need(sample_assembly, stack):
    (policy,) = sample_assembly.resources(stack, "AWS::IAM::ManagedPolicy").values()
    actions = {a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "organizations:MoveAccount" in actions
    assert not any(a.endswith(":*") or a == "*" for a in actions)
    move = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "organizations:MoveAccount")
    assert "arn:aws:organizations::100000000000:root/o-a1b2c3d4e5/r-a1b2" in move["Resource"]
