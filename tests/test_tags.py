"""Every taggable resource carries owner, cost-center, use-case-id and environment."""

from __future__ import annotations

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from agentzone.stacks import REQUIRED_TAGS

TAG_PROPERTIES = ("Tags", "ResourceTags")


def tag_property(region: str, resource_type: str) -> str | None:
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    for name in TAG_PROPERTIES:
        if name in schema.get("properties", {}):
            return name
    return None


def as_dict(tags) -> dict:
    if isinstance(tags, dict):
        return tags
    return {t["Key"]: t["Value"] for t in tags}


def test_every_taggable_resource_is_tagged(sample_assembly):
    untagged = []
    checked = 0
    for name, template in sample_assembly.templates.items():
        region = sample_assembly.environments[name].split("/")[-1]
        meta = template["Metadata"]["AgentZone"]
        for logical_id, resource in template["Resources"].items():
            prop = tag_property(region, resource["Type"])
            if prop is None:
                continue
            checked += 1
            tags = as_dict(resource.get("Properties", {}).get(prop, []))
            missing = [t for t in REQUIRED_TAGS if t not in tags]
            if missing or tags.get("environment") != meta["environment"]:
                untagged.append(f"{name}/{logical_id} ({resource['Type']}): missing {missing}, tags={tags}")
    assert checked > 50
    assert not untagged, "\n".join(untagged)


@pytest.mark.parametrize(
    "stack,expected",
    [
        (
            "AgentZone-claims-dev",
            {
                "owner": "claims-ai@example.com",
                "cost-center": "CC-1234",
                "use-case-id": "UC-0042",
                "environment": "dev",
            },
        ),
        (
            "AgentZone-Logging-prod",
            {
                "owner": "platform-ai@example.com",
                "cost-center": "CC-0001",
                "use-case-id": "platform",
                "environment": "prod",
            },
        ),
    ],
)
def test_tag_values_come_from_config(sample_assembly, stack, expected):
    for resource in sample_assembly.resources(stack, "AWS::KMS::Key").values():
        tags = as_dict(resource["Properties"]["Tags"])
        assert {k: tags[k] for k in expected} == expected
