"""HITL blueprint: the synthesized workflow executed in moto, the decision handler in-process, template checks.

What runs where:

* The state machine definition is the one synthesized here (DefinitionString),
  with its CloudFormation tokens resolved against tables, buckets and topics
  created in moto from the template's own properties. moto (``execute_state_machine``)
  really executes it: the Pass/Choice/Fail/Succeed states, ``dynamodb:putItem``,
  ``dynamodb:updateItem``, ``sns:publish``, ``aws-sdk:dynamodb:updateItem.waitForTaskToken``
  (the token lands on the item), ``aws-sdk:s3:putObject`` and task ``TimeoutSeconds``.
* The timeout tests shorten the waits' ``TimeoutSeconds`` in that definition to
  1 second (nothing else changes); moto honours callback-task timeouts.
* API Gateway and Lambda do not run (moto needs Docker for Lambda): the tests
  call ``hitl_decision.handler`` in-process with the proxy event API Gateway
  sends after IAM authentication; IAM itself is only inspected in the template.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template
from moto import mock_aws

from agentzone.blueprints.context import AgentAttachment, BlueprintContext
from agentzone.blueprints.hitl import (
    ENV_CATEGORIES,
    ENV_STATE_MACHINE_ARN,
    STATUS_INDEX,
    HitlWorkflow,
    HitlWorkflowProps,
)
from agentzone.cfn_lint import run_cfn_lint
from agentzone.config.model import HitlBlueprint
from agentzone.constructs import BaselineKey
from agentzone.handlers import hitl_decision
from agentzone.nag import acknowledge_compliance

from ..support import Synth, new_app, synthesize

ACCOUNT, REGION = "111111111111", "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
STACK = "HitlTest"
CONFIG = HitlBlueprint(
    approvers=["claims-leads@example.com"],
    categories=["payment", "account-change"],
    timeout_minutes=60,
    escalation=["claims-head@example.com"],
    escalation_timeout_minutes=120,
    record_retention_days=365,
)
APPROVER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/claims-approver"
APPROVER = f"arn:aws:sts::{ACCOUNT}:assumed-role/claims-approver/alice"
OUTSIDER = f"arn:aws:sts::{ACCOUNT}:assumed-role/claims-agent/session-1"


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Synth:
    """From config, an agent attached and an approver role granted, through every nag pack.

    Synth raises on an unacknowledged error.
    """
    app = new_app(tmp_path_factory.mktemp("hitl") / "cdk.out")
    stack = cdk.Stack(app, STACK, env=ENV)
    key = BaselineKey(stack, "BaselineKey", alias="alias/agentzone/usecase", description="tenant key").key
    context = BlueprintContext(
        tenant="claims", environment="dev", encryption_key=key, tags={"owner": "claims-ai@example.com"}
    )
    hitl = HitlWorkflow.from_config(stack, "Hitl", context=context, config=CONFIG)
    agent = iam.Role(stack, "AgentRole", assumed_by=iam.ServicePrincipal("bedrock-agentcore.amazonaws.com"))
    assert isinstance(hitl, AgentAttachment)
    env = hitl.attach_to_agent(agent)
    assert env[ENV_CATEGORIES] == "account-change,payment"
    assert set(env) == {ENV_STATE_MACHINE_ARN, ENV_CATEGORIES}
    approver = iam.Role(stack, "ApproverRole", role_name="claims-approver", assumed_by=iam.AccountRootPrincipal())
    hitl.grant_approve(approver)
    reader = iam.Role(stack, "AuditorRole", assumed_by=iam.AccountRootPrincipal())
    hitl.grant_read_decisions(reader)
    for role in (agent, approver, reader):
        acknowledge_compliance(
            role.node.find_child("DefaultPolicy"),
            "IAMNoInlinePolicy",
            "Test scaffold: these roles stand in for an agent runtime's, an approver's and an auditor's roles.",
        )
    return synthesize(app, STACK)


def getatt(logical_id: str, attribute: str) -> dict:
    return {"Fn::GetAtt": [logical_id, attribute]}


def _key_id(synth: Synth) -> str:
    return synth.one("AWS::KMS::Key")[0]


# ------------------------------------------------------------------ template: API


def test_decision_route_is_iam_authenticated_validated_post(synth):
    ((_, method),) = [
        (k, v) for k, v in synth.resources("AWS::ApiGateway::Method").items() if v["Properties"]["HttpMethod"] == "POST"
    ]
    props = method["Properties"]
    assert props["AuthorizationType"] == "AWS_IAM"
    assert props.get("ApiKeyRequired") in (None, False)
    assert props["RequestParameters"] == {"method.request.path.id": True}
    assert "RequestValidatorId" in props and "application/json" in props["RequestModels"]
    assert props["Integration"]["Type"] == "AWS_PROXY"
    (validator,) = synth.resources("AWS::ApiGateway::RequestValidator").values()
    assert (
        validator["Properties"]["ValidateRequestBody"] is True
        and validator["Properties"]["ValidateRequestParameters"] is True
    )
    (model,) = synth.resources("AWS::ApiGateway::Model").values()
    schema = model["Properties"]["Schema"]
    assert schema["required"] == ["decision"] and schema["additionalProperties"] is False
    assert schema["properties"]["decision"]["enum"] == ["APPROVED", "REJECTED"]
    # Only the decision route exists: no other methods, no API keys or usage plans.
    assert [v["Properties"]["HttpMethod"] for v in synth.resources("AWS::ApiGateway::Method").values()] == ["POST"]
    assert not synth.resources("AWS::ApiGateway::ApiKey") and not synth.resources("AWS::ApiGateway::UsagePlan")


def test_stage_logs_to_the_cmk_log_group_and_is_throttled(synth):
    _, stage = synth.one("AWS::ApiGateway::Stage")
    props = stage["Properties"]
    (log_group_ref,) = [p for p in props["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1] if isinstance(p, dict)]
    log_group = synth.raw["Resources"][log_group_ref["Ref"]]
    assert json.loads(props["AccessLogSetting"]["Format"])["userArn"] == "$context.identity.userArn"
    assert log_group["Properties"]["KmsKeyId"] == getatt(_key_id(synth), "Arn")
    assert log_group["DeletionPolicy"] == "Retain"
    (settings,) = props["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == 10 and settings["ThrottlingBurstLimit"] == 20
    assert settings["LoggingLevel"] == "ERROR" and settings["DataTraceEnabled"] is False
    assert props["TracingEnabled"] is True


# ------------------------------------------------------------------ template: data at rest


def test_records_bucket_has_object_lock_in_compliance_mode(synth):
    ((bucket_id, bucket),) = [
        (k, v) for k, v in synth.resources("AWS::S3::Bucket").items() if v["Properties"].get("ObjectLockEnabled")
    ]
    props = bucket["Properties"]
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 365}},
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": getatt(_key_id(synth), "Arn"),
    }
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket_id.startswith("HitlRecordsBucket")


def test_table_is_cmk_encrypted_retained_with_pitr_and_status_index(synth):
    table_id, table = synth.one("AWS::DynamoDB::Table")
    props = table["Properties"]
    assert props["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": getatt(_key_id(synth), "Arn"),
    }
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["KeySchema"] == [{"AttributeName": "request_id", "KeyType": "HASH"}]
    (gsi,) = props["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == STATUS_INDEX
    assert gsi["KeySchema"] == [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "requested_at", "KeyType": "RANGE"},
    ]
    assert "task_token" not in gsi["Projection"]["NonKeyAttributes"]
    assert table["DeletionPolicy"] == "Retain" and props["DeletionProtectionEnabled"] is True
    assert table_id.startswith("HitlRequests")


def test_topics_are_cmk_encrypted_tls_only_and_email_the_approvers(synth):
    topics = synth.resources("AWS::SNS::Topic")
    assert len(topics) == 2
    for topic in topics.values():
        assert topic["Properties"]["KmsMasterKeyId"] == getatt(_key_id(synth), "Arn")
    subscriptions = sorted(s["Properties"]["Endpoint"] for s in synth.resources("AWS::SNS::Subscription").values())
    assert subscriptions == ["claims-head@example.com", "claims-leads@example.com"]
    for policy in synth.resources("AWS::SNS::TopicPolicy").values():
        (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_state_machine_is_standard_logged_and_traced(synth):
    _, machine = synth.one("AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert props["StateMachineType"] == "STANDARD" and props["StateMachineName"] == "agentzone-claims-hitl-dev"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert (
        props["LoggingConfiguration"]["Level"] == "ALL"
        and props["LoggingConfiguration"]["IncludeExecutionData"] is False
    )
    definition = json.loads(_resolve(props["DefinitionString"], _refs_for_inspection()))
    assert definition["TimeoutSeconds"] == (60 + 120 + 15) * 60
    assert definition["States"]["WaitForDecision"]["TimeoutSeconds"] == 3600
    assert definition["States"]["WaitForEscalatedDecision"]["TimeoutSeconds"] == 7200
    # The token is written to the table, never into a notification.
    for name in ("NotifyApprovers", "NotifyEscalation"):
        assert "Task.Token" not in json.dumps(definition["States"][name])


# ------------------------------------------------------------------ template: IAM


def _policy_statements(synth: Synth, role_prefix: str) -> list[dict]:
    role_id, _ = synth.one("AWS::IAM::Role", role_prefix)
    out = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def test_grant_approve_allows_invoking_the_decision_route_only_and_names_the_approver(synth):
    (statement,) = _policy_statements(synth, "ApproverRole")
    assert statement["Action"] == "execute-api:Invoke"
    stage_id, _ = synth.one("AWS::ApiGateway::Stage")
    api_id, _ = synth.one("AWS::ApiGateway::RestApi")
    assert statement["Resource"] == {
        "Fn::Join": [
            "",
            [
                f"arn:aws:execute-api:{REGION}:{ACCOUNT}:",
                {"Ref": api_id},
                "/",
                {"Ref": stage_id},
                "/POST/requests/*/decision",
            ],
        ]
    }
    _, function = synth.one("AWS::Lambda::Function", "HitlDecisionFunction")
    approvers = function["Properties"]["Environment"]["Variables"]["APPROVER_PRINCIPALS"]
    approver_id, _ = synth.one("AWS::IAM::Role", "ApproverRole")
    assert approvers == getatt(approver_id, "Arn")


def test_agent_may_only_start_executions(synth):
    machine_id, _ = synth.one("AWS::StepFunctions::StateMachine")
    (statement,) = _policy_statements(synth, "AgentRole")
    assert statement["Action"] == "states:StartExecution" and statement["Resource"] == {"Ref": machine_id}


def test_decision_function_policy_is_least_privilege(synth):
    _, policy = synth.one("AWS::IAM::ManagedPolicy", "HitlDecisionPolicy")
    actions = sorted(
        a
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    )
    assert actions == sorted(
        [
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "s3:PutObject",
            "s3:PutObjectRetention",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "states:SendTaskSuccess",
            "states:SendTaskFailure",
        ]
    )
    send = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "ReturnTaskTokens")
    # SendTaskSuccess/SendTaskFailure support only Resource "*" (the task token authorizes the call):
    # a statement naming the state machine would grant nothing and no approval could complete.
    assert sorted(send["Action"]) == ["states:SendTaskFailure", "states:SendTaskSuccess"]
    assert send["Resource"] == "*"
    assert "Condition" not in send
    # Nothing else in the decision policy is on "*".
    others = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") != "ReturnTaskTokens"]
    assert all(s["Resource"] != "*" for s in others)


def test_reader_gets_read_only_access(synth):
    actions = {
        a
        for s in _policy_statements(synth, "AuditorRole")
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert not any(
        a.startswith(("dynamodb:Put", "dynamodb:Update", "dynamodb:Delete", "s3:Put", "s3:Delete")) for a in actions
    )
    assert actions == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "s3:ListBucket",
        "s3:GetObject",
        "s3:GetObjectRetention",
        "kms:Decrypt",
    }


# ------------------------------------------------------------------ nag and cfn-lint


def test_nag_passed_with_narrow_acknowledgements(synth):
    ours = [a for a in synth.acknowledgements() if "/Hitl/" in a.path]
    aws_solutions = {(a.path.removeprefix(f"/{STACK}/Hitl/"), a.finding) for a in ours if a.pack == "AwsSolutions"}
    bucket_id = next(k for k in synth.resources("AWS::S3::Bucket") if k.startswith("HitlRecordsBucket"))
    assert aws_solutions == {
        (
            "Api/CloudWatchRole",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        ),
        ("Api/Default/requests/{id}/decision/POST", "AwsSolutions-COG4"),
        ("Api/DeploymentStage.v1", "AwsSolutions-APIG3"),
        ("DecisionPolicy", f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/decisions/*]"),
        ("DecisionPolicy", "AwsSolutions-IAM5[Resource::*]"),
        ("Workflow/Role/DefaultPolicy", f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/decisions/*]"),
        ("Workflow/Role/DefaultPolicy", "AwsSolutions-IAM5[Resource::*]"),
        ("RecordsAccessLogs/Bucket", "AwsSolutions-S1"),
    }
    for ack in ours:
        assert len(ack.reason) >= 30
    # The grants' own wildcards, acknowledged on the grantees' policies by the blueprint.
    stage_id, _ = synth.one("AWS::ApiGateway::Stage")
    api_id, _ = synth.one("AWS::ApiGateway::RestApi")
    grantees = {
        (a.path, a.finding)
        for a in synth.acknowledgements()
        if a.pack == "AwsSolutions" and "Role/DefaultPolicy" in a.path and not a.path.startswith(f"/{STACK}/Hitl/")
    }
    assert grantees == {
        (
            f"/{STACK}/ApproverRole/DefaultPolicy",
            f"AwsSolutions-IAM5[Resource::arn:aws:execute-api:{REGION}:{ACCOUNT}:<{api_id}>/<{stage_id}>/POST/requests/*/decision]",
        ),
        (f"/{STACK}/AuditorRole/DefaultPolicy", f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/decisions/*]"),
    }


def test_without_escalation_a_timeout_rejects_directly(tmp_path):
    app = new_app(tmp_path / "cdk.out")
    stack = cdk.Stack(app, "NoEscalation", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/x", description="x").key
    context = BlueprintContext(
        tenant="claims", environment="dev", encryption_key=key, tags={"owner": "claims-ai@example.com"}
    )
    HitlWorkflow.from_config(
        stack, "Hitl", context=context, config=HitlBlueprint(approvers=["a@example.com"], categories=["payment"])
    )
    template = Template.from_stack(stack).to_json()
    (machine,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    definition = json.loads(_resolve(machine["Properties"]["DefinitionString"], _refs_for_inspection()))
    assert "NotifyEscalation" not in definition["States"] and "WaitForEscalatedDecision" not in definition["States"]
    catches = {c["ErrorEquals"][0]: c["Next"] for c in definition["States"]["WaitForDecision"]["Catch"]}
    assert catches == {"HITL.Rejected": "Rejected", "States.Timeout": "RecordTimeout"}
    assert definition["States"]["NeedsApproval"]["Choices"][0] == {
        "Variable": "$.category",
        "StringEquals": "payment",
        "Next": "RecordPending",
    }
    assert len([r for r in template["Resources"].values() if r["Type"] == "AWS::SNS::Topic"]) == 1
    tags = {
        t["Key"]: t["Value"]
        for t in next(r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")["Properties"][
            "Tags"
        ]
    }
    assert tags == {"owner": "claims-ai@example.com"}


def test_cfn_lint_has_no_errors(synth):
    result = run_cfn_lint([synth.path])
    assert result.errors == [], result.render()
    # Only W3005 (a DependsOn the Lambda and Step Functions L2s add next to a GetAtt of the same role).
    assert {w["Rule"]["Id"] for w in result.warnings} <= {"W3005"}, result.render()


# ------------------------------------------------------------------ unit: props and handler helpers


def test_props_are_validated(tmp_path):
    app = new_app(tmp_path / "cdk.out")
    stack = cdk.Stack(app, "Bad", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/x", description="x").key
    with pytest.raises(ValueError, match="lower-case slugs"):
        HitlWorkflow(
            stack,
            "H",
            props=HitlWorkflowProps(
                name="x", encryption_key=key, approvers=("a@example.com",), categories=("Pay Ment",)
            ),
        )
    with pytest.raises(ValueError, match="approver"):
        HitlWorkflow(
            stack, "H2", props=HitlWorkflowProps(name="x", encryption_key=key, approvers=(), categories=("payment",))
        )


def test_principal_matching():
    assert hitl_decision.principal_allowed(APPROVER, [APPROVER_ROLE])
    assert hitl_decision.principal_allowed(
        APPROVER, [f"arn:aws:iam::{ACCOUNT}:role/team/claims-approver"]
    )  # paths are not in session ARNs
    assert not hitl_decision.principal_allowed(OUTSIDER, [APPROVER_ROLE])
    assert not hitl_decision.principal_allowed(
        f"arn:aws:sts::{ACCOUNT}:assumed-role/claims-approver-2/x", [APPROVER_ROLE]
    )
    assert not hitl_decision.principal_allowed(
        "arn:aws:sts::222222222222:assumed-role/claims-approver/x", [APPROVER_ROLE]
    )
    assert hitl_decision.principal_allowed(f"arn:aws:iam::{ACCOUNT}:user/bob", [f"arn:aws:iam::{ACCOUNT}:user/bob"])
    assert not hitl_decision.principal_allowed(APPROVER, [])


@pytest.mark.parametrize(
    "body,path_id,message",
    [
        ({"decision": "MAYBE"}, "r-1", "decision must be"),
        ({"decision": "REJECTED"}, "r-1", "needs a reason"),
        ({"decision": "APPROVED"}, "../x", "request id"),
        ({"decision": "APPROVED", "reason": "x" * 1001}, "r-1", "at most"),
    ],
)
def test_malformed_decisions_are_400(body, path_id, message):
    response = hitl_decision.handler(_event(path_id, body, APPROVER), None)
    assert response["statusCode"] == 400 and message in json.loads(response["body"])["message"]


def test_unauthenticated_caller_is_403():
    event = _event("r-1", {"decision": "APPROVED"}, APPROVER)
    event["requestContext"]["identity"]["userArn"] = None
    assert hitl_decision.handler(event, None)["statusCode"] == 403


# ------------------------------------------------------------------ executed in moto


def _resolve(value, refs: dict[str, str]):
    """Resolve Fn::Join / Ref / Fn::GetAtt in a template value against ``refs`` (logical id or 'Id.Attr' -> value)."""
    if isinstance(value, dict):
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(_resolve(part, refs) for part in parts)
        if "Ref" in value:
            return refs[value["Ref"]]
        if "Fn::GetAtt" in value:
            return refs[".".join(value["Fn::GetAtt"])]
        return {k: _resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, refs) for v in value]
    return value


class _AnyRef(dict):
    def __missing__(self, key):
        return f"<{key}>"


def _refs_for_inspection() -> dict:
    return _AnyRef({"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"})


def _event(request_id: str, body: dict, caller: str | None) -> dict:
    """What API Gateway (AWS_PROXY, AWS_IAM auth) passes the function."""
    return {
        "resource": "/requests/{id}/decision",
        "httpMethod": "POST",
        "pathParameters": {"id": request_id},
        "body": json.dumps(body),
        "requestContext": {"identity": {"userArn": caller, "caller": "AROAEXAMPLE:alice"}, "stage": "v1"},
    }


def _wait(predicate, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Harness:
    """moto resources built from the template, the synthesized definition, and the handler's environment."""

    synth: Synth
    definition: dict
    table: str
    bucket: str
    approvers_topic: str

    @property
    def sfn(self):
        return boto3.client("stepfunctions", region_name=REGION)

    @property
    def ddb(self):
        return boto3.client("dynamodb", region_name=REGION)

    @property
    def s3(self):
        return boto3.client("s3", region_name=REGION)

    def state_machine(
        self, *, first_wait: int | None = None, escalated_wait: int | None = None, name: str = "hitl"
    ) -> str:
        definition = copy.deepcopy(self.definition)
        if first_wait is not None:
            definition["States"]["WaitForDecision"]["TimeoutSeconds"] = first_wait
        if escalated_wait is not None:
            definition["States"]["WaitForEscalatedDecision"]["TimeoutSeconds"] = escalated_wait
        return self.sfn.create_state_machine(
            name=name,
            definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/hitl-workflow",
            type="STANDARD",
        )["stateMachineArn"]

    def start(
        self,
        machine: str,
        request_id: str,
        category: str = "payment",
        payload: dict | None = None,
        requested_by: str = "claims-agent",
    ) -> str:
        request = {
            "request_id": request_id,
            "category": category,
            "action": "refund claim",
            "requested_by": requested_by,
            "payload": payload if payload is not None else {"claim": "C-1", "amount": 120.5, "currency": "EUR"},
        }
        return self.sfn.start_execution(stateMachineArn=machine, name=request_id, input=json.dumps(request))[
            "executionArn"
        ]

    def item(self, request_id: str) -> dict:
        found = self.ddb.get_item(TableName=self.table, Key={"request_id": {"S": request_id}}, ConsistentRead=True).get(
            "Item", {}
        )
        return {k: v["S"] for k, v in found.items()}

    def waiting(self, request_id: str, stage: str = "APPROVERS") -> dict:
        return _wait(
            lambda: (i := self.item(request_id)).get("wait_stage") == stage and i.get("task_token") and i,
            what=f"{request_id} waiting ({stage})",
        )

    def finished(self, execution: str) -> dict:
        return _wait(
            lambda: (d := self.sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d,
            what="execution end",
        )

    def decide(self, request_id: str, decision: str, caller: str = APPROVER, reason: str = "") -> dict:
        body = {"decision": decision, **({"reason": reason} if reason else {})}
        response = hitl_decision.handler(_event(request_id, body, caller), None)
        return {"status": response["statusCode"], **json.loads(response["body"])}

    def record(self, request_id: str) -> tuple[dict, dict]:
        obj = self.s3.get_object(Bucket=self.bucket, Key=f"decisions/{request_id}.json")
        # HeadObject, not GetObjectRetention: moto 5.2 answers the latter with a 500.
        head = self.s3.head_object(Bucket=self.bucket, Key=f"decisions/{request_id}.json")
        retention = {
            "Mode": head.get("ObjectLockMode"),
            "RetainUntilDate": head.get("ObjectLockRetainUntilDate"),
            "VersionId": head["VersionId"],
        }
        return json.loads(obj["Body"].read()), retention

    def record_versions(self, request_id: str) -> int:
        return len(
            self.s3.list_object_versions(Bucket=self.bucket, Prefix=f"decisions/{request_id}.json").get("Versions", [])
        )


@pytest.fixture
def aws(synth, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield _harness(synth, monkeypatch)


def _harness(synth: Synth, monkeypatch) -> Harness:
    refs: dict[str, str] = {
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
    }
    kms_key = boto3.client("kms", region_name=REGION).create_key(Description="tenant key")["KeyMetadata"]["Arn"]
    refs[f"{_key_id(synth)}.Arn"] = kms_key

    table_id, table = synth.one("AWS::DynamoDB::Table")
    props = table["Properties"]
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="claims-hitl-requests",
        KeySchema=props["KeySchema"],
        AttributeDefinitions=props["AttributeDefinitions"],
        BillingMode=props["BillingMode"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key},
    )
    refs[table_id] = "claims-hitl-requests"

    bucket_id, bucket = next(
        (k, v) for k, v in synth.resources("AWS::S3::Bucket").items() if k.startswith("HitlRecordsBucket")
    )
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(
        Bucket="claims-hitl-records",
        ObjectLockEnabledForBucket=True,
        CreateBucketConfiguration={"LocationConstraint": REGION},
    )
    s3.put_object_lock_configuration(
        Bucket="claims-hitl-records", ObjectLockConfiguration=bucket["Properties"]["ObjectLockConfiguration"]
    )
    refs[bucket_id] = "claims-hitl-records"

    sns = boto3.client("sns", region_name=REGION)
    for topic_id in synth.resources("AWS::SNS::Topic"):
        arn = sns.create_topic(Name=topic_id)["TopicArn"]
        refs[topic_id] = arn
        # Stand-in for the email subscribers: an SQS queue shows what approvers receive.
        sqs = boto3.client("sqs", region_name=REGION)
        queue = sqs.create_queue(QueueName=f"{topic_id}-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    refs[synth.one("AWS::ApiGateway::RestApi")[0]] = "a1b2c3d4e5"
    refs[synth.one("AWS::ApiGateway::Stage")[0]] = "v1"

    _, machine = synth.one("AWS::StepFunctions::StateMachine")
    definition = json.loads(_resolve(machine["Properties"]["DefinitionString"], refs))

    # The function's environment, as the template sets it (approvers resolved to the granted role's ARN).
    _, function = synth.one("AWS::Lambda::Function", "HitlDecisionFunction")
    approver_id, _ = synth.one("AWS::IAM::Role", "ApproverRole")
    refs[f"{approver_id}.Arn"] = APPROVER_ROLE
    for name, value in function["Properties"]["Environment"]["Variables"].items():
        monkeypatch.setenv(name, _resolve(value, refs))
    approvers_topic = next(refs[k] for k in synth.resources("AWS::SNS::Topic") if k.startswith("HitlApproversTopic"))
    return Harness(synth, definition, "claims-hitl-requests", "claims-hitl-records", approvers_topic)


def _inbox(prefix: str) -> list[dict]:
    sqs = boto3.client("sqs", region_name=REGION)
    url = next(u for u in sqs.list_queues()["QueueUrls"] if u.rsplit("/", 1)[1].startswith(prefix))
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(json.loads(m["Body"])["Message"]) for m in messages]


def test_approve(aws):
    machine = aws.state_machine()
    payload = {"claim": "C-1", "amount": 120.5, "currency": "EUR"}
    execution = aws.start(machine, "req-approve", payload=payload)
    waiting = aws.waiting("req-approve")
    expected_hash = hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()
    assert waiting["status"] == "PENDING" and waiting["payload_sha256"] == expected_hash
    # The approvers were told (with the payload and its hash, never the token).
    (notice,) = _inbox("HitlApproversTopic")
    assert (
        notice["request_id"] == "req-approve"
        and notice["payload_sha256"] == expected_hash
        and notice["escalated"] is False
    )
    assert (
        notice["decide_at"]
        == "POST https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1/requests/{request_id}/decision"
    )
    assert waiting["task_token"] not in json.dumps(notice)

    before = dt.datetime.now(dt.UTC)
    answer = aws.decide("req-approve", "APPROVED", reason="refund is within policy")
    assert answer["status"] == 200 and answer["outcome"] == "APPROVED"
    assert aws.finished(execution)["status"] == "SUCCEEDED"
    item = aws.item("req-approve")
    assert item["status"] == "APPROVED" and item["decided_by"] == APPROVER and "task_token" not in item
    record, retention = aws.record("req-approve")
    assert (
        record["outcome"] == "APPROVED"
        and record["decided_by"] == APPROVER
        and record["reason"] == "refund is within policy"
    )
    assert (record["category"], record["action"], record["payload_sha256"]) == (
        "payment",
        "refund claim",
        expected_hash,
    )
    assert retention["Mode"] == "COMPLIANCE"
    retain_until = retention["RetainUntilDate"]
    assert before + dt.timedelta(days=364) < retain_until < before + dt.timedelta(days=366)
    # Compliance mode: the record version cannot be deleted.
    with pytest.raises(aws.s3.exceptions.ClientError, match="AccessDenied"):
        aws.s3.delete_object(Bucket=aws.bucket, Key="decisions/req-approve.json", VersionId=retention["VersionId"])


def test_reject(aws):
    machine = aws.state_machine()
    execution = aws.start(machine, "req-reject")
    aws.waiting("req-reject")
    answer = aws.decide("req-reject", "REJECTED", reason="amount needs a second quote")
    assert answer["status"] == 200
    described = aws.finished(execution)
    assert described["status"] == "FAILED"
    assert described.get("error") == "HITL.Rejected"
    assert aws.item("req-reject")["status"] == "REJECTED"
    record, retention = aws.record("req-reject")
    assert (
        record["outcome"] == "REJECTED"
        and record["reason"] == "amount needs a second quote"
        and retention["Mode"] == "COMPLIANCE"
    )


def test_timeout_escalates_then_rejects(aws):
    machine = aws.state_machine(first_wait=1, escalated_wait=1)
    execution = aws.start(machine, "req-timeout")
    described = _wait(
        lambda: (d := aws.sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d,
        timeout=30,
        what="timeouts",
    )
    assert described["status"] == "FAILED" and described.get("error") == "HITL.Timeout"
    states = [
        e.get("stateEnteredEventDetails", {}).get("name")
        for e in aws.sfn.get_execution_history(executionArn=execution)["events"]
    ]
    assert [s for s in states if s] == [
        "Describe",
        "NeedsApproval",
        "RecordPending",
        "NotifyApprovers",
        "WaitForDecision",
        "NotifyEscalation",
        "WaitForEscalatedDecision",
        "RecordTimeout",
        "DescribeTimeoutRecord",
        "WriteTimeoutRecord",
        "TimedOut",
    ]
    (escalation,) = _inbox("HitlEscalationTopic")
    assert escalation["escalated"] is True and escalation["request_id"] == "req-timeout"
    item = aws.item("req-timeout")
    assert (item["status"], item["reason"], item["decided_by"]) == (
        "REJECTED",
        "timeout",
        "system:timeout",
    ) and "task_token" not in item
    record, retention = aws.record(
        "req-timeout"
    )  # written by the state machine; the bucket's default retention applies
    assert (record["outcome"], record["reason"], record["decided_by"]) == ("REJECTED", "timeout", "system:timeout")
    assert record["payload_sha256"] == item["payload_sha256"] and retention["Mode"] == "COMPLIANCE"
    # A decision after the timeout is refused.
    assert aws.decide("req-timeout", "APPROVED")["status"] == 409


def test_escalated_request_can_still_be_approved(aws):
    machine = aws.state_machine(first_wait=1)
    execution = aws.start(machine, "req-escalated")
    escalated = aws.waiting("req-escalated", stage="ESCALATED")
    assert escalated["status"] == "PENDING"
    assert aws.decide("req-escalated", "APPROVED")["status"] == 200
    assert aws.finished(execution)["status"] == "SUCCEEDED"
    assert aws.item("req-escalated")["status"] == "APPROVED"


def test_uncategorized_action_is_auto_approved_without_waiting(aws):
    machine = aws.state_machine()
    execution = aws.start(machine, "req-auto", category="lookup")
    described = aws.finished(execution)
    assert described["status"] == "SUCCEEDED"
    states = [
        e.get("stateEnteredEventDetails", {}).get("name")
        for e in aws.sfn.get_execution_history(executionArn=execution)["events"]
    ]
    assert "WaitForDecision" not in states and "NotifyApprovers" not in states
    item = aws.item("req-auto")
    assert item["status"] == "AUTO_APPROVED" and "task_token" not in item
    record, _ = aws.record("req-auto")
    assert record["outcome"] == "AUTO_APPROVED" and record["decided_by"] == "system:policy"
    assert _inbox("HitlApproversTopic") == []
    # Nothing to decide.
    assert aws.decide("req-auto", "APPROVED")["status"] == 409


def test_second_decision_is_refused(aws):
    machine = aws.state_machine()
    execution = aws.start(machine, "req-twice")
    aws.waiting("req-twice")
    assert aws.decide("req-twice", "APPROVED")["status"] == 200
    aws.finished(execution)
    again = aws.decide("req-twice", "REJECTED", reason="changed my mind")
    assert again["status"] == 409 and "already APPROVED" in again["message"]
    assert aws.item("req-twice")["status"] == "APPROVED"
    assert aws.record_versions("req-twice") == 1
    assert aws.record("req-twice")[0]["outcome"] == "APPROVED"


def test_unauthorized_caller_and_self_approval_are_refused(aws):
    machine = aws.state_machine()
    execution = aws.start(machine, "req-authz", requested_by=APPROVER)
    aws.waiting("req-authz")
    outsider = aws.decide("req-authz", "APPROVED", caller=OUTSIDER)
    assert outsider["status"] == 403 and "not an approver" in outsider["message"]
    own = aws.decide("req-authz", "APPROVED", caller=APPROVER)
    assert own["status"] == 403 and "own request" in own["message"]
    assert aws.sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    assert aws.item("req-authz")["status"] == "PENDING"
    assert aws.record_versions("req-authz") == 0
    aws.sfn.stop_execution(executionArn=execution)


def test_unknown_request_is_404_and_duplicate_request_id_fails(aws):
    assert aws.decide("req-unknown", "APPROVED")["status"] == 404
    machine = aws.state_machine()
    first = aws.start(machine, "req-dup", category="lookup")
    assert aws.finished(first)["status"] == "SUCCEEDED"
    # Same request id through another state machine (Step Functions itself refuses a reused execution name).
    other = aws.state_machine(name="hitl-other")
    second = aws.sfn.start_execution(
        stateMachineArn=other,
        name="req-dup-2",
        input=json.dumps(
            {"request_id": "req-dup", "category": "payment", "action": "x", "requested_by": "a", "payload": {}}
        ),
    )["executionArn"]
    described = aws.finished(second)
    assert described["status"] == "FAILED" and described.get("error") == "HITL.DuplicateRequest"
    assert aws.item("req-dup")["status"] == "AUTO_APPROVED"


def test_decision_function_ships_only_its_module(synth):
    _, function = synth.one("AWS::Lambda::Function", "HitlDecisionFunction")
    assert function["Properties"]["Handler"] == "hitl_decision.handler"
    assert function["Properties"]["Runtime"].startswith("python3.")
    asset = synth.outdir / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    assert sorted(p.name for p in asset.iterdir()) == ["hitl_decision.py"]
