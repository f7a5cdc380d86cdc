"""The circuit breaker client agents call: the request it sends, and a decision that fails closed.

The state machine it calls is the safety blueprint's; tests/blueprints/test_safety.py runs it in moto.
"""

from __future__ import annotations

import json

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
