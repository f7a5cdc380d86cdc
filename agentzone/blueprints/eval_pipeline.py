"""Evaluation pipeline blueprint: datasets, an evaluation store, a promotion gate CI can call, canaries and online evaluation.

Why it looks like this:

* Seed 001's evaluation loop in the use-case account: the team's golden sets
  (dataset bucket) and every result (store table + results bucket) stay in the
  team's account, under the tenant CMK, retained.
* One Step Functions pipeline per account evaluates one agent version
  (input ``{"agent": "triage", "version": "7"}``): it runs the team's
  evaluation (``command`` in CodeBuild, or a Bedrock evaluation job when there
  is no command: there is no CloudFormation type for those, the pipeline
  starts them through the SDK), queries the approved baseline, decides in the
  gate Lambda (``agentzone/handlers/eval_gate.py`` over
  ``agentzone.evaluation.gate``), writes the result to the store and puts a
  pass/fail event on the default bus. Every write is a state of the
  definition, not hidden in the function.
* CI gates a promotion with ``agentzone eval gate`` (the same gate module, over
  the stored result and the current baseline) and makes a passing version the
  baseline with ``agentzone eval approve``.
* Monitoring (``canary_environments``): a canary state machine, started by an
  EventBridge Scheduler schedule per agent, runs the same command in CodeBuild
  against the live endpoint (``AGENTZONE_MODE=canary``), gates it against the
  baseline, writes a signal under ``feedback/`` of the results bucket (for the
  data lake) and publishes ``AgentZone/Evaluation`` metrics; an alarm fires on
  drift. In prod, AgentCore online evaluation samples live traffic with
  built-in evaluators, as a role named ``agentzone-eval-online-<agent>``
  (``naming.online_evaluation_role``) that calls no model: built-in evaluators
  judge with service-side models, and the tenant SCP denies unguarded model
  calls outside the platform's named roles.

Agents are created after this blueprint (they may use what blueprints give
them), so schedules, alarms and online evaluation are added per agent with
:meth:`EvaluationPipeline.monitor_agent`.

The team's command contract (CodeBuild, no privileged mode, no source: the
harness is downloaded from the dataset bucket):

* ``s3://<dataset bucket>/harness/`` is copied to the working directory and
  ``datasets/<agent>/`` to ``$AGENTZONE_DATASET_DIR``;
* the command reads ``AGENTZONE_AGENT``, ``AGENTZONE_VERSION``, ``AGENTZONE_MODE``
  (``release`` or ``canary``) and, for canaries, ``AGENTZONE_ENDPOINT`` (the live
  endpoint ARN);
* it writes ``{"metrics": {"correctness": 0.93, ...}}`` (scores 0..1) to
  ``$AGENTZONE_METRICS_FILE``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from .. import naming
from ..config.model import EvalPipelineBlueprint, tenant_model_problem
from ..constructs.retention import retained_log_group
from ..constructs.secure_bucket import AccessLogsBucket, SecureBucket
from ..evaluation import gate, record
from ..handlers.eval_gate import NAMESPACE
from ..nag import acknowledge, acknowledge_compliance, nag_arn
from ..patterns import SCHEDULE_PATTERN
from ..project import PROJECT_ROOT
from .context import BlueprintContext

EVENT_SOURCE = "agentzone.evaluation"
PASSED_DETAIL_TYPE = "AgentZone Evaluation Passed"
FAILED_DETAIL_TYPE = "AgentZone Evaluation Failed"
# Every canary run, pass or fail: the data lake's feedback connector forwards these (docs/data-lake.md).
CANARY_DETAIL_TYPE = "AgentZone Canary Signal"
HARNESS_PREFIX = "harness/"
DATASETS_PREFIX = "datasets/"
FEEDBACK_PREFIX = "feedback/"
# Where each run's metrics land in the results bucket, by mode.
OUTPUT_PREFIXES = {"release": "runs", "canary": "canary"}
BEDROCK_OUTPUT_PREFIX = "bedrock"
# Bedrock evaluation job service roles are named <prefix>-<tenant>-<environment>.
EVALUATION_JOB_ROLE_PREFIX = naming.EVALUATION_ROLE_PREFIX
_METRICS_FILE = "/tmp/agentzone/metrics.json"
_DATASET_DIR = "/tmp/agentzone/dataset"
_REPO_ROOT = PROJECT_ROOT
# The gate Lambda ships only these (standard library + boto3).
GATE_FILES = (
    "agentzone/__init__.py",
    "agentzone/evaluation/__init__.py",
    "agentzone/evaluation/gate.py",
    "agentzone/evaluation/record.py",
    "agentzone/handlers/__init__.py",
    "agentzone/handlers/eval_gate.py",
)
# Config metric names AgentCore online evaluation has a built-in evaluator for.
ONLINE_EVALUATORS = {
    "coherence": "COHERENCE",
    "conciseness": "CONCISENESS",
    "correctness": "CORRECTNESS",
    "faithfulness": "FAITHFULNESS",
    "goal_success_rate": "GOAL_SUCCESS_RATE",
    "harmfulness": "HARMFULNESS",
    "helpfulness": "HELPFULNESS",
    "instruction_following": "INSTRUCTION_FOLLOWING",
    "following_instructions": "INSTRUCTION_FOLLOWING",
    "refusal": "REFUSAL",
    "relevance": "RESPONSE_RELEVANCE",
    "response_relevance": "RESPONSE_RELEVANCE",
    "stereotyping": "STEREOTYPING",
    "tool_parameter_accuracy": "TOOL_PARAMETER_ACCURACY",
    "tool_selection_accuracy": "TOOL_SELECTION_ACCURACY",
}
# Where AgentCore online evaluation reads agent spans (transaction search) and writes its results.
SPANS_LOG_GROUP = "aws/spans"
ONLINE_RESULTS_LOG_GROUPS = "/aws/bedrock-agentcore/evaluations/"
_SCHEDULE = re.compile(SCHEDULE_PATTERN)


@dataclass(frozen=True)
class EvaluationPipelineProps:
    """What the pipeline needs; defaults match ``EvalPipelineBlueprint``.

    ``command`` runs in CodeBuild; without it the pipeline starts a Bedrock
    evaluation job judged by ``evaluator_model`` over precomputed responses in
    ``datasets/<agent>/<version>.jsonl``. ``canary`` adds the canary state machine
    (schedules come per agent from :meth:`EvaluationPipeline.monitor_agent`);
    ``online_evaluation`` adds AgentCore online evaluation there too (prod).
    """

    tenant: str
    environment: str
    encryption_key: kms.IKey
    thresholds: Mapping[str, float]
    max_regression: float = 0.02
    command: str | None = None
    evaluator_model: str | None = None
    online_evaluation: bool = False
    online_sampling_percent: float = 10
    canary: bool = False
    canary_schedule: str = "rate(1 hour)"
    access_logs: AccessLogsBucket | None = None
    alarm_topic: sns.ITopic | None = None
    log_retention_days: int = 365
    build_timeout: cdk.Duration = field(default_factory=lambda: cdk.Duration.hours(1))


class EvaluationPipeline(Construct):
    """Evaluation datasets, store, pipeline and promotion gate for a tenant account.

    Usable from a tenant YAML file (``blueprints: {eval_pipeline: {...}}``) or directly::

        evals = EvaluationPipeline(stack, "EvalPipeline", props=EvaluationPipelineProps(
            tenant="claims", environment="staging", encryption_key=key,
            thresholds={"correctness": 0.9}, command="python run_eval.py", canary=True))
        evals.monitor_agent(agent, endpoint="PREPROD", version="7")   # after the runtime exists
        evals.grant_start_evaluation(ci_role)
        evals.grant_read_results(ci_role)      # agentzone eval gate
        evals.grant_approve(release_role)      # agentzone eval approve

    Retained on delete: the dataset and results buckets and the store table.
    The construct ids below are part of the contract: renaming them replaces them.
    Agents need nothing from the pipeline, so it is not an ``AgentAttachment``.
    """

    REGISTRY_NAME = "eval_pipeline"

    def __init__(self, scope: Construct, construct_id: str, *, props: EvaluationPipelineProps) -> None:
        super().__init__(scope, construct_id)
        self._validate(props)
        self._props = props
        stack = cdk.Stack.of(self)
        self._stack = stack
        name = f"{props.tenant}-{props.environment}"
        access_logs = props.access_logs or AccessLogsBucket(self, "AccessLogs")

        # --- data: golden sets in, results out; CMK, versioned, retained ----------------------
        self.dataset_bucket = SecureBucket(
            self, "Datasets", encryption_key=props.encryption_key, access_logs=access_logs
        ).bucket
        self.results_bucket = SecureBucket(
            self, "Results", encryption_key=props.encryption_key, access_logs=access_logs
        ).bucket
        self.table = dynamodb.TableV2(
            self,
            "Store",
            table_name=record.table_name(props.tenant, props.environment),
            partition_key=dynamodb.Attribute(name=record.PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=record.SORT_KEY, type=dynamodb.AttributeType.STRING),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=record.BASELINE_INDEX,
                    partition_key=dynamodb.Attribute(
                        name=record.BASELINE_INDEX_PARTITION_KEY, type=dynamodb.AttributeType.STRING
                    ),
                    sort_key=dynamodb.Attribute(
                        name=record.BASELINE_INDEX_SORT_KEY, type=dynamodb.AttributeType.STRING
                    ),
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            ],
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(props.encryption_key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.default_bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")

        # --- the gate Lambda (decides, writes nothing) -------------------------------------------
        self.gate_function = self._gate_function()

        # --- how the team's evaluation runs --------------------------------------------------------
        self.project: codebuild.Project | None = None
        self.evaluation_job_role: iam.Role | None = None
        if props.command:
            self.project = self._project(name)

        # --- the pipeline ---------------------------------------------------------------------------
        self.state_machine = self._pipeline(name)

        # --- monitoring ------------------------------------------------------------------------------
        self.canary_state_machine: sfn.StateMachine | None = None
        self.schedule_group: scheduler.ScheduleGroup | None = None
        if props.canary:
            self.canary_state_machine = self._canary(name)
        self.online_evaluations: dict[str, agentcore.OnlineEvaluationConfig] = {}
        self.alarms: dict[str, cloudwatch.Alarm] = {}

    # ------------------------------------------------------------------ validation

    @staticmethod
    def _validate(props: EvaluationPipelineProps) -> None:
        if not props.thresholds:
            raise ValueError("eval_pipeline needs at least one threshold (metric name -> minimum score 0..1)")
        try:
            gate.evaluate({}, props.thresholds, max_regression=props.max_regression)
        except gate.InvalidMetrics as exc:
            raise ValueError(f"eval_pipeline: {exc}") from None
        if not props.command:
            if not props.evaluator_model:
                raise ValueError(
                    "eval_pipeline without a command runs a Bedrock evaluation job: set evaluator_model (the judge)"
                )
            unknown = sorted(set(props.thresholds) - set(gate.BEDROCK_METRICS))
            if unknown:
                raise ValueError(
                    f"eval_pipeline: Bedrock evaluation jobs have no built-in metric {', '.join(unknown)}; "
                    f"use {', '.join(sorted(gate.BEDROCK_METRICS))} or set command to run your own evaluation"
                )
        if props.canary and not props.command:
            raise ValueError(
                "eval_pipeline: the canary replays the golden set with the team's command; set command or drop the canary"
            )
        if not _SCHEDULE.match(props.canary_schedule):
            raise ValueError(f"canary_schedule {props.canary_schedule!r} must be rate(...) or cron(...)")
        if (
            not props.command
            and len(naming.evaluation_job_role(props.tenant, props.environment)) > naming.IAM_ROLE_NAME_MAX
        ):
            raise ValueError("evaluation job role name is longer than 64 characters; shorten the tenant slug")
        if not 0 < props.online_sampling_percent <= 100:
            raise ValueError("online_sampling_percent must be in (0, 100]")

    # ------------------------------------------------------------------ building blocks

    def _gate_function(self) -> lambda_.Function:
        props = self._props
        log_group = retained_log_group(
            self, "GateLogs", encryption_key=props.encryption_key, retention_days=props.log_retention_days
        )
        role = iam.Role(
            self,
            "GateRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Evaluation gate: reads run metrics, writes logs; nothing else",
        )
        policy = iam.ManagedPolicy(
            self,
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
                    resources=[
                        self.results_bucket.arn_for_objects(f"{p}/*")
                        for p in (*OUTPUT_PREFIXES.values(), BEDROCK_OUTPUT_PREFIX)
                    ],
                ),
                iam.PolicyStatement(
                    sid="ListBedrockOutput",
                    actions=["s3:ListBucket"],
                    resources=[self.results_bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{BEDROCK_OUTPUT_PREFIX}/*"]}},
                ),
                iam.PolicyStatement(
                    sid="DecryptRunMetrics",
                    actions=["kms:Decrypt"],
                    resources=[props.encryption_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{self._stack.region}.amazonaws.com"}},
                ),
            ],
        )
        self._acknowledge_objects(
            policy,
            self.results_bucket,
            [*OUTPUT_PREFIXES.values(), BEDROCK_OUTPUT_PREFIX],
            "The gate reads the metrics every run writes under its own run prefix (agent/version/execution)",
        )
        function = lambda_.Function(
            self,
            "GateFunction",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="agentzone.handlers.eval_gate.handler",
            code=lambda_.Code.from_asset(
                str(_REPO_ROOT),
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
        return function

    def _project(self, name: str) -> codebuild.Project:
        props = self._props
        log_group = retained_log_group(
            self, "BuildLogs", encryption_key=props.encryption_key, retention_days=props.log_retention_days
        )
        role = iam.Role(
            self,
            "BuildRole",
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description=f"Runs the {name} team's evaluation command",
        )
        output = "$AGENTZONE_OUTPUT_PREFIX/$AGENTZONE_AGENT/$AGENTZONE_VERSION/$AGENTZONE_RUN/metrics.json"
        project = codebuild.Project(
            self,
            "Runner",
            description=f"{name}: evaluates one agent version (AGENTZONE_AGENT, AGENTZONE_VERSION) with the team's command",
            role=role,
            encryption_key=props.encryption_key,
            timeout=props.build_timeout,
            environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                compute_type=codebuild.ComputeType.SMALL,
                privileged=False,
            ),
            environment_variables={
                "AGENTZONE_DATASET_BUCKET": codebuild.BuildEnvironmentVariable(value=self.dataset_bucket.bucket_name),
                "AGENTZONE_RESULTS_BUCKET": codebuild.BuildEnvironmentVariable(value=self.results_bucket.bucket_name),
                "AGENTZONE_METRICS_FILE": codebuild.BuildEnvironmentVariable(value=_METRICS_FILE),
                "AGENTZONE_DATASET_DIR": codebuild.BuildEnvironmentVariable(value=_DATASET_DIR),
                "AGENTZONE_MODE": codebuild.BuildEnvironmentVariable(value="release"),
                "AGENTZONE_OUTPUT_PREFIX": codebuild.BuildEnvironmentVariable(value=OUTPUT_PREFIXES["release"]),
            },
            build_spec=codebuild.BuildSpec.from_object(
                {
                    "version": "0.2",
                    "env": {"shell": "bash"},
                    "phases": {
                        "build": {
                            "commands": [
                                f"mkdir -p harness {_DATASET_DIR} $(dirname {_METRICS_FILE})",
                                f'aws s3 cp --recursive --only-show-errors "s3://$AGENTZONE_DATASET_BUCKET/{HARNESS_PREFIX}" harness/',
                                f'aws s3 cp --recursive --only-show-errors "s3://$AGENTZONE_DATASET_BUCKET/{DATASETS_PREFIX}$AGENTZONE_AGENT/" '
                                f'"$AGENTZONE_DATASET_DIR"',
                                f"cd harness && {props.command}",
                                f'aws s3 cp --only-show-errors "$AGENTZONE_METRICS_FILE" "s3://$AGENTZONE_RESULTS_BUCKET/{output}"',
                            ]
                        }
                    },
                }
            ),
            logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)),
        )
        policy = iam.ManagedPolicy(
            self,
            "BuildPolicy",
            description=f"What the {name} evaluation build reads (harness, golden sets) and writes (run metrics)",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="ListHarnessAndDatasets",
                    actions=["s3:ListBucket"],
                    resources=[self.dataset_bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{HARNESS_PREFIX}*", f"{DATASETS_PREFIX}*"]}},
                ),
                iam.PolicyStatement(
                    sid="ReadHarnessAndDatasets",
                    actions=["s3:GetObject"],
                    resources=[self.dataset_bucket.arn_for_objects(f"{p}*") for p in (HARNESS_PREFIX, DATASETS_PREFIX)],
                ),
                iam.PolicyStatement(
                    sid="WriteRunMetrics",
                    actions=["s3:PutObject"],
                    resources=[self.results_bucket.arn_for_objects(f"{p}/*") for p in OUTPUT_PREFIXES.values()],
                ),
                iam.PolicyStatement(
                    sid="UseTheTenantKeyThroughS3",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[props.encryption_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{self._stack.region}.amazonaws.com"}},
                ),
            ],
        )
        self._acknowledge_objects(
            policy,
            self.dataset_bucket,
            [HARNESS_PREFIX.rstrip("/"), DATASETS_PREFIX.rstrip("/")],
            "The build downloads the team's harness and golden sets, whose object keys the team chooses",
        )
        self._acknowledge_objects(
            policy,
            self.results_bucket,
            list(OUTPUT_PREFIXES.values()),
            "The build writes its metrics under the run's own prefix (agent/version/execution)",
        )
        acknowledge_compliance(
            project,
            "CodeBuildProjectSourceRepoUrl",
            "The project has no source repository (NO_SOURCE): the harness comes from the CMK-encrypted dataset bucket.",
        )
        default_policy = role.node.find_child("DefaultPolicy")
        self._acknowledge_build_default_policy(default_policy, project)
        return project

    def _acknowledge_build_default_policy(self, policy: Construct, project: codebuild.Project) -> None:
        project_name = f"<{self._stack.get_logical_id(project.node.default_child)}>"
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

    def _acknowledge_objects(self, policy: Construct, bucket, prefixes: list[str], reason: str) -> None:
        ref = f"<{self._stack.get_logical_id(bucket.node.default_child)}.Arn>"
        for prefix in prefixes:
            acknowledge(
                policy, f"AwsSolutions-IAM5[Resource::{ref}/{prefix}/*]", f"{reason}; nothing outside {prefix}/."
            )

    def _state_machine(self, construct_id: str, definition: sfn.IChainable, description: str) -> sfn.StateMachine:
        props = self._props
        log_group = retained_log_group(
            self, f"{construct_id}Logs", encryption_key=props.encryption_key, retention_days=props.log_retention_days
        )
        machine = sfn.StateMachine(
            self,
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
        return machine

    def _find_baseline(self, construct_id: str) -> tasks.CallAwsService:
        return tasks.CallAwsService(
            self,
            construct_id,
            comment="The latest approved version of this agent (sparse index: approved versions only)",
            service="dynamodb",
            action="query",
            parameters={
                "TableName": self.table.table_name,
                "IndexName": record.BASELINE_INDEX,
                "KeyConditionExpression": "#a = :a",
                "ExpressionAttributeNames": {"#a": record.BASELINE_INDEX_PARTITION_KEY},
                "ExpressionAttributeValues": {":a": {"S": sfn.JsonPath.string_at("$.agent")}},
                "ScanIndexForward": False,
                "Limit": 2,
            },
            iam_resources=[f"{self.table.table_arn}/index/{record.BASELINE_INDEX}"],
            result_selector={"Items": sfn.JsonPath.list_at("$.Items")},
            result_path="$.baseline",
        )

    def _gate(self, construct_id: str, mode: str, metrics: dict) -> tasks.LambdaInvoke:
        props = self._props
        return tasks.LambdaInvoke(
            self,
            construct_id,
            comment="Decide: thresholds and regression against the baseline (agentzone.evaluation.gate)",
            lambda_function=self.gate_function,
            payload=sfn.TaskInput.from_object(
                {
                    "agent": sfn.JsonPath.string_at("$.agent"),
                    "version": sfn.JsonPath.string_at("$.version"),
                    "mode": mode,
                    "run": sfn.JsonPath.execution_id,
                    "thresholds": dict(sorted(props.thresholds.items())),
                    "maxRegression": props.max_regression,
                    "metrics": metrics,
                    "baseline": sfn.JsonPath.object_at("$.baseline"),
                }
            ),
            payload_response_only=True,
            result_path="$.gate",
            retry_on_service_exceptions=True,
        )

    def _run_build(
        self, construct_id: str, mode: str, extra: dict[str, str] | None = None
    ) -> tasks.CodeBuildStartBuild:
        variables = {
            "AGENTZONE_AGENT": sfn.JsonPath.string_at("$.agent"),
            "AGENTZONE_VERSION": sfn.JsonPath.string_at("$.version"),
            "AGENTZONE_RUN": sfn.JsonPath.execution_name,
            "AGENTZONE_MODE": mode,
            "AGENTZONE_OUTPUT_PREFIX": OUTPUT_PREFIXES[mode],
            **(extra or {}),
        }
        return tasks.CodeBuildStartBuild(
            self,
            construct_id,
            comment="Run the team's evaluation command (waits for the build)",
            project=self.project,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            environment_variables_override={
                name: codebuild.BuildEnvironmentVariable(value=value) for name, value in variables.items()
            },
            result_selector={"buildId": sfn.JsonPath.string_at("$.Build.Id")},
            result_path="$.evaluation",
        )

    def _build_metrics(self, mode: str) -> dict:
        return {
            "bucket": self.results_bucket.bucket_name,
            "key": sfn.JsonPath.format(
                f"{OUTPUT_PREFIXES[mode]}/{{}}/{{}}/{{}}/metrics.json",
                sfn.JsonPath.string_at("$.agent"),
                sfn.JsonPath.string_at("$.version"),
                sfn.JsonPath.execution_name,
            ),
        }

    def _bedrock_job(self, then: sfn.IChainable, failed: sfn.Fail) -> tuple[sfn.IChainable, dict]:
        """createEvaluationJob -> poll getEvaluationJob -> ``then`` when Completed."""
        props = self._props
        stack = self._stack
        role = iam.Role(
            self,
            "EvaluationJobRole",
            # A fixed, platform-protected name, so the organization's guardrail SCP can exempt judge calls (see module docs).
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
        model_arn = f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{props.evaluator_model}"
        policy = iam.ManagedPolicy(
            self,
            "EvaluationJobPolicy",
            description="What Bedrock evaluation jobs of this pipeline read, judge with and write",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="JudgeWithTheEvaluatorModel", actions=["bedrock:InvokeModel"], resources=[model_arn]
                ),
                iam.PolicyStatement(
                    sid="ReadGoldenSets",
                    actions=["s3:GetObject"],
                    resources=[self.dataset_bucket.arn_for_objects(f"{DATASETS_PREFIX}*")],
                ),
                iam.PolicyStatement(
                    sid="ListGoldenSetsAndOutput",
                    actions=["s3:ListBucket"],
                    resources=[self.dataset_bucket.bucket_arn, self.results_bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{DATASETS_PREFIX}*", f"{BEDROCK_OUTPUT_PREFIX}/*"]}},
                ),
                iam.PolicyStatement(
                    sid="WriteResults",
                    actions=["s3:GetObject", "s3:PutObject"],
                    resources=[self.results_bucket.arn_for_objects(f"{BEDROCK_OUTPUT_PREFIX}/*")],
                ),
                iam.PolicyStatement(
                    sid="UseTheTenantKey",
                    actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                    resources=[props.encryption_key.key_arn],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": [
                                f"s3.{stack.region}.amazonaws.com",
                                f"bedrock.{stack.region}.amazonaws.com",
                            ]
                        }
                    },
                ),
            ],
        )
        self._acknowledge_objects(
            policy,
            self.dataset_bucket,
            [DATASETS_PREFIX.rstrip("/")],
            "Evaluation jobs read the golden sets the team uploads (keys chosen by the team)",
        )
        self._acknowledge_objects(
            policy,
            self.results_bucket,
            [BEDROCK_OUTPUT_PREFIX],
            "Bedrock writes job output under <prefix>/<job name>/<job id>/, ids assigned at run time",
        )
        self.evaluation_job_role = role
        jobs = f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:evaluation-job/*"
        output_prefix = sfn.JsonPath.format(
            f"{BEDROCK_OUTPUT_PREFIX}/{{}}/{{}}/{{}}/",
            sfn.JsonPath.string_at("$.agent"),
            sfn.JsonPath.string_at("$.version"),
            sfn.JsonPath.execution_name,
        )
        start = tasks.CallAwsService(
            self,
            "StartEvaluationJob",
            comment="Bedrock evaluation job (LLM as a judge) over the version's precomputed responses",
            service="bedrock",
            action="createEvaluationJob",
            parameters={
                "JobName": sfn.JsonPath.format("az-{}", sfn.JsonPath.uuid()),
                "RoleArn": role.role_arn,
                "CustomerEncryptionKeyId": props.encryption_key.key_arn,
                "ApplicationType": "ModelEvaluation",
                "EvaluationConfig": {
                    "Automated": {
                        "DatasetMetricConfigs": [
                            {
                                "TaskType": "General",
                                "Dataset": {
                                    "Name": "golden",
                                    "DatasetLocation": {
                                        "S3Uri": sfn.JsonPath.format(
                                            f"s3://{self.dataset_bucket.bucket_name}/{DATASETS_PREFIX}{{}}/{{}}.jsonl",
                                            sfn.JsonPath.string_at("$.agent"),
                                            sfn.JsonPath.string_at("$.version"),
                                        )
                                    },
                                },
                                "MetricNames": [gate.BEDROCK_METRICS[m] for m in sorted(props.thresholds)],
                            }
                        ],
                        "EvaluatorModelConfig": {
                            "BedrockEvaluatorModels": [{"ModelIdentifier": props.evaluator_model}]
                        },
                    }
                },
                "InferenceConfig": {
                    "Models": [
                        {
                            "PrecomputedInferenceSource": {
                                "InferenceSourceIdentifier": sfn.JsonPath.format(
                                    "{}-{}", sfn.JsonPath.string_at("$.agent"), sfn.JsonPath.string_at("$.version")
                                )
                            }
                        }
                    ]
                },
                "OutputDataConfig": {
                    "S3Uri": sfn.JsonPath.format(f"s3://{self.results_bucket.bucket_name}/{{}}", output_prefix)
                },
            },
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
                    conditions={"StringEquals": {"kms:ViaService": f"bedrock.{stack.region}.amazonaws.com"}},
                ),
            ],
            result_selector={"jobArn": sfn.JsonPath.string_at("$.JobArn")},
            result_path="$.evaluation",
        )
        wait = sfn.Wait(self, "WaitForEvaluationJob", time=sfn.WaitTime.duration(cdk.Duration.minutes(2)))
        poll = tasks.CallAwsService(
            self,
            "GetEvaluationJob",
            service="bedrock",
            action="getEvaluationJob",
            parameters={"JobIdentifier": sfn.JsonPath.string_at("$.evaluation.jobArn")},
            iam_resources=[jobs],
            result_selector={"status": sfn.JsonPath.string_at("$.Status")},
            result_path="$.job",
        )
        done = (
            sfn.Choice(self, "EvaluationJobDone")
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
        return chain, {"bucket": self.results_bucket.bucket_name, "prefix": output_prefix}

    def _record_and_emit(self) -> sfn.IChainable:
        record_result = tasks.CallAwsService(
            self,
            "RecordResult",
            comment="One item per agent version; an approved (baseline) version's result is final",
            service="dynamodb",
            action="putItem",
            parameters={
                "TableName": self.table.table_name,
                "Item": sfn.JsonPath.object_at("$.gate.item"),
                "ConditionExpression": "attribute_not_exists(approved_at)",
            },
            iam_resources=[self.table.table_arn],
            additional_iam_statements=[
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[self._props.encryption_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{self._stack.region}.amazonaws.com"}},
                ),
            ],
            result_path=sfn.JsonPath.DISCARD,
        )
        record_result.add_catch(
            sfn.Fail(
                self,
                "VersionAlreadyApproved",
                error="VersionAlreadyApproved",
                cause="This version is the approved baseline; its result is final. Evaluate a new version.",
            ),
            errors=["DynamoDb.ConditionalCheckFailedException"],
        )
        passed = sfn.Fail(self, "GateFailed", error="EvaluationGateFailed", cause_path="$.gate.report")
        return record_result.next(
            sfn.Choice(self, "Passed")
            .when(
                sfn.Condition.boolean_equals("$.gate.passed", True),
                self._emit("EmitPassed", PASSED_DETAIL_TYPE).next(sfn.Succeed(self, "EvaluationPassed")),
            )
            .otherwise(self._emit("EmitFailed", FAILED_DETAIL_TYPE).next(passed))
        )

    def _emit(
        self, construct_id: str, detail_type: str, detail_path: str = "$.gate.detail"
    ) -> tasks.EventBridgePutEvents:
        return tasks.EventBridgePutEvents(
            self,
            construct_id,
            entries=[
                tasks.EventBridgePutEventsEntry(
                    detail=sfn.TaskInput.from_json_path_at(detail_path),
                    detail_type=detail_type,
                    source=EVENT_SOURCE,
                    event_bus=self.default_bus,
                )
            ],
            result_path=sfn.JsonPath.DISCARD,
        )

    def _pipeline(self, name: str) -> sfn.StateMachine:
        unreadable = sfn.Fail(
            self,
            "EvaluationFailed",
            error="EvaluationFailed",
            cause="The evaluation did not finish or its metrics could not be read; see the execution history.",
        )
        find = self._find_baseline("FindBaseline")
        if self.project is not None:
            run = self._run_build("RunEvaluation", "release")
            run.add_catch(unreadable, result_path="$.error")
            metrics = self._build_metrics("release")
            start: sfn.IChainable = run.next(find)
        else:
            start, metrics = self._bedrock_job(find, unreadable)
        decide = self._gate("Gate", "release", metrics)
        decide.add_catch(unreadable, result_path="$.error")
        find.next(decide).next(self._record_and_emit())
        machine = self._state_machine("Evaluation", start, f"{name}: evaluate one agent version and gate it")
        self._acknowledge_machine_policy(machine, "The pipeline", bedrock=self.project is None)
        return machine

    def _acknowledge_machine_policy(
        self, machine: sfn.StateMachine, who: str, *, bedrock: bool = False, metrics: bool = False
    ) -> None:
        policy = machine.role.node.find_child("DefaultPolicy")
        acknowledge_compliance(
            policy,
            "IAMNoInlinePolicy",
            f"The Step Functions L2 writes each task's grant as a policy attached only to {who.lower()}'s role.",
        )
        stack = self._stack
        fn = f"<{stack.get_logical_id(self.gate_function.node.default_child)}.Arn>"
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{fn}:*]",
            "Step Functions may invoke any published version of the gate function (the L2's grant for LambdaInvoke).",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray trace writes and CloudWatch Logs delivery setup support no resource-level permissions"
            + ("; so does cloudwatch:PutMetricData (the canary's only metric write)." if metrics else "."),
        )
        if bedrock:
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::{nag_arn(policy, 'bedrock', 'evaluation-job/*')}]",
                "Bedrock assigns evaluation job ids at creation; the pipeline starts and polls only its own jobs.",
            )
        if self.project is not None:
            acknowledge(
                policy,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/"
                "StepFunctionsGetEventsForCodeBuildRule]",
                "The RUN_JOB CodeBuild integration manages its own Step Functions rule, named by the service.",
            )

    # ------------------------------------------------------------------ canary

    def _canary(self, name: str) -> sfn.StateMachine:
        props = self._props
        stack = self._stack
        failed = sfn.Fail(
            self,
            "CanaryFailed",
            error="CanaryFailed",
            cause="The canary run did not finish or its metrics could not be read; see the execution history.",
        )
        run = self._run_build("RunCanary", "canary", {"AGENTZONE_ENDPOINT": sfn.JsonPath.string_at("$.endpoint")})
        run.add_catch(failed, result_path="$.error")
        decide = self._gate("CanaryGate", "canary", self._build_metrics("canary"))
        decide.add_catch(failed, result_path="$.error")
        signal = tasks.CallAwsService(
            self,
            "RecordSignal",
            comment=f"One JSON signal per run under {FEEDBACK_PREFIX} for the data lake connector",
            service="s3",
            action="putObject",
            parameters={
                "Bucket": self.results_bucket.bucket_name,
                "Key": sfn.JsonPath.string_at("$.gate.signalKey"),
                "Body": sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.gate.signal")),
                "ContentType": "application/json",
            },
            iam_resources=[self.results_bucket.arn_for_objects(f"{FEEDBACK_PREFIX}*")],
            additional_iam_statements=[
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey"],
                    resources=[props.encryption_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
                ),
            ],
            result_path=sfn.JsonPath.DISCARD,
        )
        publish = tasks.CallAwsService(
            self,
            "PublishMetrics",
            comment=f"GateFailed, WorstDrop and Score per metric in {NAMESPACE}",
            service="cloudwatch",
            action="putMetricData",
            parameters={"Namespace": NAMESPACE, "MetricData": sfn.JsonPath.list_at("$.gate.metricData")},
            iam_resources=["*"],
            result_path=sfn.JsonPath.DISCARD,
        )
        drift = sfn.Fail(self, "DriftDetected", error="EvaluationDrift", cause_path="$.gate.report")
        emit = self._emit("EmitCanarySignal", CANARY_DETAIL_TYPE, "$.gate.signal")
        definition = (
            run.next(self._find_baseline("CanaryFindBaseline"))
            .next(decide)
            .next(signal)
            .next(emit)
            .next(publish)
            .next(
                sfn.Choice(self, "CanaryPassed")
                .when(sfn.Condition.boolean_equals("$.gate.passed", True), sfn.Succeed(self, "NoDrift"))
                .otherwise(drift)
            )
        )
        machine = self._state_machine(
            "Canary", definition, f"{name}: replay the golden set against a live endpoint and compare"
        )
        self._acknowledge_machine_policy(machine, "The canary", metrics=True)
        policy = machine.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(self.results_bucket.node.default_child)}.Arn>/{FEEDBACK_PREFIX}*]",
            "The canary writes one signal object per run under feedback/ (keys by agent, date and run).",
        )
        self.schedule_group = scheduler.ScheduleGroup(
            self, "CanarySchedules", schedule_group_name=f"agentzone-eval-{name}"
        )
        return machine

    # ------------------------------------------------------------------ per agent (after runtimes exist)

    def monitor_agent(self, agent, *, name: str, endpoint: str, version: str | int) -> None:
        """Canary schedule and drift alarm (when ``canary``) and online evaluation (when ``online_evaluation``) for one agent.

        ``agent`` is an :class:`~agentzone.blueprints.runtime.AgentRuntime`; ``name`` the agent's
        name in the store (the config name CI passes as ``--agent``, e.g. ``triage``);
        ``endpoint`` the named endpoint this environment serves (e.g. ``PROD``) and
        ``version`` the version pinned there (the canary compares it with the baseline).
        Call it after the runtime exists; it does nothing where neither is enabled.
        """
        if not record.AGENT_PATTERN.match(name):
            raise ValueError(f"agent name {name!r} must match {record.AGENT_PATTERN.pattern}")
        agent.endpoint(endpoint)  # raises on an unknown endpoint name
        suffix = naming.pascal_title(name)
        if self.canary_state_machine is not None:
            self._canary_schedule(agent, name, suffix, endpoint, str(version))
        if self._props.online_evaluation:
            self._online_evaluation(agent, name, suffix, endpoint)

    def _canary_schedule(self, agent, name: str, suffix: str, endpoint: str, version: str) -> None:
        props = self._props
        stack = self._stack
        role = iam.Role(
            self,
            f"CanaryScheduleRole{suffix}",
            description=f"EventBridge Scheduler: starts the evaluation canary for {agent.runtime_name}, nothing else",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": self.schedule_group.schedule_group_arn,
                    }
                },
            ),
        )
        scheduler.Schedule(
            self,
            f"Canary{suffix}",
            description=f"Replay the golden set against {agent.runtime_name}::{endpoint} and compare with the baseline",
            schedule=scheduler.ScheduleExpression.expression(props.canary_schedule),
            schedule_group=self.schedule_group,
            key=props.encryption_key,
            target=scheduler_targets.StepFunctionsStartExecution(
                self.canary_state_machine,
                input=scheduler.ScheduleTargetInput.from_object(
                    {"agent": name, "version": version, "endpoint": agent.endpoint_arn(endpoint)}
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
        agent.grant_invoke(self.project)
        alarm = cloudwatch.Alarm(
            self,
            f"Drift{suffix}",
            alarm_description=f"{agent.runtime_name}: the evaluation canary fell below a threshold or regressed against the baseline",
            metric=self.metric_gate_failed(name, mode="canary"),
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
        self.alarms[name] = alarm

    def _online_evaluation(self, agent, name: str, suffix: str, endpoint: str) -> None:
        props = self._props
        names = sorted({ONLINE_EVALUATORS[m] for m in props.thresholds if m in ONLINE_EVALUATORS}) or ["HELPFULNESS"]
        config_name = re.sub(r"[^A-Za-z0-9_]", "_", f"{props.tenant}_{name}_{props.environment}")[:48]
        data_source = agentcore.DataSourceConfig.from_agent_runtime_endpoint(agent.runtime, agent.endpoint(endpoint))
        role, policy = self._online_role(agent, name, suffix, endpoint, data_source)
        config = agentcore.OnlineEvaluationConfig(
            self,
            f"Online{suffix}",
            online_evaluation_config_name=config_name,
            description=f"Samples {props.online_sampling_percent}% of {agent.runtime_name}::{endpoint} sessions",
            evaluators=[agentcore.EvaluatorSelector.builtin(getattr(agentcore.BuiltinEvaluator, n)) for n in names],
            data_source=data_source,
            sampling_percentage=props.online_sampling_percent,
            execution_role=role,
        )
        config.node.add_dependency(policy)  # AgentCore reads the spans index with the role as soon as it exists
        self.online_evaluations[name] = config

    def _online_role(
        self, agent, name: str, suffix: str, endpoint: str, data_source: agentcore.DataSourceConfig
    ) -> tuple[iam.Role, iam.ManagedPolicy]:
        """The online evaluation's execution role: the L2's trust and log grants, a fixed name, no model grant.

        Built-in evaluators (the only kind this blueprint configures) judge with models the service runs
        itself; AgentCore needs model permissions on the role only for custom evaluators. The L2's default
        role grants InvokeModel on every foundation model and inference profile, unguarded, which the
        tenant SCP denies; this role has none. Its name is under agentzone-eval-*, so were a custom
        LLM-as-judge evaluator added, its only grant would be the tenant's evaluator_model, which the SCP
        exempts from the guardrail rule and allows as the evaluation roles' only model.
        """
        props = self._props
        stack = self._stack
        role_name = naming.online_evaluation_role(name)
        if len(role_name) > naming.IAM_ROLE_NAME_MAX:
            raise ValueError(
                f"online evaluation role name {role_name!r} is longer than {naming.IAM_ROLE_NAME_MAX} characters; shorten the agent name"
            )
        if not props.command and role_name == naming.evaluation_job_role(props.tenant, props.environment):
            raise ValueError(
                f"online evaluation role name {role_name!r} is the evaluation job role's; rename the agent"
            )
        role = iam.Role(
            self,
            f"OnlineRole{suffix}",
            role_name=role_name,
            description=f"AgentCore online evaluation of {agent.runtime_name}::{endpoint}: reads its spans, writes results; no model access",
            assumed_by=iam.ServicePrincipal(
                "bedrock-agentcore.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account, "aws:ResourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": [
                            stack.format_arn(service="bedrock-agentcore", resource="evaluator", resource_name="*"),
                            stack.format_arn(
                                service="bedrock-agentcore", resource="online-evaluation-config", resource_name="*"
                            ),
                        ]
                    },
                },
            ),
        )

        def log_group(name: str) -> str:
            return stack.format_arn(
                service="logs", resource="log-group", resource_name=name, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
            )

        sources = [*data_source.cloud_watch_logs_config.log_group_names, SPANS_LOG_GROUP]
        policy = iam.ManagedPolicy(
            self,
            f"OnlinePolicy{suffix}",
            description=f"AgentCore online evaluation of {agent.runtime_name}::{endpoint}: query its spans and logs, write results",
            roles=[role],
            statements=[
                iam.PolicyStatement(sid="DescribeLogGroups", actions=["logs:DescribeLogGroups"], resources=["*"]),
                iam.PolicyStatement(
                    sid="QueryAgentSpansAndLogs",
                    actions=["logs:GetQueryResults", "logs:StartQuery"],
                    resources=[arn for source in sources for arn in (log_group(source), log_group(f"{source}:*"))],
                ),
                iam.PolicyStatement(
                    sid="WriteEvaluationResults",
                    actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_group(f"{ONLINE_RESULTS_LOG_GROUPS}*")],
                ),
                iam.PolicyStatement(
                    sid="IndexAgentSpans",
                    actions=["logs:DescribeIndexPolicies", "logs:PutIndexPolicy"],
                    resources=[log_group(SPANS_LOG_GROUP), log_group(f"{SPANS_LOG_GROUP}:*")],
                ),
            ],
        )
        runtime_id = f"<{stack.get_logical_id(agent.runtime.node.default_child)}.AgentRuntimeId>"
        findings = {
            "*": "logs:DescribeLogGroups supports no resource-level permission; it reads no log data.",
            nag_arn(
                policy, "logs", f"log-group:{ONLINE_RESULTS_LOG_GROUPS}*"
            ): "AgentCore writes evaluation results to "
            f"log groups it names per evaluation configuration under {ONLINE_RESULTS_LOG_GROUPS}.",
            nag_arn(
                policy, "logs", f"log-group:{SPANS_LOG_GROUP}:*"
            ): "Online evaluation reads the agent's spans (transaction search) "
            f"from the account's {SPANS_LOG_GROUP} log group and its streams.",
            nag_arn(
                policy, "logs", f"log-group:/aws/bedrock-agentcore/runtimes/{runtime_id}-{endpoint}:*"
            ): "Streams of the monitored endpoint's own runtime log group, named by AgentCore per session.",
        }
        for resource, reason in findings.items():
            acknowledge(policy, f"AwsSolutions-IAM5[Resource::{resource}]", reason)
        return role, policy

    # ------------------------------------------------------------------ config entry point

    @classmethod
    def from_config(
        cls, scope: Construct, construct_id: str, *, context: BlueprintContext, config: EvalPipelineBlueprint
    ) -> EvaluationPipeline:
        if config.evaluator_model and (problem := tenant_model_problem(config.evaluator_model, context.models)):
            raise ValueError(f"eval_pipeline.evaluator_model: {problem}")
        access_logs = getattr(cdk.Stack.of(scope), "access_logs", None)
        canary = context.environment in config.canary_environments and bool(config.command)
        pipeline = cls(
            scope,
            construct_id,
            props=EvaluationPipelineProps(
                tenant=context.tenant,
                environment=context.environment,
                encryption_key=context.encryption_key,
                thresholds=dict(config.thresholds),
                max_regression=config.max_regression,
                command=config.command,
                evaluator_model=config.evaluator_model,
                online_evaluation=context.environment == "prod",
                online_sampling_percent=config.online_sampling_percent,
                canary=canary,
                canary_schedule=config.canary_schedule,
                access_logs=access_logs if isinstance(access_logs, AccessLogsBucket) else None,
                alarm_topic=context.alarm_topic,
            ),
        )
        if context.environment in config.canary_environments and not config.command:
            cdk.Annotations.of(pipeline).add_warning_v2(
                "agentzone:evalCanaryNeedsCommand",
                "eval_pipeline: the canary replays the golden set with the team's command; without command there is no canary.",
            )
        for key, value in sorted(context.tags.items()):
            cdk.Tags.of(pipeline).add(key, value)
        return pipeline

    # ------------------------------------------------------------------ attributes

    @property
    def table_name(self) -> str:
        return self.table.table_name

    @property
    def state_machine_arn(self) -> str:
        return self.state_machine.state_machine_arn

    # ------------------------------------------------------------------ grants

    def grant_start_evaluation(self, grantee: iam.IGrantable) -> iam.Grant:
        """Start the pipeline (e.g. CI after building a version): ``{"agent": ..., "version": ...}``."""
        return self.state_machine.grant_start_execution(grantee)

    def grant_upload_datasets(self, grantee: iam.IGrantable) -> iam.Grant:
        """Upload golden sets and the harness (``datasets/*``, ``harness/*``)."""
        grant = self.dataset_bucket.grant_put(grantee, f"{DATASETS_PREFIX}*")
        return grant.combine(self.dataset_bucket.grant_put(grantee, f"{HARNESS_PREFIX}*"))

    def grant_read_results(self, grantee: iam.IGrantable) -> iam.Grant:
        """What ``agentzone eval gate`` needs: read the store (table and baseline index)."""
        return self.table.grant_read_data(grantee)

    def grant_approve(self, grantee: iam.IGrantable) -> iam.Grant:
        """What ``agentzone eval approve`` needs: read the store and update a result to approved."""
        return self.grant_read_results(grantee).combine(self.table.grant(grantee, "dynamodb:UpdateItem"))

    def grant_read_feedback(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read the canary's signals under ``feedback/`` (the data lake connector)."""
        return self.results_bucket.grant_read(grantee, f"{FEEDBACK_PREFIX}*")

    # ------------------------------------------------------------------ metrics

    def metric_gate_failed(self, agent: str, *, mode: str = "canary", **kwargs) -> cloudwatch.Metric:
        """1 when a run of ``agent`` failed the gate, 0 when it passed (published by the canary)."""
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name="GateFailed",
            dimensions_map={"Agent": agent, "Mode": mode},
            **{"statistic": "Maximum", "period": cdk.Duration.hours(1), **kwargs},
        )

    def metric_worst_drop(self, agent: str, *, mode: str = "canary", **kwargs) -> cloudwatch.Metric:
        """The largest drop of any gated metric against the baseline in a run (published by the canary)."""
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name="WorstDrop",
            dimensions_map={"Agent": agent, "Mode": mode},
            **{"statistic": "Maximum", "period": cdk.Duration.hours(1), **kwargs},
        )

    def metric_score(self, agent: str, metric: str, *, mode: str = "canary", **kwargs) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name="Score",
            dimensions_map={"Agent": agent, "Mode": mode, "Metric": metric},
            **{"statistic": "Minimum", "period": cdk.Duration.hours(1), **kwargs},
        )

    def metric_pipeline_failed(self, **kwargs) -> cloudwatch.Metric:
        """Pipeline executions that failed (including gate failures: they end in the GateFailed state)."""
        return self.state_machine.metric_failed(**kwargs)
