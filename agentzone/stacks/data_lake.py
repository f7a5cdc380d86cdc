"""The data lake account of one platform environment.

``DataLakeStack`` holds what all tenants share: the raw, curated and masked
zones, Lake Formation's settings, registered locations and LF-tags, Glue's
encryption and the feedback bus. ``TenantDataStack`` holds one tenant's
namespaces, so the lake stack does not grow with tenants and a team's change
deploys on its own; it imports the zones by export name, so a tenant shard
synthesizes without the platform stacks.

Every environment's lake gets the same zones, catalog, jobs and rules, so a
change is promoted dev -> staging -> prod like any other. Only the central
environment's lake (``audit.central_environment``, by default the last one)
grants tenant accounts and receives feedback signals: it serves every
tenant environment, unmasked data to ``data_lake.unmasked_environments`` only.
"""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as assets
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from .. import naming
from ..config.model import DataLakeSettings, LandingZone, Tenant, feedback_senders
from ..constructs.data_namespace import JOB_SCRIPT, LakeServices, TenantDataLake, TenantDataLakeProps
from ..constructs.lake_formation import LakeFormationAdmin, admin_role_arns
from ..data_lake.from_config import namespaces, tenant_readers
from ..data_lake.layout import SENSITIVITY, ZONES
from .base import AgentZoneStack, StackTarget

KEY_EXPORT = "key-arn"


class DataLakeStack(AgentZoneStack):
    """Zones, Lake Formation and what every tenant namespace of this account shares."""

    ROLE = "DataLake"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone) -> None:
        super().__init__(
            scope, construct_id, target=target, description="AgentZone data lake: governed data for agents"
        )
        org, env = lz.organization, self.target.environment
        settings = org.data_lake
        self.zones = self._zones(settings)
        tenants = [t.tenant for t in lz.tenants if t.data.namespaces]
        tags = {naming.LF_TAG_SENSITIVITY: sorted(set(SENSITIVITY.values()))}
        if tenants:
            tags[naming.LF_TAG_TENANT] = tenants
        self.lake = LakeFormationAdmin(
            self,
            "LakeFormation",
            admin_role_arns=admin_role_arns(
                org.guardrails.bootstrap_qualifier, self.account, self.region, settings.admin_roles, self.partition
            ),
            zones=self.zones,
            tags=tags,
        )
        self.security_configuration = self._glue_encryption(env)
        self._export_zones()
        self.feedback_bus = None
        senders = feedback_senders(lz.tenants)
        if env == org.central_environment and senders:
            self.feedback_bus = self._feedback_bus(senders)
        self.observability = self.link_observability(lz, transaction_search=False)

    def _zones(self, settings: DataLakeSettings) -> dict[str, s3.IBucket]:
        """The raw, curated and masked zone buckets, by zone name."""
        infrequent = [
            s3.Transition(
                storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                transition_after=cdk.Duration.days(settings.infrequent_access_after_days),
            )
        ]
        # Construct ids are the contract: RawZone predates the other zones and keeps its logical id.
        self.raw_zone = self.secure_bucket(
            "RawZone", transitions=infrequent, expire_after_days=settings.raw_expire_days
        )
        self.curated_zone = self.secure_bucket("CuratedZone", transitions=infrequent)
        self.masked_zone = self.secure_bucket("MaskedZone", transitions=infrequent)
        return {
            "raw": self.raw_zone.bucket,
            "curated": self.curated_zone.bucket,
            "masked": self.masked_zone.bucket,
        }

    def _glue_encryption(self, env: str) -> glue.CfnSecurityConfiguration:
        """Glue jobs' logs, bookmarks and output encrypted with this account's key."""
        return glue.CfnSecurityConfiguration(
            self,
            "GlueEncryption",
            name=naming.data_lake_security_configuration(env),
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=self.key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=self.key.key_arn
                ),
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=self.key.key_arn
                    )
                ],
            ),
        )

    def _export_zones(self) -> None:
        """Zone buckets and key by export name: tenant data stacks import them and synthesize on their own."""
        for zone, bucket in self.zones.items():
            cdk.CfnOutput(
                self,
                f"{zone.capitalize()}ZoneBucket",
                value=bucket.bucket_name,
                export_name=naming.data_lake_export(f"{zone}-bucket"),
            )
        cdk.CfnOutput(self, "ZoneKeyArn", value=self.key.key_arn, export_name=naming.data_lake_export(KEY_EXPORT))

    def _feedback_bus(self, senders: list[str]) -> events.EventBus:
        """Tenant accounts named in some namespace's feedback_from put their monitoring signals here."""
        bus = events.EventBus(
            self,
            "FeedbackBus",
            event_bus_name=naming.DATA_LAKE_FEEDBACK_BUS,
            kms_key=self.key,
            description="Agent monitoring signals from tenant accounts, routed into their namespaces",
        )
        # The policy is the bus's own property, not a separate AWS::Events::EventBusPolicy (what
        # add_to_resource_policy creates): cdk-nag's EventBusOpenAccess rule reads that resource's deprecated
        # `principal` field, and every synth printed a deprecation warning for it.
        bus_arn = self.format_arn(service="events", resource="event-bus", resource_name=naming.DATA_LAKE_FEEDBACK_BUS)
        policy = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="TenantSignals",
                    principals=[iam.AccountPrincipal(account) for account in senders],
                    actions=["events:PutEvents"],
                    resources=[bus_arn],
                )
            ]
        )
        cast(events.CfnEventBus, bus.node.default_child).policy = policy
        return bus


