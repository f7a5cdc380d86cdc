"""The team's evaluation command, run in CodeBuild (no privileged mode, no source repository).

The build copies ``harness/`` and ``datasets/<agent>/`` from the dataset bucket, runs the command in the harness
and uploads ``$AGENTZONE_METRICS_FILE`` under the run's own prefix of the results bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct, IConstruct

from ...constructs.retention import retained_log_group
from ...nag import acknowledge, acknowledge_compliance, nag_arn
from .contract import DATASET_DIR, DATASETS_PREFIX, HARNESS_PREFIX, METRICS_FILE, OUTPUT_PREFIXES
from .store import acknowledge_prefixes, logical_id

# Where the build uploads the metrics file (the gate reads the same key, see build_metrics).
_OUTPUT_KEY = "$AGENTZONE_OUTPUT_PREFIX/$AGENTZONE_AGENT/$AGENTZONE_VERSION/$AGENTZONE_RUN/metrics.json"


@dataclass(frozen=True)
class RunnerProps:
    """``name`` is ``<tenant>-<environment>``; ``command`` runs in the harness directory."""

    name: str
    command: str
    encryption_key: kms.IKey
    dataset_bucket: s3.IBucket
    results_bucket: s3.IBucket
    build_timeout: cdk.Duration
    log_retention_days: int = 365


def evaluation_project(scope: Construct, props: RunnerProps) -> codebuild.Project:
    """BuildLogs, BuildRole, Runner and BuildPolicy in ``scope``."""
    log_group = retained_log_group(
        scope, "BuildLogs", encryption_key=props.encryption_key, retention_days=props.log_retention_days
    )
    role = iam.Role(
        scope,
        "BuildRole",
        assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
        description=f"Runs the {props.name} team's evaluation command",
    )
    variables = {
        "AGENTZONE_DATASET_BUCKET": props.dataset_bucket.bucket_name,
        "AGENTZONE_RESULTS_BUCKET": props.results_bucket.bucket_name,
        "AGENTZONE_METRICS_FILE": METRICS_FILE,
        "AGENTZONE_DATASET_DIR": DATASET_DIR,
        "AGENTZONE_MODE": "release",
        "AGENTZONE_OUTPUT_PREFIX": OUTPUT_PREFIXES["release"],
    }
    project = codebuild.Project(
        scope,
        "Runner",
        description=(
            f"{props.name}: evaluates one agent version (AGENTZONE_AGENT, AGENTZONE_VERSION) with the team's command"
        ),
        role=role,
        encryption_key=props.encryption_key,
        timeout=props.build_timeout,
        environment=codebuild.BuildEnvironment(
            build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
            compute_type=codebuild.ComputeType.SMALL,
            privileged=False,
        ),
        environment_variables={k: codebuild.BuildEnvironmentVariable(value=v) for k, v in variables.items()},
        build_spec=codebuild.BuildSpec.from_object(_build_spec(props.command)),
        logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)),
    )
    _build_policy(scope, props, role)
    acknowledge_compliance(
        project,
        "CodeBuildProjectSourceRepoUrl",
        "The project has no source repository (NO_SOURCE): the harness comes from the CMK-encrypted dataset bucket.",
    )
    _acknowledge_default_policy(role.node.find_child("DefaultPolicy"), project)
    return project


def _build_spec(command: str) -> dict[str, Any]:
    copy, copy_tree = "aws s3 cp --only-show-errors", "aws s3 cp --recursive --only-show-errors"
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {
            "build": {
                "commands": [
                    f"mkdir -p harness {DATASET_DIR} $(dirname {METRICS_FILE})",
                    f'{copy_tree} "s3://$AGENTZONE_DATASET_BUCKET/{HARNESS_PREFIX}" harness/',
                    f"{copy_tree} "
                    f'"s3://$AGENTZONE_DATASET_BUCKET/{DATASETS_PREFIX}$AGENTZONE_AGENT/" "$AGENTZONE_DATASET_DIR"',
                    f"cd harness && {command}",
                    f'{copy} "$AGENTZONE_METRICS_FILE" "s3://$AGENTZONE_RESULTS_BUCKET/{_OUTPUT_KEY}"',
                ]
            }
        },
    }


def _build_policy(scope: Construct, props: RunnerProps, role: iam.Role) -> iam.ManagedPolicy:
    datasets, results = props.dataset_bucket, props.results_bucket
    policy = iam.ManagedPolicy(
        scope,
        "BuildPolicy",
        description=f"What the {props.name} evaluation build reads (harness, golden sets) and writes (run metrics)",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                sid="ListHarnessAndDatasets",
                actions=["s3:ListBucket"],
                resources=[datasets.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{HARNESS_PREFIX}*", f"{DATASETS_PREFIX}*"]}},
            ),
            iam.PolicyStatement(
                sid="ReadHarnessAndDatasets",
                actions=["s3:GetObject"],
                resources=[datasets.arn_for_objects(f"{p}*") for p in (HARNESS_PREFIX, DATASETS_PREFIX)],
            ),
            iam.PolicyStatement(
                sid="WriteRunMetrics",
                actions=["s3:PutObject"],
                resources=[results.arn_for_objects(f"{p}/*") for p in OUTPUT_PREFIXES.values()],
            ),
            iam.PolicyStatement(
                sid="UseTheTenantKeyThroughS3",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[props.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{cdk.Stack.of(scope).region}.amazonaws.com"}},
            ),
        ],
    )
    acknowledge_prefixes(
        policy,
        datasets,
        [HARNESS_PREFIX.rstrip("/"), DATASETS_PREFIX.rstrip("/")],
        "The build downloads the team's harness and golden sets, whose object keys the team chooses",
    )
    acknowledge_prefixes(
        policy,
        results,
        list(OUTPUT_PREFIXES.values()),
        "The build writes its metrics under the run's own prefix (agent/version/execution)",
    )
    return policy


def _acknowledge_default_policy(policy: IConstruct, project: codebuild.Project) -> None:
    """The grants the CodeBuild L2 adds to the build role's DefaultPolicy on its own."""
    project_name = f"<{logical_id(project)}>"
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{nag_arn(policy, 'codebuild', f'report-group/{project_name}-*')}]",
        "The CodeBuild L2 lets every project create its own test report groups, named after the project.",
    )
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{nag_arn(policy, 'logs', f'log-group:/aws/codebuild/{project_name}:*')}]",
        "The CodeBuild L2 always grants the project's default log group and its streams (builds log to the CMK group).",
    )
    for action in ("kms:ReEncrypt*", "kms:GenerateDataKey*"):
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Action::{action}]",
            "The CodeBuild L2 grants the project's artifact/cache key family of actions on the tenant CMK only.",
        )
    acknowledge_compliance(
        policy,
        "IAMNoInlinePolicy",
        "The CodeBuild L2 writes its log, report-group and key grants as a policy attached only to the build role.",
    )


