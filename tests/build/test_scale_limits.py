"""At the tenant caps, the platform stacks fit CloudFormation's and each service's policy limits.

The caps (config.model.MAX_TENANTS_PER_ENVIRONMENT, MAX_FEEDBACK_SENDERS) are only true while this holds: every
per-tenant resource lives in the tenant's own stacks, and only account lists in resource policies grow.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agentzone.config import load_landing_zone
from agentzone.config.model import MAX_TENANTS_PER_ENVIRONMENT
from agentzone.units import Unit

ROOT = Path(__file__).resolve().parents[2]
# Resource-policy limits by (resource type, property): KMS 32 KB, S3 20 KB, DynamoDB 20 KB, EventBridge 10 KB,
# Secrets Manager 20 KB, ECR 10 KB.
POLICY_LIMITS = {
    ("AWS::KMS::Key", "KeyPolicy"): 32_768,
    ("AWS::S3::BucketPolicy", "PolicyDocument"): 20_480,
    ("AWS::Events::EventBus", "Policy"): 10_240,
    ("AWS::SecretsManager::ResourcePolicy", "ResourcePolicy"): 20_480,
    ("AWS::ECR::Repository", "RepositoryPolicyText"): 10_240,
}
DYNAMODB_POLICY_LIMIT = 20_480


def _policies(template: dict):
    """(logical id, type, size in bytes) of every resource policy the limits above cover."""
    for logical, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for (type_, key), _limit in POLICY_LIMITS.items():
            if resource["Type"] == type_ and key in props:
                yield logical, (type_, key), len(json.dumps(props[key], separators=(",", ":")))
        if resource["Type"] == "AWS::DynamoDB::GlobalTable":
            for replica in props.get("Replicas", []):
                if "ResourcePolicy" in replica:
                    size = len(json.dumps(replica["ResourcePolicy"]["PolicyDocument"], separators=(",", ":")))
                    yield logical, ("AWS::DynamoDB::GlobalTable", "ResourcePolicy"), size


@pytest.fixture(scope="module")
def at_the_cap(tmp_path_factory):
    """The central environment's platform stacks with the most tenants validation allows."""
    from agentzone.composition import compose_units, create_app

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synth_scale import make_config

    root = tmp_path_factory.mktemp("cap")
    make_config(root / "config", MAX_TENANTS_PER_ENVIRONMENT)
    lz = load_landing_zone(root / "config")
    app = create_app(outdir=str(root / "cdk.out"))
    stacks = compose_units(app, lz, [Unit("platform", lz.organization.central_environment)])
    app.synth()
    return {s.stack_name: root / "cdk.out" / f"{s.stack_name}.template.json" for s in stacks}


def test_platform_stacks_stay_small_at_the_tenant_cap(at_the_cap):
    for name, path in at_the_cap.items():
        template = json.loads(path.read_text())
        assert len(template["Resources"]) <= 400, name
        assert path.stat().st_size <= 800_000, name


def test_every_resource_policy_fits_its_service_limit_at_the_tenant_cap(at_the_cap):
    seen = set()
    for name, path in at_the_cap.items():
        for logical, kind, size in _policies(json.loads(path.read_text())):
            limit = POLICY_LIMITS.get(kind, DYNAMODB_POLICY_LIMIT)
            assert size <= limit * 0.95, f"{name} {logical}: {kind[1]} is {size} bytes of {limit}"
            seen.add(kind)
    # The policies that list tenant accounts are all checked.
    assert {
        ("AWS::KMS::Key", "KeyPolicy"),
        ("AWS::S3::BucketPolicy", "PolicyDocument"),
        ("AWS::Events::EventBus", "Policy"),
        ("AWS::DynamoDB::GlobalTable", "ResourcePolicy"),
    } <= seen
