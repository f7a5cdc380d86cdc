"""Management-account controls: OUs, SCPs (statements, targets, size and attachment limits), tag policies, trail."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest

from agentzone import naming
from agentzone import organization_policies as policies
from agentzone.config import load_landing_zone
from agentzone.config import model as m
from agentzone.config.blueprint_checks import MAX_EXTRACTION_MODELS
from agentzone.permissions.model import FULL_AWS_ACCESS
from agentzone.permissions.simulator import Request, Simulator
from agentzone.safety import killswitch as ks

from ..conftest import SAMPLE_CONFIG

ORG = "AgentZone-Organization"


def policies_by_name(sample_assembly, stack: str) -> dict[str, dict]:
    return {
        p["Properties"]["Name"]: p["Properties"]
        for p in sample_assembly.resources(stack, "AWS::Organizations::Policy").values()
    }


def ou_ref(sample_assembly, stack: str, name: str, parent: str | None = None) -> dict:
    for logical, ou in sample_assembly.resources(stack, "AWS::Organizations::OrganizationalUnit").items():
        if ou["Properties"]["Name"] == name and (parent is None or ou["Properties"]["ParentId"] == parent):
            return {"Fn::GetAtt": [logical, "Id"]}
    raise AssertionError(f"no OU {name} in {stack}")


def top_ou_ref(sample_assembly, kind: str) -> dict:
    """How the Organization stack names a top-level OU: the template parameter that reads the id the Bootstrap stack
    publishes (tests/stacks/test_bootstrap.py checks that side)."""
    parameters = sample_assembly.template(ORG)["Parameters"]
    (logical,) = (k for k, v in parameters.items() if v.get("Default") == naming.top_ou_parameter(kind))
    return {"Ref": logical}


def statement(policy: dict, sid: str) -> dict:
    return next(s for s in policy["Content"]["Statement"] if s["Sid"] == sid)


def _values(value) -> list:
    return value if isinstance(value, list) else [value]


def scp_denials(
    document: dict, *, principal: str, action: str, resource: str, guardrail: str | None = None
) -> list[str]:
    """Sids of the SCP statements that deny one request, decided by the IAM simulator `agentzone permissions` uses
    (the SCP attached below the root, FullAWSAccess at each level, a caller allowed everything)."""
    context = {"bedrock:GuardrailIdentifier": guardrail} if guardrail else {}
    return scp_denials_with([document], principal=principal, action=action, resource=resource, context=context)


def scp_denials_with(documents: list[dict], *, principal: str, action: str, resource: str, context: dict) -> list[str]:
    simulator = Simulator(jobs=1)
    full = simulator.policy("FullAWSAccess", FULL_AWS_ACCESS)
    scps = tuple(simulator.policy(f"scp-{i}", document) for i, document in enumerate(documents))
    caller = simulator.policy("caller", FULL_AWS_ACCESS)
    context = {"aws:PrincipalArn": principal, **context}
    request = Request(
        principal,
        action,
        resource,
        principal.split(":")[4],
        tuple(sorted(context.items())),
        (caller,),
        (("r-root", (full,)), ("ou-tenant", (full, *scps))),
    )
    decision = simulator.decide([request])[request]
    return sorted(d["statementId"] for d in decision.denials if d.get("denialType") == "Explicit")


def role_arn(name: str, account: str = "666666666666") -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def model_arn(model: str, region: str = "eu-central-1") -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model}"


def with_extraction_model(tenant: m.Tenant, memory: str, model: str | None) -> m.Tenant:
    """The tenant with one custom strategy on ``memory`` that extracts with ``model`` (None: the built-in model)."""
    strategy = m.CustomMemoryStrategy(
        name="facts",
        type="semantic",
        namespaces=["/facts/{actorId}"],
        instructions="Keep facts." if model else None,
        model=model,
    )
    memories = {**tenant.blueprints.memory, memory: m.MemoryResource(strategies=[], custom_strategies=[strategy])}
    return tenant.model_copy(update={"blueprints": tenant.blueprints.model_copy(update={"memory": memories})})


def test_baseline_protection_scp(sample_assembly):
    scp = policies_by_name(sample_assembly, ORG)["agentzone-baseline-protection"]
    assert scp["Type"] == "SERVICE_CONTROL_POLICY"
    assert sorted(scp["TargetIds"], key=json.dumps) == sorted(
        [top_ou_ref(sample_assembly, "platform"), top_ou_ref(sample_assembly, "workloads")],
        key=json.dumps,
    )
    assert statement(scp, "DenyLeaveOrganization") == {
        "Sid": "DenyLeaveOrganization",
        "Effect": "Deny",
        "Action": "organizations:LeaveOrganization",
        "Resource": "*",
    }
    protect = statement(scp, "ProtectAuditAndDetection")
    for action in (
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "config:StopConfigurationRecorder",
        "guardduty:DeleteDetector",
        "securityhub:DisableSecurityHub",
        "access-analyzer:DeleteAnalyzer",
        "oam:DeleteLink",
        "bedrock:DeleteModelInvocationLoggingConfiguration",
    ):
        assert action in protect["Action"]
    exempt = protect["Condition"]["ArnNotLike"]["aws:PrincipalARN"]
    assert exempt == [
        "arn:aws:iam::*:role/AgentZoneBreakGlass",
        "arn:aws:iam::*:role/cdk-agentzone-cfn-exec-role-*",
        "arn:aws:iam::*:role/agentzone-platform-resources-*",
        "arn:aws:iam::*:role/stacksets-exec-*",
    ]
    roles = statement(scp, "ProtectPlatformRoles")
    assert "iam:CreateRole" in roles["Action"] and "iam:PutRolePolicy" in roles["Action"]
    assert roles["Resource"] == [
        "arn:aws:iam::*:role/agentzone-*",
        "arn:aws:iam::*:role/AgentZone-*",
        "arn:aws:iam::*:role/cdk-agentzone-*",
        "arn:aws:iam::*:role/stacksets-exec-*",
    ]
    assert statement(scp, "ProtectPlatformBudgets")["Resource"] == "arn:aws:budgets::*:budget/agentzone-*"
    # Boundaries and launch policies (Service Catalog) keep their versions: a new default version would widen them.
    policies = statement(scp, "ProtectPlatformPolicies")
    assert {"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"} <= set(policies["Action"])
    assert policies["Resource"] == ["arn:aws:iam::*:policy/agentzone-*", "arn:aws:iam::*:policy/AgentZone-*"]
    # Same exemptions, except that the safety roles (limited by agentzone-safety-roles) may attach deny policies to
    # roles.
    assert (
        policies["Condition"]["ArnNotLike"]["aws:PrincipalARN"]
        == roles["Condition"]["ArnNotLike"]["aws:PrincipalARN"][:-1]
    )


def test_only_the_safety_roles_attach_policies_to_platform_roles_and_only_deny_policies(sample_assembly):
    baseline = policies_by_name(sample_assembly, ORG)["agentzone-baseline-protection"]
    roles = statement(baseline, "ProtectPlatformRoles")
    assert {"iam:AttachRolePolicy", "iam:DetachRolePolicy"} <= set(roles["Action"])
    safety_pattern = naming.role_arn_pattern(naming.SAFETY_ROLE_PREFIX)
    assert roles["Condition"]["ArnNotLike"]["aws:PrincipalARN"][-1] == safety_pattern
    for role in (naming.BUDGET_ACTION_ROLE, naming.PLAYBOOK_ROLE):
        assert fnmatchcase(role_arn(role), safety_pattern)
    budget_deny = f"arn:aws:iam::666666666666:policy/{ks.budget_policy_name('fraud', 'prod')}"
    kill_deny = f"arn:aws:iam::666666666666:policy/{ks.kill_switch_policy_name('fraud', 'prod')}"
    assert fnmatchcase(budget_deny, naming.DENY_POLICY_PATTERN) and fnmatchcase(kill_deny, naming.DENY_POLICY_PATTERN)
    safety = policies_by_name(sample_assembly, ORG)["agentzone-safety-roles"]
    assert safety["TargetIds"] == [top_ou_ref(sample_assembly, "workloads")]  # safety roles live in tenant accounts
    # Decided by the simulator over both SCPs: the budget role may attach a deny policy to an agent role and do
    # nothing else to it; anyone not exempt may attach nothing to a platform role.
    documents = [baseline["Content"], safety["Content"]]
    agent = role_arn("AgentZone-fraud-prod-RuntimeInvestigatorExecutionRole")
    budget = role_arn(naming.BUDGET_ACTION_ROLE)

    def denials(principal: str, action: str, policy: str) -> list[str]:
        return scp_denials_with(
            documents, principal=principal, action=action, resource=agent, context={"iam:PolicyARN": policy}
        )

    assert denials(budget, "iam:AttachRolePolicy", budget_deny) == []
    assert denials(role_arn(naming.PLAYBOOK_ROLE), "iam:DetachRolePolicy", kill_deny) == []
    assert denials(budget, "iam:AttachRolePolicy", "arn:aws:iam::aws:policy/AdministratorAccess") == [
        "SafetyRolesAttachOnlyDenyPolicies"
    ]
    assert denials(budget, "iam:PutRolePolicy", budget_deny) == ["SafetyRolesChangeNoRole"]
    assert denials(role_arn("TeamAdmin"), "iam:AttachRolePolicy", budget_deny) == ["ProtectPlatformRoles"]


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
        "ArnNotLike": {
            "aws:PrincipalARN": ["arn:aws:iam::*:role/agentzone-fm-gateway*", "arn:aws:iam::*:role/agentzone-kb-*"]
        },
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
    # fraud judges its evaluations with amazon.nova-pro-v1:0: its evaluation role may call that model, unguarded,
    # and nothing else.
    guarded = policies.tenant_guardrails(lz.tenant("fraud")).document["Statement"]
    assert [s["Sid"] for s in guarded] == [
        "DenyModelsNotOnAllowList",
        "DenyModelCallsWithoutGuardrail",
        "DenyKnowledgeBaseRolesNonEmbeddingModels",
        "DenyEvaluationRolesOtherModels",
        "DenyMemoryRolesOtherModels",
    ]
    assert "arn:aws:iam::*:role/agentzone-eval-*" in guarded[1]["Condition"]["ArnNotLike"]["aws:PrincipalARN"]
    assert guarded[3]["NotResource"][0] == "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0"
    assert guarded[3]["Condition"] == {"ArnLike": {"aws:PrincipalARN": "arn:aws:iam::*:role/agentzone-eval-*"}}
    claims = [s["Sid"] for s in policies.tenant_guardrails(lz.tenant("claims")).document["Statement"]]
    assert "DenyEvaluationRolesOtherModels" not in claims  # claims runs its own evaluation command: no judge role


def test_memory_extraction_roles_are_exempt_from_the_guardrail_rule_and_limited_to_the_extraction_models():
    lz = load_landing_zone(SAMPLE_CONFIG)
    fraud = lz.tenant("fraud").model_copy(update={"models": ["amazon.nova-pro-v1:0", "amazon.nova-lite-v1:0"]})
    scp = policies.tenant_guardrails(fraud).document
    signals = role_arn(naming.memory_service_role("fraud_signals_prod"))
    nova_pro, nova_lite = model_arn("amazon.nova-pro-v1:0"), model_arn("amazon.nova-lite-v1:0")
    # fraud's signals memory extracts with nova-pro (config/tenants/fraud.yaml): no guardrail needed, both actions.
    for action in policies.MODEL_INVOKE_ACTIONS:
        assert scp_denials(scp, principal=signals, action=action, resource=nova_pro) == []
    # Any other model, even an allow-listed one and even with a guardrail, stays denied to memory roles.
    assert scp_denials(scp, principal=signals, action="bedrock:InvokeModel", resource=nova_lite) == [
        "DenyMemoryRolesOtherModels"
    ]
    assert scp_denials(scp, principal=signals, action="bedrock:InvokeModel", resource=nova_lite, guardrail="gr:1") == [
        "DenyMemoryRolesOtherModels"
    ]
    # The exemption is for memory roles only: another role in the account still needs a guardrail.
    other = role_arn("AgentZone-fraud-prod-RuntimeInvestigatorExecutionRole")
    assert scp_denials(scp, principal=other, action="bedrock:InvokeModel", resource=nova_pro) == [
        "DenyModelCallsWithoutGuardrail"
    ]
    assert scp_denials(scp, principal=other, action="bedrock:InvokeModel", resource=nova_pro, guardrail="gr:1") == []
    (limit,) = [s for s in scp["Statement"] if s["Sid"] == "DenyMemoryRolesOtherModels"]
    assert limit["NotResource"] == [
        policies.foundation_model_arn("amazon.nova-pro-v1:0")
    ]  # no inference-profile wildcard either


def test_memory_statements_appear_only_for_tenants_with_custom_extraction_models():
    lz = load_landing_zone(SAMPLE_CONFIG)
    claims, fraud = lz.tenant("claims"), lz.tenant("fraud")

    def memory_statements(tenant: m.Tenant) -> tuple[bool, bool]:
        scp = policies.tenant_guardrails(tenant).document
        guard = next(s for s in scp["Statement"] if s["Sid"] == "DenyModelCallsWithoutGuardrail")
        exempt = any(
            fnmatchcase(role_arn(naming.memory_service_role("x_y_prod")), p)
            for p in guard["Condition"]["ArnNotLike"]["aws:PrincipalARN"]
        )
        return exempt, any(s["Sid"] == "DenyMemoryRolesOtherModels" for s in scp["Statement"])

    assert memory_statements(fraud) == (True, True)
    assert memory_statements(claims) == (False, False)  # claims' memories use built-in extraction models only
    assert memory_statements(
        with_extraction_model(
            fraud.model_copy(update={"blueprints": fraud.blueprints.model_copy(update={"memory": {}})}), "notes", None
        )
    ) == (False, False)
    added = with_extraction_model(claims, "notes", "anthropic.claude-sonnet-4-5-v1:0")
    assert memory_statements(added) == (True, True)
    scp = policies.tenant_guardrails(added).document
    claims_role = role_arn(naming.memory_service_role("claims_notes_prod"), "333333333333")
    assert (
        scp_denials(
            scp,
            principal=claims_role,
            action="bedrock:InvokeModel",
            resource=model_arn("anthropic.claude-sonnet-4-5-v1:0", "eu-west-1"),
        )
        == []
    )
    assert scp_denials(
        scp,
        principal=claims_role,
        action="bedrock:InvokeModel",
        resource=model_arn("amazon.nova-lite-v1:0", "eu-west-1"),
    ) == ["DenyMemoryRolesOtherModels"]
    # A cross-region profile id resolves to its base model, and the profile itself passes (as for the judge).
    profile = with_extraction_model(
        claims.model_copy(update={"models": [*claims.models, "eu.amazon.nova-pro-v1:0"]}),
        "notes",
        "eu.amazon.nova-pro-v1:0",
    )
    (limit,) = [
        s for s in policies.tenant_guardrails(profile).document["Statement"] if s["Sid"] == "DenyMemoryRolesOtherModels"
    ]
    assert limit["NotResource"] == [
        policies.foundation_model_arn("amazon.nova-pro-v1:0"),
        "arn:aws:bedrock:*:*:inference-profile/*",
    ]
    # direct_model_access drops the guardrail rule, and with it every exemption and limit.
    direct = policies.tenant_guardrails(fraud.model_copy(update={"direct_model_access": True})).document
    assert [s["Sid"] for s in direct["Statement"]] == ["DenyModelsNotOnAllowList"]


def test_online_evaluation_roles_fall_under_the_judge_rule():
    lz = load_landing_zone(SAMPLE_CONFIG)
    fraud = lz.tenant("fraud").model_copy(update={"models": ["amazon.nova-pro-v1:0", "amazon.nova-lite-v1:0"]})
    scp = policies.tenant_guardrails(fraud).document
    online = role_arn(naming.online_evaluation_role("investigator"))
    # Exempt from the guardrail rule like the evaluation job role, and limited to the judge (nova-pro) like it.
    assert (
        scp_denials(scp, principal=online, action="bedrock:InvokeModel", resource=model_arn("amazon.nova-pro-v1:0"))
        == []
    )
    assert scp_denials(
        scp, principal=online, action="bedrock:InvokeModel", resource=model_arn("amazon.nova-lite-v1:0")
    ) == ["DenyEvaluationRolesOtherModels"]
    job = role_arn(naming.evaluation_job_role("fraud", "prod"))
    assert (
        scp_denials(scp, principal=job, action="bedrock:InvokeModel", resource=model_arn("amazon.nova-pro-v1:0")) == []
    )
    # Without a judge (claims runs its own command) evaluation roles get no exemption at all.
    claims = policies.tenant_guardrails(lz.tenant("claims")).document
    assert scp_denials(
        claims,
        principal=role_arn(naming.online_evaluation_role("intake"), "333333333333"),
        action="bedrock:InvokeModel",
        resource=model_arn("amazon.nova-lite-v1:0", "eu-west-1"),
    ) == ["DenyModelCallsWithoutGuardrail"]


def _unguarded_model_grants(template: dict):
    """(role name or None, action, resource) for every Allow of a model call that names no guardrail condition."""
    resources = template["Resources"]
    for policy in resources.values():
        if policy["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        for s in policy["Properties"]["PolicyDocument"]["Statement"]:
            if s["Effect"] != "Allow" or "bedrock:GuardrailIdentifier" in json.dumps(s.get("Condition", {})):
                continue
            for action in policies.MODEL_INVOKE_ACTIONS:
                if not any(fnmatchcase(action, a) for a in _values(s["Action"])):
                    continue
                for role in policy["Properties"].get("Roles", []):
                    name = resources[role["Ref"]]["Properties"].get("RoleName")
                    for resource in _values(s["Resource"]):
                        yield name, action, resource


@pytest.mark.parametrize("tenant", ["claims", "fraud"])
def test_the_tenant_scp_denies_no_unguarded_model_grant_of_the_tenants_own_stacks(sample_assembly, tenant):
    """Every role our blueprints let call a model without a guardrail has a fixed name the SCP exempts, and the
    SCP's limits for that name allow what the role is granted: otherwise our own SCP breaks our own feature."""
    scp = policies_by_name(sample_assembly, f"AgentZone-{tenant}-governance")[f"agentzone-tenant-{tenant}"]["Content"]
    stacks = [
        s for s in sample_assembly.templates if s.startswith(f"AgentZone-{tenant}-") and not s.endswith("-governance")
    ]
    checked = []
    for stack in stacks:
        account = sample_assembly.environments[stack].split("/")[2]
        for name, action, resource in _unguarded_model_grants(sample_assembly.template(stack)):
            assert name is not None, (
                f"{stack}: a role CloudFormation names may {action} on {resource} without a guardrail; "
                "the SCP cannot exempt it"
            )
            assert isinstance(resource, str), (stack, name, resource)
            assert scp_denials(scp, principal=role_arn(name, account), action=action, resource=resource) == [], (
                stack,
                name,
                action,
                resource,
            )
            checked.append(name)
    if tenant == "fraud":  # the signals memory (custom extraction with nova-pro) and the evaluation jobs' judge
        assert {naming.memory_service_role(f"fraud_signals_{e}") for e in ("dev", "staging", "prod")} <= set(checked)
        assert naming.evaluation_job_role("fraud", "prod") in checked
    else:
        assert {f"{naming.KNOWLEDGE_BASE_ROLE_PREFIX}-claims-dev"} <= set(checked)


