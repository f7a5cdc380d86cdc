"""The Bootstrap stack: the AgentZone OUs with the platform accounts in them, RAM sharing, and the CDK bootstrap in
every account below those OUs through a service-managed StackSet that our own SCPs let do its work."""

from __future__ import annotations

import json

from agentzone import naming
from agentzone.delivery.execution_policy import (
    EXECUTION_POLICY_ID,
    ORGANIZATION_SERVICES,
    execution_policy,
    organization_execution_policy,
)

from .test_organization import ou_ref, policies_by_name, role_arn, scp_denials_with

BOOT = "AgentZone-Bootstrap"
MANAGEMENT = "100000000000"
TENANT_ACCOUNT = "666666666666"  # fraud prod, eu-central-1


def stack_set(sample_assembly) -> tuple[str, dict]:
    ((logical, resource),) = sample_assembly.resources(BOOT, "AWS::CloudFormation::StackSet").items()
    return logical, resource


def test_ous_for_platform_and_workloads_by_environment(sample_assembly):
    ous = {
        o["Properties"]["Name"]: o
        for o in sample_assembly.resources(BOOT, "AWS::Organizations::OrganizationalUnit").values()
    }
    assert ous["AgentZone-Platform"]["Properties"]["ParentId"] == "r-a1b2"
    assert ous["AgentZone-Workloads"]["Properties"]["ParentId"] == "r-a1b2"
    assert all(o["DeletionPolicy"] == "Retain" for o in ous.values())
    workloads = ou_ref(sample_assembly, BOOT, "AgentZone-Workloads")
    params = {
        p["Properties"]["Name"]: p["Properties"]["Value"]
        for p in sample_assembly.resources(BOOT, "AWS::SSM::Parameter").values()
    }
    assert sorted(params) == [
        "/agentzone/organization/platform-ou",
        "/agentzone/organization/workloads-ou",
        *(f"/agentzone/organization/workloads-ou/{e}" for e in ("dev", "prod", "staging")),
    ]
    assert params["/agentzone/organization/workloads-ou/prod"] == ou_ref(sample_assembly, BOOT, "prod", workloads)
    # The Organization stack's policies target what these publish.
    assert params[naming.top_ou_parameter("platform")] == ou_ref(sample_assembly, BOOT, "AgentZone-Platform")
    assert params[naming.top_ou_parameter("workloads")] == workloads


def test_accounts_are_placed_from_config_and_wait_for_their_bootstrap(sample_assembly):
    placements = sample_assembly.resources(BOOT, "Custom::AccountPlacement")
    parents = {p["Properties"]["AccountId"]: p["Properties"]["ParentId"] for p in placements.values()}
    platform_prod = ou_ref(sample_assembly, BOOT, "prod", ou_ref(sample_assembly, BOOT, "AgentZone-Platform"))
    assert {a for a, parent in parents.items() if parent == platform_prod} == {
        "100000000031",
        "100000000032",
        "100000000033",
        "100000000034",
    }
    assert len(parents) == 12  # the delivery account is prod's shared-services account: placed already
    stack_set_id, _ = stack_set(sample_assembly)
    for placement in placements.values():
        # Moved only once the StackSet exists, so automatic deployment bootstraps the account, which it waits for.
        assert stack_set_id in placement["DependsOn"]
        assert placement["Properties"]["AwaitBootstrap"] == {
            "StackSetName": naming.BOOTSTRAP_STACK_SET,
            "Regions": ["eu-central-1", "eu-west-1"],
            "TimeoutSeconds": 780,
        }
    governance = sample_assembly.template("AgentZone-claims-governance")
    tenant = {
        p["Properties"]["AccountId"]: p["Properties"]
        for p in sample_assembly.resources("AgentZone-claims-governance", "Custom::AccountPlacement").values()
    }
    workloads_prod = next(
        k
        for k, v in governance["Parameters"].items()
        if v.get("Default") == "/agentzone/organization/workloads-ou/prod"
    )
    assert tenant["333333333333"]["ParentId"] == ou_ref(
        sample_assembly, "AgentZone-claims-governance", "claims", {"Ref": workloads_prod}
    )
    assert tenant["333333333333"]["AwaitBootstrap"]["StackSetName"] == naming.BOOTSTRAP_STACK_SET
    # The wait fits in the function's time, which fits in Lambda's 15 minutes.
    (function,) = sample_assembly.resources("AgentZone-claims-governance", "AWS::Lambda::Function").values()
    assert 780 < function["Properties"]["Timeout"] <= 900


