"""One tenant's share of an environment's logging account: its read-only role and its dashboard.

A stack per tenant keeps the Logging stack from growing with tenants (template size, the resource limit) and lets
a tenant's change leave the platform's stacks alone. It finds the archive by name and its key by export.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from .. import naming
from ..config.model import LandingZone, Tenant
from ..nag import acknowledge
from .base import AgentZoneStack, StackTarget
from .logging import ARCHIVE_KEY_EXPORT, LOG_READ_ACTIONS, QUERY_RESULT_ACTIONS, archive_read_statements
from .logging_dashboards import tenant_dashboard


class TenantObservabilityStack(AgentZoneStack):
    """The tenant's reader role (read-only, its own account's telemetry and archive prefixes) and dashboard."""

    ROLE = "TenantObservability"
    PER_TENANT_IN_SHARED_ACCOUNT = True
    OWNS_BASELINE_KEY = False

    def __init__(
        self, scope: Construct, construct_id: str, *, target: StackTarget, tenant: Tenant, lz: LandingZone
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            target=target,
            description=f"AgentZone observability of tenant {tenant.tenant} ({target.environment}): "
            "read-only role and dashboard",
            tenant=tenant.tenant,
        )
        self.lz, self.tenant = lz, tenant
        self.reader = self._reader()
        self.dashboard = tenant_dashboard(self, lz, tenant, target.environment)

    def _reader(self) -> iam.Role:
        """Read-only, and only this tenant's account: its log groups (which include its spans) and archive prefixes."""
        org, env = self.lz.organization, self.target.environment
        tenant_env = self.tenant.environments[env]
        account, region = tenant_env.account, self.lz.region_of(tenant_env)
        role = iam.Role(
            self,
            "Reader",
            role_name=naming.tenant_reader_role(self.tenant.tenant),
            assumed_by=iam.AccountPrincipal(account),
            max_session_duration=cdk.Duration.hours(1),
            description=f"Read-only view of {self.tenant.tenant}'s {env} logs, traces and dashboard",
        )
        prefixes = [f"{naming.BEDROCK_LOG_PREFIX}/AWSLogs/{account}/"]
        if env == org.central_environment:  # the organization trail writes to the central archive only
            prefixes.append(f"AWSLogs/{org.organization_id}/{account}/")
        archive = f"arn:{self.partition}:s3:::{naming.archive_bucket_name(self.account, self.region)}"
        archive_key = cdk.Fn.import_value(naming.logging_export(ARCHIVE_KEY_EXPORT))
        dashboard = naming.tenant_dashboard(self.tenant.tenant, env)
        log_groups = f"arn:{self.partition}:logs:{region}:{account}:log-group:*"
        statements = [
            iam.PolicyStatement(sid="OwnLogGroups", actions=LOG_READ_ACTIONS, resources=[log_groups]),
            iam.PolicyStatement(sid="OwnQueries", actions=QUERY_RESULT_ACTIONS, resources=["*"]),
            iam.PolicyStatement(
                sid="OwnDashboard",
                actions=["cloudwatch:GetDashboard"],
                resources=[f"arn:{self.partition}:cloudwatch::{self.account}:dashboard/{dashboard}"],
            ),
            *archive_read_statements(archive, archive_key, self.region, prefixes),
        ]
        policy = iam.ManagedPolicy(self, "ReaderPolicy", roles=[role], statements=statements)
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "GetQueryResults/StopQuery/DescribeQueries have no resource type; queries can only be started (StartQuery) "
            "on this tenant's own log groups.",
        )
        for p in prefixes:
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::{archive}/{p}*]",
                f"GetObject under {p} only: the files CloudTrail and Bedrock write for this tenant's own account.",
            )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{log_groups}]",
            "All log groups of this tenant's own account (its agents create them by name at runtime); no other "
            "account.",
        )
        return role
