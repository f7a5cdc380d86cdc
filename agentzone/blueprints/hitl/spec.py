"""The HITL workflow's registry entry: every agent of the account gets the workflow."""

from __future__ import annotations

from ...config.model import HitlBlueprint
from ..registry import Attach, BlueprintSpec, not_offered
from .blueprint import HitlWorkflow

SPEC = BlueprintSpec(
    construct=HitlWorkflow,
    config=HitlBlueprint,
    construct_id="Hitl",
    title="human approval workflow",
    summary="approval workflow: Step Functions task tokens, IAM-authorized API, Object Lock decision records",
    docs="blueprint-hitl.md",
    to_agents=Attach.EVERY_AGENT,
    catalog=not_offered("Ships a Lambda function (a code asset) and needs the account's access-log bucket."),
)
