"""An agent detective alarm entering ALARM, as a Security Hub finding (ASFF) in its own account.

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
}


class FindingError(Exception):
    """Security Hub refused the finding."""


def finding(event: dict, *, tenant: str, environment: str) -> dict:
    """The ASFF finding for one alarm state change event."""
    detail, account, region = event["detail"], event["account"], event["region"]
    name = detail["alarmName"]
    signal = next((kind for kind in TYPES if name.endswith(kind)), "")
    if not signal:
        raise ValueError(f"alarm {name!r} is not a detective signal; known: {', '.join(TYPES)}")
    state = detail["state"]
    alarm_arn = event["resources"][0]
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": f"{alarm_arn}/{state['timestamp']}",
        "ProductArn": f"arn:aws:securityhub:{region}:{account}:product/{account}/default",
        "GeneratorId": f"agentzone/{signal}",
        "AwsAccountId": account,
        "Types": [TYPES[signal]],
        "CreatedAt": state["timestamp"],
        "UpdatedAt": state["timestamp"],
        "Severity": {"Label": "HIGH" if signal != "guardrail-interventions" else "MEDIUM"},
        "Title": f"AgentZone {tenant} ({environment}): {name}",
        "Description": (state.get("reason") or name)[:1024],
        "Resources": [{"Type": "Other", "Id": alarm_arn, "Region": region}],
        "ProductFields": {"agentzone/tenant": tenant, "agentzone/environment": environment},
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "NEW"},
    }


def handler(event: dict, context=None) -> dict:
    tenant, environment = os.environ["AGENTZONE_TENANT"], os.environ["AGENTZONE_ENVIRONMENT"]
    if event.get("detail", {}).get("state", {}).get("value") != "ALARM":
        return {"imported": 0}
    result = boto3.client("securityhub").batch_import_findings(
        Findings=[finding(event, tenant=tenant, environment=environment)]
    )
    if result.get("FailedCount"):
        raise FindingError(f"Security Hub refused the finding: {result.get('FailedFindings')}")
    LOG.info("imported a finding for %s", event["detail"]["alarmName"])
    return {"imported": result.get("SuccessCount", 0)}
