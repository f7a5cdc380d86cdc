"""HITL approval API: ``POST /requests/{id}/decision`` (API Gateway, IAM auth, Lambda proxy integration).

The HITL state machine parks each approval request in the requests table:
its wait state is ``aws-sdk:dynamodb:updateItem.waitForTaskToken``, which
writes the task token onto the request's item (status PENDING). This handler

1. checks the caller: the IAM principal API Gateway authenticated
   (``requestContext.identity.userArn``) must be one of the approvers in
   ``APPROVER_PRINCIPALS`` (role ARNs match their assumed-role sessions) and
   must not be the requester;
2. reads the request; a request that is not PENDING, or not yet waiting, is refused (409);
3. returns the token to Step Functions: ``SendTaskSuccess`` for APPROVED,
   ``SendTaskFailure`` with error ``HITL.Rejected`` for REJECTED. A task token
   is accepted once: a second decision, or one after the wait timed out, is
   refused here (409) — Step Functions is the lock;
4. records the decision on the item (conditional on it still being PENDING
   with this token) and writes the immutable decision record
   ``decisions/<request id>.json`` to the Object Lock bucket (COMPLIANCE,
   retained ``RETENTION_DAYS``).

If the function stopped between 3 and 4, the workflow has its outcome but the
item still says PENDING with a spent token: a retry gets 409 from Step
Functions and the execution history holds the decision.

Plain module: tests import it and call :func:`handler` (or :func:`decide`) in-process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass

import boto3
from botocore.exceptions import ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

APPROVED, REJECTED, PENDING = "APPROVED", "REJECTED", "PENDING"
DECISIONS = (APPROVED, REJECTED)
REJECTED_ERROR = "HITL.Rejected"
RECORD_PREFIX = "decisions/"
MAX_REASON = 1000
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Step Functions' answers when a token was already used or its wait has ended.
_SPENT_TOKEN_ERRORS = ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken")
_ROLE_ARN = re.compile(r"^arn:(?P<partition>[^:]+):iam::(?P<account>\d{12}):role/(?:.*/)?(?P<name>[^/]+)$")
_USER_ARN = re.compile(r"^arn:[^:]+:iam::\d{12}:user/.+$")


class DecisionError(Exception):
    """A refused decision: ``status`` is the HTTP status the API returns."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Decision:
    request_id: str
    outcome: str
    reason: str
    caller: str


# ------------------------------------------------------------------ pure helpers


def payload_sha256(payload_json: str) -> str:
    """Hex SHA-256 of the payload as the state machine serialized it (``States.JsonToString``)."""
    return hashlib.sha256(payload_json.encode("utf-8")).hexdigest()


def record_key(request_id: str) -> str:
    return f"{RECORD_PREFIX}{request_id}.json"


def retain_until(decided_at: dt.datetime, days: int) -> dt.datetime:
    return decided_at + dt.timedelta(days=days)


def parse_approvers(value: str) -> tuple[str, ...]:
    return tuple(sorted({part.strip() for part in value.split(",") if part.strip()}))


def principal_allowed(caller: str, approvers: tuple[str, ...] | list[str]) -> bool:
    """Is ``caller`` (an IAM user ARN or an STS assumed-role session ARN) one of ``approvers``?

    An approver is an IAM user ARN (exact match) or an IAM role ARN, which
    matches every session of that role (``arn:aws:sts::<account>:assumed-role/<name>/<session>``;
    the role's path is not part of session ARNs).
    """
    for approver in approvers:
        role = _ROLE_ARN.match(approver)
        if role:
            prefix = f"arn:{role['partition']}:sts::{role['account']}:assumed-role/{role['name']}/"
            if caller.startswith(prefix) and len(caller) > len(prefix):
                return True
        elif _USER_ARN.match(approver) and caller == approver:
            return True
    return False


