"""Evaluation pipeline blueprint: datasets, a result store, a promotion gate CI can call, canaries, online evaluation.

Why it looks like this:

* The evaluation loop runs in the use-case account: the team's golden sets
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

Parts, each a function over typed frozen props that creates its resources in the blueprint's own scope:
:mod:`.store` (buckets, table), :mod:`.gate` (gate function and states), :mod:`.runner` (CodeBuild),
:mod:`.bedrock_job`, :mod:`.pipeline` (release state machine), :mod:`.canary`, :mod:`.online`;
:mod:`.machine` holds what the two state machines share and :mod:`.contract` the names others rely on.
"""

from .blueprint import EvaluationPipeline, EvaluationPipelineProps
from .contract import (
    BEDROCK_OUTPUT_PREFIX,
    CANARY_DETAIL_TYPE,
    DATASETS_PREFIX,
    EVALUATION_JOB_ROLE_PREFIX,
    EVENT_SOURCE,
    FAILED_DETAIL_TYPE,
    FEEDBACK_PREFIX,
    GATE_FILES,
    HARNESS_PREFIX,
    ONLINE_EVALUATORS,
    ONLINE_RESULTS_LOG_GROUPS,
    OUTPUT_PREFIXES,
    PASSED_DETAIL_TYPE,
    SPANS_LOG_GROUP,
)
from .spec import SPEC

__all__ = [
    "BEDROCK_OUTPUT_PREFIX",
    "CANARY_DETAIL_TYPE",
    "DATASETS_PREFIX",
    "EVALUATION_JOB_ROLE_PREFIX",
    "EVENT_SOURCE",
    "FAILED_DETAIL_TYPE",
    "FEEDBACK_PREFIX",
    "GATE_FILES",
    "HARNESS_PREFIX",
    "ONLINE_EVALUATORS",
    "ONLINE_RESULTS_LOG_GROUPS",
    "OUTPUT_PREFIXES",
    "PASSED_DETAIL_TYPE",
    "SPANS_LOG_GROUP",
    "SPEC",
    "EvaluationPipeline",
    "EvaluationPipelineProps",
]