def test_the_bootstrap_stack_set_targets_exactly_the_agentzone_ous_with_automatic_deployment(sample_assembly):
    _, resource = stack_set(sample_assembly)
    props = resource["Properties"]
    assert resource["DeletionPolicy"] == "Retain"
    assert props["PermissionModel"] == "SERVICE_MANAGED" and props["CallAs"] == "SELF"
    assert props["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": True}
    (group,) = props["StackInstancesGroup"]
    assert group["DeploymentTargets"] == {
        "OrganizationalUnitIds": [
            ou_ref(sample_assembly, BOOT, "AgentZone-Platform"),
            ou_ref(sample_assembly, BOOT, "AgentZone-Workloads"),
        ]
    }
    assert group["Regions"] == ["eu-central-1", "eu-west-1"]  # every allowed region
    assert props["Parameters"] == [
        {"ParameterKey": "Qualifier", "ParameterValue": "agentzone"},
        # The delivery account's pipelines deploy; the management account deploys the pipelines.
        {"ParameterKey": "TrustedAccounts", "ParameterValue": "100000000000,100000000031"},
    ]
    # Service-managed StackSets need CloudFormation's trusted access first.
    (access,) = sample_assembly.resources(BOOT, "Custom::StackSetsOrganizationAccess")
    assert access in resource["DependsOn"]


def test_the_stack_set_runs_the_cdk_bootstrap_template_with_the_agentzone_execution_policy(sample_assembly):
    _, resource = stack_set(sample_assembly)
    template = json.loads(resource["Properties"]["TemplateBody"])
    assert len(resource["Properties"]["TemplateBody"]) <= 51_200  # CloudFormation's TemplateBody limit
    resources = template["Resources"]
    # The CLI's own template: its roles, bucket, repository and version parameter.
    for logical in ("DeploymentActionRole", "FilePublishingRole", "StagingBucket", "CdkBootstrapVersion"):
        assert logical in resources
    execution = resources["CloudFormationExecutionRole"]["Properties"]
    assert execution["ManagedPolicyArns"] == [{"Ref": EXECUTION_POLICY_ID}]  # never AdministratorAccess
    policy = resources[EXECUTION_POLICY_ID]["Properties"]
    assert policy["PolicyDocument"] == organization_execution_policy()
    assert policy["ManagedPolicyName"] == {"Fn::Sub": "agentzone-cdk-execution-${AWS::Region}"}
    denied = next(s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny")
    assert {"iam:CreateUser", "iam:CreateAccessKey"} <= set(denied["Action"])


def test_the_execution_policy_covers_every_stack_outside_the_management_account(sample_assembly):
    """Each account's own least-privilege policy (`agentzone bootstrap-policy`) fits inside the one the StackSet
    gives them all; the pipelines' stacks are checked in test_pipelines.py."""
    allowed = {f"{s}:*" for s in ORGANIZATION_SERVICES}
    accounts: dict[str, set[str]] = {}
    for stack, template in sample_assembly.templates.items():
        account = sample_assembly.environments[stack].split("/")[2]
        if account != MANAGEMENT:
            accounts.setdefault(account, set()).update(r["Type"] for r in template["Resources"].values())
    assert len(accounts) == 18
    for account, types in accounts.items():
        needed = set(execution_policy(sorted(types))["Statement"][0]["Action"])
        assert needed <= allowed, f"{account} deploys {sorted(needed - allowed)}: add them to ORGANIZATION_SERVICES"


def test_our_scps_let_stack_sets_bootstrap_a_tenant_account_and_no_one_else_take_over_its_role(sample_assembly):
    """Decided by the IAM simulator over every SCP a tenant account sits under: the baseline, the region
    restriction, the safety roles' and the tenant's own."""
    organization = policies_by_name(sample_assembly, "AgentZone-Organization")
    tenant = policies_by_name(sample_assembly, "AgentZone-fraud-governance")["agentzone-tenant-fraud"]
    documents = [
        organization["agentzone-baseline-protection"]["Content"],
        organization["agentzone-region-restriction"]["Content"],
        organization["agentzone-safety-roles"]["Content"],
        tenant["Content"],
    ]
    stack_sets = role_arn("stacksets-exec-4f2b9c7d1e", TENANT_ACCOUNT)
    region = {"aws:RequestedRegion": "eu-central-1"}
    deploy_role = role_arn(f"cdk-agentzone-deploy-role-{TENANT_ACCOUNT}-eu-central-1", TENANT_ACCOUNT)
    policy = f"arn:aws:iam::{TENANT_ACCOUNT}:policy/{naming.BOOTSTRAP_EXECUTION_POLICY}-eu-central-1"

    def denials(principal: str, action: str, resource: str) -> list[str]:
        return scp_denials_with(documents, principal=principal, action=action, resource=resource, context=region)

    assert denials(stack_sets, "iam:CreateRole", deploy_role) == []
    assert denials(stack_sets, "iam:PutRolePolicy", deploy_role) == []
    assert denials(stack_sets, "iam:CreatePolicy", policy) == []
    admin = role_arn("TeamAdmin", TENANT_ACCOUNT)
    assert denials(admin, "iam:CreateRole", deploy_role) == ["ProtectPlatformRoles"]
    assert denials(admin, "iam:CreatePolicyVersion", policy) == ["ProtectPlatformPolicies"]
    # The exemption is for the role StackSets runs as: nobody else may make it assumable.
    assert denials(admin, "iam:UpdateAssumeRolePolicy", stack_sets) == ["ProtectPlatformRoles"]
