"""Human-in-the-loop (HITL) blueprint: one Step Functions execution per approval request.

Actions an agent may not take alone (payments, account changes, ...) wait
for a human; a timeout escalates, then rejects; every decision is kept as an
immutable record.

How a request flows (``request_id, category, action, payload, requested_by``)::

    Describe ─▶ NeedsApproval? ──no──▶ RecordAutoApproved ─▶ record ─▶ AutoApproved (Succeed)
                    │yes
                    ▼
    RecordPending ─▶ NotifyApprovers (SNS email) ─▶ WaitForDecision ──APPROVED──▶ Approved (Succeed)
                                                      │ HITL.Rejected ─▶ Rejected (Fail)
                                                      │ States.Timeout
                                                      ▼
                     [escalation set] NotifyEscalation ─▶ WaitForEscalatedDecision ─(same exits)
                                                      │ States.Timeout
                                                      ▼
                                  RecordTimeout (REJECTED, reason timeout) ─▶ record ─▶ TimedOut (Fail)

Token handling: the wait states are ``aws-sdk:dynamodb:updateItem.waitForTaskToken``
calls that write ``$$.Task.Token`` onto the request's item (condition: still
PENDING). The token therefore never travels in a message: the emails carry the
request (category, action, payload, its SHA-256) and the API route, and only
the decision function reads tokens from the table. The escalated wait
overwrites the first (dead) token. The approval API (IAM auth) runs
``agentzone/handlers/hitl_decision.py``: it checks the caller, returns the
token (SendTaskSuccess / SendTaskFailure ``HITL.Rejected``), updates the item
and writes ``decisions/<request id>.json`` to the Object Lock bucket. For
auto-approvals and timeouts the state machine writes that record itself
(``aws-sdk:s3:putObject``; the bucket's default COMPLIANCE retention applies).

Start executions with ``name=<request_id>``: Step Functions refuses a second
execution of the same name, and the table refuses a second item per request id.

Parts, each a function over typed frozen props that creates its resources in the blueprint's own scope:
:mod:`.records` (requests table, decision records), :mod:`.decision_api` (function and API),
:mod:`.workflow` (topics and state machine); :mod:`.contract` holds the names others rely on.
"""

from .blueprint import HitlWorkflow, HitlWorkflowProps
from .contract import (
    ACCESS_LOG_FIELDS,
    DECISION_MODULE,
    DECISION_ROUTE,
    ENV_CATEGORIES,
    ENV_STATE_MACHINE_ARN,
    RECORD_PREFIX,
    REJECTED_ERROR,
    STATUS_INDEX,
    TIMEOUT_ERROR,
)
from .spec import SPEC

__all__ = [
    "ACCESS_LOG_FIELDS",
    "DECISION_MODULE",
    "DECISION_ROUTE",
    "ENV_CATEGORIES",
    "ENV_STATE_MACHINE_ARN",
    "RECORD_PREFIX",
    "REJECTED_ERROR",
    "SPEC",
    "STATUS_INDEX",
    "TIMEOUT_ERROR",
    "HitlWorkflow",
    "HitlWorkflowProps",
]
