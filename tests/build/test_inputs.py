"""A unit's digest covers exactly what it reads: its tenant's files, the organization, the library."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentzone.build import inputs
from agentzone.build.engine import plan
from agentzone.build.inputs import ConfigInputs, referenced_files
from agentzone.config import load_landing_zone
from agentzone.units import Selection
from tests.conftest import SAMPLE_CONFIG

PLATFORM = {"platform-dev", "platform-staging", "platform-prod"}


def digests(config: Path) -> dict[str, str]:
    """Unit label -> digest, as the engine plans them."""
    return {r.unit.label: r.digest for r in plan(load_landing_zone(config), Selection())}


def relative(config: Path, files) -> set[str]:
    return {p.relative_to(config.resolve()).as_posix() for p in files}


def test_a_tenant_unit_reads_its_file_what_it_references_and_the_organization():
    files = relative(SAMPLE_CONFIG, ConfigInputs(SAMPLE_CONFIG).files("tenant", "claims"))
    assert {
        "tenants/claims.yaml",
        "organization.yaml",
        "prompts/claims/triage-v1.txt",
        "prompts/claims/triage-v2.txt",
        "policies/claims/callers.cedar",
        "tools/claims/claim-lookup.json",
        "tools/claims/policy-admin.yaml",
        "policies/shared-tools/baseline.cedar",  # named by organization.yaml
        "policies/shared-tools/claims-limit.cedar",
    } == files
    assert not any("fraud" in f for f in files)


def test_references_outside_the_config_tree_are_not_inputs(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (tmp_path / "secret.txt").write_text("outside")
    doc = config / "t.yaml"
    doc.write_text("a: ../secret.txt\nb: /etc/hostname\nc: .\n")
    assert referenced_files(config, doc) == {doc}


@pytest.fixture
def config(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(SAMPLE_CONFIG, target)
    return target


def test_editing_a_tenant_changes_its_unit_only(config):
    """The platform units hash the tenant fields they read (units.platform_inputs), not the tenant's file."""
    before = digests(config)
    (config / "tenants/claims.yaml").write_text((config / "tenants/claims.yaml").read_text() + "\n# edited\n")
    after = digests(config)
    assert {k for k in before if before[k] != after[k]} == {"tenant-claims"}


def test_editing_a_referenced_prompt_changes_its_tenant_only(config):
    before = digests(config)
    (config / "prompts/claims/triage-v2.txt").write_text("new wording")
    after = digests(config)
    assert {k for k in before if before[k] != after[k]} == {"tenant-claims"}


def test_adding_a_tenant_changes_the_platform_only(config):
    before = digests(config)
    text = (
        (config / "tenants/fraud.yaml")
        .read_text()
        .replace("tenant: fraud", "tenant: audit")
        .replace("UC-0051", "UC-0099")
    )
    for old, new in (
        ("444444444444", "777777777777"),
        ("555555555555", "888888888888"),
        ("666666666666", "999999999999"),
    ):
        text = text.replace(old, new)
    (config / "tenants/audit.yaml").write_text(text)
    after = digests(config)
    assert {k for k in before if before[k] != after[k]} == PLATFORM
    assert "tenant-audit" in after


def test_editing_the_organization_changes_every_unit(config):
    before = digests(config)
    org = config / "organization.yaml"
    org.write_text(org.read_text().replace("retention_days: 365", "retention_days: 366", 1))
    after = digests(config)
    assert all(before[k] != after[k] for k in before)


def test_a_library_change_changes_every_unit(config, monkeypatch):
    before = digests(config)
    monkeypatch.setattr(inputs, "library_digest", lambda: "another library")
    after = digests(config)
    assert all(before[k] != after[k] for k in before)


def test_the_library_digest_covers_every_source_file(tmp_path, monkeypatch):
    root = tmp_path / "project"
    (root / "agentzone" / "stacks").mkdir(parents=True)
    (root / "agentzone" / "stacks" / "logging.py").write_text("ROLE = 'Logging'\n")
    (root / "cdk.json").write_text("{}")
    monkeypatch.setattr(inputs, "PROJECT_ROOT", root)
    inputs.library_digest.cache_clear()
    try:
        first = inputs.library_digest()
        inputs.library_digest.cache_clear()
        (root / "agentzone" / "stacks" / "logging.py").write_text("ROLE = 'Logging'  # touched\n")
        second = inputs.library_digest()
        assert second != first
        inputs.library_digest.cache_clear()
        (root / "agentzone" / "stacks" / "__pycache__").mkdir()
        (root / "agentzone" / "stacks" / "__pycache__" / "logging.cpython-311.pyc").write_bytes(b"\0")
        assert inputs.library_digest() == second  # bytecode is not an input
        inputs.library_digest.cache_clear()
        (root / "cdk.json").write_text('{"context": {}}')
        assert inputs.library_digest() != second
    finally:
        inputs.library_digest.cache_clear()
