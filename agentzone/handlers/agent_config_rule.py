"""A periodic AWS Config rule in each tenant account: every AgentCore runtime there carries the account's
guardrail, and every runtime the tenant file gives a VPC runs in VPC mode.

AWS Config invokes it on schedule (``ScheduledNotification``); it reads each runtime from the AgentCore control
plane (``GetAgentRuntime``: network mode, environment variables) and reports one evaluation per runtime, so the
central security account sees drift (a runtime edited in the console, one created outside AgentZone without the
guardrail) in the organization's Config aggregator. A runtime it reported before and no longer finds is reported
NOT_APPLICABLE, so a deleted runtime's last verdict does not stay in the aggregator. Environment:

- ``AGENTZONE_GUARDRAIL_ID``: the account guardrail's id; unset when the tenant has no guardrail blueprint;
- ``AGENTZONE_VPC_RUNTIMES``: comma-separated runtime names that must run in VPC mode.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Set
from datetime import UTC, datetime

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

RESOURCE_TYPE = "AWS::BedrockAgentCore::Runtime"
GUARDRAIL_VARIABLE = "AGENTZONE_GUARDRAIL_ID"
BATCH = 100  # PutEvaluations takes at most 100 evaluations per call


def runtimes(control) -> Iterator[dict]:
    """Every runtime of the account and region (ListAgentRuntimes, page by page)."""
    token = None
    while True:
        page = control.list_agent_runtimes(**({"nextToken": token} if token else {}))
        yield from page.get("agentRuntimes", [])
        token = page.get("nextToken")
        if not token:
            return


def previous_runtimes(config, rule: str) -> set[str]:
    """Runtime ids this rule has a COMPLIANT or NON_COMPLIANT result for (GetComplianceDetailsByConfigRule)."""
    found: set[str] = set()
    token = None
    while True:
        page = config.get_compliance_details_by_config_rule(
            ConfigRuleName=rule,
            ComplianceTypes=["COMPLIANT", "NON_COMPLIANT"],
            Limit=100,
            **({"NextToken": token} if token else {}),
        )
        for result in page.get("EvaluationResults", []):
            qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            if qualifier.get("ResourceType") == RESOURCE_TYPE:
                found.add(qualifier["ResourceId"])
        token = page.get("NextToken")
        if not token:
            return found


def evaluate(runtime: dict, *, guardrail_id: str | None, vpc_runtimes: set[str]) -> tuple[str, str]:
    """(ComplianceType, annotation) for one runtime as GetAgentRuntime returns it."""
    name = runtime["agentRuntimeName"]
    problems = []
    mode = runtime.get("networkConfiguration", {}).get("networkMode")
    if name in vpc_runtimes and mode != "VPC":
        problems.append(f"runs in {mode} network mode; the tenant file gives it a VPC")
    variables = runtime.get("environmentVariables") or {}
    if guardrail_id and variables.get(GUARDRAIL_VARIABLE) != guardrail_id:
        problems.append(f"does not carry the account guardrail ({GUARDRAIL_VARIABLE} is not {guardrail_id})")
    if problems:
        return "NON_COMPLIANT", f"{name} " + "; ".join(problems)
    return "COMPLIANT", f"{name}: guardrail and network mode as configured"


def _when(event: dict) -> datetime:
    invoking = json.loads(event.get("invokingEvent") or "{}")
    stamp = invoking.get("notificationCreationTime")
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else datetime.now(UTC)


def _evaluation(runtime_id: str, compliance: str, annotation: str, when: datetime) -> dict:
    return {
        "ComplianceResourceType": RESOURCE_TYPE,
        "ComplianceResourceId": runtime_id,
        "ComplianceType": compliance,
        "Annotation": annotation[:256],
        "OrderingTimestamp": when,
    }


def evaluations(control, *, account: str, when: datetime, previous: Set[str] = frozenset()) -> list[dict]:
    """One evaluation per runtime, NOT_APPLICABLE for each of ``previous`` now gone; an account without runtimes (or
    results) is reported NOT_APPLICABLE as itself. A runtime deleted while this runs is skipped."""
    guardrail_id = os.environ.get(GUARDRAIL_VARIABLE) or None
    vpc_runtimes = {n for n in os.environ.get("AGENTZONE_VPC_RUNTIMES", "").split(",") if n}
    found = []
    for summary in runtimes(control):
        try:
            runtime = control.get_agent_runtime(agentRuntimeId=summary["agentRuntimeId"])
        except control.exceptions.ResourceNotFoundException:
            continue
        compliance, annotation = evaluate(runtime, guardrail_id=guardrail_id, vpc_runtimes=vpc_runtimes)
        found.append(_evaluation(summary["agentRuntimeId"], compliance, annotation, when))
    seen = {e["ComplianceResourceId"] for e in found}
    found += [
        _evaluation(gone, "NOT_APPLICABLE", f"{gone}: no longer in this account", when)
        for gone in sorted(previous - seen)
    ]
    if found:
        return found
    return [
        {
            "ComplianceResourceType": "AWS::::Account",
            "ComplianceResourceId": account,
            "ComplianceType": "NOT_APPLICABLE",
            "Annotation": "no AgentCore runtime in this account and region",
            "OrderingTimestamp": when,
        }
    ]


def handler(event: dict, context=None) -> dict:
    account = event.get("accountId") or boto3.client("sts").get_caller_identity()["Account"]
    config = boto3.client("config")
    previous = previous_runtimes(config, event["configRuleName"])
    found = evaluations(
        boto3.client("bedrock-agentcore-control"), account=account, when=_when(event), previous=previous
    )
    for start in range(0, len(found), BATCH):
        config.put_evaluations(Evaluations=found[start : start + BATCH], ResultToken=event["resultToken"])
    failing = sum(e["ComplianceType"] == "NON_COMPLIANT" for e in found)
    LOG.info("evaluated %d runtime(s), %d non-compliant", len(found), failing)
    return {"evaluated": len(found), "non_compliant": failing}
