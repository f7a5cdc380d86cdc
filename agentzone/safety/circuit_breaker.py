"""The agent side of the circuit breaker: what to send per step, and how to read the answer.

The circuit breaker is an EXPRESS Step Functions state machine
(``SafetyControls.circuit_breaker``) the agent's loop calls synchronously
(``StartSyncExecution``) before every step with what the session has used so
far::

    {"session_id": "...", "tool_calls": 7, "tokens": 12000, "elapsed_seconds": 310, "kill_switch": "off"}

and, where the agent counts them, ``output_tokens``, ``session_cost_usd``,
``loop_cost_usd`` (this loop iteration so far), ``consecutive_tool_calls`` (on
the current task), ``step_retries`` (of the current step) and ``agent`` (its
name, ``AGENTZONE_AGENT``: agents with their own limits are checked against those).

It is a hard stop: a counter at or over its limit is refused (``max_tool_calls:
25`` allows exactly 25 tool calls), as is a kill switch that is not ``off`` and
a request that is malformed (fail closed). ``consecutive_tool_calls`` at the
human checkpoint is refused with ``needs_human_approval``: the agent stops and
asks its HITL workflow (:func:`request_human_approval`). Refusals end the
execution in a Fail state (error ``CircuitBreakerTripped``,
``CircuitBreakerNeedsApproval`` or ``CircuitBreakerInvalidRequest`` with a JSON
cause), so they count in the state machine's ``ExecutionsFailed`` metric; an
allowed step returns ``{"allowed": true, "reason": "within_limits"}``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from .. import naming

ENV_ARN = "AGENTZONE_CIRCUIT_BREAKER_ARN"
ENV_AGENT = "AGENTZONE_AGENT"
ENV_HITL_ARN = "AGENTZONE_HITL_STATE_MACHINE_ARN"  # the HITL blueprint's (blueprints.hitl.contract)
TRIPPED = "CircuitBreakerTripped"
NEEDS_APPROVAL = "CircuitBreakerNeedsApproval"
INVALID = "CircuitBreakerInvalidRequest"
WITHIN_LIMITS = "within_limits"
# Reasons, in the order the state machine checks them.
KILL_SWITCH = "kill_switch"
MAX_TOOL_CALLS = "max_tool_calls"
MAX_TOKENS = "max_tokens"
MAX_SESSION_MINUTES = "max_session_minutes"
MAX_OUTPUT_TOKENS = "max_output_tokens"
MAX_SESSION_COST = "max_session_cost_usd"
MAX_LOOP_COST = "max_loop_cost_usd"
MAX_STEP_RETRIES = "max_step_retries"
NEEDS_HUMAN_APPROVAL = "needs_human_approval"
INVALID_REQUEST = "invalid_request"
REQUEST_FIELDS = ("session_id", "tool_calls", "tokens", "elapsed_seconds", "kill_switch")
# Sent when the agent counts them; each is checked only when present.
OPTIONAL_FIELDS = (
    "output_tokens",
    "session_cost_usd",
    "loop_cost_usd",
    "consecutive_tool_calls",
    "step_retries",
    "agent",
)
# The HITL category a checkpoint request carries: the tenant's HITL blueprint must list it (agentzone validate).
CHECKPOINT_CATEGORY = naming.CHECKPOINT_CATEGORY


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    limit: float | None = None

    @property
    def needs_human_approval(self) -> bool:
        return self.reason == NEEDS_HUMAN_APPROVAL


def request(
    *, session_id: str, tool_calls: int, tokens: int, elapsed_seconds: float, kill_switch: str, **optional
) -> dict:
    """The breaker's input; ``optional`` are OPTIONAL_FIELDS (None: not counted, not sent)."""
    unknown = sorted(set(optional) - set(OPTIONAL_FIELDS))
    if unknown:
        raise TypeError(f"unknown circuit breaker fields {unknown}; known: {', '.join(OPTIONAL_FIELDS)}")
    return {
        "session_id": session_id,
        "tool_calls": tool_calls,
        "tokens": tokens,
        "elapsed_seconds": elapsed_seconds,
        "kill_switch": kill_switch,
        **{k: v for k, v in optional.items() if v is not None},
    }


def decision_from_execution(result: dict) -> Decision:
    """A Decision from a StartSyncExecution (or DescribeExecution) response. Anything unexpected refuses."""
    status = result.get("status")
    if status == "SUCCEEDED":
        output = json.loads(result.get("output") or "{}")
        return Decision(bool(output.get("allowed")), str(output.get("reason", WITHIN_LIMITS)))
    if status == "FAILED" and result.get("error") in (TRIPPED, NEEDS_APPROVAL, INVALID):
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


def request_human_approval(
    decision: Decision, *, session_id: str, task: str, checkpoint: int = 1, agent: str = "", client=None, environ=None
) -> str | None:
    """After ``needs_human_approval``: start the tenant's HITL workflow (``AGENTZONE_HITL_STATE_MACHINE_ARN``) with a
    checkpoint request and return its request id; None when the tenant has no HITL workflow (the agent stops).
    ``checkpoint`` numbers this task's checkpoints (the agent resets its consecutive count after an approval), so
    each request id is new."""
    if not decision.needs_human_approval:
        raise ValueError(f"the breaker answered {decision.reason!r}, not {NEEDS_HUMAN_APPROVAL!r}")
    environ = os.environ if environ is None else environ
    arn = environ.get(ENV_HITL_ARN, "")
    if not arn:
        return None
    agent = agent or environ.get(ENV_AGENT, "agent")
    request_id = re.sub(r"[^A-Za-z0-9_-]", "-", f"{session_id}-{task}-checkpoint-{checkpoint}")[:80]
    payload = {"session_id": session_id, "task": task, "consecutive_tool_calls": decision.limit}
    if client is None:
        import boto3  # lazy: agents import this module; only a checkpoint without a client needs boto3

        client = boto3.client("stepfunctions")
    client.start_execution(
        stateMachineArn=arn,
        name=request_id,
        input=json.dumps(
            {
                "request_id": request_id,
                "category": CHECKPOINT_CATEGORY,
                "action": "continue-task",
                "requested_by": agent,
                "payload": payload,
            }
        ),
    )
    return request_id
