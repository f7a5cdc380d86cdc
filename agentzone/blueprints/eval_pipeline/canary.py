"""The canary: replay the golden set against a live endpoint on a schedule and alarm on drift.

It runs the team's command in CodeBuild (``AGENTZONE_MODE=canary``, ``AGENTZONE_ENDPOINT``), gates the run against
the baseline, leaves a signal under ``feedback/`` of the results bucket (for the data lake), emits it as an event
and publishes ``AgentZone/Evaluation`` metrics. Schedules and alarms come per agent, once its runtime exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ...handlers.eval_gate import NAMESPACE
from ...nag import acknowledge, acknowledge_compliance
from ..runtime import AgentRuntime
from .contract import CANARY_DETAIL_TYPE, FEEDBACK_PREFIX
from .gate import GateStepProps, find_baseline, gate_step
from .machine import MachinePolicyFacts, MachineProps, acknowledge_machine_policy, emit_event, evaluation_state_machine
from .runner import build_metrics, run_build
from .store import logical_id


@dataclass(frozen=True)
class CanaryProps:
    """``name`` is ``<tenant>-<environment>``; ``project`` is the team's evaluation build."""

    name: str
    machine: MachineProps
    gate: GateStepProps
    project: codebuild.IProject
    table: dynamodb.ITableV2
    results_bucket: s3.IBucket
    default_bus: events.IEventBus


@dataclass(frozen=True)
class Canary:
    state_machine: sfn.StateMachine
    schedule_group: scheduler.ScheduleGroup


@dataclass(frozen=True)
class CanaryScheduleProps:
    """One agent's schedule: ``name`` is the agent's name in the store, ``suffix`` its construct id suffix.

    ``gate_failed`` is the metric the drift alarm watches; ``alarm_topic`` is notified when set.
    """

    agent: AgentRuntime
    name: str
    suffix: str
    endpoint: str
    version: str
    schedule: str
    encryption_key: kms.IKey
    canary: Canary
    project: codebuild.IProject
    gate_failed: cloudwatch.IMetric
    alarm_topic: sns.ITopic | None = None


def canary(scope: Construct, props: CanaryProps) -> Canary:
    """The ``Canary`` state machine and the ``CanarySchedules`` group, in ``scope``."""
    failed = sfn.Fail(
        scope,
        "CanaryFailed",
        error="CanaryFailed",
        cause="The canary run did not finish or its metrics could not be read; see the execution history.",
    )
    endpoint = {"AGENTZONE_ENDPOINT": sfn.JsonPath.string_at("$.endpoint")}
    run = run_build(scope, "RunCanary", props.project, mode="canary", extra=endpoint)
    run.add_catch(failed, result_path="$.error")
    decide = gate_step(
        scope, "CanaryGate", props.gate, mode="canary", metrics=build_metrics(props.results_bucket, "canary")
    )
    decide.add_catch(failed, result_path="$.error")
    signal, publish = _record_signal(scope, props), _publish_metrics(scope)
    drift = sfn.Fail(scope, "DriftDetected", error="EvaluationDrift", cause_path="$.gate.report")
    emit = emit_event(scope, "EmitCanarySignal", props.default_bus, CANARY_DETAIL_TYPE, "$.gate.signal")
    definition = (
        run.next(find_baseline(scope, "CanaryFindBaseline", props.table))
        .next(decide)
        .next(signal)
        .next(emit)
        .next(publish)
        .next(
            sfn.Choice(scope, "CanaryPassed")
            .when(sfn.Condition.boolean_equals("$.gate.passed", True), sfn.Succeed(scope, "NoDrift"))
            .otherwise(drift)
        )
    )
    machine = evaluation_state_machine(
        scope,
        "Canary",
        props.machine,
        definition,
        f"{props.name}: replay the golden set against a live endpoint and compare",
    )
    acknowledge_machine_policy(
        machine, "The canary", MachinePolicyFacts(props.gate.function, codebuild=True, metrics=True)
    )
    acknowledge(
        machine.role.node.find_child("DefaultPolicy"),
        f"AwsSolutions-IAM5[Resource::<{logical_id(props.results_bucket)}.Arn>/{FEEDBACK_PREFIX}*]",
        "The canary writes one signal object per run under feedback/ (keys by agent, date and run).",
    )
    group = scheduler.ScheduleGroup(scope, "CanarySchedules", schedule_group_name=f"agentzone-eval-{props.name}")
    return Canary(machine, group)


