"""The circuit breaker client agents call: the request it sends, and a decision that fails closed.

The state machine it calls is the safety blueprint's; tests/blueprints/test_safety.py runs it in moto.
"""

from __future__ import annotations

import json

import boto3
import pytest

from agentzone.safety import circuit_breaker as cb


def test_decision_fails_closed_on_anything_unexpected():
    assert not cb.decision_from_execution({"status": "TIMED_OUT"}).allowed
    assert not cb.decision_from_execution({"status": "FAILED", "error": "States.Runtime", "cause": "x"}).allowed

    class Broken:
        def start_sync_execution(self, **_):
            raise RuntimeError("no network")

    decision = cb.CircuitBreaker("arn:aws:states:eu-west-1:111111111111:stateMachine:x", client=Broken()).check(
        session_id="s", tool_calls=0, tokens=0, elapsed_seconds=0, kill_switch="off"
    )
    assert decision.allowed is False and "unavailable" in decision.reason


def test_circuit_breaker_client_sends_the_request_shape():
    sent = {}

    class Client:
        def start_sync_execution(self, **kwargs):
            sent.update(kwargs)
            return {"status": "SUCCEEDED", "output": '{"allowed":true,"reason":"within_limits"}'}

    breaker = cb.CircuitBreaker("arn:aws:states:eu-west-1:111111111111:stateMachine:x", client=Client())
    assert breaker.check(session_id="s", tool_calls=3, tokens=10, elapsed_seconds=5.5, kill_switch="off").allowed
    assert json.loads(sent["input"]) == {
        "session_id": "s",
        "tool_calls": 3,
        "tokens": 10,
        "elapsed_seconds": 5.5,
        "kill_switch": "off",
    }
    assert tuple(json.loads(sent["input"])) == cb.REQUEST_FIELDS


def test_optional_counters_are_sent_only_when_counted_and_unknown_ones_refused():
    sent = cb.request(
        session_id="s", tool_calls=1, tokens=2, elapsed_seconds=3, kill_switch="off", output_tokens=4, agent=None
    )
    assert sent == {
        "session_id": "s",
        "tool_calls": 1,
        "tokens": 2,
        "elapsed_seconds": 3,
        "kill_switch": "off",
        "output_tokens": 4,
    }
    with pytest.raises(TypeError, match="unknown circuit breaker fields \\['cost'\\]"):
        cb.request(session_id="s", tool_calls=1, tokens=2, elapsed_seconds=3, kill_switch="off", cost=1)


def test_a_checkpoint_is_a_refusal_that_asks_a_human():
    cause = json.dumps({"allowed": False, "reason": cb.NEEDS_HUMAN_APPROVAL, "limit": 5})
    decision = cb.decision_from_execution({"status": "FAILED", "error": cb.NEEDS_APPROVAL, "cause": cause})
    assert decision == cb.Decision(False, cb.NEEDS_HUMAN_APPROVAL, 5) and decision.needs_human_approval


def test_a_checkpoint_starts_the_tenants_hitl_workflow_with_a_new_request(aws):
    client = boto3.client("stepfunctions")
    arn = client.create_state_machine(
        name="hitl",
        definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/hitl",
    )["stateMachineArn"]
    decision = cb.Decision(False, cb.NEEDS_HUMAN_APPROVAL, 5)
    environ = {cb.ENV_HITL_ARN: arn, cb.ENV_AGENT: "helpdesk"}
    first = cb.request_human_approval(decision, session_id="s 1", task="reset/vpn", client=client, environ=environ)
    second = cb.request_human_approval(
        decision, session_id="s 1", task="reset/vpn", checkpoint=2, client=client, environ=environ
    )
    assert (first, second) == ("s-1-reset-vpn-checkpoint-1", "s-1-reset-vpn-checkpoint-2")
    executions = client.list_executions(stateMachineArn=arn)["executions"]
    started = client.describe_execution(executionArn=next(e["executionArn"] for e in executions if e["name"] == first))
    assert json.loads(started["input"]) == {
        "request_id": first,
        "category": "agent-checkpoint",  # the category the tenant's HITL workflow must list (agentzone validate)
        "action": "continue-task",
        "requested_by": "helpdesk",
        "payload": {"session_id": "s 1", "task": "reset/vpn", "consecutive_tool_calls": 5},
    }
    # Without a HITL workflow the agent stops: nothing to start.
    assert cb.request_human_approval(decision, session_id="s", task="t", client=client, environ={}) is None
    with pytest.raises(ValueError, match="not 'needs_human_approval'"):
        cb.request_human_approval(cb.Decision(False, cb.MAX_TOKENS), session_id="s", task="t", environ=environ)
