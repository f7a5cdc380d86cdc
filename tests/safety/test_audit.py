"""The audit record agents print for every tool call: its schema, what it counts, and bad records refused."""

from __future__ import annotations

import io
import json

import pytest

from agentzone.safety import audit

RECORD = audit.AuditRecord(
    agent_id="intake",
    session_id="s-1",
    parent_trace_id="1-5f84c7a1-abcdef",
    tool_name="lookup_policy",
    tool_version="1.2.0",
    policy_decision="allowed",
    latency_ms=412.5,
    token_in=900,
    token_out=120,
    estimated_cost_usd=0.0043,
    human_override=False,
    final_outcome="success",
)


def test_a_record_carries_the_schema_and_its_counts_as_emf():
    stream = io.StringIO()
    audit.emit_audit(RECORD, tenant="claims", environment="prod", timestamp_ms=1_700_000_000_000, stream=stream)
    line = json.loads(stream.getvalue())
    assert {
        "agent_id",
        "session_id",
        "parent_trace_id",
        "tool_name",
        "tool_version",
        "policy_decision",
        "latency_ms",
        "token_in",
        "token_out",
        "estimated_cost_usd",
        "human_override",
        "final_outcome",
    } <= set(line)
    assert line["record_type"] == audit.RECORD_TYPE and line["tenant"] == "claims"
    (metrics,) = line["_aws"]["CloudWatchMetrics"]
    assert metrics["Namespace"] == "AgentZone/Agents"
    assert metrics["Dimensions"] == [["Tenant", "Environment"], ["Tenant", "Environment", "AgentId"]]
    assert [m["Name"] for m in metrics["Metrics"]] == list(audit.COUNT_METRICS)
    assert (line["ToolCalls"], line["PolicyNearMisses"], line["ToolFailures"]) == (1, 0, 0)


@pytest.mark.parametrize(
    "decision, outcome, counted",
    [
        # A call refused for arguments the policy does not support: a near miss, not a failure.
        ("near_miss", "refused", {"PolicyNearMisses": 1, "ToolFailures": 0, "PolicyDenials": 0}),
        ("allowed", "failure", {"PolicyNearMisses": 0, "ToolFailures": 1, "PolicyDenials": 0}),
        ("denied", "refused", {"PolicyNearMisses": 0, "ToolFailures": 0, "PolicyDenials": 1}),
    ],
)
def test_near_misses_are_counted_apart_from_failures(decision, outcome, counted):
    record = audit.AuditRecord(
        agent_id="intake", session_id="s", tool_name="t", policy_decision=decision, final_outcome=outcome
    )
    line = audit.audit_line(record, tenant="claims", environment="dev")
    assert {name: line[name] for name in counted} == counted and line["ToolCalls"] == 1


def test_a_bad_record_is_refused_with_every_problem():
    bad = audit.AuditRecord(
        agent_id="", session_id="s", tool_name="t", policy_decision="maybe", final_outcome="done", latency_ms=-1
    )
    with pytest.raises(ValueError) as info:
        audit.audit_line(bad, tenant="claims", environment="dev")
    message = str(info.value)
    for fragment in (
        "agent_id must not be empty",
        "policy_decision 'maybe': valid values are allowed, denied, near_miss, needs_approval",
        "final_outcome 'done': valid values are success, failure, refused, escalated",
        "latency_ms must be a finite number of at least 0 (got -1)",
    ):
        assert fragment in message
