"""The agent side of the circuit breaker: what to send per step, and how to read the answer.

The circuit breaker is an EXPRESS Step Functions state machine
(``SafetyControls.circuit_breaker``) the agent's loop calls synchronously
(``StartSyncExecution``) before every step with what the session has used so
far::

    {"session_id": "...", "tool_calls": 7, "tokens": 12000, "elapsed_seconds": 310, "kill_switch": "off"}

It is a hard stop: a counter at or over its limit is refused (``max_tool_calls:
25`` allows exactly 25 tool calls), as is a kill switch that is not ``off`` and
a request that is malformed (fail closed). Refusals end the execution in a
Fail state (error ``CircuitBreakerTripped`` or ``CircuitBreakerInvalidRequest``
with a JSON cause), so they count in the state machine's ``ExecutionsFailed``
metric; an allowed step returns ``{"allowed": true, "reason": "within_limits"}``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

ENV_ARN = "AGENTZONE_CIRCUIT_BREAKER_ARN"
TRIPPED = "CircuitBreakerTripped"
INVALID = "CircuitBreakerInvalidRequest"
WITHIN_LIMITS = "within_limits"
# Reasons, in the order the state machine checks them.
KILL_SWITCH = "kill_switch"
MAX_TOOL_CALLS = "max_tool_calls"
MAX_TOKENS = "max_tokens"
MAX_SESSION_MINUTES = "max_session_minutes"
INVALID_REQUEST = "invalid_request"
REQUEST_FIELDS = ("session_id", "tool_calls", "tokens", "elapsed_seconds", "kill_switch")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    limit: float | None = None


def request(*, session_id: str, tool_calls: int, tokens: int, elapsed_seconds: float, kill_switch: str) -> dict:
    return {
        "session_id": session_id,
        "tool_calls": tool_calls,
        "tokens": tokens,
        "elapsed_seconds": elapsed_seconds,
        "kill_switch": kill_switch,
    }


def decision_from_execution(result: dict) -> Decision:
    """A Decision from a StartSyncExecution (or DescribeExecution) response. Anything unexpected refuses."""
    status = result.get("status")
    if status == "SUCCEEDED":
        output = json.loads(result.get("output") or "{}")
        return Decision(bool(output.get("allowed")), str(output.get("reason", WITHIN_LIMITS)))
    if status == "FAILED" and result.get("error") in (TRIPPED, INVALID):
        try:
            cause = json.loads(result.get("cause") or "{}")
        except ValueError:
            cause = {}
        return Decision(False, str(cause.get("reason", INVALID_REQUEST)), cause.get("limit"))
    return Decision(False, f"circuit breaker unavailable ({status}: {result.get('error', '-')})")


class CircuitBreaker:
    """Calls the circuit breaker named by ``AGENTZONE_CIRCUIT_BREAKER_ARN``::

    breaker = CircuitBreaker()
    decision = breaker.check(session_id=sid, tool_calls=n, tokens=t, elapsed_seconds=s, kill_switch=switch.state())
    if not decision.allowed:
        stop(decision.reason)
    """

    def __init__(self, state_machine_arn: str | None = None, *, client=None) -> None:
        self.state_machine_arn = state_machine_arn or os.environ.get(ENV_ARN, "")
        if not self.state_machine_arn:
            raise ValueError(f"no circuit breaker: pass state_machine_arn or set {ENV_ARN}")
        self._client = client

    @property
    def client(self):
        if self._client is None:
            import boto3  # lazy: agents import this module; only a check without a client needs boto3

            self._client = boto3.client("stepfunctions")
        return self._client

    def check(self, **fields) -> Decision:
        try:
            result = self.client.start_sync_execution(
                stateMachineArn=self.state_machine_arn, input=json.dumps(request(**fields))
            )
        except Exception as exc:  # fail closed: no answer is no permission
            return Decision(False, f"circuit breaker unavailable ({type(exc).__name__})")
        return decision_from_execution(result)
