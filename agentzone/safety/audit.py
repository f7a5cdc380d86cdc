"""The audit record an agent writes for every tool call: one JSON line, CloudWatch embedded metric format (EMF).

The operations guidance's schema: ``agent_id``, ``session_id``, ``parent_trace_id``, ``tool_name``,
``tool_version``, ``policy_decision``, ``latency_ms``, ``token_in``, ``token_out``, ``estimated_cost_usd``,
``human_override``, ``final_outcome``; plus ``record_type`` (:data:`RECORD_TYPE`, what the saved Logs Insights
queries filter on), ``tenant`` and ``environment``.

The same line carries counts under :data:`NAMESPACE` (``[Tenant, Environment]`` and ``[Tenant, Environment,
AgentId]``): ``ToolCalls`` (every record), ``PolicyNearMisses`` (a call refused for arguments the policy does not
support: ``policy_decision: near_miss``), ``PolicyDenials``, ``ToolFailures`` (``final_outcome: failure``) and
``HumanOverrides``. A near miss is counted apart from failures: the policy did its job.

    emit_audit(AuditRecord(agent_id="intake", session_id=sid, tool_name="lookup_policy", ...),
               tenant="claims", environment="prod")
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from typing import TextIO

from .metrics import NAMESPACE, TENANT_DIMENSIONS

RECORD_TYPE = "agentzone.audit.v1"
POLICY_DECISIONS = ("allowed", "denied", "near_miss", "needs_approval")
OUTCOMES = ("success", "failure", "refused", "escalated")
AGENT_DIMENSIONS = (*TENANT_DIMENSIONS, "AgentId")
TOOL_CALLS_METRIC = "ToolCalls"
NEAR_MISS_METRIC = "PolicyNearMisses"
DENIAL_METRIC = "PolicyDenials"
FAILURE_METRIC = "ToolFailures"
OVERRIDE_METRIC = "HumanOverrides"
COUNT_METRICS = (TOOL_CALLS_METRIC, NEAR_MISS_METRIC, DENIAL_METRIC, FAILURE_METRIC, OVERRIDE_METRIC)


@dataclass(frozen=True)
class AuditRecord:
    """One tool call, as the operations guidance's audit schema names it."""

    agent_id: str
    session_id: str
    tool_name: str
    policy_decision: str
    final_outcome: str
    parent_trace_id: str = ""
    tool_version: str = ""
    latency_ms: float = 0
    token_in: int = 0
    token_out: int = 0
    estimated_cost_usd: float = 0
    human_override: bool = False

    def problems(self) -> list[str]:
        """Everything wrong with the record at once (an agent bug; the record is not written)."""
        found = [
            f"{name} must not be empty" for name in ("agent_id", "session_id", "tool_name") if not getattr(self, name)
        ]
        if self.policy_decision not in POLICY_DECISIONS:
            found.append(f"policy_decision {self.policy_decision!r}: valid values are {', '.join(POLICY_DECISIONS)}")
        if self.final_outcome not in OUTCOMES:
            found.append(f"final_outcome {self.final_outcome!r}: valid values are {', '.join(OUTCOMES)}")
        for name in ("latency_ms", "token_in", "token_out", "estimated_cost_usd"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 or not math.isfinite(value):
                found.append(f"{name} must be a finite number of at least 0 (got {value!r})")
        return found

    def counts(self) -> dict[str, int]:
        return {
            TOOL_CALLS_METRIC: 1,
            NEAR_MISS_METRIC: int(self.policy_decision == "near_miss"),
            DENIAL_METRIC: int(self.policy_decision == "denied"),
            FAILURE_METRIC: int(self.final_outcome == "failure"),
            OVERRIDE_METRIC: int(self.human_override),
        }


def audit_line(record: AuditRecord, *, tenant: str, environment: str, timestamp_ms: int | None = None) -> dict:
    """The EMF record (a dict) for one tool call; ValueError lists every problem of ``record``."""
    problems = record.problems()
    if problems:
        raise ValueError("audit record: " + "; ".join(problems))
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [list(TENANT_DIMENSIONS), list(AGENT_DIMENSIONS)],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in COUNT_METRICS],
                }
            ],
        },
        "record_type": RECORD_TYPE,
        "tenant": tenant,
        "environment": environment,
        "Tenant": tenant,
        "Environment": environment,
        "AgentId": record.agent_id,
        **asdict(record),
        **record.counts(),
    }


def emit_audit(
    record: AuditRecord, *, tenant: str, environment: str, timestamp_ms: int | None = None, stream: TextIO | None = None
) -> dict:
    """Print the record as one line (stdout by default, which the runtime ships to CloudWatch Logs); return it."""
    line = audit_line(record, tenant=tenant, environment=environment, timestamp_ms=timestamp_ms)
    print(json.dumps(line, separators=(",", ":")), file=stream or sys.stdout, flush=True)
    return line
