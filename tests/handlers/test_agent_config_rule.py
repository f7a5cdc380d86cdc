"""The agent-configuration Config rule's handler against botocore Stubbers (moto has neither the AgentCore control
plane nor PutEvaluations outside test mode): requests are checked against the service models."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from agentzone.handlers import agent_config_rule as rule

WHEN = "2026-12-05T04:00:00.000Z"
GUARDRAIL = "gr0abc123def"


def _runtime(name: str, runtime_id: str, mode: str, guardrail: str | None) -> dict:
    return {
        "agentRuntimeArn": f"arn:aws:bedrock-agentcore:eu-west-1:444444444444:runtime/{runtime_id}",
        "agentRuntimeName": name,
        "agentRuntimeId": runtime_id,
        "agentRuntimeVersion": "3",
        "createdAt": datetime(2026, 12, 1, tzinfo=UTC),
        "lastUpdatedAt": datetime(2026, 12, 4, tzinfo=UTC),
        "roleArn": "arn:aws:iam::444444444444:role/agent",
        "networkConfiguration": {"networkMode": mode},
        "status": "READY",
        "lifecycleConfiguration": {"idleRuntimeSessionTimeout": 900, "maxLifetime": 28800},
        "environmentVariables": {"AGENTZONE_GUARDRAIL_ID": guardrail} if guardrail else {"OTHER": "x"},
    }


RUNTIMES = [
    _runtime("fraud_investigator_prod", "fraud_investigator_prod-aaaa111111", "VPC", GUARDRAIL),  # as configured
    _runtime("fraud_investigator_dev", "fraud_investigator_dev-bbbb222222", "PUBLIC", GUARDRAIL),  # VPC removed
    _runtime("console_experiment", "console_experiment-cccc333333", "PUBLIC", None),  # no guardrail
]


@pytest.fixture
def clients(monkeypatch):
    monkeypatch.setenv("AGENTZONE_GUARDRAIL_ID", GUARDRAIL)
    monkeypatch.setenv("AGENTZONE_VPC_RUNTIMES", "fraud_investigator_dev,fraud_investigator_prod")
    control = boto3.client("bedrock-agentcore-control", region_name="eu-west-1")
    config = boto3.client("config", region_name="eu-west-1")
    by_name = {"bedrock-agentcore-control": control, "config": config}
    monkeypatch.setattr(rule.boto3, "client", lambda name, **_: by_name[name])
    return Stubber(control), Stubber(config)


def _summary(runtime: dict) -> dict:
    keys = ("agentRuntimeArn", "agentRuntimeId", "agentRuntimeVersion", "agentRuntimeName", "lastUpdatedAt", "status")
    return {k: runtime[k] for k in keys} | {"description": "an agent"}


def _event() -> dict:
    return {
        "accountId": "444444444444",
        "configRuleName": "agentzone-fraud-prod-agent-configuration",
        "resultToken": "token-1",
        "invokingEvent": json.dumps({"messageType": "ScheduledNotification", "notificationCreationTime": WHEN}),
    }


def _previous(config: Stubber, *runtime_ids: str) -> None:
    results = [
        {
            "EvaluationResultIdentifier": {
                "EvaluationResultQualifier": {"ResourceType": rule.RESOURCE_TYPE, "ResourceId": runtime_id}
            },
            "ComplianceType": "NON_COMPLIANT",
        }
        for runtime_id in runtime_ids
    ]
    expected = {
        "ConfigRuleName": "agentzone-fraud-prod-agent-configuration",
        "ComplianceTypes": ["COMPLIANT", "NON_COMPLIANT"],
        "Limit": 100,
    }
    config.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": results}, expected)


def test_drift_from_the_configured_guardrail_and_vpc_mode_is_non_compliant(clients):
    control, config = clients
    # A runtime reported last time and deleted since: its verdict is retired, not left in the aggregator.
    _previous(config, RUNTIMES[1]["agentRuntimeId"], "old_agent-dddd444444")
    # Two pages: the handler follows nextToken; one listed runtime is deleted before it is read.
    control.add_response("list_agent_runtimes", {"agentRuntimes": [_summary(RUNTIMES[0])], "nextToken": "n"}, {})
    control.add_response("get_agent_runtime", RUNTIMES[0], {"agentRuntimeId": RUNTIMES[0]["agentRuntimeId"]})
    gone = _runtime("deleted_meanwhile", "deleted_meanwhile-eeee555555", "VPC", GUARDRAIL)
    page = {"agentRuntimes": [_summary(r) for r in (*RUNTIMES[1:], gone)]}
    control.add_response("list_agent_runtimes", page, {"nextToken": "n"})
    for runtime in RUNTIMES[1:]:
        control.add_response("get_agent_runtime", runtime, {"agentRuntimeId": runtime["agentRuntimeId"]})
    control.add_client_error("get_agent_runtime", "ResourceNotFoundException", http_status_code=404)
    reported: list[dict] = []
    config.add_response("put_evaluations", {"FailedEvaluations": []}, {"Evaluations": ANY, "ResultToken": "token-1"})
    config.client.meta.events.register(
        "provide-client-params.config.PutEvaluations", lambda params, **_: reported.extend(params["Evaluations"])
    )
    with control, config:
        assert rule.handler(_event()) == {"evaluated": 4, "non_compliant": 2}
    control.assert_no_pending_responses()
    config.assert_no_pending_responses()
    verdicts = {e["ComplianceResourceId"].split("-")[0]: (e["ComplianceType"], e["Annotation"]) for e in reported}
    assert verdicts["fraud_investigator_prod"][0] == "COMPLIANT"
    assert verdicts["fraud_investigator_dev"] == (
        "NON_COMPLIANT",
        "fraud_investigator_dev runs in PUBLIC network mode; the tenant file gives it a VPC",
    )
    assert verdicts["console_experiment"] == (
        "NON_COMPLIANT",
        f"console_experiment does not carry the account guardrail (AGENTZONE_GUARDRAIL_ID is not {GUARDRAIL})",
    )
    assert verdicts["old_agent"] == ("NOT_APPLICABLE", "old_agent-dddd444444: no longer in this account")
    assert "deleted_meanwhile" not in verdicts
    assert {e["ComplianceResourceType"] for e in reported} == {"AWS::BedrockAgentCore::Runtime"}
    assert {e["OrderingTimestamp"] for e in reported} == {datetime(2026, 12, 5, 4, tzinfo=UTC)}


def test_an_account_without_runtimes_is_reported_not_applicable(clients, monkeypatch):
    control, config = clients
    monkeypatch.delenv("AGENTZONE_GUARDRAIL_ID")
    _previous(config)
    control.add_response("list_agent_runtimes", {"agentRuntimes": []}, {})
    expected = [
        {
            "ComplianceResourceType": "AWS::::Account",
            "ComplianceResourceId": "444444444444",
            "ComplianceType": "NOT_APPLICABLE",
            "Annotation": "no AgentCore runtime in this account and region",
            "OrderingTimestamp": datetime(2026, 12, 5, 4, tzinfo=UTC),
        }
    ]
    config.add_response("put_evaluations", {}, {"Evaluations": expected, "ResultToken": "token-1"})
    with control, config:
        assert rule.handler(_event()) == {"evaluated": 1, "non_compliant": 0}
    config.assert_no_pending_responses()


def test_without_an_account_guardrail_only_the_network_mode_is_checked():
    runtime = _runtime("a", "a-1", "PUBLIC", None)
    assert rule.evaluate(runtime, guardrail_id=None, vpc_runtimes=set())[0] == "COMPLIANT"
    assert rule.evaluate(runtime, guardrail_id=None, vpc_runtimes={"a"})[0] == "NON_COMPLIANT"
