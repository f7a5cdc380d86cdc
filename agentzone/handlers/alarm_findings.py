"""An agent detective alarm entering ALARM, or a change to Bedrock's model invocation logging made by anyone but
the platform, as a Security Hub finding (ASFF) in its own account.

EventBridge sends the "CloudWatch Alarm State Change" event of the tenant account's detective alarms here; the
finding goes to the account's Security Hub, which the central security account administers for the
organization, so the security team sees every tenant's agent signals in one place. One finding per alarm and
state change (its id names both), so a retried event updates the same finding.
"""

from __future__ import annotations

import logging
import os

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

SCHEMA_VERSION = "2018-10-08"
# The finding type per detective signal (the alarm name's last part), ASFF's namespace/category/classifier.
TYPES = {
    "guardrail-interventions": "Unusual Behaviors/Application/Guardrail Interventions",
    "tool-denials": "Unusual Behaviors/Application/Denied Tool Calls",
    "runaway-loop": "Unusual Behaviors/Application/Runaway Agent Loop",
    "prompt-injection": "TTPs/Initial Access/Prompt Injection Markers",
    "invocation-logging-changed": "Software and Configuration Checks/AWS Security Best Practices/Invocation Logging",
}
LOGGING_CHANGED = "invocation-logging-changed"
API_CALL = "AWS API Call via CloudTrail"


class FindingError(Exception):
    """Security Hub refused the finding."""


def _asff(
    event: dict,
    *,
    signal: str,
    finding_id: str,
    at: str,
    title: str,
    description: str,
    resource: str,
    severity: str,
    tenant: str,
    environment: str,
) -> dict:
    account, region = event["account"], event["region"]
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id,
        "ProductArn": f"arn:aws:securityhub:{region}:{account}:product/{account}/default",
        "GeneratorId": f"agentzone/{signal}",
        "AwsAccountId": account,
        "Types": [TYPES[signal]],
        "CreatedAt": at,
        "UpdatedAt": at,
        "Severity": {"Label": severity},
        "Title": f"AgentZone {tenant} ({environment}): {title}",
        "Description": description[:1024],
        "Resources": [{"Type": "Other", "Id": resource, "Region": region}],
        "ProductFields": {"agentzone/tenant": tenant, "agentzone/environment": environment},
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "NEW"},
    }


def finding(event: dict, *, tenant: str, environment: str) -> dict:
    """The ASFF finding for one alarm state change, or for one change to the model invocation logging setting."""
    detail = event["detail"]
    if event.get("detail-type") == API_CALL:
        who = detail.get("userIdentity", {}).get("arn", "unknown principal")
        return _asff(
            event,
            signal=LOGGING_CHANGED,
            finding_id=f"arn:aws:cloudtrail:{event['region']}:{event['account']}:event/{detail['eventID']}",
            at=detail["eventTime"],
            title=f"bedrock:{detail['eventName']} by {who}",
            description="Bedrock model invocation logging was changed outside the AgentZone stack that owns it.",
            resource=f"arn:aws:bedrock:{event['region']}:{event['account']}:model-invocation-logging",
            severity="HIGH",
            tenant=tenant,
            environment=environment,
        )
    name = detail["alarmName"]
    signal = next((kind for kind in TYPES if name.endswith(kind)), "")
    if not signal or signal == LOGGING_CHANGED:
        raise ValueError(f"alarm {name!r} is not a detective signal; known: {', '.join(TYPES)}")
    state = detail["state"]
    return _asff(
        event,
        signal=signal,
        finding_id=f"{event['resources'][0]}/{state['timestamp']}",
        at=state["timestamp"],
        title=name,
        description=state.get("reason") or name,
        resource=event["resources"][0],
        severity="MEDIUM" if signal == "guardrail-interventions" else "HIGH",
        tenant=tenant,
        environment=environment,
    )


def handler(event: dict, context=None) -> dict:
    tenant, environment = os.environ["AGENTZONE_TENANT"], os.environ["AGENTZONE_ENVIRONMENT"]
    if event.get("detail-type") != API_CALL and event.get("detail", {}).get("state", {}).get("value") != "ALARM":
        return {"imported": 0}
    result = boto3.client("securityhub").batch_import_findings(
        Findings=[finding(event, tenant=tenant, environment=environment)]
    )
    if result.get("FailedCount"):
        raise FindingError(f"Security Hub refused the finding: {result.get('FailedFindings')}")
    LOG.info("imported a finding for %s", event["detail"].get("alarmName") or event["detail"].get("eventName"))
    return {"imported": result.get("SuccessCount", 0)}
