"""The logging account of one platform environment: archive, observability sink, the operator's access and dashboard.

Each tenant's read-only role and dashboard live in its own stack in this account (``tenant_observability``).
"""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_oam as oam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .. import naming
from ..config.model import PLATFORM_ROLES, ArchiveSettings, LandingZone
from ..constructs import BaselineKey
from ..constructs.observability import OAM_RESOURCE_TYPES
from ..nag import acknowledge
from .base import AgentZoneStack, StackTarget
from .logging_dashboards import platform_dashboard

# No logs:DescribeLogGroups: it supports only Resource "*", and through the sink it would list every linked
# account's log group names; a tenant reader opens its own groups by name (its dashboard links them).
LOG_READ_ACTIONS = [
    "logs:DescribeLogStreams",
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:GetLogGroupFields",
    "logs:StartQuery",
]
_CW = "Read-only CloudWatch families (Describe/Get/List) for the operator's cross-account view."
_LOGS = "Read-only CloudWatch Logs families (Describe/Get/List) across linked accounts."
_OAM = "Read-only view of the sink and its links, to check which accounts are linked."
_XRAY = "Read-only X-Ray trace families for the operator's cross-account view."
# The platform operator's wildcard read actions, each with the reason its acknowledgement gives.
OPERATOR_READ_FAMILIES = {
    "cloudwatch:Describe*": _CW,
    "cloudwatch:Get*": _CW,
    "cloudwatch:List*": _CW,
    "logs:Describe*": _LOGS,
    "logs:Get*": _LOGS,
    "logs:List*": _LOGS,
    "oam:Get*": _OAM,
    "oam:List*": _OAM,
    "xray:BatchGet*": _XRAY,
    "xray:Get*": _XRAY,
    "xray:List*": _XRAY,
}
# Query ids come from StartQuery, which is scoped by log group; these calls have no resource type.
QUERY_RESULT_ACTIONS = ["logs:DescribeQueries", "logs:GetQueryResults", "logs:StopQuery"]
ARCHIVE_KEY_EXPORT = "archive-key-arn"


def archive_read_statements(
    bucket_arn: str, key_arn: str, region: str, prefixes: list[str]
) -> list[iam.PolicyStatement]:
    """Read the archive's objects under ``prefixes`` (and list only them), decrypting through S3 only."""
    return [
        iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{bucket_arn}/{p}*" for p in prefixes]),
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
        ),
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        ),
    ]


def linked_accounts(lz: LandingZone, environment: str) -> dict[str, str]:
    """Accounts that link to this environment's sink: label -> account id.

    OAM links are regional, so tenant accounts in another region than the
    environment's logging account are not linked (their audit trail and model
    invocation logs still reach the archive through CloudTrail and replication).
    """
    env = lz.organization.environments[environment]
    region = lz.region_of(env)
    out = {f"platform-{role}": getattr(env, role) for role in PLATFORM_ROLES if role != "logging"}
    for tenant in lz.tenants:
        tenant_env = tenant.environments.get(environment)
        if tenant_env and lz.region_of(tenant_env) == region:
            out[tenant.tenant] = tenant_env.account
    return out


def _object_lock(settings: ArchiveSettings) -> s3.ObjectLockRetention:
    """Every archived object is locked for the retention period, in the configured mode."""
    lock = (
        s3.ObjectLockRetention.compliance
        if settings.object_lock_mode == "COMPLIANCE"
        else s3.ObjectLockRetention.governance
    )
    return lock(cdk.Duration.days(settings.retention_days))


def _archive_transitions(settings: ArchiveSettings) -> list[s3.Transition]:
    transitions = [
        s3.Transition(
            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
            transition_after=cdk.Duration.days(settings.glacier_ir_after_days),
        )
    ]
    if settings.deep_archive_after_days is not None:
        transitions.append(
            s3.Transition(
                storage_class=s3.StorageClass.DEEP_ARCHIVE,
                transition_after=cdk.Duration.days(settings.deep_archive_after_days),
            )
        )
    return transitions


