"""One tenant's namespaces in the data lake: catalog, grants, ingestion and governance.

Per namespace: a Glue database with a raw, curated and masked table per
dataset (LF-tagged by tenant and sensitivity, lineage in table parameters),
a Firehose stream per streamed dataset, a crawler that keeps raw partitions
current, the curate-and-mask job (raw -> curated -> masked) and scheduled
data quality rules on the curated tables. Per tenant: the masking key and the
LF-tag grants to the tenant's accounts (curated and masked in unmasked
environments, masked only elsewhere).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lf
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as assets
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .. import naming
from ..config import model as m
from ..data_lake.layout import (
    JSON_SERDE,
    PARTITION_KEY,
    SENSITIVITY,
    TEXT_INPUT,
    TEXT_OUTPUT,
    ZONES,
    NamespaceLayout,
    column_type,
    namespaces,
    table_name,
)
from ..nag import acknowledge, acknowledge_compliance, nag_arn
from .lake_formation import READ, TagCondition, grant_by_tags, grant_location, grant_tables, tag_resource
from .retention import retained_log_group

JOB_SCRIPT = Path(__file__).resolve().parents[1] / "data_lake" / "jobs" / "curate_and_mask.py"
FEEDBACK_SOURCES = ["agentzone.evaluation", "aws.cloudwatch"]


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
    settings: m.DataLakeSettings
    log_retention_days: int
    feedback_bus: events.IEventBus | None


@dataclass(frozen=True)
class Reader:
    """A tenant account the lake grants to, and whether it may see unmasked (curated) data."""

    environment: str
    account: str
    unmasked: bool

    @property
    def sensitivities(self) -> tuple[str, ...]:
        return (SENSITIVITY["curated"], SENSITIVITY["masked"]) if self.unmasked else (SENSITIVITY["masked"],)


class TenantDataLake(Construct):
    """Everything one tenant has in the data lake account."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tenant: m.Tenant,
        services: LakeServices,
        readers: list[Reader],
        feedback_accounts: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.tenant = tenant.tenant
        catalog = services.catalog_id
        # Per tenant, so one tenant's hashes cannot be joined with another's. Never rotated: rotation would
        # change every hashed value and break joins with earlier masked data.
        self.masking_key = secretsmanager.Secret(
            self,
            "MaskingKey",
            secret_name=f"{naming.PREFIX}/data-lake/{tenant.tenant}/masking-key",
            description=f"HMAC key the curate-and-mask job hashes {tenant.tenant}'s PII columns with",
            encryption_key=services.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.masking_key,
            "AwsSolutions-SMG4",
            "A masking key is not a credential: rotating it would change every "
            "hashed value and break joins between masked data written before and after.",
        )
        acknowledge_compliance(
            self.masking_key,
            "SecretsManagerRotationEnabled",
            "HMAC masking key: rotation would change every hashed value and break joins across masked datasets.",
        )
        acknowledge_compliance(
            self.masking_key, "SecretsManagerUsingKMSKey", "Encrypted with the data lake's CMK (encryption_key)."
        )
        tenant_tag = TagCondition(naming.LF_TAG_TENANT, (tenant.tenant,))
        self.grants = {}
        for reader in sorted(readers, key=lambda r: r.environment):
            # Databases carry the tenant tag only at the sensitivity 'restricted': DESCRIBE lets the account
            # see the namespace; the table grant below decides which tables it reads.
            self.grants[(reader.environment, "DATABASE")] = grant_by_tags(
                self,
                f"Describe-{reader.environment}",
                catalog_id=catalog,
                principal=reader.account,
                resource_type="DATABASE",
                conditions=[tenant_tag],
                permissions=["DESCRIBE"],
                grantable=True,
            )
            self.grants[(reader.environment, "TABLE")] = grant_by_tags(
                self,
                f"Read-{reader.environment}",
                catalog_id=catalog,
                principal=reader.account,
                resource_type="TABLE",
                conditions=[tenant_tag, TagCondition(naming.LF_TAG_SENSITIVITY, reader.sensitivities)],
                permissions=READ,
                grantable=True,
            )
        self.namespaces = {
            ns.name: DataNamespace(
                self,
                f"Namespace-{ns.name}",
                layout=NamespaceLayout(tenant.tenant, ns),
                services=services,
                masking_key=self.masking_key,
                feedback_accounts=[feedback_accounts[env] for env in ns.feedback_from],
            )
            for ns in namespaces(tenant)
        }


