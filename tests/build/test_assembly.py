"""Joining unit assemblies: one manifest in unit order, dependencies between units, shared assets once."""

from __future__ import annotations

import json
from pathlib import Path

from agentzone.build.assembly import assemble


def unit(root: Path, name: str, stacks: list[str], tree_children: list[str], report_constructs: list[str]) -> Path:
    out = root / name
    out.mkdir(parents=True)
    artifacts: dict[str, dict] = {}
    for stack in stacks:
        (out / f"{stack}.template.json").write_text(json.dumps({"Resources": {stack: {}}}))
        artifacts[f"{stack}.assets"] = {"type": "cdk:asset-manifest"}
        artifacts[stack] = {"type": "aws:cloudformation:stack", "dependencies": [f"{stack}.assets"]}
    artifacts["Tree"] = {"type": "cdk:tree", "properties": {"file": "tree.json"}}
    manifest = {"version": "55.0.0", "artifacts": artifacts, "minimumCliVersion": "2.1148.0"}
    (out / "manifest.json").write_text(json.dumps(manifest))
    children = {c: {"id": c} for c in tree_children}
    (out / "tree.json").write_text(json.dumps({"version": "tree-0.1", "tree": {"id": "App", "children": children}}))
    (out / "asset.shared").mkdir()
    (out / "asset.shared" / "index.py").write_text("shared = True\n")
    violation = {"ruleName": "W3010", "description": "AZ", "violatingConstructs": report_constructs}
    report = {"title": "Validation Report", "pluginReports": [{"pluginName": "CFN", "violations": [violation]}]}
    (out / "validation-report.json").write_text(json.dumps(report))
    return out


def test_units_join_into_one_manifest_with_dependencies_between_units(tmp_path):
    platform = unit(
        tmp_path, "platform", ["AgentZone-SharedServices-dev"], ["AgentZone-SharedServices-dev", "Tree"], ["a"]
    )
    tenant = unit(
        tmp_path, "tenant", ["AgentZone-claims-dev-services"], ["AgentZone-claims-dev-services", "Tree"], ["b"]
    )
    dest = tmp_path / "cdk.out"
    deps = {
        "AgentZone-claims-dev-services": ["AgentZone-SharedServices-dev"],
        "AgentZone-claims-dev-data": ["AgentZone-DataLake-dev"],  # neither side in this assembly: nothing added
    }
    assemble([platform, tenant], dest, deps)

    manifest = json.loads((dest / "manifest.json").read_text())
    assert list(manifest) == ["version", "artifacts", "minimumCliVersion"]
    assert list(manifest["artifacts"]) == [
        "AgentZone-SharedServices-dev.assets",
        "AgentZone-SharedServices-dev",
        "AgentZone-claims-dev-services.assets",
        "AgentZone-claims-dev-services",
        "Tree",
    ]
    assert manifest["artifacts"]["AgentZone-claims-dev-services"]["dependencies"] == [
        "AgentZone-SharedServices-dev",
        "AgentZone-claims-dev-services.assets",
    ]
    tree = json.loads((dest / "tree.json").read_text())
    assert list(tree["tree"]["children"]) == ["AgentZone-SharedServices-dev", "AgentZone-claims-dev-services", "Tree"]
    report = json.loads((dest / "validation-report.json").read_text())
    assert report["pluginReports"][0]["violations"][0]["violatingConstructs"] == ["a", "b"]
    assert (dest / "asset.shared" / "index.py").read_text() == "shared = True\n"
    assert sorted(p.name for p in dest.glob("*.template.json")) == [
        "AgentZone-SharedServices-dev.template.json",
        "AgentZone-claims-dev-services.template.json",
    ]


def test_a_dependency_on_a_stack_outside_the_selection_is_left_out(tmp_path):
    tenant = unit(tmp_path, "tenant", ["AgentZone-claims-dev-services"], ["Tree"], [])
    dest = tmp_path / "cdk.out"
    assemble([tenant], dest, {"AgentZone-claims-dev-services": ["AgentZone-SharedServices-dev"]})
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["artifacts"]["AgentZone-claims-dev-services"]["dependencies"] == [
        "AgentZone-claims-dev-services.assets"
    ]