def test_inference_profile_ids_map_to_their_foundation_model():
    assert (
        policies.foundation_model_arn("eu.anthropic.claude-sonnet-4-5-v1:0")
        == "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-v1:0"
    )
    assert (
        policies.foundation_model_arn("amazon.nova-pro-v1:0")
        == "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0"
    )
    # Longer geography prefixes too: a wrong base model ARN would make the SCP deny the profile's model.
    assert (
        policies.foundation_model_arn("global.anthropic.claude-sonnet-4-5-v1:0")
        == "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-v1:0"
    )
    assert (
        policies.foundation_model_arn("apac.amazon.nova-pro-v1:0")
        == "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0"
    )
    assert (
        policies.foundation_model_arn("us-gov.amazon.nova-pro-v1:0")
        == "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0"
    )


def test_tag_policies_pin_values_per_ou(sample_assembly):
    claims = policies_by_name(sample_assembly, "AgentZone-claims-governance")["agentzone-tags-claims"]
    assert claims["Type"] == "TAG_POLICY"
    assert claims["Content"]["tags"]["cost-center"] == {
        "tag_key": {"@@assign": "cost-center"},
        "tag_value": {"@@assign": ["CC-1234"]},
    }
    assert claims["Content"]["tags"]["use-case-id"]["tag_value"] == {"@@assign": ["UC-0042"]}
    platform = policies_by_name(sample_assembly, ORG)["agentzone-tags-platform"]
    assert platform["TargetIds"] == [top_ou_ref(sample_assembly, "platform")]
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
    org = lz.organization.model_copy(
        update={
            "allowed_regions": regions[: m.MAX_ALLOWED_REGIONS],
            "guardrails": m.Guardrails(
                admin_roles=[f"{i}" + "r" * 63 for i in range(m.MAX_ADMIN_ROLES)], bootstrap_qualifier="q" * 10
            ),
        }
    )
    models = [f"eu.vendor{i:02d}." + "m" * 80 + ":0" for i in range(m.MAX_TENANT_MODELS)]
    claims = lz.tenant("claims")
    # Every exemption at once: a judge and the most custom-extraction models config allows, all different.
    extraction = [
        m.CustomMemoryStrategy(
            name=f"s{i}", type="semantic", namespaces=["/x/{actorId}"], instructions="x", model=models[i]
        )
        for i in range(MAX_EXTRACTION_MODELS)
    ]
    eval_pipeline = claims.blueprints.eval_pipeline
    assert eval_pipeline is not None  # the sample's claims tenant has one: its judge model is exempted too
    blueprints = claims.blueprints.model_copy(
        update={
            "eval_pipeline": eval_pipeline.model_copy(update={"evaluator_model": models[-1]}),
            "memory": {"big": m.MemoryResource(custom_strategies=extraction)},
        }
    )
    tenant = claims.model_copy(update={"tenant": "t" * 32, "models": models, "blueprints": blueprints})
    assert all(len(x) <= 96 for x in tenant.models)
    assert len(policies.memory_extraction_models(tenant)) == MAX_EXTRACTION_MODELS
    return org, tenant


