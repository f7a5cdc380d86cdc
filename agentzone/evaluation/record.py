"""The evaluation store's item layout, shared by the gate Lambda, the pipeline definition and the CLI.

Standard library only (shipped in the gate Lambda). One item per agent version:

=================  ====  =============================================================
attribute          type  meaning
=================  ====  =============================================================
agent              S     partition key: the agent (runtime) name
version            S     sort key: the agent version evaluated
passed             BOOL  the pipeline's verdict at evaluation time
metrics            M     metric name -> score (0..1)
thresholds         M     thresholds in force at evaluation time
max_regression     N     allowed drop against the baseline at evaluation time
baseline_version   S     the approved version it was compared with (absent: none yet)
report             S     the gate's readable report
evaluated_at       S     ISO-8601 UTC
run                S     the Step Functions execution that produced it
approved_agent     S     set when the version is approved as baseline (sparse index key)
approved_at        S     ISO-8601 UTC, sort key of the sparse index: latest approval wins
approved_by        S     who approved it
=================  ====  =============================================================

The sparse index ``approved`` holds approved versions only, so the baseline is one
``Query(approved_agent = A, ScanIndexForward=false, Limit=1)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PARTITION_KEY = "agent"
SORT_KEY = "version"
BASELINE_INDEX = "approved"
BASELINE_INDEX_PARTITION_KEY = "approved_agent"
BASELINE_INDEX_SORT_KEY = "approved_at"

AGENT_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,47}$")
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def table_name(tenant: str, environment: str) -> str:
    """The evaluation store of one tenant account: ``agentzone-<tenant>-evaluations-<environment>``."""
    return f"agentzone-{tenant}-evaluations-{environment}"


def _number(value: float) -> dict[str, str]:
    return {"N": repr(round(float(value), 9))}


def _scores(values: Mapping[str, float]) -> dict[str, Any]:
    return {"M": {name: _number(score) for name, score in sorted(values.items())}}


def to_item(
    *,
    agent: str,
    version: str,
    passed: bool,
    metrics: Mapping[str, float],
    thresholds: Mapping[str, float],
    max_regression: float,
    report: str,
    evaluated_at: str,
    run: str,
    baseline_version: str | None = None,
) -> dict[str, Any]:
    """A result as a DynamoDB item (attribute-value form, as PutItem takes it)."""
    item = {
        PARTITION_KEY: {"S": agent},
        SORT_KEY: {"S": version},
        "passed": {"BOOL": bool(passed)},
        "metrics": _scores(metrics),
        "thresholds": _scores(thresholds),
        "max_regression": _number(max_regression),
        "report": {"S": report},
        "evaluated_at": {"S": evaluated_at},
        "run": {"S": run},
    }
    if baseline_version:
        item["baseline_version"] = {"S": baseline_version}
    return item


def _plain(value: Mapping[str, Any]) -> Any:
    ((kind, raw),) = value.items()
    if kind == "N":
        return float(raw)
    if kind == "M":
        return {k: _plain(v) for k, v in raw.items()}
    if kind == "L":
        return [_plain(v) for v in raw]
    if kind == "NULL":
        return None
    return raw


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item (attribute-value form) as plain Python values."""
    return {key: _plain(value) for key, value in item.items()}
