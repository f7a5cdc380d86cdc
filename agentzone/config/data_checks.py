"""Rules for the data lake: the organization's ``data_lake:`` and each tenant's ``data:``.

Names that become Glue, Firehose and IAM names are checked against their
service limits here, so a long name fails validation with its line instead
of failing a deploy.
"""

from __future__ import annotations

import re

from .. import naming
from . import model as m
from .source import Problem, SourceDoc
from .source import duplicate_problems as _duplicates

# Glue Data Quality Definition Language rule types (docs.aws.amazon.com/glue/latest/dg/dqdl.html).
DQDL_RULE_TYPES = frozenset(
    {
        "AggregateMatch",
        "AllStatistics",
        "ColumnCorrelation",
        "ColumnCount",
        "ColumnDataType",
        "ColumnExists",
        "ColumnLength",
        "ColumnNamesMatchPattern",
        "ColumnValues",
        "Completeness",
        "CustomSql",
        "DataFreshness",
        "DatasetMatch",
        "DetectAnomalies",
        "DistinctValuesCount",
        "Entropy",
        "FileFreshness",
        "FileMatch",
        "FileSize",
        "FileUniqueness",
        "IsComplete",
        "IsPrimaryKey",
        "IsUnique",
        "Mean",
        "ReferentialIntegrity",
        "RowCount",
        "RowCountMatch",
        "SchemaMatch",
        "StandardDeviation",
        "Sum",
        "Uniqueness",
        "UniqueValueRatio",
    }
)
# Rules whose quoted strings are not column names of this dataset.
_NO_COLUMN_RULES = frozenset(
    {
        "CustomSql",
        "DatasetMatch",
        "AggregateMatch",
        "ReferentialIntegrity",
        "RowCountMatch",
        "SchemaMatch",
        "ColumnNamesMatchPattern",
    }
)
_RULE = re.compile(r"^\s*([A-Z][A-Za-z]+)\b")
_QUOTED = re.compile(r'"([^"]*)"')


def data_lake_problems(doc: SourceDoc, org: m.Organization) -> list[Problem]:
    base = ("data_lake",)
    settings = org.data_lake
    problems = _duplicates(doc, (*base, "admin_roles"), settings.admin_roles)
    problems += _duplicates(doc, (*base, "unmasked_environments"), settings.unmasked_environments)
    for i, env in enumerate(settings.unmasked_environments):
        if env not in org.environments:
            problems.append(
                doc.problem(
                    (*base, "unmasked_environments", i),
                    f"unknown environment {env!r}; valid: {', '.join(org.environments)}",
                )
            )
    if settings.raw_expire_days is not None and settings.raw_expire_days <= settings.infrequent_access_after_days:
        problems.append(
            doc.problem(
                (*base, "raw_expire_days"),
                f"must be later than infrequent_access_after_days ({settings.infrequent_access_after_days})",
            )
        )
    return problems


# Resources a tenant's data stack holds (AgentZone-<tenant>-<env>-data in the central environment,
# the largest); tests/stacks/test_data_lake.py keeps these at or above the synthesized counts.
STACK_RESOURCE_LIMIT = 450  # CloudFormation allows 500; leave room for outputs of later versions
_PER_TENANT, _PER_ENVIRONMENT = 6, 2  # key, alias, schedule group, secret...; DESCRIBE + SELECT grant per account
_PER_NAMESPACE, _PER_PRODUCERS = 16, 2  # database, crawler, job, trigger, three Glue roles, grants; the ingest role
_PER_DATASET, _PER_STREAM, _PER_FEEDBACK = (
    9,
    7,
    3,
)  # tables, tags, quality; Firehose and its roles and logs; feedback rule


def estimated_data_resources(tenant: m.Tenant) -> int:
    total = _PER_TENANT + _PER_ENVIRONMENT * len(tenant.environments)
    for ns in tenant.data.namespaces:
        total += _PER_NAMESPACE + (_PER_PRODUCERS if ns.producers else 0)
        streams = sum(d.ingestion == "stream" for d in ns.datasets) + (1 if ns.feedback_from else 0)
        total += _PER_DATASET * (len(ns.datasets) + (1 if ns.feedback_from else 0)) + _PER_STREAM * streams
        total += _PER_FEEDBACK if ns.feedback_from else 0
    return total