def test_every_scp_fits_the_size_limit_even_for_the_largest_allowed_config():
    org, tenant = largest_config()
    generated = [
        policies.baseline_protection(org),
        policies.region_restriction(org),
        policies.tenant_guardrails(tenant),
        policies.safety_roles(),
    ]
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
    assert {
        "AWS::BedrockAgentCore::Runtime",
        "AWS::BedrockAgentCore::Gateway",
        "AWS::BedrockAgentCore::Memory",
        "AWS::Bedrock::AgentAlias",
    } <= types
    assert "CloudWatchLogsLogGroupArn" in props


def test_security_services_are_delegated_to_the_central_security_account(sample_assembly):
    admins = {
        a["Properties"]["ServicePrincipal"]: a["Properties"]["AccountId"]
        for a in sample_assembly.resources(ORG, "Custom::DelegatedAdministrator").values()
    }
    assert admins == {
        p: "100000000033"
        for p in ("access-analyzer.amazonaws.com", "config.amazonaws.com", "config-multiaccountsetup.amazonaws.com")
    }
    (guardduty,) = sample_assembly.resources(ORG, "Custom::GuardDutyOrganizationAdmin").values()
    assert guardduty["Properties"]["AccountId"] == "100000000033"
    (hub,) = sample_assembly.resources(ORG, "AWS::SecurityHub::DelegatedAdmin").values()
    assert hub["Properties"]["AdminAccountId"] == "100000000033"


