"""Names the HITL workflow shares with agents, approvers, auditors and the decision function."""

from __future__ import annotations

ENV_STATE_MACHINE_ARN = "AGENTZONE_HITL_STATE_MACHINE_ARN"
ENV_CATEGORIES = "AGENTZONE_HITL_CATEGORIES"
STATUS_INDEX = "status-requested_at"
DECISION_ROUTE = "/requests/*/decision"
RECORD_PREFIX = "decisions/"
DECISION_MODULE = "hitl_decision.py"
REJECTED_ERROR = "HITL.Rejected"  # hitl_decision.REJECTED_ERROR
TIMEOUT_ERROR = "HITL.Timeout"
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userArn": "$context.identity.userArn",
    "caller": "$context.identity.caller",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "status": "$context.status",
    "error": "$context.error.message",
    "responseLength": "$context.responseLength",
}
