"""What the lake builders (lake_ingestion, lake_jobs, lake_quality) read of the namespace they build in.

:class:`~.data_namespace.DataNamespace` is the one implementation; the builders depend on this base
instead of on it, so the namespace can import them without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as assets
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from .. import naming
from ..data_lake.layout import NamespaceLayout, table_name
from ..nag import nag_imported_bucket_arn

# What aws-cdk-lib's bucket grants write with wildcards (S3 action groups and the bucket key's data-key actions):
# the Firehose destination grant and a Glue role's zone grants, acknowledged per action.
BUCKET_GRANT_WILDCARDS = (
    "s3:Abort*",
    "s3:DeleteObject*",
    "s3:GetBucket*",
    "s3:GetObject*",
    "s3:List*",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)


@dataclass(frozen=True)
class LakeServices:
    """What every namespace of one data lake account shares."""

    zones: dict[str, s3.IBucket]
    lake_key: kms.IKey  # the zones' and Glue logs' key (data lake stack)
    key: kms.IKey  # this tenant's key: streams, logs, masking key
    catalog_id: str
    security_configuration: str
    job_script: assets.Asset
    quality_schedules: scheduler.IScheduleGroup
    job_schedule: str  # Glue cron of every crawler and curate-and-mask job
    quality_schedule: str  # EventBridge Scheduler expression of the data quality runs
    stream_buffer_seconds: int
    log_retention_days: int
    feedback_bus: events.IEventBus | None


class NamespaceScope(Construct):
    """A namespace's catalog names and shared services; its resources are built in this scope."""

    layout: NamespaceLayout
    services: LakeServices
    database: glue.CfnDatabase
    database_name: str
    job_name: str
    tables: dict[tuple[str, str], glue.CfnTable]
    streams: dict[str, firehose.DeliveryStream]

    @property
    def tenant_prefix(self) -> str:
        """This namespace's key prefix in every zone: <tenant>/<namespace>/."""
        return f"{self.layout.tenant}/{self.layout.namespace.name}/"

    # ------------------------------------------------------------------ catalog

    def table_names(self, zone: str) -> list[str]:
        return [table_name(zone, d.name) for d in self.layout.datasets]

    def zone_tables(self, zone: str) -> list[cdk.CfnResource]:
        return [self.tables[(zone, d.name)] for d in self.layout.datasets]

    def table_arns(self, zones: tuple[str, ...]) -> list[str]:
        """The catalog, this database and its tables in ``zones``: what Glue authorizes table calls against."""
        stack = cdk.Stack.of(self)
        return [
            stack.format_arn(service="glue", resource="catalog"),
            stack.format_arn(service="glue", resource="database", resource_name=self.database_name),
            *[
                stack.format_arn(service="glue", resource="table", resource_name=f"{self.database_name}/{table}")
                for zone in zones
                for table in self.table_names(zone)
            ],
        ]

    def nag_objects(self, zone: str) -> str:
        """A zone bucket's ARN as cdk-nag prints it in finding ids (it shows the import's export name)."""
        return nag_imported_bucket_arn(self, naming.data_lake_export(f"{zone}-bucket"))