@pytest.mark.parametrize("stack", ["AgentZone-Bootstrap", "AgentZone-fraud-governance"])
def test_custom_resource_role_may_only_do_what_its_resources_need(sample_assembly, stack):
    (policy,) = sample_assembly.resources(stack, "AWS::IAM::ManagedPolicy").values()
    actions = {
        a
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "organizations:MoveAccount" in actions
    assert not any(a.endswith(":*") or a == "*" for a in actions)
    move = next(
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "organizations:MoveAccount"
    )
    assert "arn:aws:organizations::100000000000:root/o-a1b2c3d4e5/r-a1b2" in move["Resource"]


def test_management_account_budgets_watch_each_tenant_and_platform_environment(sample_assembly):
    (tenant,) = sample_assembly.resources("AgentZone-fraud-governance", "AWS::Budgets::Budget").values()
    budget = tenant["Properties"]["Budget"]
    assert budget["BudgetName"] == "agentzone-tenant-fraud"
    assert budget["BudgetLimit"] == {"Amount": 36000, "Unit": "USD"}  # monthly_usd for each of its three accounts
    assert budget["CostFilters"] == {"LinkedAccount": ["444444444444", "555555555555", "666666666666"]}
    subscribers = tenant["Properties"]["NotificationsWithSubscribers"][0]["Subscribers"]
    assert [s["Address"] for s in subscribers] == ["fraud-ai@example.com", "platform-ai@example.com"]
    platform = {
        b["Properties"]["Budget"]["BudgetName"]: b["Properties"]
        for b in sample_assembly.resources("AgentZone-Organization", "AWS::Budgets::Budget").values()
    }
    assert sorted(platform) == ["agentzone-platform-dev", "agentzone-platform-prod", "agentzone-platform-staging"]
    prod = platform["agentzone-platform-prod"]
    assert prod["Budget"]["BudgetLimit"] == {"Amount": 8000, "Unit": "USD"}
    assert prod["Budget"]["CostFilters"] == {
        "LinkedAccount": ["100000000031", "100000000032", "100000000033", "100000000034"]
    }
