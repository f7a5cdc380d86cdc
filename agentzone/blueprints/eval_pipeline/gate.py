"""The gate: a Lambda that decides (and writes nothing), and the states that query the baseline and call it.

The function runs ``agentzone/handlers/eval_gate.py`` over ``agentzone.evaluation.gate``: the same rules
``agentzone eval gate`` applies in CI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ...constructs.retention import retained_log_group
from ...evaluation import record
from ...nag import acknowledge_compliance
from ...project import PROJECT_ROOT
from .contract import BEDROCK_OUTPUT_PREFIX, GATE_FILES, OUTPUT_PREFIXES
from .store import acknowledge_prefixes

# Everything a run writes its metrics under: the team's command by mode, and Bedrock evaluation jobs.
_METRICS_PREFIXES = [*OUTPUT_PREFIXES.values(), BEDROCK_OUTPUT_PREFIX]


@dataclass(frozen=True)
class GateFunctionProps:
    encryption_key: kms.IKey
    results_bucket: s3.IBucket
    log_retention_days: int = 365


@dataclass(frozen=True)
class GateStepProps:
    """What every gate state passes the function besides the run: the thresholds and the allowed regression."""

    function: lambda_.IFunction
    thresholds: Mapping[str, float]
    max_regression: float


def gate_function(scope: Construct, props: GateFunctionProps) -> lambda_.Function:
    """GateLogs, GateRole, GatePolicy and GateFunction in ``scope``: reads run metrics, writes logs, nothing else."""
    log_group = retained_log_group(
        scope, "GateLogs", encryption_key=props.encryption_key, retention_days=props.log_retention_days
    )
    role = iam.Role(
        scope,
        "GateRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="Evaluation gate: reads run metrics, writes logs; nothing else",
    )
    policy = _gate_policy(scope, props, role, log_group)
    function = lambda_.Function(
        scope,
        "GateFunction",
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler="agentzone.handlers.eval_gate.handler",
        code=lambda_.Code.from_asset(
            str(PROJECT_ROOT),
            exclude=[
                "*",
                "!agentzone/",
                "!agentzone/evaluation/",
                "!agentzone/handlers/",
                *(f"!{f}" for f in GATE_FILES),
            ],
            ignore_mode=cdk.IgnoreMode.GIT,
        ),
        role=role,
        timeout=cdk.Duration.minutes(1),
        memory_size=256,
        log_group=log_group,
        description="AgentZone evaluation gate: thresholds and regression against the approved baseline",
    )
    function.node.add_dependency(policy)
    _acknowledge_function(function)
    return function


def _gate_policy(
    scope: Construct, props: GateFunctionProps, role: iam.Role, log_group: logs.ILogGroup
) -> iam.ManagedPolicy:
    bucket = props.results_bucket
    policy = iam.ManagedPolicy(
        scope,
        "GatePolicy",
        description="Read evaluation run metrics from the results bucket; write the gate's logs",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                sid="WriteLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                sid="ReadRunMetrics",
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{p}/*") for p in _METRICS_PREFIXES],
            ),
            iam.PolicyStatement(
                sid="ListBedrockOutput",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{BEDROCK_OUTPUT_PREFIX}/*"]}},
            ),
            iam.PolicyStatement(
                sid="DecryptRunMetrics",
                actions=["kms:Decrypt"],
                resources=[props.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{cdk.Stack.of(scope).region}.amazonaws.com"}},
            ),
        ],
    )
    acknowledge_prefixes(
        policy,
        bucket,
        _METRICS_PREFIXES,
        "The gate reads the metrics every run writes under its own run prefix (agent/version/execution)",
    )
    return policy


def _acknowledge_function(function: lambda_.Function) -> None:
    acknowledge_compliance(
        function,
        "LambdaConcurrency",
        "Invoked only by this account's evaluation and canary state machines, one run at a time per agent; "
        "a reservation would take capacity from the agents' own functions.",
    )
    acknowledge_compliance(
        function,
        "LambdaDLQ",
        "Invoked synchronously by Step Functions, which receives every error and retries or fails the "
        "execution; there is no asynchronous event to dead-letter.",
    )
    acknowledge_compliance(
        function,
        "LambdaInsideVPC",
        "It reads only S3 objects through the AWS API and reaches nothing in a network; the tenant "
        "account has no VPC unless an agent asks for one.",
    )


def find_baseline(scope: Construct, construct_id: str, table: dynamodb.ITableV2) -> tasks.CallAwsService:
    """Query the latest approved version of ``$.agent`` into ``$.baseline`` (the gate drops the version under test)."""
    return tasks.CallAwsService(
        scope,
        construct_id,
        comment="The latest approved version of this agent (sparse index: approved versions only)",
        service="dynamodb",
        action="query",
        parameters={
            "TableName": table.table_name,
            "IndexName": record.BASELINE_INDEX,
            "KeyConditionExpression": "#a = :a",
            "ExpressionAttributeNames": {"#a": record.BASELINE_INDEX_PARTITION_KEY},
            "ExpressionAttributeValues": {":a": {"S": sfn.JsonPath.string_at("$.agent")}},
            "ScanIndexForward": False,
            "Limit": 2,
        },
        iam_resources=[f"{table.table_arn}/index/{record.BASELINE_INDEX}"],
        result_selector={"Items": sfn.JsonPath.list_at("$.Items")},
        result_path="$.baseline",
    )


def gate_step(
    scope: Construct, construct_id: str, props: GateStepProps, *, mode: str, metrics: Mapping[str, Any]
) -> tasks.LambdaInvoke:
    """Invoke the gate with the run's ``metrics`` location; its answer lands in ``$.gate``."""
    return tasks.LambdaInvoke(
        scope,
        construct_id,
        comment="Decide: thresholds and regression against the baseline (agentzone.evaluation.gate)",
        lambda_function=props.function,
        payload=sfn.TaskInput.from_object(
            {
                "agent": sfn.JsonPath.string_at("$.agent"),
                "version": sfn.JsonPath.string_at("$.version"),
                "mode": mode,
                "run": sfn.JsonPath.execution_id,
                "thresholds": dict(sorted(props.thresholds.items())),
                "maxRegression": props.max_regression,
                "metrics": dict(metrics),
                "baseline": sfn.JsonPath.object_at("$.baseline"),
            }
        ),
        payload_response_only=True,
        result_path="$.gate",
        retry_on_service_exceptions=True,
    )