def run_build(
    scope: Construct, construct_id: str, project: codebuild.IProject, *, mode: str, extra: dict[str, str] | None = None
) -> tasks.CodeBuildStartBuild:
    """Start the build for ``$.agent``/``$.version`` in ``mode`` and wait for it (RUN_JOB)."""
    variables = {
        "AGENTZONE_AGENT": sfn.JsonPath.string_at("$.agent"),
        "AGENTZONE_VERSION": sfn.JsonPath.string_at("$.version"),
        "AGENTZONE_RUN": sfn.JsonPath.execution_name,
        "AGENTZONE_MODE": mode,
        "AGENTZONE_OUTPUT_PREFIX": OUTPUT_PREFIXES[mode],
        **(extra or {}),
    }
    return tasks.CodeBuildStartBuild(
        scope,
        construct_id,
        comment="Run the team's evaluation command (waits for the build)",
        project=project,
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        environment_variables_override={
            name: codebuild.BuildEnvironmentVariable(value=value) for name, value in variables.items()
        },
        result_selector={"buildId": sfn.JsonPath.string_at("$.Build.Id")},
        result_path="$.evaluation",
    )


def build_metrics(results_bucket: s3.IBucket, mode: str) -> dict[str, str]:
    """Where the build of this execution left its metrics file (the gate's ``metrics`` input)."""
    return {
        "bucket": results_bucket.bucket_name,
        "key": sfn.JsonPath.format(
            f"{OUTPUT_PREFIXES[mode]}/{{}}/{{}}/{{}}/metrics.json",
            sfn.JsonPath.string_at("$.agent"),
            sfn.JsonPath.string_at("$.version"),
            sfn.JsonPath.execution_name,
        ),
    }