def _record_signal(scope: Construct, props: CanaryProps) -> tasks.CallAwsService:
    return tasks.CallAwsService(
        scope,
        "RecordSignal",
        comment=f"One JSON signal per run under {FEEDBACK_PREFIX} for the data lake connector",
        service="s3",
        action="putObject",
        parameters={
            "Bucket": props.results_bucket.bucket_name,
            "Key": sfn.JsonPath.string_at("$.gate.signalKey"),
            "Body": sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.gate.signal")),
            "ContentType": "application/json",
        },
        iam_resources=[props.results_bucket.arn_for_objects(f"{FEEDBACK_PREFIX}*")],
        additional_iam_statements=[
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey"],
                resources=[props.machine.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{cdk.Stack.of(scope).region}.amazonaws.com"}},
            ),
        ],
        result_path=sfn.JsonPath.DISCARD,
    )


def _publish_metrics(scope: Construct) -> tasks.CallAwsService:
    return tasks.CallAwsService(
        scope,
        "PublishMetrics",
        comment=f"GateFailed, WorstDrop and Score per metric in {NAMESPACE}",
        service="cloudwatch",
        action="putMetricData",
        parameters={"Namespace": NAMESPACE, "MetricData": sfn.JsonPath.list_at("$.gate.metricData")},
        iam_resources=["*"],
        result_path=sfn.JsonPath.DISCARD,
    )


def canary_schedule(scope: Construct, props: CanaryScheduleProps) -> cloudwatch.Alarm:
    """``CanaryScheduleRole<suffix>``, ``Canary<suffix>`` and the ``Drift<suffix>`` alarm, in ``scope``."""
    agent = props.agent
    role = _schedule_role(scope, props)
    scheduler.Schedule(
        scope,
        f"Canary{props.suffix}",
        description=(
            f"Replay the golden set against {agent.runtime_name}::{props.endpoint} and compare with the baseline"
        ),
        schedule=scheduler.ScheduleExpression.expression(props.schedule),
        schedule_group=props.canary.schedule_group,
        key=props.encryption_key,
        target=scheduler_targets.StepFunctionsStartExecution(
            props.canary.state_machine,
            input=scheduler.ScheduleTargetInput.from_object(
                {"agent": props.name, "version": props.version, "endpoint": agent.endpoint_arn(props.endpoint)}
            ),
            role=role,
            retry_attempts=0,  # the next scheduled run is the retry
        ),
    )
    acknowledge_compliance(
        role.node.find_child("DefaultPolicy"),
        "IAMNoInlinePolicy",
        "The scheduler L2 writes its StartExecution grant (the canary only) and the schedule key's decrypt "
        "grant as a policy attached only to this schedule's role.",
    )
    # IAM-auth runtimes check InvokeAgentRuntime; JWT runtimes need a token the command obtains itself.
    agent.grant_invoke(props.project)
    return _drift_alarm(scope, props)


def _schedule_role(scope: Construct, props: CanaryScheduleProps) -> iam.Role:
    stack = cdk.Stack.of(scope)
    return iam.Role(
        scope,
        f"CanaryScheduleRole{props.suffix}",
        description=f"EventBridge Scheduler: starts the evaluation canary for {props.agent.runtime_name}, nothing else",
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={
                "StringEquals": {
                    "aws:SourceAccount": stack.account,
                    "aws:SourceArn": props.canary.schedule_group.schedule_group_arn,
                }
            },
        ),
    )


def _drift_alarm(scope: Construct, props: CanaryScheduleProps) -> cloudwatch.Alarm:
    alarm = cloudwatch.Alarm(
        scope,
        f"Drift{props.suffix}",
        alarm_description=(
            f"{props.agent.runtime_name}: the evaluation canary fell below a threshold "
            "or regressed against the baseline"
        ),
        metric=props.gate_failed,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    if props.alarm_topic is not None:
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(props.alarm_topic))
    else:
        acknowledge_compliance(
            alarm,
            "CloudWatchAlarmAction",
            "No alarm topic in this account's context: the alarm state is what dashboards and the "
            "integrator's own actions read; pass alarm_topic to notify.",
        )
    return alarm
