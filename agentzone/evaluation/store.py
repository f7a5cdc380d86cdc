"""boto3 library over a tenant's evaluation store (one table per tenant account and environment).

The pipeline writes one result per agent version; a version becomes the
baseline when it is approved (``approve``), which only a passing result may be.
``gate`` re-decides a stored result with the same gate module the pipeline
used, against the *current* approved baseline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from . import gate, record


class EvaluationError(Exception):
    """The store refused the operation (e.g. approving a failed result); the CLI exits 1."""


class InvalidRequest(EvaluationError):
    """The request is wrong or names nothing stored (bad agent/version, no result); the CLI exits 2."""


def check_names(agent: str, version: str) -> None:
    if not record.AGENT_PATTERN.match(agent or ""):
        raise InvalidRequest(
            f"agent {agent!r} must match {record.AGENT_PATTERN.pattern} (the runtime name in config, e.g. triage)"
        )
    if not record.VERSION_PATTERN.match(version or ""):
        raise InvalidRequest(f"version {version!r} must match {record.VERSION_PATTERN.pattern} (e.g. 7 or 1.4.0)")


class EvaluationStore:
    def __init__(self, table: str, *, session: boto3.Session | None = None, region: str | None = None) -> None:
        self.table = table
        self._ddb = (session or boto3.Session()).client("dynamodb", region_name=region)

    @classmethod
    def for_tenant(cls, tenant: str, environment: str, **kwargs) -> EvaluationStore:
        return cls(record.table_name(tenant, environment), **kwargs)

    def _key(self, agent: str, version: str) -> dict[str, Any]:
        return {record.PARTITION_KEY: {"S": agent}, record.SORT_KEY: {"S": version}}

    def get(self, agent: str, version: str) -> dict[str, Any] | None:
        check_names(agent, version)
        item = self._ddb.get_item(TableName=self.table, Key=self._key(agent, version), ConsistentRead=True).get("Item")
        return record.from_item(item) if item else None

    def put(self, item: dict[str, Any]) -> None:
        """Write a result (attribute-value form); an approved result is never overwritten."""
        try:
            self._ddb.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(approved_at)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise EvaluationError(
                    f"{item['agent']['S']} version {item['version']['S']} is approved; its result is final"
                ) from None
            raise

    def baseline(self, agent: str, *, exclude_version: str | None = None) -> dict[str, Any] | None:
        """The most recently approved version of ``agent`` (other than ``exclude_version``)."""
        pages = self._ddb.get_paginator("query").paginate(
            TableName=self.table,
            IndexName=record.BASELINE_INDEX,
            KeyConditionExpression="#a = :a",
            ExpressionAttributeNames={"#a": record.BASELINE_INDEX_PARTITION_KEY},
            ExpressionAttributeValues={":a": {"S": agent}},
            ScanIndexForward=False,
            PaginationConfig={"PageSize": 2},
        )
        for page in pages:
            for item in page.get("Items", []):
                if item[record.SORT_KEY]["S"] != exclude_version:
                    return record.from_item(item)
        return None

    def approve(self, agent: str, version: str, *, by: str, now: datetime | None = None) -> dict[str, Any]:
        """Make a passing result the agent's baseline (conditional: it must exist and have passed)."""
        result = self.get(agent, version)
        if result is None:
            raise InvalidRequest(
                f"no evaluation result for {agent} version {version}; run the evaluation pipeline first"
            )
        if not result.get("passed"):
            raise EvaluationError(
                f"{agent} version {version} failed its evaluation; only a passing version can become the baseline"
            )
        at = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        try:
            self._ddb.update_item(
                TableName=self.table,
                Key=self._key(agent, version),
                UpdateExpression="SET #pa = :agent, #at = :at, #by = :by",
                ConditionExpression="#passed = :true AND attribute_not_exists(#at)",
                ExpressionAttributeNames={
                    "#pa": record.BASELINE_INDEX_PARTITION_KEY,
                    "#at": record.BASELINE_INDEX_SORT_KEY,
                    "#by": "approved_by",
                    "#passed": "passed",
                },
                ExpressionAttributeValues={
                    ":agent": {"S": agent},
                    ":at": {"S": at},
                    ":by": {"S": by},
                    ":true": {"BOOL": True},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise EvaluationError(f"{agent} version {version} is already approved or changed meanwhile") from None
            raise
        approved = self.get(agent, version)
        if approved is None:
            raise EvaluationError(f"{agent} version {version} disappeared while it was being approved")
        return approved

    def gate(self, agent: str, version: str) -> tuple[gate.GateResult, dict[str, Any]]:
        """Re-decide the stored result of ``version`` against the current approved baseline."""
        result = self.get(agent, version)
        if result is None:
            raise InvalidRequest(
                f"no evaluation result for {agent} version {version} in {self.table}; run the evaluation pipeline first"
            )
        baseline = self.baseline(agent, exclude_version=version)
        try:
            decision = gate.evaluate(
                result.get("metrics", {}),
                result.get("thresholds", {}),
                max_regression=result.get("max_regression", 0.0),
                baseline=baseline["metrics"] if baseline else None,
                baseline_version=baseline[record.SORT_KEY] if baseline else None,
                agent=agent,
                version=version,
            )
        except gate.InvalidMetrics as exc:
            raise InvalidRequest(f"stored result for {agent} version {version} cannot be gated: {exc}") from None
        return decision, result
