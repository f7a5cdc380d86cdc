"""The release pipeline: evaluate one agent version (``{"agent": "triage", "version": "7"}``) and gate it.

Run (the team's command, or a Bedrock evaluation job) -> query the baseline -> gate -> write the store item ->
a pass/fail event on the default bus. Every write is a state of the definition, not hidden in the gate function.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from .bedrock_job import BedrockJobProps, bedrock_job
from .contract import FAILED_DETAIL_TYPE, PASSED_DETAIL_TYPE
from .gate import GateStepProps, find_baseline, gate_step
from .machine import MachinePolicyFacts, MachineProps, acknowledge_machine_policy, emit_event, evaluation_state_machine
from .runner import build_metrics, run_build


@dataclass(frozen=True)
class ReleasePipelineProps:
    """``project`` runs the team's command; without one, ``bedrock`` describes the evaluation job to start."""

    name: str
    machine: MachineProps
    gate: GateStepProps
    table: dynamodb.ITableV2
    results_bucket: s3.IBucket
    default_bus: events.IEventBus
    project: codebuild.IProject | None = None
    bedrock: BedrockJobProps | None = None


@dataclass(frozen=True)
class ReleasePipeline:
    state_machine: sfn.StateMachine
    evaluation_job_role: iam.Role | None


def release_pipeline(scope: Construct, props: ReleasePipelineProps) -> ReleasePipeline:
    """The ``Evaluation`` state machine and its states, in ``scope``."""
    unreadable = sfn.Fail(
        scope,
        "EvaluationFailed",
        error="EvaluationFailed",
        cause="The evaluation did not finish or its metrics could not be read; see the execution history.",
    )
    find = find_baseline(scope, "FindBaseline", props.table)
    job_role: iam.Role | None = None
    if props.project is not None:
        run = run_build(scope, "RunEvaluation", props.project, mode="release")
        run.add_catch(unreadable, result_path="$.error")
        metrics = build_metrics(props.results_bucket, "release")
        start: sfn.IChainable = run.next(find)
    elif props.bedrock is not None:
        job = bedrock_job(scope, props.bedrock, then=find, failed=unreadable)
        start, metrics, job_role = job.start, job.metrics, job.role
    else:
        raise ValueError("the release pipeline needs a build project or a Bedrock evaluation job")
    decide = gate_step(scope, "Gate", props.gate, mode="release", metrics=metrics)
    decide.add_catch(unreadable, result_path="$.error")
    find.next(decide).next(_record_and_emit(scope, props))
    machine = evaluation_state_machine(
        scope, "Evaluation", props.machine, start, f"{props.name}: evaluate one agent version and gate it"
    )
    facts = MachinePolicyFacts(props.gate.function, bedrock=props.project is None, codebuild=props.project is not None)
    acknowledge_machine_policy(machine, "The pipeline", facts)
    return ReleasePipeline(machine, job_role)


def _record_and_emit(scope: Construct, props: ReleasePipelineProps) -> sfn.IChainable:
    """Write the gate's store item (never over an approved baseline), then emit passed or failed."""
    region = cdk.Stack.of(scope).region
    record_result = tasks.CallAwsService(
        scope,
        "RecordResult",
        comment="One item per agent version; an approved (baseline) version's result is final",
        service="dynamodb",
        action="putItem",
        parameters={
            "TableName": props.table.table_name,
            "Item": sfn.JsonPath.object_at("$.gate.item"),
            "ConditionExpression": "attribute_not_exists(approved_at)",
        },
        iam_resources=[props.table.table_arn],
        additional_iam_statements=[
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[props.machine.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{region}.amazonaws.com"}},
            ),
        ],
        result_path=sfn.JsonPath.DISCARD,
    )
    record_result.add_catch(
        sfn.Fail(
            scope,
            "VersionAlreadyApproved",
            error="VersionAlreadyApproved",
            cause="This version is the approved baseline; its result is final. Evaluate a new version.",
        ),
        errors=["DynamoDb.ConditionalCheckFailedException"],
    )
    gate_failed = sfn.Fail(scope, "GateFailed", error="EvaluationGateFailed", cause_path="$.gate.report")
    passed = sfn.Choice(scope, "Passed")
    emit_passed = emit_event(scope, "EmitPassed", props.default_bus, PASSED_DETAIL_TYPE)
    return record_result.next(
        passed.when(
            sfn.Condition.boolean_equals("$.gate.passed", True),
            emit_passed.next(sfn.Succeed(scope, "EvaluationPassed")),
        ).otherwise(emit_event(scope, "EmitFailed", props.default_bus, FAILED_DETAIL_TYPE).next(gate_failed))
    )