class LoggingStack(AgentZoneStack):
    """Central log archive, organization trail destination and cross-account observability."""

    ROLE = "Logging"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone) -> None:
        super().__init__(
            scope, construct_id, target=target, description="AgentZone logging: central, immutable log archive"
        )
        self.lz = lz
        org = lz.organization
        self.is_central = target.environment == org.central_environment
        self.environment_accounts = {
            **{f"platform-{role}": getattr(org.environments[target.environment], role) for role in PLATFORM_ROLES},
            **{
                t.tenant: t.environments[target.environment].account
                for t in lz.tenants
                if target.environment in t.environments
            },
        }
        self._archive()
        self._sink()
        self.operator = self._platform_operator()
        self.platform_dashboard = platform_dashboard(self, target.environment)

    # ------------------------------------------------------------------ archive

    def _archive(self) -> None:
        settings = self.lz.organization.audit.archive
        self.archive_key = BaselineKey(
            self,
            "ArchiveKey",
            alias=naming.ARCHIVE_KEY_ALIAS,
            description=f"AgentZone log archive ({self.target.environment})",
        ).key
        # Object Lock can only be chosen at creation without a migration, so the archive has it from day one.
        self.log_archive = self.secure_bucket(
            "LogArchive",
            bucket_name=naming.archive_bucket_name(self.account, self.region),
            encryption_key=self.archive_key,
            object_lock_retention=_object_lock(settings),
            noncurrent_version_days=max(365, settings.retention_days),
            transitions=_archive_transitions(settings),
            expire_after_days=settings.expire_after_days,
        )
        # Per-tenant observability stacks in this account grant their readers decryption under this key.
        cdk.CfnOutput(
            self, "ArchiveKeyArn", value=self.archive_key.key_arn, export_name=naming.logging_export(ARCHIVE_KEY_EXPORT)
        )
        if self.is_central:
            self._allow_organization_trail()
        self._allow_log_delivery()
        self._allow_invocation_log_replication()

    def _allow_organization_trail(self) -> None:
        """The management account's organization trail writes here (central environment only)."""
        org = self.lz.organization
        bucket = self.log_archive.bucket
        trail_arn = naming.organization_trail_arn(org.management_account, org.home_region, self.partition)
        cloudtrail = iam.ServicePrincipal("cloudtrail.amazonaws.com")
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailAclCheck",
                principals=[cloudtrail],
                actions=["s3:GetBucketAcl"],
                resources=[bucket.bucket_arn],
                conditions={"StringEquals": {"aws:SourceArn": trail_arn}},
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailOrganizationTrailWrite",
                principals=[cloudtrail],
                actions=["s3:PutObject"],
                resources=[
                    bucket.arn_for_objects(f"AWSLogs/{org.management_account}/*"),
                    bucket.arn_for_objects(f"AWSLogs/{org.organization_id}/*"),
                ],
                conditions={"StringEquals": {"aws:SourceArn": trail_arn, "s3:x-amz-acl": "bucket-owner-full-control"}},
            )
        )
        trails = f"arn:{self.partition}:cloudtrail:*:{org.management_account}:trail/*"
        self.archive_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailEncryptOrganizationTrail",
                principals=[cloudtrail],
                actions=["kms:GenerateDataKey*", "kms:DescribeKey"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails},
                },
            )
        )

    def _allow_log_delivery(self) -> None:
        """Vended logs (e.g. VPC flow logs) of the organization's accounts are delivered here."""
        org = self.lz.organization
        bucket = self.log_archive.bucket
        org_condition = {"StringEquals": {"aws:SourceOrgID": org.organization_id}}
        delivery = iam.ServicePrincipal("delivery.logs.amazonaws.com")
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="LogDeliveryAclCheck",
                principals=[delivery],
                actions=["s3:GetBucketAcl"],
                resources=[bucket.bucket_arn],
                conditions=org_condition,
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="LogDeliveryWrite",
                principals=[delivery],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects("AWSLogs/*")],
                conditions={
                    "StringEquals": {
                        "aws:SourceOrgID": org.organization_id,
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    }
                },
            )
        )
        self.archive_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="LogDeliveryEncrypt",
                principals=[delivery],
                actions=["kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                resources=["*"],
                conditions=org_condition,
            )
        )

    def _allow_invocation_log_replication(self) -> None:
        """Bedrock invocation logs are written in each account (same-account only) and replicated here;
        each account may only write under its own prefix.

        The bucket policy names its writers by condition, not by list: AgentZone's roles (the SCPs reserve the
        name) in the organization's accounts, each under its own account's prefix. Two lists of every environment
        account would outgrow S3's 20 KB bucket-policy limit at about 250 tenants. The key policy (32 KB limit)
        keeps the list: about 35 bytes per account.
        """
        bucket = self.log_archive.bucket
        replicators = {
            "StringEquals": {"aws:PrincipalOrgID": self.lz.organization.organization_id},
            "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/AgentZone-*"},
        }
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ReplicateBedrockInvocationLogs",
                principals=[iam.AnyPrincipal()],
                actions=["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
                resources=[bucket.arn_for_objects(f"{naming.BEDROCK_LOG_PREFIX}/AWSLogs/${{aws:PrincipalAccount}}/*")],
                conditions=replicators,
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ReplicationDestinationChecks",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetBucketVersioning", "s3:GetBucketObjectLockConfiguration"],
                resources=[bucket.bucket_arn],
                conditions=replicators,
            )
        )
        self.archive_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ReplicasEncryptViaS3",
                principals=[iam.AccountPrincipal(a) for a in sorted(set(self.environment_accounts.values()))],
                actions=["kms:Encrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    **replicators,
                    "StringEquals": {
                        **replicators["StringEquals"],
                        "kms:ViaService": f"s3.{self.region}.amazonaws.com",
                    },
                },
            )
        )

    # --------------------------------------------------------------------- OAM

    def _sink(self) -> None:
        accounts = sorted(linked_accounts(self.lz, self.target.environment).values())
        self.sink = oam.CfnSink(
            self,
            "ObservabilitySink",
            name=naming.OAM_SINK,
            policy={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "EnvironmentAccountsLinkTelemetry",
                        "Effect": "Allow",
                        "Principal": {"AWS": accounts},
                        "Action": ["oam:CreateLink", "oam:UpdateLink"],
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {"aws:PrincipalOrgID": self.lz.organization.organization_id},
                            "ForAllValues:StringEquals": {"oam:ResourceTypes": OAM_RESOURCE_TYPES},
                        },
                    }
                ],
            },
        )
        # Config names this sink's ARN; replacing it would orphan every link.
        self.sink.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        cdk.CfnOutput(
            self, "SinkArn", value=self.sink.attr_arn, description="Every account of the environment links here"
        )
        env = self.target.environment
        self.publish_to_organization(
            self.lz,
            "ObservabilitySinkArn",
            naming.observability_sink_parameter(env),
            self.sink.attr_arn,
            f"OAM sink of the {env} environment, which its accounts link to",
        )

    # ------------------------------------------------------------------ access

    @property
    def _archive_ref(self) -> str:
        """How cdk-nag names the archive's ARN in findings."""
        bucket = cast(s3.CfnBucket, self.log_archive.bucket.node.default_child)
        return f"<{self.get_logical_id(bucket)}.Arn>"

    def _platform_operator(self) -> iam.Role:
        """Elevated: every linked account's telemetry, the whole archive, and dashboard management."""
        role = iam.Role(
            self,
            "PlatformOperator",
            role_name=naming.PLATFORM_OPERATOR_ROLE,
            assumed_by=iam.AccountRootPrincipal(),
            max_session_duration=cdk.Duration.hours(4),
            description="Platform team: read all telemetry and the archive in this logging account; manage dashboards",
        )
        statements = [
            iam.PolicyStatement(
                sid="ReadAllTelemetry",
                actions=[*sorted(OPERATOR_READ_FAMILIES), "logs:FilterLogEvents", "logs:StartQuery", "logs:StopQuery"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="ManageAgentZoneDashboards",
                actions=["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"],
                resources=[f"arn:{self.partition}:cloudwatch::{self.account}:dashboard/{naming.PREFIX}-*"],
            ),
            *archive_read_statements(self.log_archive.bucket.bucket_arn, self.archive_key.key_arn, self.region, [""]),
        ]
        policy = iam.ManagedPolicy(self, "PlatformOperatorPolicy", roles=[role], statements=statements)
        for finding, reason in (
            (
                "Resource::*",
                "The platform operator reads telemetry of every linked account; CloudWatch metric, X-Ray and OAM "
                "reads have no narrower resource.",
            ),
            *((f"Action::{family}", reason) for family, reason in OPERATOR_READ_FAMILIES.items()),
            (
                f"Resource::arn:{self.partition}:cloudwatch::{self.account}:dashboard/{naming.PREFIX}-*",
                "Dashboards AgentZone owns in this account, and no others.",
            ),
            (
                f"Resource::{self._archive_ref}/*",
                "The operator reads the whole archive: the platform team's elevated access to every tenant's logs.",
            ),
        ):
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)
        return role
