"""Join unit assemblies into one cloud assembly, as one app with every unit's stacks would have written it.

Templates, asset manifests, metadata and assets are hard-linked from the cache, or copied where linking fails
(assets are content-addressed, so a shared one is written once); ``manifest.json`` lists every unit's artifacts
in unit order with the construct tree and feature-flag report last, and gains the dependencies between units (a
tenant's services stack deploys after its environment's SharedServices stack); ``tree.json`` and the validation
reports are merged.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

MANIFEST = "manifest.json"
TREE = "tree.json"
REPORTS = ("validation-report.json", "policy-validation-report.json")
MERGED = {MANIFEST, TREE, *REPORTS}
TRAILING_ARTIFACTS = ("Tree", "aws-cdk-lib/feature-flag-report")


def _place(source: str | Path, target: str | Path) -> None:
    """A hard link to the cache entry's file where the file system allows it (no bytes copied), else a copy; a
    file another unit already wrote (assets are content-addressed) is left as it is. An assembly file changed in
    place changes the entry too, which the cache then finds corrupted and rebuilds."""
    if os.path.exists(target):
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _copy_files(source: Path, dest: Path) -> None:
    for entry in sorted(source.iterdir()):
        if entry.name in MERGED:
            continue
        if entry.is_dir():
            shutil.copytree(entry, dest / entry.name, dirs_exist_ok=True, copy_function=_place)
        else:
            _place(entry, dest / entry.name)


def _manifest(units: list[Path], dependencies: dict[str, list[str]]) -> dict:
    manifests = [json.loads((u / MANIFEST).read_text()) for u in units]
    artifacts: dict[str, dict] = {}
    trailing: dict[str, dict] = {}
    for manifest in manifests:
        for name, artifact in manifest["artifacts"].items():
            (trailing if name in TRAILING_ARTIFACTS else artifacts)[name] = artifact
    for name, needs in dependencies.items():
        present = [need for need in needs if need in artifacts]
        if name in artifacts and present:
            artifact = artifacts[name]
            artifact["dependencies"] = sorted({*artifact.get("dependencies", []), *present})
    merged = {key: value for key, value in manifests[0].items() if key != "artifacts"}
    ordered = {"version": merged.pop("version"), "artifacts": {**artifacts, **trailing}, **merged}
    return ordered


def _tree(units: list[Path]) -> dict | None:
    trees = [json.loads((u / TREE).read_text()) for u in units if (u / TREE).is_file()]
    if not trees:
        return None
    merged = trees[0]
    children: dict[str, dict] = {}
    for tree in trees:
        children.update(tree["tree"].get("children", {}))
    trailing = {name: children.pop(name) for name in TRAILING_ARTIFACTS if name in children}
    merged["tree"]["children"] = {**children, **trailing}
    return merged


def _report(units: list[Path], name: str) -> dict | None:
    """One validation report: each plugin's violations from every unit, grouped as one app groups them."""
    reports = [json.loads((u / name).read_text()) for u in units if (u / name).is_file()]
    if not reports:
        return None
    merged = {key: value for key, value in reports[0].items() if key != "pluginReports"}
    plugins: dict[str, dict] = {}
    for report in reports:
        for plugin in report.get("pluginReports", []):
            key = plugin.get("pluginName") or plugin.get("summary", {}).get("pluginName", "")
            if key not in plugins:
                plugins[key] = {**plugin, "violations": []}
            _add_violations(plugins[key]["violations"], plugin.get("violations", []))
    merged["pluginReports"] = list(plugins.values())
    return merged


def _add_violations(into: list[dict], violations: list[dict]) -> None:
    for violation in violations:
        same = [
            v
            for v in into
            if v.get("ruleName") == violation.get("ruleName") and v.get("description") == violation.get("description")
        ]
        if same:
            same[0]["violatingConstructs"] = same[0].get("violatingConstructs", []) + violation.get(
                "violatingConstructs", []
            )
        else:
            into.append(json.loads(json.dumps(violation)))


def assemble(units: list[Path], dest: Path, dependencies: dict[str, list[str]]) -> None:
    """Write the joined assembly of ``units`` (each a unit's ``out/``, in unit order) to the empty ``dest``."""
    dest.mkdir(parents=True, exist_ok=False)
    for unit in units:
        _copy_files(unit, dest)
    (dest / MANIFEST).write_text(json.dumps(_manifest(units, dependencies), indent=2))
    tree = _tree(units)
    if tree is not None:
        (dest / TREE).write_text(json.dumps(tree, separators=(",", ":")))
    for name in REPORTS:
        report = _report(units, name)
        if report is not None:
            (dest / name).write_text(json.dumps(report, indent=2))
