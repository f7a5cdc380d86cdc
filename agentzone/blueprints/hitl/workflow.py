"""The approval state machine and the topics it notifies: one execution per request (flow in the package docstring).

The wait states park the task token on the request's item (``updateItem.waitForTaskToken``, condition: still
PENDING), so the token never travels in a message; only the decision function reads it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ...constructs.retention import retained_log_group
from ...nag import acknowledge, acknowledge_compliance
from ._nag import nag_text
from .contract import RECORD_PREFIX, REJECTED_ERROR, TIMEOUT_ERROR
from .records import HitlRecords, write_record_steps

_DUPLICATE = ["DynamoDB.ConditionalCheckFailedException"]


@dataclass(frozen=True)
class WorkflowProps:
    """``decide_url`` is the decision route the emails name; without ``escalation_topic`` a timeout rejects."""

    name: str
    state_machine_name: str
    records: HitlRecords
    categories: tuple[str, ...]
    timeout: cdk.Duration
    escalation_timeout: cdk.Duration
    approvers_topic: sns.ITopic
    decide_url: str
    escalation_topic: sns.ITopic | None = None
    log_retention_days: int = 365


def approval_topic(
    scope: Construct, construct_id: str, *, encryption_key: kms.IKey, display_name: str, emails: Sequence[str]
) -> sns.Topic:
    """An encrypted, TLS-only topic with one e-mail subscription per address."""
    topic = sns.Topic(scope, construct_id, display_name=display_name[:100], master_key=encryption_key, enforce_ssl=True)
    for email in sorted(set(emails)):
        topic.add_subscription(subscriptions.EmailSubscription(email))
    return topic


def approval_workflow(scope: Construct, props: WorkflowProps) -> sfn.StateMachine:
    """``WorkflowLogs``, the states and the ``Workflow`` state machine, in ``scope``."""
    key = props.records.encryption_key
    log_group = retained_log_group(scope, "WorkflowLogs", encryption_key=key, retention_days=props.log_retention_days)
    machine = sfn.StateMachine(
        scope,
        "Workflow",
        state_machine_name=props.state_machine_name,
        state_machine_type=sfn.StateMachineType.STANDARD,
        definition_body=sfn.DefinitionBody.from_chainable(_definition(scope, props)),
        timeout=props.timeout.plus(props.escalation_timeout).plus(cdk.Duration.minutes(15)),
        tracing_enabled=True,
        # Execution data holds payloads and task tokens: the log gets events, not data.
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        comment=f"Human approval of {props.name} agent actions in categories {', '.join(sorted(props.categories))}",
    )
    _grant_key(machine, key)
    _acknowledge_role(machine, props.records)
    return machine


def _definition(scope: Construct, props: WorkflowProps) -> sfn.IChainable:
    describe = _describe(scope)
    duplicate = sfn.Fail(
        scope, "DuplicateRequest", error="HITL.DuplicateRequest", cause="A request with this request_id exists already"
    )
    table = props.records.table
    record_pending = _put_request(scope, table, "RecordPending", "PENDING").add_catch(
        duplicate, errors=_DUPLICATE, result_path="$.error"
    )
    auto = _auto_approval(scope, props.records, duplicate)
    approved = sfn.Succeed(scope, "Approved")
    rejected = sfn.Fail(
        scope, "Rejected", error=REJECTED_ERROR, cause="An approver rejected the request (see its decision record)"
    )
    wait = _wait_for_decision(scope, props, approved, rejected, _timed_out(scope, props.records))
    notify = _notify(scope, props, "NotifyApprovers", props.approvers_topic, escalated=False)
    approval = record_pending.next(notify).next(wait.next(approved))
    return describe.next(
        sfn.Choice(scope, "NeedsApproval", comment="Only the configured categories wait for a human")
        .when(_needs_approval(props.categories), approval)
        .otherwise(auto)
    )


def _describe(scope: Construct) -> sfn.Pass:
    return sfn.Pass(
        scope,
        "Describe",
        comment="Serialize the payload once: its SHA-256 is what approvers and records refer to",
        parameters={
            "payload_json": sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.payload")),
            "payload_sha256": sfn.JsonPath.hash(
                sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.payload")), "SHA-256"
            ),
            # When the request entered the workflow (not $$.Execution.StartTime: moto 5.2 hands that over
            # as a datetime).
            "requested_at": sfn.JsonPath.string_at("$$.State.EnteredTime"),
            "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
        },
        result_path="$.meta",
    )


def _needs_approval(categories: tuple[str, ...]) -> sfn.Condition:
    if len(categories) == 1:
        return sfn.Condition.string_equals("$.category", categories[0])
    return sfn.Condition.or_(*[sfn.Condition.string_equals("$.category", c) for c in sorted(categories)])


def _auto_approval(scope: Construct, records: HitlRecords, duplicate: sfn.Fail) -> sfn.Chain:
    return (
        _put_request(scope, records.table, "RecordAutoApproved", "AUTO_APPROVED")
        .add_catch(duplicate, errors=_DUPLICATE, result_path="$.error")
        .next(
            write_record_steps(
                scope,
                records.bucket,
                "AutoApproval",
                outcome="AUTO_APPROVED",
                reason="category needs no approval",
                decided_by="system:policy",
            )
        )
        .next(sfn.Succeed(scope, "AutoApproved", comment="Category needs no human decision"))
    )


def _timed_out(scope: Construct, records: HitlRecords) -> sfn.Chain:
    """No decision in time: reject the request (if still pending), record it, fail."""
    value = tasks.DynamoAttributeValue.from_string
    record_timeout = tasks.DynamoUpdateItem(
        scope,
        "RecordTimeout",
        table=records.table,
        key={"request_id": value(sfn.JsonPath.string_at("$.request_id"))},
        update_expression="SET #status = :rejected, #reason = :reason, #by = :by, #at = :at REMOVE #token",
        condition_expression="#status = :pending",
        expression_attribute_names={
            "#status": "status",
            "#reason": "reason",
            "#by": "decided_by",
            "#at": "decided_at",
            "#token": "task_token",
        },
        expression_attribute_values={
            ":rejected": value("REJECTED"),
            ":reason": value("timeout"),
            ":by": value("system:timeout"),
            ":at": value(sfn.JsonPath.string_at("$$.State.EnteredTime")),
            ":pending": value("PENDING"),
        },
        result_path=sfn.JsonPath.DISCARD,
    )
    return record_timeout.next(
        write_record_steps(
            scope, records.bucket, "Timeout", outcome="REJECTED", reason="timeout", decided_by="system:timeout"
        )
    ).next(sfn.Fail(scope, "TimedOut", error=TIMEOUT_ERROR, cause="No decision before the timeout: rejected"))


def _wait_for_decision(
    scope: Construct, props: WorkflowProps, approved: sfn.Succeed, rejected: sfn.Fail, timed_out: sfn.Chain
) -> tasks.CallAwsService:
    """The approvers' wait; on its timeout the escalation (when set: notify, wait again), else ``timed_out``."""
    table = props.records.table
    wait = _wait(scope, table, "WaitForDecision", "APPROVERS", props.timeout)
    wait.add_catch(rejected, errors=[REJECTED_ERROR], result_path="$.error")
    if props.escalation_topic is None:
        wait.add_catch(timed_out, errors=["States.Timeout"], result_path="$.error")
        return wait
    escalated_wait = (
        _wait(scope, table, "WaitForEscalatedDecision", "ESCALATED", props.escalation_timeout)
        .add_catch(rejected, errors=[REJECTED_ERROR], result_path="$.error")
        .add_catch(timed_out, errors=["States.Timeout"], result_path="$.error")
    )
    escalate = _notify(scope, props, "NotifyEscalation", props.escalation_topic, escalated=True).next(escalated_wait)
    escalated_wait.next(approved)
    wait.add_catch(escalate, errors=["States.Timeout"], result_path="$.error")
    return wait


