"""Units: what each synthesizes, what config it may read, and what it waits for in other units."""

from __future__ import annotations

import pytest

from agentzone.config import load_landing_zone
from agentzone.units import Selection, Unit, platform_dependencies, unit_landing_zone, units
from tests.conftest import SAMPLE_CONFIG


@pytest.fixture(scope="module")
def lz():
    return load_landing_zone(SAMPLE_CONFIG)


@pytest.mark.parametrize(
    ("selection", "labels"),
    [
        (
            Selection(),
            ["organization", "platform-dev", "platform-staging", "platform-prod", "tenant-claims", "tenant-fraud"],
        ),
        (Selection(only="platform"), ["organization", "platform-dev", "platform-staging", "platform-prod"]),
        (Selection(only="tenants"), ["tenant-claims", "tenant-fraud"]),
        (Selection(environment="prod"), ["platform-prod", "tenant-claims-prod", "tenant-fraud-prod"]),
        (Selection(tenant="fraud", environment="dev"), ["tenant-fraud-dev"]),
        (Selection(only="pipelines"), ["pipelines"]),
    ],
)
def test_selections_map_to_units_in_composition_order(lz, selection, labels):
    assert [u.label for u in units(lz, selection)] == labels


def test_a_unit_reads_only_its_part_of_the_config(lz):
    assert unit_landing_zone(lz, Unit("organization")).tenants == ()
    assert [t.tenant for t in unit_landing_zone(lz, Unit("tenant", "fraud")).tenants] == ["fraud"]
    assert unit_landing_zone(lz, Unit("platform", "dev")) is lz


def test_tenant_stacks_wait_for_their_environments_platform_stacks(lz):
    deps = platform_dependencies(lz, Unit("tenant", "claims", "prod"))
    assert deps == {
        "AgentZone-claims-prod-services": ["AgentZone-SharedServices-prod"],
        "AgentZone-claims-prod-data": ["AgentZone-DataLake-prod"],
    }
    assert platform_dependencies(lz, Unit("platform", "prod")) == {}


def test_the_joined_manifest_orders_tenant_stacks_after_their_platform_stacks(sample_build, lz):
    """Dependencies between units reach the manifest `cdk deploy --all` and the pipelines read."""
    import json

    manifest = json.loads((sample_build.synthesized.outdir / "manifest.json").read_text())
    artifacts = manifest["artifacts"]
    expected = {}
    for unit in units(lz):
        expected.update(platform_dependencies(lz, unit))
    assert expected  # the sample has tenants with services and data stacks
    for stack, needs in expected.items():
        assert set(needs) <= set(artifacts[stack]["dependencies"]), stack
    order = list(artifacts)
    assert all(order.index(need) < order.index(stack) for stack, needs in expected.items() for need in needs)
