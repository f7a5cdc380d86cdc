"""One tenant's namespaces in the data lake: catalog, grants, ingestion and governance.

Per namespace: a Glue database with a raw, curated and masked table per
dataset (LF-tagged by tenant and sensitivity, lineage in table parameters),
a Firehose stream per streamed dataset, a crawler that keeps raw partitions
current, the curate-and-mask job (raw -> curated -> masked) and scheduled
data quality rules on the curated tables. Per tenant: the masking key and the
LF-tag grants to the tenant's accounts (curated and masked in unmasked
environments, masked only elsewhere).

The namespace's parts are built in scope of the :class:`DataNamespace` itself
by :mod:`.lake_ingestion` (streams, producers, feedback), :mod:`.lake_jobs`
(crawler, curate-and-mask job) and :mod:`.lake_quality` (data quality rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lf
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .. import naming
from ..data_lake.layout import (
    JSON_SERDE,
    PARTITION_KEY,
    SENSITIVITY,
    TEXT_INPUT,
    TEXT_OUTPUT,
    ZONES,
    Column,
    Dataset,
    Namespace,
    NamespaceLayout,
    Reader,
    column_type,
    table_name,
)
from ..nag import acknowledge, acknowledge_compliance
from .lake_formation import READ, TagCondition, grant_by_tags, tag_resource
from .lake_ingestion import delivery_stream, feedback_rule, ingest_role
from .lake_jobs import crawler, curate_and_mask_job
from .lake_quality import quality_rules, quality_ruleset
from .lake_scope import LakeServices, NamespaceScope

JOB_SCRIPT = Path(__file__).resolve().parents[1] / "data_lake" / "jobs" / "curate_and_mask.py"


@dataclass(frozen=True)
class TenantDataLakeProps:
    """``readers``: the tenant accounts granted its namespaces (none outside the central environment's lake)."""

    tenant: str
    namespaces: tuple[Namespace, ...]
    services: LakeServices
    readers: tuple[Reader, ...] = ()


class TenantDataLake(Construct):
    """Everything one tenant has in the data lake account."""

    def __init__(self, scope: Construct, construct_id: str, *, props: TenantDataLakeProps) -> None:
        super().__init__(scope, construct_id)
        self.tenant = props.tenant
        self.masking_key = self._masking_key(props.services.key)
        self.grants: dict[tuple[str, str], lf.CfnPrincipalPermissions] = {}
        for reader in sorted(props.readers, key=lambda r: r.environment):
            self._grant(reader, props.services.catalog_id)
        self.namespaces = {
            ns.name: DataNamespace(
                self,
                f"Namespace-{ns.name}",
                props=DataNamespaceProps(
                    tenant=props.tenant, namespace=ns, services=props.services, masking_key=self.masking_key
                ),
            )
            for ns in sorted(props.namespaces, key=lambda ns: ns.name)
        }

    def _masking_key(self, key: kms.IKey) -> secretsmanager.Secret:
        """Per tenant, so one tenant's hashes cannot be joined with another's.

        Never rotated: rotation would change every hashed value and break joins with earlier masked data.
        """
        secret = secretsmanager.Secret(
            self,
            "MaskingKey",
            secret_name=f"{naming.PREFIX}/data-lake/{self.tenant}/masking-key",
            description=f"HMAC key the curate-and-mask job hashes {self.tenant}'s PII columns with",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "A masking key is not a credential: rotating it would change every "
            "hashed value and break joins between masked data written before and after.",
        )
        acknowledge_compliance(
            secret,
            "SecretsManagerRotationEnabled",
            "HMAC masking key: rotation would change every hashed value and break joins across masked datasets.",
        )
        acknowledge_compliance(
            secret, "SecretsManagerUsingKMSKey", "Encrypted with the data lake's CMK (encryption_key)."
        )
        return secret

    def _grant(self, reader: Reader, catalog: str) -> None:
        """LF-tag grants to one tenant account, with grant option so its own admin re-grants to its roles."""
        tenant_tag = TagCondition(naming.LF_TAG_TENANT, (self.tenant,))
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


@dataclass(frozen=True)
class DataNamespaceProps:
    tenant: str
    namespace: Namespace
    services: LakeServices
    masking_key: secretsmanager.ISecret  # the tenant's HMAC key the curate-and-mask job hashes PII with


class DataNamespace(NamespaceScope):
    """One namespace: its catalog here, its ingestion, jobs and quality rules built in this scope by helpers.

    Attributes: ``database``, ``tables`` ((zone, dataset) -> table), ``streams``, ``crawler``,
    ``crawler_role``, ``job``, ``job_role``, ``quality``, ``ingest_role``, ``feedback_rule``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: DataNamespaceProps) -> None:
        super().__init__(scope, construct_id)
        layout = NamespaceLayout(props.tenant, props.namespace)
        self.layout, self.services = layout, props.services
        ns = props.namespace
        self.database_name = layout.database
        self.job_name = f"{naming.PREFIX}-{layout.tenant}-{ns.name}-curate-mask".replace("_", "-")
        self.database = self._database()
        self.tables: dict[tuple[str, str], glue.CfnTable] = {}
        for dataset in layout.datasets:
            for zone in ZONES:
                self.tables[(zone, dataset.name)] = self._table(dataset, zone)
        self.streams = {d.name: delivery_stream(self, d) for d in layout.datasets if d.ingestion == "stream"}
        self.crawler, self.crawler_role = crawler(self)
        self.job, self.job_role = curate_and_mask_job(self, props.masking_key)
        self.quality = {d.name: quality_ruleset(self, d) for d in layout.datasets if quality_rules(d)}
        self.ingest_role = ingest_role(self) if ns.producers else None
        self.feedback_rule = (
            feedback_rule(self, ns.feedback)
            if ns.feedback and ns.feedback.accounts and self.services.feedback_bus
            else None
        )

    def _database(self) -> glue.CfnDatabase:
        stack, layout = cdk.Stack.of(self), self.layout
        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name,
                description=layout.namespace.description or f"{layout.tenant} namespace {layout.namespace.name}",
                # No IAMAllowedPrincipals default on its tables: Lake Formation grants only.
                create_table_default_permissions=[],
                parameters={"agentzone:tenant": layout.tenant, "agentzone:namespace": layout.namespace.name},
            ),
        )
        # Tables inherit these; curated and masked tables override the sensitivity.
        tag_resource(
            self,
            "DatabaseTags",
            catalog_id=stack.account,
            resource=glue_resource(database=self.database_name, catalog_id=stack.account),
            tags={naming.LF_TAG_TENANT: layout.tenant, naming.LF_TAG_SENSITIVITY: SENSITIVITY["raw"]},
            depends_on=database,
        )
        return database

    def _table(self, dataset: Dataset, zone: str) -> glue.CfnTable:
        stack = cdk.Stack.of(self)
        name = table_name(zone, dataset.name)
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
                storage_descriptor=self._storage(dataset, zone),
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

    def _storage(self, dataset: Dataset, zone: str) -> glue.CfnTable.StorageDescriptorProperty:
        """JSON lines under the dataset's prefix in the zone's bucket."""
        return glue.CfnTable.StorageDescriptorProperty(
            location=f"s3://{self.services.zones[zone].bucket_name}/{self.layout.prefix(dataset)}",
            input_format=TEXT_INPUT,
            output_format=TEXT_OUTPUT,
            serde_info=glue.CfnTable.SerdeInfoProperty(
                serialization_library=JSON_SERDE, parameters={"ignore.malformed.json": "true"}
            ),
            columns=[
                glue.CfnTable.ColumnProperty(name=c.name, type=column_type(c, zone), comment=_comment(c, zone))
                for c in dataset.columns
            ],
        )


def glue_resource(*, database: str, catalog_id: str, table: str | None = None) -> lf.CfnTagAssociation.ResourceProperty:
    if table is None:
        return lf.CfnTagAssociation.ResourceProperty(
            database=lf.CfnTagAssociation.DatabaseResourceProperty(catalog_id=catalog_id, name=database)
        )
    return lf.CfnTagAssociation.ResourceProperty(
        table=lf.CfnTagAssociation.TableResourceProperty(catalog_id=catalog_id, database_name=database, name=table)
    )


def _comment(column: Column, zone: str) -> str | None:
    if zone == "masked" and column.pii:
        return f"PII, masked: {column.pii}"
    return column.description
