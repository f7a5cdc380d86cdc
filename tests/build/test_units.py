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
    platform = unit_landing_zone(lz, Unit("platform", "dev"))
    assert [t.tenant for t in platform.tenants] == ["claims", "fraud"]
    assert platform.organization is lz.organization
    assert unit_landing_zone(lz, Unit("pipelines")) is lz


def test_tenant_stacks_wait_for_their_environments_platform_stacks(lz):
    deps = platform_dependencies(lz, Unit("tenant", "claims", "prod"))
    assert deps == {
        # Its governance stack reads the workload OUs and waits for the account's bootstrap.
        "AgentZone-claims-governance": ["AgentZone-Bootstrap"],
        "AgentZone-claims-prod-services": ["AgentZone-SharedServices-prod"],
        "AgentZone-claims-prod-observability": ["AgentZone-Logging-prod"],
        "AgentZone-claims-prod-identity": ["AgentZone-Security-prod"],
        "AgentZone-claims-prod-data": ["AgentZone-DataLake-prod"],
        "AgentZone-claims-prod": [
            "AgentZone-claims-governance",
            "AgentZone-claims-prod-services",
            "AgentZone-Logging-prod",
            "AgentZone-DataLake-prod",
        ],
    }


def test_the_bootstrap_stack_comes_first_and_each_environment_links_to_its_own_logging_and_identity(lz):
    """The Bootstrap stack places and bootstraps the platform accounts and switches RAM sharing on: every platform
    stack waits for it. The organization trail writes to the central archive; the central Security stack acts as
    the delegated administrator the Organization stack registers; every other account of an environment links to
    the sink its Logging stack publishes, and the shared tool gateway trusts the pool its Security stack publishes."""
    assert lz.organization.central_environment == "prod"
    assert platform_dependencies(lz, Unit("organization")) == {
        "AgentZone-Organization": ["AgentZone-Bootstrap", "AgentZone-Logging-prod"]
    }
    assert platform_dependencies(lz, Unit("platform", "prod")) == {
        "AgentZone-SharedServices-prod": ["AgentZone-Bootstrap", "AgentZone-Logging-prod", "AgentZone-Security-prod"],
        "AgentZone-Logging-prod": ["AgentZone-Bootstrap"],
        "AgentZone-Security-prod": ["AgentZone-Bootstrap", "AgentZone-Logging-prod", "AgentZone-Organization"],
        "AgentZone-DataLake-prod": ["AgentZone-Bootstrap", "AgentZone-Logging-prod"],
    }
    assert platform_dependencies(lz, Unit("platform", "dev")) == {
        "AgentZone-SharedServices-dev": ["AgentZone-Bootstrap", "AgentZone-Logging-dev", "AgentZone-Security-dev"],
        "AgentZone-Logging-dev": ["AgentZone-Bootstrap"],
        "AgentZone-Security-dev": ["AgentZone-Bootstrap", "AgentZone-Logging-dev"],
        "AgentZone-DataLake-dev": ["AgentZone-Bootstrap", "AgentZone-Logging-dev"],
    }


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


def test_every_stack_deploys_after_the_stacks_whose_resources_it_names(sample_build, lz):
    """A replication destination, a trail's key, an image repository, an event bus: what a stack names in another
    account (the wiring check's references) must be deployed before it. IAM conditions and wildcard patterns only
    match names, so they order nothing."""
    import json

    from agentzone.permissions.assembly import Assembly
    from agentzone.permissions.check import landing_zone_accounts
    from agentzone.permissions.model import LandingZoneModel
    from agentzone.permissions.wiring import WiringCheck

    outdir = sample_build.synthesized.outdir
    artifacts = json.loads((outdir / "manifest.json").read_text())["artifacts"]
    wiring = WiringCheck(LandingZoneModel(Assembly.load(outdir)), landing_zone_accounts(lz), set())

    def after(stack: str, seen: set[str]) -> set[str]:
        for need in artifacts.get(stack, {}).get("dependencies", []):
            if need not in seen:
                seen.add(need)
                after(need, seen)
        return seen

    pairs = {
        (ref.stack, creator)
        for ref in wiring.references
        if not wiring.external(ref.target) and ".Condition." not in ref.path and "*" not in ref.target
        for creator in wiring.creators(ref.target) - {ref.stack}
    }
    assert ("AgentZone-claims-prod", "AgentZone-claims-prod-services") in pairs  # its runtimes' image repositories
    assert ("AgentZone-Organization", "AgentZone-Logging-prod") in pairs  # the trail's key
    assert not [f"{c} must deploy after {p}" for c, p in sorted(pairs) if p not in after(c, set())]


