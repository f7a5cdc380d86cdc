"""The management account's first stack: what must exist before any pipeline can deploy.

The organization's AgentZone OUs with the platform accounts placed in them, RAM sharing with the organization
(the platform's shared SSM parameters), and the CDK bootstrap in every account of those OUs: a service-managed
StackSet with automatic deployment, so an account a tenant's governance stack moves into its OU is bootstrapped
(qualifier, trust in the delivery account, the least-privilege execution policy) without anyone logging into it.
Deployed once by hand (`cdk deploy AgentZone-Bootstrap`), then kept current by the platform pipeline.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .. import naming
from ..config.model import PLATFORM_ROLES, LandingZone
from ..delivery.execution_policy import organization_bootstrap_template, organization_execution_policy
from ..nag import acknowledge
from .base import StackTarget
from .organization import PLATFORM_OU, WORKLOADS_OU, ManagementAccountStack

STACK_SETS_SERVICE = "stacksets.cloudformation.amazonaws.com"


class BootstrapStack(ManagementAccountStack):
    """OUs, platform account placement, RAM sharing and the org-wide CDK bootstrap (module docstring)."""

    ROLE = "Bootstrap"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone) -> None:
        super().__init__(
            scope,
            construct_id,
            target=target,
            description="AgentZone bootstrap: OUs, RAM sharing, the CDK bootstrap in every AgentZone account",
        )
        self._setup(lz)
        self.ram_sharing = self._enable_ram_sharing()
        self._build_ous()
        self.stack_set = self._bootstrap_stack_set(self._enable_stack_sets())
        self._place_accounts()

    def _service_linked_role(self, service: str) -> iam.PolicyStatement:
        """Creating the service-linked role ``service``'s organization switch needs (any name), and no other."""
        statement = self.service_linked_role(service)
        acknowledge(
            self.provider.policy,
            f"AwsSolutions-IAM5[Resource::{statement.resources[0]}]",
            f"The service-linked role of {service} (its name is the service's), created by its organization switch; "
            "the statement allows only iam:CreateServiceLinkedRole for that service.",
        )
        return statement

    def _enable_ram_sharing(self) -> cdk.CustomResource:
        """RAM shares with the organization (the platform's shared parameters) need this switch, once, from here."""
        return self._custom(
            "RamOrganizationSharing",
            "Custom::RamOrganizationSharing",
            {},
            [
                iam.PolicyStatement(
                    actions=[
                        "ram:EnableSharingWithAwsOrganization",
                        "organizations:EnableAWSServiceAccess",
                        "organizations:DescribeOrganization",
                    ],
                    resources=["*"],
                ),
                self._service_linked_role("ram.amazonaws.com"),
            ],
        )

    def _enable_stack_sets(self) -> cdk.CustomResource:
        """Service-managed StackSets need CloudFormation's trusted access to the organization, switched on the way
        AWS asks (ActivateOrganizationsAccess, not Organizations' EnableAWSServiceAccess)."""
        return self._custom(
            "StackSetsOrganizationAccess",
            "Custom::StackSetsOrganizationAccess",
            {},
            [
                iam.PolicyStatement(
                    actions=[
                        "cloudformation:ActivateOrganizationsAccess",
                        "cloudformation:DescribeOrganizationsAccess",
                        "organizations:DescribeOrganization",
                        "organizations:EnableAWSServiceAccess",
                        "organizations:ListAWSServiceAccessForOrganization",
                    ],
                    resources=["*"],
                ),
                self._service_linked_role(STACK_SETS_SERVICE),
            ],
        )

    def _build_ous(self) -> None:
        org = self.lz.organization
        self.platform_ou = self._ou("PlatformOu", PLATFORM_OU, org.root_id)
        self.workloads_ou = self._ou("WorkloadsOu", WORKLOADS_OU, org.root_id)
        # Sorted: environment order means promotion order, which must not reorder templates.
        self.platform_env_ous = {
            e: self._ou(f"PlatformOu-{e}", e, self.platform_ou.attr_id) for e in sorted(org.environments)
        }
        self.workload_env_ous = {
            e: self._ou(f"WorkloadsOu-{e}", e, self.workloads_ou.attr_id) for e in sorted(org.environments)
        }
        # The Organization stack's policies and each tenant's governance stack read these at deploy time, so they
        # synthesize (and shard) on their own.
        for kind, ou, name in (
            ("platform", self.platform_ou, PLATFORM_OU),
            ("workloads", self.workloads_ou, WORKLOADS_OU),
        ):
            self._ou_parameter(
                f"{kind.capitalize()}OuId", naming.top_ou_parameter(kind), ou.attr_id, f"OU id of {name}"
            )
        for env, ou in self.workload_env_ous.items():
            self._ou_parameter(
                f"WorkloadsOuId-{env}",
                naming.workloads_ou_parameter(env),
                ou.attr_id,
                f"OU id of AgentZone-Workloads/{env}; parent of each tenant's {env} OU",
            )

    def _ou_parameter(self, construct_id: str, name: str, value: str, description: str) -> None:
        ssm.StringParameter(self, construct_id, parameter_name=name, string_value=value, description=description)

    def _bootstrap_stack_set(self, after: cdk.CustomResource) -> cdk.CfnStackSet:
        """The CDK bootstrap template in every allowed region of every account below the AgentZone OUs."""
        org = self.lz.organization
        # Pipelines deploy from the delivery account; the management account deploys the pipelines themselves (and,
        # without a delivery account, everything: `cdk deploy --all`). It administers every member account anyway.
        trusted = ",".join(sorted({org.management_account, org.delivery_account or org.management_account}))
        template = organization_bootstrap_template(organization_execution_policy())
        stack_set = cdk.CfnStackSet(
            self,
            "CdkBootstrap",
            stack_set_name=naming.BOOTSTRAP_STACK_SET,
            description=f"AgentZone: cdk bootstrap --qualifier {org.guardrails.bootstrap_qualifier} --trust {trusted}",
            permission_model="SERVICE_MANAGED",
            call_as="SELF",
            # An account moved into an AgentZone OU is bootstrapped; one moved out keeps what its stacks rely on.
            auto_deployment=cdk.CfnStackSet.AutoDeploymentProperty(enabled=True, retain_stacks_on_account_removal=True),
            capabilities=["CAPABILITY_NAMED_IAM"],
            managed_execution={"Active": True},
            operation_preferences=cdk.CfnStackSet.OperationPreferencesProperty(
                region_concurrency_type="PARALLEL", max_concurrent_percentage=100, failure_tolerance_percentage=0
            ),
            parameters=[
                cdk.CfnStackSet.ParameterProperty(
                    parameter_key="Qualifier", parameter_value=org.guardrails.bootstrap_qualifier
                ),
                cdk.CfnStackSet.ParameterProperty(parameter_key="TrustedAccounts", parameter_value=trusted),
            ],
            stack_instances_group=[
                cdk.CfnStackSet.StackInstancesProperty(
                    deployment_targets=cdk.CfnStackSet.DeploymentTargetsProperty(
                        organizational_unit_ids=[self.platform_ou.attr_id, self.workloads_ou.attr_id]
                    ),
                    regions=sorted(org.allowed_regions),
                )
            ],
            template_body=json.dumps(template, separators=(",", ":")),
        )
        stack_set.node.add_dependency(after)
        # Deleting it would delete every account's bootstrap, which every deployed stack's updates rely on.
        stack_set.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        return stack_set

    def _place_accounts(self) -> None:
        """Each environment's platform accounts in AgentZone-Platform/<env>; a delivery account that is none of them
        in AgentZone-Platform, so it is bootstrapped too. Each placement waits for the account's bootstrap."""
        org = self.lz.organization
        placed: set[str] = set()
        for env_name, env in sorted(org.environments.items()):
            for role in PLATFORM_ROLES:
                account = getattr(env, role)
                placed.add(account)
                placement = self._place(f"Placement-{env_name}-{role}", account, self.platform_env_ous[env_name])
                placement.node.add_dependency(self.stack_set)
        delivery = org.delivery_account
        if delivery is not None and delivery not in placed:
            self._place("Placement-delivery", delivery, self.platform_ou).node.add_dependency(self.stack_set)
