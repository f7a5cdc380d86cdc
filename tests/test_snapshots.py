"""Snapshots of every sample stack: any template change shows up as a reviewed diff.

Assertions in tests/stacks/ say what must hold; these catch everything else.
Update with `make test ARGS="--snapshot-update"` and review the diff.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from .conftest import SAMPLE_CONFIG  # noqa: F401  (documents what is snapshotted)

ASSET_HASH = re.compile(r"[0-9a-f]{64}")
STACKS = (
    ["AgentZone-Bootstrap", "AgentZone-Organization"]
    + [
        f"AgentZone-{r}-{e}"
        for e in ("dev", "staging", "prod")
        for r in ("SharedServices", "Logging", "Security", "DataLake")
    ]
    + [f"AgentZone-{t}-{e}" for t in ("claims", "fraud") for e in ("dev", "staging", "prod", "governance")]
    + [f"AgentZone-{t}-dev-services" for t in ("claims", "fraud")]
    + [f"AgentZone-{t}-{e}-data" for t in ("claims", "fraud") for e in ("dev", "prod")]
    # prod is the central environment: its reader also reads the organization trail's prefix.
    + [f"AgentZone-claims-{e}-observability" for e in ("dev", "prod")]
    + ["AgentZone-claims-dev-identity"]
)


def neutralize(template: dict) -> dict:
    """Drop values that change with the CDK version or asset contents but not with our code."""
    out = copy.deepcopy(template)
    out.get("Parameters", {}).pop("BootstrapVersion", None)
    out.get("Rules", {}).pop("CheckBootstrapVersion", None)
    for key in ("Parameters", "Rules"):
        if key in out and not out[key]:
            del out[key]
    return json.loads(ASSET_HASH.sub("<asset-hash>", json.dumps(out)))


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("name", STACKS)
def test_stack_snapshot(sample_assembly, snapshot_json, name):
    assert neutralize(sample_assembly.template(name)) == snapshot_json


def test_neutralize_removes_only_volatile_values():
    template = {
        "Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>"}},
        "Rules": {"CheckBootstrapVersion": {}},
        "Resources": {"F": {"Properties": {"Code": {"S3Key": "a" * 64 + ".zip"}, "Name": "keep-me"}}},
    }
    assert neutralize(template) == {
        "Resources": {"F": {"Properties": {"Code": {"S3Key": "<asset-hash>.zip"}, "Name": "keep-me"}}}
    }
