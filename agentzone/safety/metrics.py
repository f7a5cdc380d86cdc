"""What an agent prints so CloudWatch sees its spend: CloudWatch embedded metric format (EMF).

AWS/Bedrock metrics have no session dimension, so per-session cost can only
come from the agent (it knows the session and the tokens of each call). One
record per model call carries two metrics:

* ``SessionCostUSD`` - the session's running total, published under
  ``[Tenant, Environment, SessionId]`` (drill-down: which session) and under
  ``[Tenant, Environment]``. The second set is what the per-session alarm
  watches with the ``Maximum`` statistic: the most expensive session in each
  minute, without a Metrics Insights query (those only look back 3 hours and
  count against per-account query limits) and without one alarm per session.
* ``CostUSD`` - this call's cost, under ``[Tenant, Environment]`` only
  (a per-session dimension would make one custom metric per session); its
  ``Sum`` over a day is the daily-spend alarm.

EMF needs the log line to reach CloudWatch Logs as a JSON object; a process
that calls PutLogEvents itself must send the ``x-amzn-logs-format: json/emf``
header for CloudWatch to extract the metrics.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TextIO

NAMESPACE = "AgentZone/Agents"
SESSION_COST_METRIC = "SessionCostUSD"
COST_METRIC = "CostUSD"
TENANT_DIMENSIONS = ("Tenant", "Environment")
SESSION_DIMENSIONS = ("Tenant", "Environment", "SessionId")


def estimate_cost_usd(
    prices: Mapping[str, Sequence[float]], model_id: str, input_tokens: int, output_tokens: int
) -> float:
    """USD for one call from ``model_prices`` (USD per 1,000 [input, output] tokens, organization config)."""
    if model_id not in prices:
        raise KeyError(f"no price for model {model_id!r}; add it to the organization's model_prices")
    price_in, price_out = prices[model_id]
    return (input_tokens * price_in + output_tokens * price_out) / 1000


def session_cost_record(
    *,
    tenant: str,
    environment: str,
    session_id: str,
    session_cost_usd: float,
    step_cost_usd: float = 0.0,
    timestamp_ms: int | None = None,
) -> dict:
    """The EMF record (a dict) for one step of one session."""
    if not session_id:
        raise ValueError("session_id must not be empty")
    if session_cost_usd < 0 or step_cost_usd < 0:
        raise ValueError("costs cannot be negative")
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [list(SESSION_DIMENSIONS), list(TENANT_DIMENSIONS)],
                    "Metrics": [{"Name": SESSION_COST_METRIC, "Unit": "None"}],
                },
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [list(TENANT_DIMENSIONS)],
                    "Metrics": [{"Name": COST_METRIC, "Unit": "None"}],
                },
            ],
        },
        "Tenant": tenant,
        "Environment": environment,
        "SessionId": session_id,
        SESSION_COST_METRIC: round(session_cost_usd, 6),
        COST_METRIC: round(step_cost_usd, 6),
    }


def emit_session_cost(
    *,
    tenant: str,
    environment: str,
    session_id: str,
    session_cost_usd: float,
    step_cost_usd: float = 0.0,
    timestamp_ms: int | None = None,
    stream: TextIO | None = None,
) -> dict:
    """Print one EMF line (stdout by default, which the runtime ships to CloudWatch Logs) and return the record."""
    record = session_cost_record(
        tenant=tenant,
        environment=environment,
        session_id=session_id,
        session_cost_usd=session_cost_usd,
        step_cost_usd=step_cost_usd,
        timestamp_ms=timestamp_ms,
    )
    print(json.dumps(record, separators=(",", ":")), file=stream or sys.stdout, flush=True)
    return record