def tenant_data_problems(doc: SourceDoc, tenant: m.Tenant) -> list[Problem]:
    base = ("data", "namespaces")
    namespaces = tenant.data.namespaces
    problems = _duplicates(doc, base, [ns.name for ns in namespaces])
    estimate = estimated_data_resources(tenant)
    if estimate > STACK_RESOURCE_LIMIT:
        problems.append(
            doc.problem(
                ("data",),
                f"these namespaces need about {estimate} resources in one data stack (at most {STACK_RESOURCE_LIMIT}: "
                "CloudFormation's limit is 500); move datasets into another tenant or drop some",
            )
        )
    for i, ns in enumerate(namespaces):
        problems += _namespace_problems(doc, (*base, i), tenant, ns)
    return problems


def _namespace_problems(doc: SourceDoc, path: tuple, tenant: m.Tenant, ns: m.DataNamespace) -> list[Problem]:
    problems: list[Problem] = []
    if not ns.datasets and not ns.feedback_from:
        problems.append(doc.problem(path, "a namespace needs datasets, feedback_from, or both"))
    problems += _duplicates(doc, (*path, "datasets"), [d.name for d in ns.datasets])
    problems += _duplicates(doc, (*path, "feedback_from"), ns.feedback_from)
    problems += _duplicates(doc, (*path, "producers"), ns.producers)
    for i, env in enumerate(ns.feedback_from):
        if env not in tenant.environments:
            problems.append(
                doc.problem(
                    (*path, "feedback_from", i),
                    f"{env!r} is not one of this tenant's environments ({', '.join(tenant.environments)})",
                )
            )
    if ns.producers:
        role = naming.namespace_ingest_role(tenant.tenant, ns.name)
        if len(role) > 64:
            problems.append(
                doc.problem(
                    (*path, "name"),
                    f"the ingest role name {role!r} would be {len(role)} characters (IAM allows 64); shorten the "
                    "namespace name",
                )
            )
    if ns.feedback_from:
        stream = naming.dataset_stream(tenant.tenant, ns.name, m.FEEDBACK_DATASET)
        if len(stream) > naming.FIREHOSE_NAME_MAX:
            problems.append(
                doc.problem(
                    (*path, "name"),
                    f"the feedback Firehose stream name {stream!r} would be {len(stream)} characters (at most "
                    f"{naming.FIREHOSE_NAME_MAX}); shorten the namespace name",
                )
            )
    for i, dataset in enumerate(ns.datasets):
        dpath = (*path, "datasets", i)
        if ns.feedback_from and dataset.name == m.FEEDBACK_DATASET:
            problems.append(
                doc.problem(
                    (*dpath, "name"),
                    f"{m.FEEDBACK_DATASET!r} is the dataset feedback_from creates; choose another name",
                )
            )
        problems += _dataset_problems(doc, dpath, tenant, ns, dataset)
    return problems


def _dataset_problems(
    doc: SourceDoc, path: tuple, tenant: m.Tenant, ns: m.DataNamespace, dataset: m.Dataset
) -> list[Problem]:
    columns = [c.name for c in dataset.columns]
    problems = _duplicates(doc, (*path, "columns"), columns)
    if "dt" in columns:
        problems.append(
            doc.problem(
                (*path, "columns", columns.index("dt"), "name"),
                "'dt' is the partition column every zone adds (dt=YYYY-MM-DD); rename this column",
            )
        )
    if dataset.ingestion == "stream":
        stream = naming.dataset_stream(tenant.tenant, ns.name, dataset.name)
        if len(stream) > naming.FIREHOSE_NAME_MAX:
            problems.append(
                doc.problem(
                    (*path, "name"),
                    f"the Firehose stream name {stream!r} would be {len(stream)} characters (at most "
                    f"{naming.FIREHOSE_NAME_MAX}); shorten the namespace or dataset name",
                )
            )
    for i, rule in enumerate(dataset.quality_rules):
        problems += [doc.problem((*path, "quality_rules", i), message) for message in dqdl_rule_problems(rule, columns)]
    return problems


def dqdl_rule_problems(rule: str, columns: list[str]) -> list[str]:
    """A DQDL rule names a known rule type and, where it names columns, columns of this dataset."""
    match = _RULE.match(rule)
    if match is None or match.group(1) not in DQDL_RULE_TYPES:
        found = match.group(1) if match else rule.split()[0]
        return [f"{found!r} is not a Glue Data Quality rule type; valid: {', '.join(sorted(DQDL_RULE_TYPES))}"]
    if match.group(1) in _NO_COLUMN_RULES:
        return []
    # Only the quoted names before the operator are columns: ColumnValues "state" in ["open", "closed"].
    head = re.split(r"\s(?:in|between|matches|=|>=|<=|>|<|!=)\s", rule, maxsplit=1)[0]
    return [
        f"column {name!r} is not in this dataset (columns: {', '.join(columns)})"
        for name in _QUOTED.findall(head)
        if name not in columns
    ]
