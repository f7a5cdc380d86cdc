"""The evaluation pipeline construct: it validates its props and composes the parts of this package.

Every part creates its resources directly in this construct (no intermediate scope), so construct ids and
logical ids stay those of one flat construct: they are part of the contract.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ... import naming
from ...config.model import EvalPipelineBlueprint, tenant_model_problem
from ...constructs.secure_bucket import AccessLogsBucket
from ...evaluation import gate, record
from ...handlers.eval_gate import NAMESPACE
from ...patterns import SCHEDULE_PATTERN
from ..context import BlueprintContext
from ..runtime import AgentRuntime
from .bedrock_job import BedrockJobProps
from .canary import Canary, CanaryProps, CanaryScheduleProps, canary, canary_schedule
from .contract import DATASETS_PREFIX, FEEDBACK_PREFIX, HARNESS_PREFIX
from .gate import GateFunctionProps, GateStepProps, gate_function
from .machine import MachineProps
from .online import OnlineEvaluationProps, online_evaluation
from .pipeline import ReleasePipelineProps, release_pipeline
from .runner import RunnerProps, evaluation_project
from .store import StoreProps, evaluation_store

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
        self._name = f"{props.tenant}-{props.environment}"
        store = evaluation_store(
            self, StoreProps(props.tenant, props.environment, props.encryption_key, props.access_logs)
        )
        self.dataset_bucket = store.dataset_bucket
        self.results_bucket = store.results_bucket
        self.table = store.table
        self.default_bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        self.gate_function = gate_function(
            self, GateFunctionProps(props.encryption_key, self.results_bucket, props.log_retention_days)
        )
        self._machine = MachineProps(props.tenant, props.environment, props.encryption_key, props.log_retention_days)
        self._gate = GateStepProps(self.gate_function, props.thresholds, props.max_regression)
        self.project: codebuild.Project | None = self._project(props.command) if props.command else None
        pipeline = release_pipeline(self, self._release_props())
        self.state_machine = pipeline.state_machine
        self.evaluation_job_role: iam.Role | None = pipeline.evaluation_job_role
        # _validate: a canary needs the team's command, so it has a project.
        self._canary = self._build_canary(self.project) if props.canary and self.project else None
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
            EvaluationPipeline._validate_bedrock_job(props)
        if props.canary and not props.command:
            raise ValueError(
                "eval_pipeline: the canary replays the golden set with the team's command; "
                "set command or drop the canary"
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

    @staticmethod
    def _validate_bedrock_job(props: EvaluationPipelineProps) -> None:
        """Without a command a Bedrock evaluation job judges the run: it needs a judge and built-in metrics only."""
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

    # ------------------------------------------------------------------ parts

    def _project(self, command: str) -> codebuild.Project:
        props = self._props
        return evaluation_project(
            self,
            RunnerProps(
                name=self._name,
                command=command,
                encryption_key=props.encryption_key,
                dataset_bucket=self.dataset_bucket,
                results_bucket=self.results_bucket,
                build_timeout=props.build_timeout,
                log_retention_days=props.log_retention_days,
            ),
        )

    def _release_props(self) -> ReleasePipelineProps:
        props = self._props
        bedrock = None
        if self.project is None and props.evaluator_model:
            bedrock = BedrockJobProps(
                tenant=props.tenant,
                environment=props.environment,
                encryption_key=props.encryption_key,
                evaluator_model=props.evaluator_model,
                thresholds=props.thresholds,
                dataset_bucket=self.dataset_bucket,
                results_bucket=self.results_bucket,
            )
        return ReleasePipelineProps(
            name=self._name,
            machine=self._machine,
            gate=self._gate,
            table=self.table,
            results_bucket=self.results_bucket,
            default_bus=self.default_bus,
            project=self.project,
            bedrock=bedrock,
        )

    def _build_canary(self, project: codebuild.IProject) -> Canary:
        return canary(
            self,
            CanaryProps(
                name=self._name,
                machine=self._machine,
                gate=self._gate,
                project=project,
                table=self.table,
                results_bucket=self.results_bucket,
                default_bus=self.default_bus,
            ),
        )

    # ------------------------------------------------------------------ per agent (after runtimes exist)

    def monitor_agent(self, agent: AgentRuntime, *, name: str, endpoint: str, version: str | int) -> None:
        """Canary schedule and drift alarm (when ``canary``) and online evaluation (when ``online_evaluation``).

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
        props = self._props
        if self._canary is not None and self.project is not None:
            self.alarms[name] = canary_schedule(
                self,
                CanaryScheduleProps(
                    agent=agent,
                    name=name,
                    suffix=suffix,
                    endpoint=endpoint,
                    version=str(version),
                    schedule=props.canary_schedule,
                    encryption_key=props.encryption_key,
                    canary=self._canary,
                    project=self.project,
                    gate_failed=self.metric_gate_failed(name, mode="canary"),
                    alarm_topic=props.alarm_topic,
                ),
            )
        if props.online_evaluation:
            self.online_evaluations[name] = online_evaluation(self, self._online_props(agent, name, suffix, endpoint))

    def _online_props(self, agent: AgentRuntime, name: str, suffix: str, endpoint: str) -> OnlineEvaluationProps:
        props = self._props
        return OnlineEvaluationProps(
            agent=agent,
            name=name,
            suffix=suffix,
            endpoint=endpoint,
            tenant=props.tenant,
            environment=props.environment,
            thresholds=props.thresholds,
            sampling_percent=props.online_sampling_percent,
            reserved_role_name=None if props.command else naming.evaluation_job_role(props.tenant, props.environment),
        )

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
                "eval_pipeline: the canary replays the golden set with the team's command; "
                "without command there is no canary.",
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

    @property
    def canary_state_machine(self) -> sfn.StateMachine | None:
        """The canary state machine (``canary`` only)."""
        return self._canary.state_machine if self._canary else None

    @property
    def schedule_group(self) -> scheduler.ScheduleGroup | None:
        """The group of the per-agent canary schedules (``canary`` only)."""
        return self._canary.schedule_group if self._canary else None

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

    def metric_gate_failed(self, agent: str, *, mode: str = "canary", **kwargs: Any) -> cloudwatch.Metric:
        """1 when a run of ``agent`` failed the gate, 0 when it passed (published by the canary)."""
        return _metric("GateFailed", {"Agent": agent, "Mode": mode}, "Maximum", kwargs)

    def metric_worst_drop(self, agent: str, *, mode: str = "canary", **kwargs: Any) -> cloudwatch.Metric:
        """The largest drop of any gated metric against the baseline in a run (published by the canary)."""
        return _metric("WorstDrop", {"Agent": agent, "Mode": mode}, "Maximum", kwargs)

    def metric_score(self, agent: str, metric: str, *, mode: str = "canary", **kwargs: Any) -> cloudwatch.Metric:
        return _metric("Score", {"Agent": agent, "Mode": mode, "Metric": metric}, "Minimum", kwargs)

    def metric_pipeline_failed(self, **kwargs: Any) -> cloudwatch.Metric:
        """Pipeline executions that failed (including gate failures: they end in the GateFailed state)."""
        return self.state_machine.metric_failed(**kwargs)


def _metric(name: str, dimensions: dict[str, str], statistic: str, overrides: dict[str, Any]) -> cloudwatch.Metric:
    """A gate metric the canary publishes, hourly unless ``overrides`` say otherwise."""
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map=dimensions,
        **{"statistic": statistic, "period": cdk.Duration.hours(1), **overrides},
    )
