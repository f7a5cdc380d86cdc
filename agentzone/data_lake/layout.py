"""Where a tenant namespace's data lives, derived from config alone.

The data lake stack (tables, grants, jobs), the curate-and-mask job's plan and
the tenant accounts' resource links all read these names, so they agree by
construction. Renaming anything here moves data: treat it as a contract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .. import naming
from ..config import model as m

# Zone -> LF-tag sensitivity. Raw is unvalidated and may hold anything; curated is conformed but
# still personal; masked has every PII column hashed, redacted or truncated.
ZONES = ("raw", "curated", "masked")
SENSITIVITY = {"raw": "restricted", "curated": "confidential", "masked": "masked"}
PARTITION_KEY = "dt"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

# What the feedback connector delivers: one row per EventBridge event from a tenant's prod account.
FEEDBACK_DATASET = m.Dataset(
    name=m.FEEDBACK_DATASET,
    description="Agent monitoring signals (evaluation results, alarm state changes) forwarded from the tenant's accounts",
    ingestion="stream",
    columns=[
        m.DataColumn(name="id", required=True, description="EventBridge event id"),
        m.DataColumn(name="time", type="timestamp", required=True),
        m.DataColumn(name="account", required=True, description="Tenant account the signal came from"),
        m.DataColumn(name="source", required=True, description="agentzone.evaluation or aws.cloudwatch"),
        m.DataColumn(name="detail_type", required=True),
        m.DataColumn(name="detail", description="The event's detail as JSON"),
    ],
)


def datasets(namespace: m.DataNamespace) -> list[m.Dataset]:
    """Configured datasets plus the feedback dataset when signals flow into this namespace.

    In canonical order (datasets, columns and rules by name): the order of a
    YAML list must never change a template. JSON tables map columns by name,
    so the column order carries no meaning.
    """
    found = [*namespace.datasets, *([FEEDBACK_DATASET] if namespace.feedback_from else [])]
    return [
        d.model_copy(
            update={"columns": sorted(d.columns, key=lambda c: c.name), "quality_rules": sorted(d.quality_rules)}
        )
        for d in sorted(found, key=lambda d: d.name)
    ]


def namespaces(tenant: m.Tenant) -> list[m.DataNamespace]:
    return sorted(tenant.data.namespaces, key=lambda ns: ns.name)


def table_name(zone: str, dataset: str) -> str:
    return f"{zone}_{dataset}"


def dataset_prefix(tenant: str, namespace: str, dataset: str) -> str:
    """The same key prefix in every zone bucket; partitions below it are dt=YYYY-MM-DD/."""
    return f"{tenant}/{namespace}/{dataset}/"


def column_type(column: m.DataColumn, zone: str) -> str:
    """Hashed and truncated values are strings in the masked zone, whatever they were."""
    if zone == "masked" and column.pii in ("hash", "partial"):
        return "string"
    return column.type


@dataclass(frozen=True)
class NamespaceLayout:
    tenant: str
    namespace: m.DataNamespace

    @property
    def database(self) -> str:
        return naming.namespace_database(self.tenant, self.namespace.name)

    @property
    def datasets(self) -> list[m.Dataset]:
        return datasets(self.namespace)

    def prefix(self, dataset: m.Dataset) -> str:
        return dataset_prefix(self.tenant, self.namespace.name, dataset.name)

    def job_plan(self, buckets: dict[str, str], region: str) -> str:
        """The curate-and-mask job's --plan argument (see data_lake/jobs/curate_and_mask.py)."""
        plan = {
            "database": self.database,
            "region": region,
            **{f"{zone}_bucket": buckets[zone] for zone in ZONES},
            "datasets": [
                {
                    "name": d.name,
                    "prefix": self.prefix(d),
                    **{f"{zone}_table": table_name(zone, d.name) for zone in ZONES},
                    "partition_keys": [PARTITION_KEY],
                    "columns": [
                        {"name": c.name, "type": c.type, "required": c.required, "pii": c.pii} for c in d.columns
                    ],
                }
                for d in self.datasets
            ],
        }
        return json.dumps(plan, separators=(",", ":"))

    def lineage(self, dataset: m.Dataset, zone: str, job_name: str) -> dict[str, str]:
        """Table parameters that record where a zone's table comes from (lineage in the catalog)."""
        params = {"classification": "json", "agentzone:zone": zone, "agentzone:tenant": self.tenant}
        if zone == "raw":
            params["agentzone:ingestion"] = (
                f"firehose:{naming.dataset_stream(self.tenant, self.namespace.name, dataset.name)}"
                if dataset.ingestion == "stream"
                else f"batch:{self.prefix(dataset)}"
            )
            return params
        source = "raw" if zone == "curated" else "curated"
        params["agentzone:lineage:source"] = f"{self.database}.{table_name(source, dataset.name)}"
        params["agentzone:lineage:job"] = job_name
        if zone == "masked":
            masked = [f"{c.name}:{c.pii}" for c in dataset.columns if c.pii]
            params["agentzone:masked_columns"] = ",".join(masked) or "(none)"
        return params
