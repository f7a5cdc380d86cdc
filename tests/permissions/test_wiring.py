"""The wiring check: a name one stack builds for a resource in another account must be one some stack creates,
and must not be read before CloudFormation gives the resource its name."""

from __future__ import annotations

import json

from agentzone.permissions.check import adopted_values, landing_zone_accounts
from agentzone.permissions.model import LandingZoneModel, statements
from agentzone.permissions.wiring import WiringCheck


def test_renaming_a_bucket_in_one_stack_only_leaves_its_consumers_dangling(assembly, lz):
    archive = assembly.stacks["AgentZone-Logging-prod"].template["Resources"]["LogArchiveBucket6951A440"]
    archive["Properties"]["BucketName"] = "agentzone-logs-renamed"
    problems = WiringCheck(LandingZoneModel(assembly), landing_zone_accounts(lz), adopted_values(lz)).run()
    rendered = [p.render() for p in problems]
    assert any(
        r.startswith("AgentZone-claims-prod/BedrockInvocationLoggingBucket")
        and "agentzone-logs-100000000032-eu-west-1" in r
        and "no stack creates bucket" in r
        for r in rendered
    ), rendered


def test_a_name_read_before_it_exists_is_reported(assembly, lz):
    """The evaluation state machines had no name, so CDK's key grant was conditioned on "...:stateMachine:" and
    could never match; the simulator cannot evaluate that condition key, so the wiring check catches the ARN."""
    stack = assembly.stacks["AgentZone-claims-prod"]
    policy = next(
        r for k, r in stack.template["Resources"].items() if k.startswith("EvalPipelineEvaluationRoleDefaultPolicy")
    )
    grant = next(
        s
        for s in statements(policy["Properties"]["PolicyDocument"])
        if "stateMachineArn" in json.dumps(s.get("Condition", {}))
    )
    grant["Condition"]["StringEquals"]["kms:EncryptionContext:aws:states:stateMachineArn"] = (
        "arn:aws:states:eu-west-1:333333333333:stateMachine:"
    )
    problems = WiringCheck(LandingZoneModel(assembly), landing_zone_accounts(lz), adopted_values(lz)).nameless()
    assert [p.reference.stack for p in problems] == ["AgentZone-claims-prod"]
    assert "has no resource name" in problems[0].render() and "stateMachineArn" in problems[0].render()
