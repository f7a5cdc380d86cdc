"""A Bedrock evaluation job (LLM as a judge), for teams without their own evaluation command.

There is no CloudFormation type for evaluation jobs: the pipeline starts one through the SDK per run
(``createEvaluationJob``), polls it and hands its output prefix to the gate. The job judges precomputed
responses in ``datasets/<agent>/<version>.jsonl`` with the tenant's ``evaluator_model``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ... import naming
from ...evaluation import gate
from .contract import BEDROCK_OUTPUT_PREFIX, DATASETS_PREFIX
from .store import acknowledge_prefixes


@dataclass(frozen=True)
class BedrockJobProps:
    tenant: str
    environment: str
    encryption_key: kms.IKey
    evaluator_model: str
    thresholds: Mapping[str, float]
    dataset_bucket: s3.IBucket
    results_bucket: s3.IBucket


@dataclass(frozen=True)
class BedrockJob:
    """The job's service role, the first state of start -> wait -> poll, and where the gate finds the output."""

    role: iam.Role
    start: sfn.IChainable
    metrics: dict[str, str]


def bedrock_job(scope: Construct, props: BedrockJobProps, *, then: sfn.IChainable, failed: sfn.Fail) -> BedrockJob:
    """createEvaluationJob -> poll getEvaluationJob -> ``then`` when Completed; ``failed`` on any other end."""
    stack = cdk.Stack.of(scope)
    role = _job_role(scope, props)
    jobs = f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:evaluation-job/*"
    output_prefix = sfn.JsonPath.format(
        f"{BEDROCK_OUTPUT_PREFIX}/{{}}/{{}}/{{}}/",
        sfn.JsonPath.string_at("$.agent"),
        sfn.JsonPath.string_at("$.version"),
        sfn.JsonPath.execution_name,
    )
    start = _start_job(scope, props, role, output_prefix)
    wait = sfn.Wait(scope, "WaitForEvaluationJob", time=sfn.WaitTime.duration(cdk.Duration.minutes(2)))
    poll = tasks.CallAwsService(
        scope,
        "GetEvaluationJob",
        service="bedrock",
        action="getEvaluationJob",
        parameters={"JobIdentifier": sfn.JsonPath.string_at("$.evaluation.jobArn")},
        iam_resources=[jobs],
        result_selector={"status": sfn.JsonPath.string_at("$.Status")},
        result_path="$.job",
    )
    done = (
        sfn.Choice(scope, "EvaluationJobDone")
        .when(sfn.Condition.string_equals("$.job.status", "Completed"), then)
        .when(
            sfn.Condition.or_(
                sfn.Condition.string_equals("$.job.status", "InProgress"),
                sfn.Condition.string_equals("$.job.status", "Stopping"),
            ),
            wait,
        )
        .otherwise(failed)
    )
    start.add_catch(failed, result_path="$.error")
    poll.add_catch(failed, result_path="$.error")
    chain = start.next(wait).next(poll).next(done)
    return BedrockJob(role, chain, {"bucket": props.results_bucket.bucket_name, "prefix": output_prefix})


def _model_arn(scope: Construct, model: str) -> str:
    stack = cdk.Stack.of(scope)
    return f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{model}"


def _job_role(scope: Construct, props: BedrockJobProps) -> iam.Role:
    """EvaluationJobRole and EvaluationJobPolicy: read golden sets, judge with the evaluator model, write results."""
    stack = cdk.Stack.of(scope)
    role = iam.Role(
        scope,
        "EvaluationJobRole",
        # A fixed, platform-protected name, so the organization's guardrail SCP can exempt judge calls.
        role_name=naming.evaluation_job_role(props.tenant, props.environment),
        description="Bedrock evaluation jobs: read golden sets, judge with the evaluator model, write results",
        assumed_by=iam.ServicePrincipal(
            "bedrock.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:evaluation-job/*"
                },
            },
        ),
    )
    policy = iam.ManagedPolicy(
        scope,
        "EvaluationJobPolicy",
        description="What Bedrock evaluation jobs of this pipeline read, judge with and write",
        roles=[role],
        statements=_job_statements(scope, props),
    )
    acknowledge_prefixes(
        policy,
        props.dataset_bucket,
        [DATASETS_PREFIX.rstrip("/")],
        "Evaluation jobs read the golden sets the team uploads (keys chosen by the team)",
    )
    acknowledge_prefixes(
        policy,
        props.results_bucket,
        [BEDROCK_OUTPUT_PREFIX],
        "Bedrock writes job output under <prefix>/<job name>/<job id>/, ids assigned at run time",
    )
    return role


def _job_statements(scope: Construct, props: BedrockJobProps) -> list[iam.PolicyStatement]:
    region = cdk.Stack.of(scope).region
    datasets, results = props.dataset_bucket, props.results_bucket
    return [
        iam.PolicyStatement(
            sid="JudgeWithTheEvaluatorModel",
            actions=["bedrock:InvokeModel"],
            resources=[_model_arn(scope, props.evaluator_model)],
        ),
        iam.PolicyStatement(
            sid="ReadGoldenSets", actions=["s3:GetObject"], resources=[datasets.arn_for_objects(f"{DATASETS_PREFIX}*")]
        ),
        iam.PolicyStatement(
            sid="ListGoldenSetsAndOutput",
            actions=["s3:ListBucket"],
            resources=[datasets.bucket_arn, results.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{DATASETS_PREFIX}*", f"{BEDROCK_OUTPUT_PREFIX}/*"]}},
        ),
        iam.PolicyStatement(
            sid="WriteResults",
            actions=["s3:GetObject", "s3:PutObject"],
            resources=[results.arn_for_objects(f"{BEDROCK_OUTPUT_PREFIX}/*")],
        ),
        iam.PolicyStatement(
            sid="UseTheTenantKey",
            actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            resources=[props.encryption_key.key_arn],
            conditions={
                "StringEquals": {"kms:ViaService": [f"s3.{region}.amazonaws.com", f"bedrock.{region}.amazonaws.com"]}
            },
        ),
    ]


def _start_job(scope: Construct, props: BedrockJobProps, role: iam.Role, output_prefix: str) -> tasks.CallAwsService:
    region = cdk.Stack.of(scope).region
    model_arn = _model_arn(scope, props.evaluator_model)
    return tasks.CallAwsService(
        scope,
        "StartEvaluationJob",
        comment="Bedrock evaluation job (LLM as a judge) over the version's precomputed responses",
        service="bedrock",
        action="createEvaluationJob",
        parameters=_job_parameters(props, role, output_prefix),
        # CreateEvaluationJob authorizes against the models it uses (the judge), not an evaluation-job ARN.
        iam_resources=[model_arn],
        additional_iam_statements=[
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                actions=["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"],
                resources=[props.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"bedrock.{region}.amazonaws.com"}},
            ),
        ],
        result_selector={"jobArn": sfn.JsonPath.string_at("$.JobArn")},
        result_path="$.evaluation",
    )


def _job_parameters(props: BedrockJobProps, role: iam.Role, output_prefix: str) -> dict[str, Any]:
    """The CreateEvaluationJob request: the golden set of ``$.agent``/``$.version``, judged on the gated metrics."""
    agent, version = sfn.JsonPath.string_at("$.agent"), sfn.JsonPath.string_at("$.version")
    dataset = sfn.JsonPath.format(
        f"s3://{props.dataset_bucket.bucket_name}/{DATASETS_PREFIX}{{}}/{{}}.jsonl", agent, version
    )
    return {
        "JobName": sfn.JsonPath.format("az-{}", sfn.JsonPath.uuid()),
        "RoleArn": role.role_arn,
        "CustomerEncryptionKeyId": props.encryption_key.key_arn,
        "ApplicationType": "ModelEvaluation",
        "EvaluationConfig": {
            "Automated": {
                "DatasetMetricConfigs": [
                    {
                        "TaskType": "General",
                        "Dataset": {"Name": "golden", "DatasetLocation": {"S3Uri": dataset}},
                        "MetricNames": [gate.BEDROCK_METRICS[m] for m in sorted(props.thresholds)],
                    }
                ],
                "EvaluatorModelConfig": {"BedrockEvaluatorModels": [{"ModelIdentifier": props.evaluator_model}]},
            }
        },
        "InferenceConfig": {
            "Models": [
                {
                    "PrecomputedInferenceSource": {
                        "InferenceSourceIdentifier": sfn.JsonPath.format("{}-{}", agent, version)
                    }
                }
            ]
        },
        "OutputDataConfig": {
            "S3Uri": sfn.JsonPath.format(f"s3://{props.results_bucket.bucket_name}/{{}}", output_prefix)
        },
    }