def _put_request(scope: Construct, table: dynamodb.ITable, construct_id: str, status: str) -> tasks.DynamoPutItem:
    def at(path: str) -> tasks.DynamoAttributeValue:
        return tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at(path))

    item = {
        "request_id": at("$.request_id"),
        "status": tasks.DynamoAttributeValue.from_string(status),
        "category": at("$.category"),
        "action": at("$.action"),
        "requested_by": at("$.requested_by"),
        "requested_at": at("$.meta.requested_at"),
        "payload_json": at("$.meta.payload_json"),
        "payload_sha256": at("$.meta.payload_sha256"),
        "execution": at("$.meta.execution"),
    }
    if status != "PENDING":
        item.update(
            decided_by=tasks.DynamoAttributeValue.from_string("system:policy"),
            decided_at=at("$$.State.EnteredTime"),
            reason=tasks.DynamoAttributeValue.from_string("category needs no approval"),
        )
    return tasks.DynamoPutItem(
        scope,
        construct_id,
        table=table,
        item=item,
        # A request id is used once: never overwrite a request (or its decision).
        condition_expression="attribute_not_exists(request_id)",
        result_path=sfn.JsonPath.DISCARD,
    )


def _notify(
    scope: Construct, props: WorkflowProps, construct_id: str, topic: sns.ITopic, *, escalated: bool
) -> tasks.SnsPublish:
    """The e-mail: the request, its payload hash and where to decide; never the task token."""
    minutes = int((props.escalation_timeout if escalated else props.timeout).to_minutes(integral=False))
    return tasks.SnsPublish(
        scope,
        construct_id,
        topic=topic,
        subject=f"{'ESCALATED: ' if escalated else ''}AgentZone approval needed ({props.name})"[:100],
        message=sfn.TaskInput.from_object(
            {
                "request_id": sfn.JsonPath.string_at("$.request_id"),
                "category": sfn.JsonPath.string_at("$.category"),
                "action": sfn.JsonPath.string_at("$.action"),
                "requested_by": sfn.JsonPath.string_at("$.requested_by"),
                "payload": sfn.JsonPath.string_at("$.meta.payload_json"),
                "payload_sha256": sfn.JsonPath.string_at("$.meta.payload_sha256"),
                "escalated": escalated,
                "decide_within_minutes": minutes,
                # SigV4-signed, as an approver role: {"decision": "APPROVED" | "REJECTED", "reason": "..."}
                "decide_at": "POST " + props.decide_url,
            }
        ),
        result_path=sfn.JsonPath.DISCARD,
    )