class DataNamespace(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layout: NamespaceLayout,
        services: LakeServices,
        masking_key: secretsmanager.ISecret,
        feedback_accounts: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.layout, self.services = layout, services
        stack = cdk.Stack.of(self)
        ns = layout.namespace
        self.database_name = layout.database
        self.job_name = f"{naming.PREFIX}-{layout.tenant}-{ns.name}-curate-mask".replace("_", "-")
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name,
                description=ns.description or f"{layout.tenant} namespace {ns.name}",
                # No IAMAllowedPrincipals default on its tables: Lake Formation grants only.
                create_table_default_permissions=[],
                parameters={"agentzone:tenant": layout.tenant, "agentzone:namespace": ns.name},
            ),
        )
        # Tables inherit these; curated and masked tables override the sensitivity.
        tag_resource(
            self,
            "DatabaseTags",
            catalog_id=stack.account,
            resource=glue_resource(database=self.database_name, catalog_id=stack.account),
            tags={naming.LF_TAG_TENANT: layout.tenant, naming.LF_TAG_SENSITIVITY: SENSITIVITY["raw"]},
            depends_on=self.database,
        )
        self.tables: dict[tuple[str, str], glue.CfnTable] = {}
        for dataset in layout.datasets:
            for zone in ZONES:
                self.tables[(zone, dataset.name)] = self._table(dataset, zone)
        self.streams = {d.name: self._stream(d) for d in layout.datasets if d.ingestion == "stream"}
        self.crawler = self._crawler()
        self.job = self._job(masking_key)
        self.quality = {d.name: self._quality(d) for d in layout.datasets if quality_rules(d)}
        self.ingest_role = self._ingest_role() if ns.producers else None
        self.feedback_rule = self._feedback(feedback_accounts) if feedback_accounts and services.feedback_bus else None

    # ------------------------------------------------------------------ catalog

    def _table(self, dataset: m.Dataset, zone: str) -> glue.CfnTable:
        stack = cdk.Stack.of(self)
        name = table_name(zone, dataset.name)
        location = f"s3://{self.services.zones[zone].bucket_name}/{self.layout.prefix(dataset)}"
        table = glue.CfnTable(
            self,
            f"Table-{name}",
            catalog_id=stack.account,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=name,
                description=f"{dataset.description or dataset.name} ({zone} zone)",
                table_type="EXTERNAL_TABLE",
                parameters=self.layout.lineage(dataset, zone, self.job_name),
                partition_keys=[
                    glue.CfnTable.ColumnProperty(name=PARTITION_KEY, type="string", comment="Delivery date, YYYY-MM-DD")
                ],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    input_format=TEXT_INPUT,
                    output_format=TEXT_OUTPUT,
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library=JSON_SERDE, parameters={"ignore.malformed.json": "true"}
                    ),
                    columns=[
                        glue.CfnTable.ColumnProperty(name=c.name, type=column_type(c, zone), comment=_comment(c, zone))
                        for c in dataset.columns
                    ],
                ),
            ),
        )
        table.add_resource_dependency(self.database)
        if zone != "raw":  # raw tables inherit the database's tags
            tag_resource(
                self,
                f"Tags-{name}",
                catalog_id=stack.account,
                resource=glue_resource(database=self.database_name, table=name, catalog_id=stack.account),
                tags={naming.LF_TAG_SENSITIVITY: SENSITIVITY[zone]},
                depends_on=table,
            )
        return table

    def _tables(self, zone: str) -> list[str]:
        return [table_name(zone, d.name) for d in self.layout.datasets]

    def _table_deps(self, zone: str) -> list[cdk.CfnResource]:
        return [self.tables[(zone, d.name)] for d in self.layout.datasets]

    def _table_arns(self, zones: tuple[str, ...]) -> list[str]:
        stack = cdk.Stack.of(self)
        return [
            stack.format_arn(service="glue", resource="catalog"),
            stack.format_arn(service="glue", resource="database", resource_name=self.database_name),
            *[
                stack.format_arn(service="glue", resource="table", resource_name=f"{self.database_name}/{table}")
                for zone in zones
                for table in self._tables(zone)
            ],
        ]

    # ------------------------------------------------------------------ ingestion

    def _stream(self, dataset: m.Dataset) -> firehose.DeliveryStream:
        """Firehose into the raw zone, one JSON object per line, partitioned by delivery date."""
        prefix = self.layout.prefix(dataset)
        name = naming.dataset_stream(self.layout.tenant, self.layout.namespace.name, dataset.name)
        log_group = retained_log_group(
            self,
            f"StreamLogs-{dataset.name}",
            encryption_key=self.services.key,
            retention_days=self.services.log_retention_days,
        )
        stream = firehose.DeliveryStream(
            self,
            f"Stream-{dataset.name}",
            delivery_stream_name=name,
            encryption=firehose.StreamEncryption.customer_managed_key(self.services.key),
            destination=firehose.S3Bucket(
                self.services.zones["raw"],
                data_output_prefix=f"{prefix}{PARTITION_KEY}=!{{timestamp:yyyy-MM-dd}}/",
                error_output_prefix=f"_errors/{prefix}!{{firehose:error-output-type}}/{PARTITION_KEY}=!{{timestamp:yyyy-MM-dd}}/",
                buffering_interval=cdk.Duration.seconds(self.services.settings.stream_buffer_seconds),
                compression=firehose.Compression.GZIP,
                encryption_key=self.services.key,
                logging_config=firehose.EnableLogging(log_group),
                processors=[firehose.AppendDelimiterToRecordProcessor()],
            ),
        )
        role = stream.node.find_child("S3 Destination Role")
        policy = role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{self._nag_objects('raw')}/*]",
            "The Firehose L2 grants its destination role the raw zone's objects; what it writes is fixed by the "
            f"stream's prefix ({prefix}) and error prefix.",
        )
        for action in (
            "s3:Abort*",
            "s3:DeleteObject*",
            "s3:GetBucket*",
            "s3:GetObject*",
            "s3:List*",
            "kms:GenerateDataKey*",
            "kms:ReEncrypt*",
        ):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Action::{action}]",
                "The Firehose L2's S3 destination grant (bucket read/write and its CMK) on the raw zone only.",
            )
        acknowledge_compliance(
            policy,
            "IAMNoInlinePolicy",
            "The Firehose L2 writes its destination grant as a policy attached only to this stream's role.",
        )
        service_policy = stream.node.find_child("Service Role").node.find_child("DefaultPolicy")
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge(
                service_policy,
                f"AwsSolutions-IAM5[Action::{action}]",
                "Firehose encrypts the stream's buffered records with the data lake's CMK, and only that key.",
            )
        acknowledge_compliance(
            service_policy,
            "IAMNoInlinePolicy",
            "The Firehose L2 writes the stream-encryption key grant as a policy "
            "attached only to this stream's service role.",
        )
        return stream

    def _crawler(self) -> glue.CfnCrawler:
        """Adds the partitions producers and streams write; schemas stay the ones config declares."""
        role = self._glue_role("CrawlerRole", f"Glue crawler: adds partitions to {self.database_name}'s raw tables")
        raw = self.services.zones["raw"]
        tenant_prefix = f"{self.layout.tenant}/{self.layout.namespace.name}/"
        raw.grant_read(role, f"{tenant_prefix}*")
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                    "glue:CreatePartition",
                    "glue:BatchCreatePartition",
                    "glue:UpdatePartition",
                    "glue:BatchUpdatePartition",
                    "glue:UpdateTable",
                ],
                resources=self._table_arns(("raw",)),
            )
        )
        crawler = glue.CfnCrawler(
            self,
            "Crawler",
            name=f"{naming.PREFIX}-{self.layout.tenant}-{self.layout.namespace.name}-raw".replace("_", "-"),
            description=f"Partitions of {self.database_name}'s raw tables (schemas come from config)",
            role=role.role_arn,
            targets=glue.CfnCrawler.TargetsProperty(
                catalog_targets=[
                    glue.CfnCrawler.CatalogTargetProperty(database_name=self.database_name, tables=self._tables("raw"))
                ]
            ),
            # Catalog targets: the crawler updates partitions of existing tables and never rewrites their schema.
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior="LOG", delete_behavior="LOG"
            ),
            recrawl_policy=glue.CfnCrawler.RecrawlPolicyProperty(recrawl_behavior="CRAWL_EVERYTHING"),
            configuration=json.dumps(
                {"Version": 1.0, "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}}}
            ),
            crawler_security_configuration=self.services.security_configuration,
            schedule=glue.CfnCrawler.ScheduleProperty(schedule_expression=self.services.settings.job_schedule),
        )
        for table in self._table_deps("raw"):
            crawler.add_resource_dependency(table)
        self._acknowledge_security_configuration(crawler, ("AwsSolutions-GL1",))
        self._grant(role, "Crawler", ["ALTER", "DESCRIBE"], ("raw",))
        self._acknowledge_glue_role(role, ["raw"], tenant_prefix)
        self.crawler_role = role
        return crawler

    # ------------------------------------------------------------------ governance

    def _job(self, masking_key: secretsmanager.ISecret) -> glue.CfnJob:
        """Raw -> curated (declared columns, cast, required present) -> masked (PII hashed, redacted or truncated)."""
        role = self._glue_role(
            "JobRole", f"Glue job {self.job_name}: raw to curated and masked for {self.database_name}"
        )
        tenant_prefix = f"{self.layout.tenant}/{self.layout.namespace.name}/"
        zones = self.services.zones
        zones["raw"].grant_read(role, f"{tenant_prefix}*")
        zones["curated"].grant_read_write(role, f"{tenant_prefix}*")
        zones["curated"].grant_put(role, f"_lineage/{self.database_name}/*")
        zones["masked"].grant_read_write(role, f"{tenant_prefix}*")
        masking_key.grant_read(role)
        script = self.services.job_script
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[script.bucket.arn_for_objects(script.s3_object_key)]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["glue:GetTable", "glue:BatchCreatePartition", "glue:GetPartition"],
                resources=self._table_arns(("curated", "masked")),
            )
        )
        plan = self.layout.job_plan(
            {zone: bucket.bucket_name for zone, bucket in zones.items()}, cdk.Stack.of(self).region
        )
        job = glue.CfnJob(
            self,
            "CurateAndMask",
            name=self.job_name,
            description=f"Curate and mask {self.database_name}: raw -> curated -> masked, lineage under _lineage/",
            role=role.role_arn,
            command=glue.CfnJob.JobCommandProperty(
                name="pythonshell", python_version="3.9", script_location=self.services.job_script.s3_object_url
            ),
            glue_version="3.0",
            max_capacity=0.0625,
            max_retries=1,
            timeout=120,
            # One run at a time: the masked object is the "done" marker, so overlapping runs would duplicate work.
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            security_configuration=self.services.security_configuration,
            default_arguments={"--plan": plan, "--hash_key_secret": masking_key.secret_arn},
        )
        for zone in ("curated", "masked"):
            for table in self._table_deps(zone):
                job.add_resource_dependency(table)
        self._acknowledge_security_configuration(job, ("AwsSolutions-GL1", "AwsSolutions-GL3"))
        self._grant(role, "Job", ["ALTER", "INSERT", "DESCRIBE"], ("curated", "masked"))
        glue.CfnTrigger(
            self,
            "Schedule",
            name=f"{self.job_name}-schedule",
            description=f"Runs {self.job_name} on the data lake's job schedule",
            type="SCHEDULED",
            schedule=self.services.settings.job_schedule,
            start_on_creation=True,
            actions=[glue.CfnTrigger.ActionProperty(job_name=self.job_name)],
        ).add_resource_dependency(job)
        self._acknowledge_glue_role(role, ["raw", "curated", "masked"], tenant_prefix)
        policy = role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{self._nag_objects('curated')}/_lineage/{self.database_name}/*]",
            "One lineage manifest per run, named by the Glue job run id, under this namespace's _lineage/ prefix.",
        )
        self.job_role = role
        return job

    def _quality(self, dataset: m.Dataset) -> glue.CfnDataQualityRuleset:
        """Glue Data Quality rules on the curated table, evaluated on the data lake's quality schedule."""
        stack = cdk.Stack.of(self)
        table = table_name("curated", dataset.name)
        ruleset = glue.CfnDataQualityRuleset(
            self,
            f"Quality-{dataset.name}",
            name=f"{self.database_name}.{table}",
            description=f"Data quality of {self.database_name}.{table}",
            ruleset=dqdl(dataset),
            target_table=glue.CfnDataQualityRuleset.DataQualityTargetTableProperty(
                database_name=self.database_name, table_name=table
            ),
        )
        ruleset.add_resource_dependency(self.tables[("curated", dataset.name)])
        role = self._quality_role()
        results = f"s3://{self.services.zones['curated'].bucket_name}/_quality/{self.database_name}/{table}/"
        runner = iam.Role(
            self,
            f"QualityScheduleRole-{dataset.name}",
            description=f"EventBridge Scheduler: starts data quality runs on {self.database_name}.{table}, nothing else",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": self.services.quality_schedules.schedule_group_arn,
                    }
                },
            ),
        )
        scheduler.Schedule(
            self,
            f"QualitySchedule-{dataset.name}",
            description=f"Evaluate the data quality rules of {self.database_name}.{table}",
            schedule=scheduler.ScheduleExpression.expression(self.services.settings.quality_schedule),
            schedule_group=self.services.quality_schedules,
            key=self.services.key,
            target=scheduler_targets.Universal(
                service="glue",
                action="startDataQualityRulesetEvaluationRun",
                input=scheduler.ScheduleTargetInput.from_object(
                    {
                        "DataSource": {"GlueTable": {"DatabaseName": self.database_name, "TableName": table}},
                        "Role": role.role_arn,
                        "RulesetNames": [ruleset.name],
                        "AdditionalRunOptions": {"CloudWatchMetricsEnabled": True, "ResultsS3Prefix": results},
                    }
                ),
                policy_statements=[
                    iam.PolicyStatement(
                        actions=["glue:StartDataQualityRulesetEvaluationRun"],
                        resources=[
                            stack.format_arn(service="glue", resource="dataQualityRuleset", resource_name=ruleset.name),
                        ],
                    ),
                    iam.PolicyStatement(
                        actions=["iam:PassRole"],
                        resources=[role.role_arn],
                        conditions={"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}},
                    ),
                ],
                role=runner,
                retry_attempts=2,
                max_event_age=cdk.Duration.hours(6),
            ),
        ).node.add_dependency(ruleset)
        acknowledge_compliance(
            runner.node.find_child("DefaultPolicy"),
            "IAMNoInlinePolicy",
            "The scheduler L2 writes its target grant (start runs of this one ruleset, pass its role to Glue) "
            "as a policy attached only to this schedule's role.",
        )
        return ruleset

    def _quality_role(self) -> iam.Role:
        """One role per namespace evaluates its curated tables (read only) and writes results under _quality/."""
        existing = self.node.try_find_child("QualityRole")
        if existing is not None:
            return existing
        role = self._glue_role("QualityRole", f"Glue Data Quality: evaluates {self.database_name}'s curated tables")
        tenant_prefix = f"{self.layout.tenant}/{self.layout.namespace.name}/"
        curated = self.services.zones["curated"]
        curated.grant_read(role, f"{tenant_prefix}*")
        curated.grant_put(role, f"_quality/{self.database_name}/*")
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "glue:GetTable",
                    "glue:GetPartitions",
                    "glue:GetDataQualityRuleset",
                    "glue:PublishDataQuality",
                ],
                resources=self._table_arns(("curated",))
                + [
                    cdk.Stack.of(self).format_arn(
                        service="glue", resource="dataQualityRuleset", resource_name=f"{self.database_name}.*"
                    )
                ],
            )
        )
        # Lake Formation vends the credentials for the curated tables' data; the action takes no resource.
        # Which tables it vends for is decided by the Lake Formation grants below (_grant), not by IAM.
        role.add_to_policy(iam.PolicyStatement(actions=["lakeformation:GetDataAccess"], resources=["*"]))
        self._grant(role, "Quality", READ, ())
        self._acknowledge_glue_role(role, ["curated"], tenant_prefix)
        policy = role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{self._nag_objects('curated')}/_quality/{self.database_name}/*]",
            "Data quality results, one object per run, under this namespace's _quality/ prefix.",
        )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{nag_arn(self, 'glue', f'dataQualityRuleset/{self.database_name}.*')}]",
            "The rulesets of this namespace's curated tables, all named <database>.<table>.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "lakeformation:GetDataAccess supports only Resource '*': Lake Formation decides per table from this role's "
            "SELECT grants on this namespace's curated tables.",
        )
        return role

    # ------------------------------------------------------------------ producers and feedback

    def _ingest_role(self) -> iam.Role:
        """Producers outside the lake write raw data through this role, and nowhere else."""
        ns = self.layout.namespace
        role = iam.Role(
            self,
            "IngestRole",
            role_name=naming.namespace_ingest_role(self.layout.tenant, ns.name),
            description=f"Producers write raw data of {self.database_name} (batch files and streams) and nothing else",
            assumed_by=iam.CompositePrincipal(*[iam.AccountPrincipal(account) for account in sorted(ns.producers)]),
            max_session_duration=cdk.Duration.hours(1),
        )
        for dataset in self.layout.datasets:
            if dataset.ingestion == "batch":
                self.services.zones["raw"].grant_put(role, f"{self.layout.prefix(dataset)}*")
        for stream in self.streams.values():
            stream.grant_put_records(role)
        policy = role.node.find_child("DefaultPolicy")
        raw_objects = self._nag_objects("raw")
        for dataset in self.layout.datasets:
            if dataset.ingestion == "batch":
                acknowledge(
                    policy,
                    f"AwsSolutions-IAM5[Resource::{raw_objects}/{self.layout.prefix(dataset)}*]",
                    "Batch producers name their own files under this dataset's prefix (dt=YYYY-MM-DD/<file>).",
                )
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*", "s3:Abort*"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Action::{action}]",
                "S3 PutObject with SSE-KMS needs data keys from the zone's CMK; "
                "multipart uploads may be aborted by their writer.",
            )
        acknowledge_compliance(
            policy,
            "IAMNoInlinePolicy",
            "The producers' grants are a policy attached only to this namespace's ingest role.",
        )
        return role

    def _feedback(self, accounts: list[str]) -> events.Rule:
        """The connector seed 000 asks for: tenant monitoring signals land in this namespace's raw zone."""
        stream = self.streams[m.FEEDBACK_DATASET]
        rule = events.Rule(
            self,
            "FeedbackRule",
            description=f"Agent monitoring signals from {', '.join(sorted(accounts))} into {self.database_name}.raw_{m.FEEDBACK_DATASET}",
            event_bus=self.services.feedback_bus,
            event_pattern=events.EventPattern(account=sorted(accounts), source=FEEDBACK_SOURCES),
            targets=[
                targets.FirehoseDeliveryStream(
                    stream,
                    message=events.RuleTargetInput.from_object(
                        {
                            "id": events.EventField.event_id,
                            "time": events.EventField.time,
                            "account": events.EventField.account,
                            "source": events.EventField.source,
                            "detail_type": events.EventField.detail_type,
                            "detail": events.EventField.from_path("$.detail"),
                        }
                    ),
                )
            ],
        )
        acknowledge_compliance(
            stream.node.find_child("EventsRole").node.find_child("DefaultPolicy"),
            "IAMNoInlinePolicy",
            "The events-target L2 writes PutRecord(Batch) on this one stream as a policy attached only to its role.",
        )
        return rule

    # ------------------------------------------------------------------ roles

    def _grant(self, role: iam.Role, name: str, permissions: list[str], locations: tuple[str, ...]) -> None:
        """Lake Formation side of a lake role: its namespace's tables, and the zones it adds partitions in."""
        catalog = self.services.catalog_id
        grant = grant_tables(
            self,
            f"{name}Grant",
            catalog_id=catalog,
            role=role,
            database=self.database_name,
            permissions=permissions,
            depends_on=self.database,
        )
        for table in self.tables.values():
            grant.add_resource_dependency(table)
        for zone in locations:
            grant_location(
                self,
                f"{name}Location-{zone}",
                catalog_id=catalog,
                role=role,
                location_arn=self.services.zones[zone].bucket_arn,
            )

    def _glue_role(self, construct_id: str, description: str) -> iam.Role:
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            construct_id,
            description=description,
            assumed_by=iam.ServicePrincipal(
                "glue.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
        # Glue writes run logs under /aws-glue/ and, with the security configuration, encrypts them with the lake's key.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="/aws-glue/*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        self.services.lake_key.grant_encrypt_decrypt(role)
        return role

    def _acknowledge_security_configuration(self, resource: cdk.CfnResource, findings: tuple[str, ...]) -> None:
        for finding in findings:
            acknowledge(
                resource,
                finding,
                f"Uses the security configuration {self.services.security_configuration} (DataLake stack, "
                "referenced by name): CloudWatch logs SSE-KMS, job bookmarks CSE-KMS and S3 SSE-KMS with the zones' CMK.",
            )

    def _nag_objects(self, zone: str) -> str:
        """A zone bucket's ARN as cdk-nag prints it in finding ids (it shows the import's export name)."""
        partition = cdk.Stack.of(self).partition
        partition = "<AWS::Partition>" if cdk.Token.is_unresolved(partition) else partition
        return f"arn:{partition}:s3:::{naming.data_lake_export(f'{zone}-bucket')}"

    def _acknowledge_glue_role(self, role: iam.Role, zones: list[str], tenant_prefix: str) -> None:
        policy = role.node.find_child("DefaultPolicy")
        for zone in zones:
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::{self._nag_objects(zone)}/{tenant_prefix}*]",
                "This namespace's objects: one prefix per tenant namespace in each zone, files named by the writer.",
            )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{nag_arn(self, 'logs', 'log-group:/aws-glue/*')}]",
            "Glue names its run log groups per security configuration and role (/aws-glue/<kind>-<config>-role/...).",
        )
        for action in (
            "s3:Abort*",
            "s3:DeleteObject*",
            "s3:GetBucket*",
            "s3:GetObject*",
            "s3:List*",
            "kms:GenerateDataKey*",
            "kms:ReEncrypt*",
        ):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Action::{action}]",
                "The S3 grant action groups on this namespace's prefix, and data "
                "keys from the lake's CMK for the objects and logs written there.",
            )
        acknowledge_compliance(
            policy, "IAMNoInlinePolicy", "The namespace's grants are a policy attached only to this Glue role."
        )


def glue_resource(*, database: str, catalog_id: str, table: str | None = None) -> lf.CfnTagAssociation.ResourceProperty:
    if table is None:
        return lf.CfnTagAssociation.ResourceProperty(
            database=lf.CfnTagAssociation.DatabaseResourceProperty(catalog_id=catalog_id, name=database)
        )
    return lf.CfnTagAssociation.ResourceProperty(
        table=lf.CfnTagAssociation.TableResourceProperty(catalog_id=catalog_id, database_name=database, name=table)
    )


def quality_rules(dataset: m.Dataset) -> list[str]:
    """Every required column complete, plus the dataset's own rules."""
    return [f'IsComplete "{c.name}"' for c in dataset.columns if c.required] + list(dataset.quality_rules)


def dqdl(dataset: m.Dataset) -> str:
    return "Rules = [\n    " + ",\n    ".join(quality_rules(dataset)) + "\n]"


def _comment(column: m.DataColumn, zone: str) -> str | None:
    if zone == "masked" and column.pii:
        return f"PII, masked: {column.pii}"
    return column.description
