"""Incremental synth equals a cold synth, byte for byte, and a tampered cache entry is rebuilt, not used.

A small landing zone (one environment, two small tenants) keeps this affordable: every build here is a real
synth with every nag pack, cfn-lint and checkov. Which units each kind of change rebuilds is proved on digests
in test_inputs.py (editing organization.yaml or a library file changes every unit's digest, so those runs
rebuild everything and are cold runs by construction); here the edit, the addition and the removal of tenants
are applied together and the result is compared with a cold build of the same config.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest
import yaml

from agentzone.build.cache import UnitCache
from agentzone.build.engine import BuildResult, build
from agentzone.config import load_landing_zone
from agentzone.units import Selection
from tests.conftest import SAMPLE_CONFIG

TENANT = """tenant: {name}
owner: {name}@example.com
cost_center: CC-9000
use_case_id: UC-{number:04d}
environments:
  prod: {{account: "9000000000{number:02d}"}}
models: [amazon.nova-lite-v1:0]
budget: {{monthly_usd: 100, alert_at_percent: [80]}}
"""


def small_config(target: Path, tenants: dict[str, int]) -> Path:
    """The sample organization with only its prod environment and no optional shared services."""
    org = yaml.safe_load((SAMPLE_CONFIG / "organization.yaml").read_text())
    org["environments"] = {"prod": org["environments"]["prod"]}
    org.pop("delivery")
    for key in ("fm_gateway", "tool_gateway", "experiment_tracking"):
        org["shared_services"].pop(key)
    (target / "tenants").mkdir(parents=True)
    (target / "organization.yaml").write_text(yaml.safe_dump(org, sort_keys=False))
    for name, number in tenants.items():
        (target / "tenants" / f"{name}.yaml").write_text(TENANT.format(name=name, number=number))
    return target


def run(config: Path, dest: Path, cache: Path, *, reuse: bool = True) -> BuildResult:
    result = build(load_landing_zone(config), Selection(), dest, cache=UnitCache(cache), jobs=2, reuse=reuse)
    assert not result.failures, result.failures
    return result


def same_tree(left: Path, right: Path) -> bool:
    """Every file in both directories, with the same bytes."""
    compared = filecmp.dircmp(left, right)
    if compared.left_only or compared.right_only or compared.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(left, right, compared.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(left / d, right / d) for d in compared.common_dirs)


def built(result: BuildResult) -> set[str]:
    return {r.unit.label for r in result.records if not r.from_cache}


@pytest.fixture(scope="module")
def cold(tmp_path_factory) -> tuple[Path, Path, BuildResult]:
    root = tmp_path_factory.mktemp("incremental")
    config = small_config(root / "config", {"alpha": 1, "beta": 2})
    return config, root, run(config, root / "cold.out", root / "cache")


def test_nothing_changed_takes_every_unit_from_the_cache(cold):
    config, root, first = cold
    assert built(first) == {"organization", "platform-prod", "tenant-alpha", "tenant-beta"}
    again = run(config, root / "warm.out", root / "cache")
    assert built(again) == set()
    assert same_tree(root / "cold.out", root / "warm.out")
    assert (again.lint_findings, again.checkov_failed, again.checkov_passed) == (
        first.lint_findings,
        first.checkov_failed,
        first.checkov_passed,
    )


def test_editing_adding_and_removing_tenants_equals_a_cold_build(cold, tmp_path):
    config, root, _ = cold
    changed = tmp_path / "config"
    shutil.copytree(config, changed)
    alpha = changed / "tenants" / "alpha.yaml"
    alpha.write_text(alpha.read_text().replace("alpha@example.com", "alpha-team@example.com"))
    (changed / "tenants" / "beta.yaml").unlink()
    (changed / "tenants" / "gamma.yaml").write_text(TENANT.format(name="gamma", number=3))

    incremental = run(changed, tmp_path / "incremental.out", root / "cache")
    assert built(incremental) == {"platform-prod", "tenant-alpha", "tenant-gamma"}
    fresh = run(changed, tmp_path / "cold.out", root / "cache", reuse=False)  # every unit synthesized again
    assert built(fresh) == {"organization", "platform-prod", "tenant-alpha", "tenant-gamma"}
    assert same_tree(tmp_path / "incremental.out", tmp_path / "cold.out")
    assert (incremental.lint_findings, incremental.checkov_failed) == (fresh.lint_findings, fresh.checkov_failed)
    owner_tags = (tmp_path / "incremental.out" / "AgentZone-alpha-prod.template.json").read_text()
    assert "alpha-team@example.com" in owner_tags
    assert not list((tmp_path / "incremental.out").glob("AgentZone-beta-*"))


def test_a_tampered_entry_is_rebuilt_and_the_result_is_unchanged(cold, tmp_path):
    config, root, first = cold
    record = next(r for r in first.records if r.unit.label == "organization")
    template = root / "cache" / "units" / record.digest[:2] / record.digest / "files" / "out"
    target = template / "AgentZone-Organization.template.json"
    target.write_text(target.read_text().replace("AgentZone", "Tampered", 1))

    again = run(config, tmp_path / "again.out", root / "cache")
    organization = next(r for r in again.records if r.unit.label == "organization")
    assert built(again) == {"organization"}
    assert "corrupted" in organization.rejected
    assert same_tree(root / "cold.out", tmp_path / "again.out")