def parse_decision(event: dict) -> Decision:
    """The decision an API Gateway proxy event carries; raises :class:`DecisionError` (400/403) when malformed."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    caller = identity.get("userArn")
    if not caller:
        raise DecisionError(403, "the caller is not an authenticated IAM principal")
    request_id = (event.get("pathParameters") or {}).get("id") or ""
    if not REQUEST_ID.match(request_id):
        raise DecisionError(400, "request id must be 1-128 characters of A-Z a-z 0-9 . _ : -")
    try:
        body = json.loads(event.get("body") or "{}")
    except json.JSONDecodeError:
        raise DecisionError(400, "body must be JSON") from None
    if not isinstance(body, dict):
        raise DecisionError(400, "body must be a JSON object")
    outcome = body.get("decision")
    if outcome not in DECISIONS:
        raise DecisionError(400, f"decision must be one of {', '.join(DECISIONS)}")
    reason = body.get("reason") or ""
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise DecisionError(400, f"reason must be a string of at most {MAX_REASON} characters")
    if outcome == REJECTED and not reason.strip():
        raise DecisionError(400, "a rejection needs a reason")
    return Decision(request_id=request_id, outcome=outcome, reason=reason.strip(), caller=caller)


def decision_record(item: dict, decision: Decision, decided_at: dt.datetime) -> dict:
    """The immutable record: who decided, when, on what (category/action, payload hash), outcome and reason.

    Same fields as the records the state machine writes for timeouts and auto-approvals.
    """
    return {
        "request_id": decision.request_id,
        "category": item.get("category", ""),
        "action": item.get("action", ""),
        "requested_by": item.get("requested_by", ""),
        "requested_at": item.get("requested_at", ""),
        "payload_sha256": item.get("payload_sha256", ""),
        "outcome": decision.outcome,
        "reason": decision.reason,
        "decided_by": decision.caller,
        "decided_at": decided_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "execution": item.get("execution", ""),
    }


def _plain(item: dict) -> dict:
    """A DynamoDB item (low-level shape) with string attributes only -> {name: value}."""
    return {name: value["S"] for name, value in item.items() if "S" in value}


def response(status: int, body: dict) -> dict:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, sort_keys=True),
    }


# ------------------------------------------------------------------ the decision


def decide(
    decision: Decision,
    *,
    table: str,
    bucket: str,
    retention_days: int,
    approvers: tuple[str, ...],
    now: dt.datetime | None = None,
    dynamodb=None,
    stepfunctions=None,
    s3=None,
) -> dict:
    """Apply one decision; returns the decision record. Raises :class:`DecisionError` when refused."""
    if not principal_allowed(decision.caller, approvers):
        raise DecisionError(403, "the caller is not an approver of this workflow")
    dynamodb = dynamodb or boto3.client("dynamodb")
    stepfunctions = stepfunctions or boto3.client("stepfunctions")
    s3 = s3 or boto3.client("s3")
    item, token = _waiting_request(dynamodb, table, decision)
    decided_at = now or dt.datetime.now(dt.UTC)
    record = decision_record(item, decision, decided_at)
    _return_token(stepfunctions, token, decision, record["decided_at"])
    _mark_decided(dynamodb, table, decision, token, record["decided_at"])
    s3.put_object(
        Bucket=bucket,
        Key=record_key(decision.request_id),
        Body=json.dumps(record, sort_keys=True).encode("utf-8"),
        ContentType="application/json",
        ChecksumAlgorithm="SHA256",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=retain_until(decided_at, retention_days),
    )
    LOG.info("request %s %s by %s", decision.request_id, decision.outcome, decision.caller)
    return record


def _waiting_request(dynamodb, table: str, decision: Decision) -> tuple[dict, str]:
    """The request's item and task token; refused unless it is PENDING, waiting, someone else's and unaltered."""
    found = dynamodb.get_item(TableName=table, Key={"request_id": {"S": decision.request_id}}, ConsistentRead=True).get(
        "Item"
    )
    if not found:
        raise DecisionError(404, f"no request {decision.request_id}")
    item = _plain(found)
    if item.get("status") != PENDING:
        raise DecisionError(409, f"request {decision.request_id} is already {item.get('status')}")
    token = item.get("task_token")
    if not token:
        raise DecisionError(409, f"request {decision.request_id} is not waiting for a decision yet; retry shortly")
    if item.get("requested_by") and item["requested_by"] == decision.caller:
        raise DecisionError(403, "a requester cannot decide their own request")
    if payload_sha256(item.get("payload_json", "")) != item.get("payload_sha256"):
        # The item was changed after the workflow recorded it: never approve what nobody saw.
        raise DecisionError(409, f"request {decision.request_id}: payload does not match its recorded hash")
    return item, token


def _return_token(stepfunctions, token: str, decision: Decision, decided_at: str) -> None:
    """Hand the outcome to the waiting execution; a spent token (decided or timed out) is a 409."""
    try:
        if decision.outcome == APPROVED:
            stepfunctions.send_task_success(
                taskToken=token,
                output=json.dumps({"outcome": APPROVED, "decided_by": decision.caller, "decided_at": decided_at}),
            )
        else:
            stepfunctions.send_task_failure(taskToken=token, error=REJECTED_ERROR, cause=decision.reason[:256])
    except ClientError as error:
        if error.response["Error"]["Code"] in _SPENT_TOKEN_ERRORS:
            raise DecisionError(
                409, f"request {decision.request_id} is no longer waiting (decided or timed out)"
            ) from None
        raise


def _mark_decided(dynamodb, table: str, decision: Decision, token: str, decided_at: str) -> None:
    """Record the outcome on the item, only while it is still PENDING with this token."""
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"request_id": {"S": decision.request_id}},
            UpdateExpression="SET #status = :outcome, #reason = :reason, #by = :by, #at = :at REMOVE #token",
            ConditionExpression="#status = :pending AND #token = :token",
            ExpressionAttributeNames={
                "#status": "status",
                "#reason": "reason",
                "#by": "decided_by",
                "#at": "decided_at",
                "#token": "task_token",
            },
            ExpressionAttributeValues={
                ":outcome": {"S": decision.outcome},
                ":reason": {"S": decision.reason},
                ":by": {"S": decision.caller},
                ":at": {"S": decided_at},
                ":pending": {"S": PENDING},
                ":token": {"S": token},
            },
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise DecisionError(409, f"request {decision.request_id} was decided concurrently") from None
        raise


def handler(event: dict, context: object) -> dict:
    try:
        decision = parse_decision(event)
        record = decide(
            decision,
            table=os.environ["TABLE_NAME"],
            bucket=os.environ["RECORDS_BUCKET"],
            retention_days=int(os.environ["RETENTION_DAYS"]),
            approvers=parse_approvers(os.environ.get("APPROVER_PRINCIPALS", "")),
        )
    except DecisionError as refused:
        LOG.warning("decision refused (%s): %s", refused.status, refused.message)
        return response(refused.status, {"message": refused.message})
    return response(
        200,
        {"request_id": record["request_id"], "outcome": record["outcome"], "record": record_key(record["request_id"])},
    )
