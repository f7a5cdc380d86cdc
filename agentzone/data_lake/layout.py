"""Where a tenant namespace's data lives: the names every reader of the lake agrees on.

The data lake stack (tables, grants, jobs), the curate-and-mask job's plan and
the tenant accounts' resource links all read these names, so they agree by
construction. Renaming anything here moves data: treat it as a contract.

The namespace, dataset and column types here are plain frozen dataclasses, the
props the data lake constructs take; ``agentzone.data_lake.from_config`` builds
them from the config model. This module imports no config and no aws-cdk-lib.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from .. import naming

# Zone -> LF-tag sensitivity. Raw is unvalidated and may hold anything; curated is conformed but
# still personal; masked has every PII column hashed, redacted or truncated.
ZONES = ("raw", "curated", "masked")
SENSITIVITY = {"raw": "restricted", "curated": "confidential", "masked": "masked"}
PARTITION_KEY = "dt"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


@dataclass(frozen=True)
class Column:
    """One column of a dataset; ``pii`` says how the masked zone hides it (hash, redact or partial)."""

    name: str
    type: str = "string"
    required: bool = False
    pii: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Dataset:
    """One table in each zone (raw_<name>, curated_<name>, masked_<name>); ``ingestion`` is batch or stream."""

    name: str
    columns: tuple[Column, ...]
    description: str | None = None
    ingestion: str = "batch"
    quality_rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feedback:
    """Agent monitoring signals from ``accounts`` land in the stream dataset ``dataset`` (see feedback_dataset)."""

    dataset: str
    accounts: tuple[str, ...]


@dataclass(frozen=True)
class Namespace:
    """A Glue database of one tenant; ``producers`` are the accounts that may write its raw data."""

    name: str
    datasets: tuple[Dataset, ...] = ()
    description: str | None = None
    producers: tuple[str, ...] = ()
    feedback: Feedback | None = None


@dataclass(frozen=True)
class Reader:
    """A tenant account the lake grants to, and whether it may see unmasked (curated) data."""

    environment: str
    account: str
    unmasked: bool

    @property
    def sensitivities(self) -> tuple[str, ...]:
        return (SENSITIVITY["curated"], SENSITIVITY["masked"]) if self.unmasked else (SENSITIVITY["masked"],)


def feedback_dataset(name: str) -> Dataset:
    """What the feedback connector delivers: one row per EventBridge event from a tenant's account."""
    return Dataset(
        name=name,
        description="Agent monitoring signals (evaluation results, alarm state changes) forwarded from the "
        "tenant's accounts",
        ingestion="stream",
        columns=(
            Column(name="id", required=True, description="EventBridge event id"),
            Column(name="time", type="timestamp", required=True),
            Column(name="account", required=True, description="Tenant account the signal came from"),
            Column(name="source", required=True, description="agentzone.evaluation or aws.cloudwatch"),
            Column(name="detail_type", required=True),
            Column(name="detail", description="The event's detail as JSON"),
        ),
    )


def datasets(namespace: Namespace) -> list[Dataset]:
    """The namespace's datasets plus the feedback dataset when signals flow into it.

    In canonical order (datasets, columns and rules by name): the order of a
    YAML list must never change a template. JSON tables map columns by name,
    so the column order carries no meaning.
    """
    feedback = [feedback_dataset(namespace.feedback.dataset)] if namespace.feedback else []
    return [
        replace(d, columns=tuple(sorted(d.columns, key=lambda c: c.name)), quality_rules=tuple(sorted(d.quality_rules)))
        for d in sorted([*namespace.datasets, *feedback], key=lambda d: d.name)
    ]


def table_name(zone: str, dataset: str) -> str:
    return f"{zone}_{dataset}"


def dataset_prefix(tenant: str, namespace: str, dataset: str) -> str:
    """The same key prefix in every zone bucket; partitions below it are dt=YYYY-MM-DD/."""
    return f"{tenant}/{namespace}/{dataset}/"


def column_type(column: Column, zone: str) -> str:
    """Hashed and truncated values are strings in the masked zone, whatever they were."""
    if zone == "masked" and column.pii in ("hash", "partial"):
        return "string"
    return column.type


@dataclass(frozen=True)
class NamespaceLayout:
    tenant: str
    namespace: Namespace

    @property
    def database(self) -> str:
        return naming.namespace_database(self.tenant, self.namespace.name)

    @property
    def datasets(self) -> list[Dataset]:
        return datasets(self.namespace)

    def prefix(self, dataset: Dataset) -> str:
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

    def lineage(self, dataset: Dataset, zone: str, job_name: str) -> dict[str, str]:
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
