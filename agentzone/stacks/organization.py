"""The management account: OUs, account placement, SCPs, tag policies, budgets and the organization trail."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_organizations as organizations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_securityhub as securityhub
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .. import naming
from .. import organization_policies as policies
from ..config.model import PLATFORM_ROLES, LandingZone, Tenant
from ..constructs import AccountBudget, AccountBudgetProps, PlatformResourceProvider
from ..constructs.retention import retained_log_group
from ..nag import acknowledge, acknowledge_compliance
from .base import AgentZoneStack, StackTarget

PLATFORM_OU = "AgentZone-Platform"
WORKLOADS_OU = "AgentZone-Workloads"
COST_TAGS = ["cost-center", "environment", "owner", "use-case-id"]

# CloudTrail data-event resource types per config switch.
DATA_EVENT_TYPES = {
    "bedrock": [
        "AWS::Bedrock::AgentAlias",
        "AWS::Bedrock::FlowAlias",
        "AWS::Bedrock::Guardrail",
        "AWS::Bedrock::KnowledgeBase",
    ],
    "agentcore": ["AWS::BedrockAgentCore::Gateway", "AWS::BedrockAgentCore::Memory", "AWS::BedrockAgentCore::Runtime"],
}

# Security services whose organization administration moves to the central security account.
# config.amazonaws.com administers the organization aggregator; config-multiaccountsetup the organization rules.
DELEGATED_SERVICES = {
    "access-analyzer.amazonaws.com": ["access-analyzer.amazonaws.com"],
    "config.amazonaws.com": ["config.amazonaws.com"],
    "config-multiaccountsetup.amazonaws.com": ["config-multiaccountsetup.amazonaws.com"],
}
# How long moving an account waits for the Bootstrap StackSet to finish bootstrapping it in every region.
BOOTSTRAP_WAIT_SECONDS = 780
TRUSTED_SERVICES = ["cloudtrail.amazonaws.com", "guardduty.amazonaws.com", "securityhub.amazonaws.com"]


class ManagementAccountStack(AgentZoneStack):
    """Shared plumbing of the stacks deployed to the management account."""

    def _setup(self, lz: LandingZone) -> None:
        # SCPs and OUs guard every account: deleting these stacks must take a deliberate extra step.
        self.termination_protection = True
        self.lz = lz
        # Account placements wait for the account's bootstrap (BOOTSTRAP_WAIT), within Lambda's 15 minutes.
        self.provider = PlatformResourceProvider.of(
            self, encryption_key=self.key, timeout=cdk.Duration.seconds(BOOTSTRAP_WAIT_SECONDS + 60)
        )
        self._org_arn = f"arn:{self.partition}:organizations::{self.account}"
        self.policies: dict[str, organizations.CfnPolicy] = {}

    def _custom(
        self, construct_id: str, resource_type: str, properties: dict, statements: list[iam.PolicyStatement]
    ) -> cdk.CustomResource:
        return self.provider.resource(
            self,
            construct_id,
            resource_type=resource_type,
            properties=properties,
            statements=statements,
            wildcard_reason="Organizations list/enable calls, RAM's organization-sharing switch, Cost Explorer tag "
            "activation and GuardDuty admin calls have no resource-level permissions; every other call is scoped to "
            "this organization's ARNs.",
        )

    def _ou(self, construct_id: str, name: str, parent_id: str) -> organizations.CfnOrganizationalUnit:
        ou = organizations.CfnOrganizationalUnit(self, construct_id, name=name, parent_id=parent_id)
        # An OU that still holds accounts cannot be deleted; removal must be a deliberate act.
        ou.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        return ou

    def _place(self, construct_id: str, account: str, ou: organizations.CfnOrganizationalUnit) -> cdk.CustomResource:
        """Move an existing account into the OU config puts it in, then wait until the Bootstrap StackSet has
        bootstrapped it in every allowed region (automatic deployment runs when an account arrives in an OU)."""
        org = self.lz.organization
        any_ou = f"{self._org_arn}:ou/{org.organization_id}/*"
        stack_set = (
            f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stackset/{naming.BOOTSTRAP_STACK_SET}:*"
        )
        acknowledge(
            self.provider.policy,
            f"AwsSolutions-IAM5[Resource::{any_ou}]",
            "MoveAccount needs the account's current parent, which can be any OU of this organization before "
            "AgentZone places it; the account and root are named exactly.",
        )
        acknowledge(
            self.provider.policy,
            f"AwsSolutions-IAM5[Resource::{stack_set}]",
            "A StackSet's ARN ends in an id CloudFormation generates; the StackSet is named exactly.",
        )
        return self._custom(
            construct_id,
            "Custom::AccountPlacement",
            {
                "AccountId": account,
                "ParentId": ou.attr_id,
                "AwaitBootstrap": {
                    "StackSetName": naming.BOOTSTRAP_STACK_SET,
                    "Regions": sorted(org.allowed_regions),
                    "TimeoutSeconds": BOOTSTRAP_WAIT_SECONDS,
                },
            },
            [
                iam.PolicyStatement(actions=["organizations:ListParents"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["organizations:MoveAccount"],
                    resources=[
                        f"{self._org_arn}:account/{org.organization_id}/{account}",
                        any_ou,
                        f"{self._org_arn}:root/{org.organization_id}/{org.root_id}",
                    ],
                ),
                iam.PolicyStatement(actions=["cloudformation:ListStackInstances"], resources=[stack_set]),
            ],
        )

    def _policy(
        self, construct_id: str, policy: policies.Policy, targets: list[str], after: Construct | None = None
    ) -> None:
        resource = organizations.CfnPolicy(
            self,
            construct_id,
            name=policy.name,
            description=policy.description,
            type=policy.kind,
            content=policy.document,
            target_ids=targets,
        )
        if after is not None:
            resource.node.add_dependency(after)
        self.policies[policy.name] = resource


class OrganizationStack(ManagementAccountStack):
    """Organization-wide controls that do not depend on tenants, all generated from config: SCPs and tag policies
    on the OUs the Bootstrap stack creates, budgets, the organization trail and delegated administrators. Adding a
    tenant never changes this stack.
    """

    ROLE = "Organization"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone) -> None:
        super().__init__(
            scope, construct_id, target=target, description="AgentZone organization: guardrails across accounts"
        )
        self._setup(lz)
        org = lz.organization
        policy_types = self._custom(
            "PolicyTypes",
            "Custom::PolicyTypes",
            {"RootId": org.root_id, "PolicyTypes": ["SERVICE_CONTROL_POLICY", "TAG_POLICY"]},
            [
                iam.PolicyStatement(actions=["organizations:ListRoots"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["organizations:EnablePolicyType"],
                    resources=[f"{self._org_arn}:root/{org.organization_id}/{org.root_id}"],
                ),
            ],
        )

        self._attach_policies(policy_types)
        self._budgets()
        self._custom(
            "CostAllocationTags",
            "Custom::CostAllocationTags",
            {"TagKeys": COST_TAGS},
            [iam.PolicyStatement(actions=["ce:UpdateCostAllocationTagsStatus"], resources=["*"])],
        )
        trusted = self._custom(
            "TrustedAccess",
            "Custom::TrustedAccess",
            {"ServicePrincipals": TRUSTED_SERVICES},
            [
                iam.PolicyStatement(
                    actions=["organizations:EnableAWSServiceAccess", "iam:CreateServiceLinkedRole"], resources=["*"]
                )
            ],
        )
        self.trail = self._organization_trail(trusted)
        self._delegate_security_services(trusted)

    def _attach_policies(self, after: cdk.CustomResource) -> None:
        """The policies target the top-level OUs, which the Bootstrap stack creates and publishes."""
        org = self.lz.organization
        platform_ou = ssm.StringParameter.value_for_string_parameter(self, naming.top_ou_parameter("platform"))
        workloads_ou = ssm.StringParameter.value_for_string_parameter(self, naming.top_ou_parameter("workloads"))
        tops = [platform_ou, workloads_ou]
        self._policy("ScpBaselineProtection", policies.baseline_protection(org), tops, after)
        self._policy("ScpRegionRestriction", policies.region_restriction(org), tops, after)
        self._policy("ScpSafetyRoles", policies.safety_roles(), [workloads_ou], after)
        self._policy(
            "TagPolicyPlatform",
            policies.tag_policy(
                f"{naming.PREFIX}-tags-platform",
                "AgentZone: cost tags of the platform accounts",
                [org.platform.cost_center],
                ["platform"],
                [org.platform.owner],
            ),
            [platform_ou],
            after,
        )

    def _budgets(self) -> None:
        org = self.lz.organization
        for env_name, env in sorted(org.environments.items()):
            if env.monthly_budget_usd is None:
                continue
            AccountBudget(
                self,
                f"Budget-platform-{env_name}",
                props=AccountBudgetProps(
                    name=f"{naming.PREFIX}-platform-{env_name}",
                    limit_usd=env.monthly_budget_usd,
                    alert_at_percent=[80, 100],
                    notify=[org.platform.owner],
                    linked_accounts=[getattr(env, role) for role in PLATFORM_ROLES],
                ),
            )

    def _organization_trail(self, after: cdk.CustomResource) -> cloudtrail.Trail:
        """Org trails are created in the management account; they deliver to the central log archive."""
        org = self.lz.organization
        central = org.environments[org.central_environment]
        region = self.lz.region_of(central)
        archive = s3.Bucket.from_bucket_attributes(
            self,
            "CentralArchive",
            bucket_name=naming.archive_bucket_name(central.logging, region),
            account=central.logging,
            region=region,
        )
        archive_key = kms.Key.from_key_arn(
            self, "CentralArchiveKey", naming.archive_key_alias_arn(central.logging, region, self.partition)
        )
        log_group = retained_log_group(
            self, "TrailLogs", encryption_key=self.key, retention_days=org.audit.trail_log_retention_days
        )
        trail = cloudtrail.Trail(
            self,
            "OrganizationTrail",
            trail_name=naming.ORGANIZATION_TRAIL,
            bucket=archive,
            encryption_key=archive_key,
            is_organization_trail=True,
            org_id=org.organization_id,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_file_validation=True,
            send_to_cloud_watch_logs=True,
            cloud_watch_log_group=log_group,
        )
        trail.node.add_dependency(after)
        acknowledge_compliance(
            trail.node.find_child("LogsRole").node.find_child("DefaultPolicy"),
            "IAMNoInlinePolicy",
            "The CloudTrail L2 writes its log-delivery grant as a policy on its own role only; it allows "
            "CreateLogStream/PutLogEvents on the trail's log group and nothing else.",
        )
        selectors = [
            {"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
        ]
        for switch, types in DATA_EVENT_TYPES.items():
            if getattr(org.audit.data_events, switch):
                selectors += [
                    {
                        "Name": f"Data events {t}",
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Data"]},
                            {"Field": "resources.type", "Equals": [t]},
                        ],
                    }
                    for t in types
                ]
        cfn_trail = trail.node.default_child
        assert isinstance(cfn_trail, cloudtrail.CfnTrail)
        cfn_trail.add_property_override("AdvancedEventSelectors", selectors)
        # CloudTrail accepts basic or advanced selectors, never both.
        cfn_trail.add_property_deletion_override("EventSelectors")
        return trail

    def _delegate_security_services(self, after: cdk.CustomResource) -> None:
        """The central security account administers GuardDuty, Security Hub, Access Analyzer and Config."""
        org = self.lz.organization
        security_account = org.environments[org.central_environment].security
        for principal, trusted in DELEGATED_SERVICES.items():
            name = principal.split(".")[0]
            delegated = self._custom(
                f"DelegatedAdmin-{name}",
                "Custom::DelegatedAdministrator",
                {"AccountId": security_account, "ServicePrincipal": principal, "TrustedAccess": trusted},
                [
                    iam.PolicyStatement(
                        actions=["organizations:EnableAWSServiceAccess", "organizations:ListDelegatedAdministrators"],
                        resources=["*"],
                    ),
                    iam.PolicyStatement(
                        actions=["organizations:RegisterDelegatedAdministrator"],
                        resources=[f"{self._org_arn}:account/{org.organization_id}/{security_account}"],
                    ),
                ],
            )
            delegated.node.add_dependency(after)
        guardduty = self._custom(
            "DelegatedAdmin-GuardDuty",
            "Custom::GuardDutyOrganizationAdmin",
            {"AccountId": security_account},
            [
                iam.PolicyStatement(
                    actions=[
                        "guardduty:EnableOrganizationAdminAccount",
                        "guardduty:ListOrganizationAdminAccounts",
                        "organizations:DescribeOrganization",
                        "organizations:ListAWSServiceAccessForOrganization",
                        "organizations:ListDelegatedAdministrators",
                    ],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    actions=["organizations:RegisterDelegatedAdministrator"],
                    resources=[f"{self._org_arn}:account/{org.organization_id}/{security_account}"],
                ),
            ],
        )
        guardduty.node.add_dependency(after)
        hub = securityhub.CfnDelegatedAdmin(self, "DelegatedAdmin-SecurityHub", admin_account_id=security_account)
        hub.node.add_dependency(after)


class TenantGovernanceStack(ManagementAccountStack):
    """One tenant's part of the organization: its OUs, account placement, model and tag policies, budget.

    Deployed to the management account after the Bootstrap stack (it reads the workload OU ids that stack
    publishes in Parameter Store). Moving an account into its OU has the Bootstrap StackSet bootstrap it; the
    placement waits until that is done, so the tenant's own stacks deploy into a bootstrapped account.
    """

    ROLE = "TenantGovernance"
    PER_TENANT_IN_SHARED_ACCOUNT = True

    def __init__(
        self, scope: Construct, construct_id: str, *, target: StackTarget, tenant: Tenant, lz: LandingZone
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            target=target,
            description=f"AgentZone governance of tenant {tenant.tenant}: OUs, guardrails, budget",
            tenant=tenant.tenant,
        )
        self._setup(lz)
        org = lz.organization
        self.tenant = tenant
        self.ous: dict[str, organizations.CfnOrganizationalUnit] = {}
        for env in sorted(tenant.environments):
            parent = ssm.StringParameter.value_for_string_parameter(self, naming.workloads_ou_parameter(env))
            self.ous[env] = self._ou(f"Ou-{env}", tenant.tenant, parent)
            self._place(f"Placement-{env}", tenant.environments[env].account, self.ous[env])
        targets = [ou.attr_id for ou in self.ous.values()]
        self._policy("Scp", policies.tenant_guardrails(tenant), targets)
        self._policy(
            "TagPolicy",
            policies.tag_policy(
                f"{naming.PREFIX}-tags-{tenant.tenant}",
                f"AgentZone: cost tags of {tenant.tenant}",
                [tenant.cost_center],
                [tenant.use_case_id],
                [tenant.owner],
            ),
            targets,
        )
        AccountBudget(
            self,
            "Budget",
            props=AccountBudgetProps(
                name=f"{naming.PREFIX}-tenant-{tenant.tenant}",
                limit_usd=tenant.budget.monthly_usd * len(tenant.environments),
                alert_at_percent=tenant.budget.alert_at_percent,
                notify=[tenant.owner, org.platform.owner],
                linked_accounts=[env.account for env in tenant.environments.values()],
            ),
        )
