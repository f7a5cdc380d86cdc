"""The evaluation pipeline's registry entry: created after the runtimes, then watches each of them."""

from __future__ import annotations

from collections.abc import Mapping

from ...config.model import EvalPipelineBlueprint
from ..registry import BlueprintSpec, Vending, not_offered
from .blueprint import EvaluationPipeline


def monitored_endpoint(endpoints: Mapping[str, int]) -> tuple[str, int]:
    """The endpoint canaries and online evaluation watch: the one on the oldest version, i.e. the
    established one when a newer version is being tried next to it (PROD: 3, CANARY: 4 -> PROD)."""
    name = min(endpoints, key=lambda e: (endpoints[e], e))
    return name, endpoints[name]


def monitor_agents(pipeline: EvaluationPipeline, vending: Vending) -> None:
    """Watch every agent of the account at the endpoint its release in this environment establishes."""
    for name, (agent, config) in vending.agents().items():
        endpoint, version = monitored_endpoint(config.releases[vending.context.environment].endpoints)
        pipeline.monitor_agent(agent, name=name, endpoint=endpoint, version=version)


SPEC = BlueprintSpec(
    construct=EvaluationPipeline,
    config=EvalPipelineBlueprint,
    construct_id="EvalPipeline",
    title="evaluation pipeline and agent monitoring",
    summary="evaluation store, pipeline and gate, online evaluation in prod, scheduled canary",
    docs="blueprint-eval-pipeline.md",
    after=("runtime",),
    then=monitor_agents,
    catalog=not_offered(
        "Ships a Lambda function (a code asset) and a CodeBuild project, and monitors the account's runtimes."
    ),
)