class TenantDataStack(AgentZoneStack):
    """One tenant's namespaces in an environment's data lake account."""

    ROLE = "TenantData"
    PER_TENANT_IN_SHARED_ACCOUNT = True

    def __init__(
        self, scope: Construct, construct_id: str, *, target: StackTarget, tenant: Tenant, lz: LandingZone
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            target=target,
            description=f"AgentZone data lake namespaces of tenant {tenant.tenant} ({target.environment})",
            tenant=tenant.tenant,
        )
        org, env = lz.organization, target.environment
        settings = org.data_lake
        central = env == org.central_environment
        lake_key = kms.Key.from_key_arn(self, "ZoneKey", cdk.Fn.import_value(naming.data_lake_export(KEY_EXPORT)))
        zones = {
            zone: s3.Bucket.from_bucket_attributes(
                self,
                f"{zone.capitalize()}Zone",
                bucket_name=cdk.Fn.import_value(naming.data_lake_export(f"{zone}-bucket")),
                encryption_key=lake_key,
            )
            for zone in ZONES
        }
        feedback = any(ns.feedback_from for ns in tenant.data.namespaces)
        services = LakeServices(
            zones=zones,
            lake_key=lake_key,
            key=self.key,
            catalog_id=self.account,
            security_configuration=naming.data_lake_security_configuration(env),
            job_script=assets.Asset(self, "CurateAndMaskScript", path=str(JOB_SCRIPT)),
            # Holds only schedules (no data): deleted with the stack, so a redeploy can reuse the name.
            quality_schedules=scheduler.ScheduleGroup(
                self,
                "QualitySchedules",
                schedule_group_name=f"{naming.PREFIX}-data-quality-{tenant.tenant}",
                removal_policy=cdk.RemovalPolicy.DESTROY,
            ),
            job_schedule=settings.job_schedule,
            quality_schedule=settings.quality_schedule,
            stream_buffer_seconds=settings.stream_buffer_seconds,
            log_retention_days=org.observability.log_retention_days,
            feedback_bus=events.EventBus.from_event_bus_name(self, "FeedbackBus", naming.DATA_LAKE_FEEDBACK_BUS)
            if central and feedback
            else None,
        )
        readers = tenant_readers(tenant, settings.unmasked_environments) if central else ()
        self.data = TenantDataLake(
            self,
            "Data",
            props=TenantDataLakeProps(
                tenant=tenant.tenant, namespaces=namespaces(tenant), services=services, readers=readers
            ),
        )
