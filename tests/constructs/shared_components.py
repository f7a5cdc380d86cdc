"""The shared-services components' construct tests (agent images, experiment tracking, agent registry) build
their stacks alike: tagged and with a baseline key, as in the shared-services account. Their templates are read
with these helpers and pass the same gates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from agentzone.cfn_lint import run_cfn_lint
from agentzone.constructs import BaselineKey
from agentzone.report import Acknowledgement

from ..support import Synth

ENV = cdk.Environment(account="100000000011", region="eu-west-1")
ORG = "o-abcdefghij"
TENANTS = {"claims": ["111111111111", "222222222222"], "fraud": ["444444444444"]}
CI_ACCOUNT = "100000000011"  # pushes; the shared-services account itself
STACK_TAGS = {
    "owner": "platform@example.com",
    "cost-center": "CC-0001",
    "use-case-id": "platform",
    "environment": "dev",
}


def base_stack(app: cdk.App, name: str) -> tuple[cdk.Stack, kms.IKey]:
    """A tagged stack with the shared-services baseline key."""
    stack = cdk.Stack(app, name, env=ENV)
    for k, v in STACK_TAGS.items():
        cdk.Tags.of(stack).add(k, v)
    key = BaselineKey(stack, "BaselineKey", alias="alias/agentzone/sharedservices", description="shared services").key
    return stack, key


def only(t: Template, type_: str, props: dict | None = None) -> Mapping[str, Any]:
    found = t.find_resources(type_, {"Properties": props} if props else None)
    assert len(found) == 1, (type_, props, list(found))
    return next(iter(found.values()))


def statements(resource: Mapping[str, Any]) -> list[dict]:
    return resource["Properties"]["PolicyDocument"]["Statement"]


def principals(statement: dict) -> list[str]:
    aws = statement["Principal"]["AWS"]
    return sorted(aws if isinstance(aws, list) else [aws])


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def policy_of(t: Template, role_id: str) -> Mapping[str, Any]:
    """The one managed policy attached to a role."""
    found = [
        p
        for p in t.find_resources("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
    ]
    assert len(found) == 1, role_id
    return found[0]


def assert_cfn_lint_clean(synths: Iterable[Synth]) -> None:
    result = run_cfn_lint([s.path for s in synths])
    assert result.errors == [], result.render()


def resource_star_acknowledgements(synths: Iterable[Synth]) -> list[Acknowledgement]:
    """The acknowledged ``Resource::*`` wildcards, after checking that no action is a wildcard and every other
    acknowledged wildcard names its resource."""
    acks = [a for s in synths for a in s.acknowledgements()]
    wildcard = sorted({a.finding for a in acks if a.finding.startswith("AwsSolutions-IAM5")})
    assert not [f for f in wildcard if "[Action::" in f]
    assert all("[Resource::" in f for f in wildcard)
    return [a for a in acks if a.finding == "AwsSolutions-IAM5[Resource::*]"]
