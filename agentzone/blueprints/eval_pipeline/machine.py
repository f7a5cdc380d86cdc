"""What the release pipeline and the canary share: the state machine itself, its events and its acknowledgements."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ... import naming
from ...constructs.retention import retained_log_group
from ...nag import acknowledge, acknowledge_compliance, nag_arn
from .contract import EVENT_SOURCE
from .store import logical_id


@dataclass(frozen=True)
class MachineProps:
    """Whose machine it is (its name) and how its execution logs are kept."""

    tenant: str
    environment: str
    encryption_key: kms.IKey
    log_retention_days: int = 365


@dataclass(frozen=True)
class MachinePolicyFacts:
    """Which wildcard grants the machine's DefaultPolicy holds besides the gate's and the service's own."""

    gate_function: lambda_.IFunction
    bedrock: bool = False
    codebuild: bool = False
    metrics: bool = False


def evaluation_state_machine(
    scope: Construct, construct_id: str, props: MachineProps, definition: sfn.IChainable, description: str
) -> sfn.StateMachine:
    """``<id>Logs`` and ``<id>``: a named, traced, CMK-encrypted machine that logs every execution in full."""
    log_group = retained_log_group(
        scope, f"{construct_id}Logs", encryption_key=props.encryption_key, retention_days=props.log_retention_days
    )
    return sfn.StateMachine(
        scope,
        construct_id,
        # Named: CDK's grant on the CMK is conditioned on this state machine's ARN (encryption context),
        # which is empty for a generated name, so an unnamed machine could never use its key.
        state_machine_name=naming.tenant_state_machine(props.tenant, props.environment, construct_id.lower()),
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        comment=description,
        tracing_enabled=True,
        timeout=cdk.Duration.hours(6),
        encryption_configuration=sfn.CustomerManagedEncryptionConfiguration(props.encryption_key),
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
    )


def emit_event(
    scope: Construct, construct_id: str, bus: events.IEventBus, detail_type: str, detail_path: str = "$.gate.detail"
) -> tasks.EventBridgePutEvents:
    """Put the gate's ``detail_path`` on ``bus`` as an ``agentzone.evaluation`` event."""
    return tasks.EventBridgePutEvents(
        scope,
        construct_id,
        entries=[
            tasks.EventBridgePutEventsEntry(
                detail=sfn.TaskInput.from_json_path_at(detail_path),
                detail_type=detail_type,
                source=EVENT_SOURCE,
                event_bus=bus,
            )
        ],
        result_path=sfn.JsonPath.DISCARD,
    )


def acknowledge_machine_policy(machine: sfn.StateMachine, who: str, facts: MachinePolicyFacts) -> None:
    """The wildcards the Step Functions L2 writes into the machine role's DefaultPolicy, each with its reason."""
    policy = machine.role.node.find_child("DefaultPolicy")
    acknowledge_compliance(
        policy,
        "IAMNoInlinePolicy",
        f"The Step Functions L2 writes each task's grant as a policy attached only to {who.lower()}'s role.",
    )
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::<{logical_id(facts.gate_function)}.Arn>:*]",
        "Step Functions may invoke any published version of the gate function (the L2's grant for LambdaInvoke).",
    )
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray trace writes and CloudWatch Logs delivery setup support no resource-level permissions"
        + ("; so does cloudwatch:PutMetricData (the canary's only metric write)." if facts.metrics else "."),
    )
    if facts.bedrock:
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{nag_arn(policy, 'bedrock', 'evaluation-job/*')}]",
            "Bedrock assigns evaluation job ids at creation; the pipeline starts and polls only its own jobs.",
        )
    if facts.codebuild:
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/"
            "StepFunctionsGetEventsForCodeBuildRule]",
            "The RUN_JOB CodeBuild integration manages its own Step Functions rule, named by the service.",
        )