def test_every_stack_that_imports_an_export_deploys_after_the_stack_that_exports_it(sample_build):
    """Fn::ImportValue fails unless the export exists: the importer must wait for its exporter (same environment)."""
    import json

    outdir = sample_build.synthesized.outdir
    artifacts = json.loads((outdir / "manifest.json").read_text())["artifacts"]
    stacks = {n: a for n, a in artifacts.items() if a["type"] == "aws:cloudformation:stack"}
    exports, imports = {}, []
    for name, artifact in stacks.items():
        text = (outdir / artifact["properties"]["templateFile"]).read_text()
        template = json.loads(text)
        for output in template.get("Outputs", {}).values():
            if "Export" in output:
                exports[(artifact["environment"], output["Export"]["Name"])] = name
        imports += [(name, artifact["environment"], i) for i in _imported_names(template)]
    assert imports  # the sample's tenant data, observability and identity stacks import
    for importer, environment, export in imports:
        exporter = exports.get((environment, export))
        assert exporter, f"{importer} imports {export}, which no stack in {environment} exports"
        assert exporter in stacks[importer].get("dependencies", []), f"{importer} must deploy after {exporter}"


def _imported_names(node) -> set[str]:
    if isinstance(node, dict):
        if set(node) == {"Fn::ImportValue"}:
            return {node["Fn::ImportValue"]}
        return set().union(*(_imported_names(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_imported_names(v) for v in node)) if node else set()
    return set()


def test_a_platform_unit_sees_only_the_tenant_fields_its_digest_covers(config_copy):
    """Editing what platform stacks do not read rebuilds only the tenant's unit; editing an account rebuilds the
    platform environments too."""
    from agentzone.build.engine import plan
    from agentzone.units import PLATFORM_TENANT_FIELDS, WithheldTenantField, platform_view

    def changed_units(old: str, new: str) -> set[str]:
        before = {r.unit.label: r.digest for r in plan(load_landing_zone(config_copy), Selection())}
        path = config_copy / "tenants/claims.yaml"
        assert old in path.read_text(), old
        path.write_text(path.read_text().replace(old, new, 1))
        after = {r.unit.label: r.digest for r in plan(load_landing_zone(config_copy), Selection())}
        return {label for label in before if before[label] != after[label]}

    assert changed_units("owner: claims-ai@", "owner: claims-team@") == {"tenant-claims"}
    assert changed_units("images: [intake, settlement]", "images: [intake, settlement, triage]") == {"tenant-claims"}
    assert changed_units('dev:     {account: "111111111111"}', 'dev:     {account: "111111111119"}') == {
        "tenant-claims",
        "platform-dev",
        "platform-staging",
        "platform-prod",
    }
    claims = load_landing_zone(config_copy).tenant("claims")
    view = platform_view(claims)
    assert view.environments == claims.environments and view.models == claims.models
    assert set(PLATFORM_TENANT_FIELDS) < set(type(claims).model_fields)
    with pytest.raises(WithheldTenantField, match=r"may not read tenant\.owner"):
        f"{view.owner}"


def test_platform_stacks_built_from_the_platform_view_equal_those_built_from_every_tenant_field(lz):
    """The view withholds nothing a platform stack reads: the templates are the same either way."""
    import agentzone.composition as composition
    from agentzone.units import unit_landing_zone

    def templates(view) -> dict[str, dict]:
        app = composition.create_app()
        stacks = [composition.platform_stack(app, view, "dev", role) for role in composition.PLATFORM_STACKS]
        assembly = app.synth()
        return {s.stack_name: assembly.get_stack_by_name(s.stack_name).template for s in stacks}

    assert templates(unit_landing_zone(lz, Unit("platform", "dev"))) == templates(lz)