def _wait(
    scope: Construct, table: dynamodb.ITable, construct_id: str, stage: str, timeout: cdk.Duration
) -> tasks.CallAwsService:
    """Park the task token on the request's item and wait for the decision API to return it."""
    return tasks.CallAwsService(
        scope,
        construct_id,
        service="dynamodb",
        action="updateItem",
        iam_action="dynamodb:UpdateItem",
        iam_resources=[table.table_arn],
        integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        parameters={
            "TableName": table.table_name,
            "Key": {"request_id": {"S": sfn.JsonPath.string_at("$.request_id")}},
            "UpdateExpression": "SET #token = :token, #stage = :stage",
            "ConditionExpression": "#status = :pending",
            "ExpressionAttributeNames": {"#token": "task_token", "#stage": "wait_stage", "#status": "status"},
            "ExpressionAttributeValues": {
                ":token": {"S": sfn.JsonPath.task_token},
                ":stage": {"S": stage},
                ":pending": {"S": "PENDING"},
            },
        },
        task_timeout=sfn.Timeout.duration(timeout),
        result_path="$.decision",
    )


def _grant_key(machine: sfn.StateMachine, key: kms.IKey) -> None:
    region = cdk.Stack.of(machine).region
    machine.add_to_role_policy(
        iam.PolicyStatement(
            sid="UseTheKeyThroughDynamoDbS3AndSns",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": [
                        f"dynamodb.{region}.amazonaws.com",
                        f"s3.{region}.amazonaws.com",
                        f"sns.{region}.amazonaws.com",
                    ]
                }
            },
        )
    )


def _acknowledge_role(machine: sfn.StateMachine, records: HitlRecords) -> None:
    policy = machine.role.node.find_child("DefaultPolicy")
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{nag_text(machine, records.bucket.bucket_arn)}/{RECORD_PREFIX}*]",
        "The workflow writes decisions/<request id>.json for timeouts and auto-approvals; request ids are "
        "chosen per execution, so the grant covers the decisions/ prefix of this bucket only.",
    )
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "Step Functions' log delivery and X-Ray calls (logs:*LogDelivery*, xray:PutTraceSegments and friends) "
        "support no resource-level permissions; aws-cdk-lib adds them for execution logging and tracing.",
    )
    acknowledge_compliance(
        policy,
        "IAMNoInlinePolicy",
        "aws-cdk-lib writes the state machine's task grants as a policy attached only to its role: this table, "
        "these topics, the decisions/ prefix and the key through those services.",
    )
