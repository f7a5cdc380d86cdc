"""Gate Lambda of the evaluation pipeline and the canary: read the run's metrics, decide with the gate.

The state machine passes everything the decision needs (thresholds, the
baseline it queried from the store, where the metrics are); this function reads
the metrics object(s) from the results bucket, decides with
``agentzone.evaluation.gate`` and returns what the following states write: the
store item, the EventBridge detail, the CloudWatch metric data and the canary's
feedback signal. It writes nothing itself, so every write is visible in (and
testable with) the state machine definition.

Event::

    {"agent": "triage", "version": "7", "mode": "release" | "canary", "run": "<execution ARN>",
     "thresholds": {"correctness": 0.9}, "maxRegression": 0.02,
     "metrics": {"bucket": "...", "key": "runs/.../metrics.json"}   # the team's command
              | {"bucket": "...", "prefix": "bedrock/.../"},        # a Bedrock evaluation job's output
     "baseline": {"Items": [<store item of the approved baseline>]}}
"""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from agentzone.evaluation import gate, record

NAMESPACE = "AgentZone/Evaluation"
_MODES = ("release", "canary")


def _read_metrics(s3, location: dict) -> dict[str, float]:
    bucket = location["bucket"]
    if "key" in location:
        body = s3.get_object(Bucket=bucket, Key=location["key"])["Body"].read()
        return gate.parse_metrics(body)
    lines: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=location["prefix"]):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("_output.jsonl"):
                lines.extend(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode().splitlines())
    if not lines:
        raise gate.InvalidMetrics(f"no *_output.jsonl under s3://{bucket}/{location['prefix']}")
    return gate.parse_bedrock_output(lines)


def metric_data(agent: str, mode: str, result: gate.GateResult, metrics: dict[str, float]) -> list[dict]:
    """The canary's CloudWatch data: GateFailed (1 or 0), WorstDrop, and Score per metric."""
    dimensions = [{"Name": "Agent", "Value": agent}, {"Name": "Mode", "Value": mode}]
    return [
        {"MetricName": "GateFailed", "Dimensions": dimensions, "Value": 0.0 if result.passed else 1.0, "Unit": "Count"},
        {"MetricName": "WorstDrop", "Dimensions": dimensions, "Value": result.worst_drop, "Unit": "None"},
        *(
            {
                "MetricName": "Score",
                "Dimensions": [*dimensions, {"Name": "Metric", "Value": name}],
                "Value": score,
                "Unit": "None",
            }
            for name, score in sorted(metrics.items())
        ),
    ]


def decide(event: dict, *, s3=None, now: datetime | None = None) -> dict:
    """The decision and everything the pipeline writes about it (see module docstring)."""
    agent, version, mode = event["agent"], str(event["version"]), event.get("mode", "release")
    if mode not in _MODES:
        raise ValueError(f"mode {mode!r}; expected one of {_MODES}")
    metrics = _read_metrics(s3 or boto3.client("s3"), event["metrics"])
    items = (event.get("baseline") or {}).get("Items") or []
    # The baseline is the latest approved version other than the one under test.
    baseline = next((record.from_item(i) for i in items if i.get(record.SORT_KEY, {}).get("S") != version), None)
    result = gate.evaluate(
        metrics,
        event["thresholds"],
        max_regression=float(event["maxRegression"]),
        baseline=baseline["metrics"] if baseline else None,
        baseline_version=baseline[record.SORT_KEY] if baseline else None,
        agent=agent,
        version=version,
    )
    at = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    report = result.report()
    detail = {**result.to_dict(), "mode": mode, "run": event.get("run", ""), "evaluated_at": at}
    return {
        "passed": result.passed,
        "report": report,
        "item": record.to_item(
            agent=agent,
            version=version,
            passed=result.passed,
            metrics=metrics,
            thresholds=event["thresholds"],
            max_regression=float(event["maxRegression"]),
            report=report,
            evaluated_at=at,
            run=event.get("run", ""),
            baseline_version=result.baseline_version,
        ),
        "detail": detail,
        "metricData": metric_data(agent, mode, result, metrics),
        # What the canary leaves under feedback/ for the data lake: one JSON line per run.
        "signal": {"type": "agentzone.evaluation.canary", **detail},
        "signalKey": f"feedback/agent={agent}/date={at[:10]}/{at.replace(':', '')}-{version}.json",
    }


def handler(event, _context=None):
    return decide(event)
