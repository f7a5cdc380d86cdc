"""Catalog specs: semantic versions, every problem at once with file, line and key path, and a stable content hash."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from agentzone.catalog.spec import Reference, load_specs
from agentzone.config.source import ConfigError

from .conftest import ref, spec, spec_doc, write


@pytest.mark.parametrize("version", ["0.0.1", "1.2.0", "10.20.30", "1.0.0-alpha", "1.0.0-rc.1", "2.0.0-x-y.7.z.92"])
def test_semver_accepted(version):
    assert Reference(kind="tool", name="claims-lookup", version=version).version == version


@pytest.mark.parametrize("version", ["1.2", "v1.2.0", "01.2.0", "1.2.0-", "1.2.0-01", "1.2.0+build.5", "latest"])
def test_semver_refused(tmp_path, version):
    path = write(tmp_path, spec_doc(version=version), "bad.yaml")
    with pytest.raises(ConfigError) as info:
        load_specs([path])
    assert f"{path}:3: version: must" in info.value.render()


def test_unquoted_number_version_explains_quoting(tmp_path):
    path = write(tmp_path, yaml.safe_dump(spec_doc()).replace("version: 1.2.0", "version: 1.2"), "bad.yaml")
    with pytest.raises(ConfigError) as info:
        load_specs([path])
    assert "quoted (YAML reads an unquoted 1.0 as a number) (got 1.2)" in info.value.render()


def test_spec_problems_all_at_once_with_file_line_and_key_path(tmp_path):
    text = """\
kind: application
name: Claims_App
version: "1.0.0"
ownr: claims-ai@example.com
description: An app.
intended_use: Adjusters.
limitations: []
consumption: saas
endpoint: http://app.example.com
lifecycle: {stage: deprecated, end_of_life: 2099-12-31}
lineage:
  - {kind: application, name: other-app, version: 1.0.0}
"""
    bad = write(tmp_path, text, "app.yaml")
    also_bad = write(tmp_path, spec_doc(kind="widget"), "widget.yaml")
    with pytest.raises(ConfigError) as info:
        load_specs([bad, also_bad])
    rendered = info.value.render()
    assert rendered.startswith("9 configuration problems:")
    for line in [
        f"{bad}:1: owner: required key 'owner' is missing",
        f"{bad}:2: name: 'Claims_App' is not a valid slug",
        f"{bad}:4: ownr: unknown key 'ownr' (did you mean 'owner'?)",
        f"{bad}:7: limitations: must have at least 1 item(s)",
        f"{bad}:8: consumption: 'saas' is not valid; valid values: 'SaaS' or 'PaaS'",
        f"{bad}:9: endpoint: must be an https:// URL or an ARN",
        f"{bad}:10: lifecycle.stage: 'deprecated' is not valid; valid values: 'preview' or 'ga'",
        f"{bad}:12: lineage[0].kind: 'application' is not valid; valid values: 'model', 'tool', 'mcp-server' or "
        "'agent'",
        f"{also_bad}:1: kind: 'widget' is not valid; valid values: 'model', 'tool', 'mcp-server', 'agent' or "
        "'application'",
    ]:
        assert line in rendered


def test_cross_field_problems_point_at_their_lines(tmp_path):
    doc = spec_doc(
        kind="agent",
        name="claims-agent",
        consumption="PaaS",
        lifecycle={"stage": "ga", "end_of_life": "2026-01-01"},
        lineage=[
            ref("tool", "claims-lookup", "1.0.0"),
            ref("tool", "claims-lookup", "1.1.0"),
            ref("agent", "claims-agent", "1.0.0"),
        ],
    )
    path = write(tmp_path, doc, "agent.yaml")
    with pytest.raises(ConfigError) as info:
        load_specs([path], today=date(2026, 6, 1))
    rendered = info.value.render()
    assert f"{path}:1: deployment: required when consumption is PaaS" in rendered
    assert "lifecycle.end_of_life: end of life 2026-01-01 is not in the future (today is 2026-06-01)" in rendered
    assert "lineage[1]: tool/claims-lookup is already referenced at lineage[0]" in rendered
    assert "lineage[2]: agent/claims-agent@1.0.0 is this entry itself" in rendered


def test_content_hash_ignores_spelled_out_defaults(tmp_path):
    plain = spec(tmp_path)
    explicit = load_specs([write(tmp_path, spec_doc(tags={}, lineage=[]), "explicit.yaml")])[0]
    assert plain.content_hash() == explicit.content_hash()
    changed = load_specs([write(tmp_path, spec_doc(description="Changed."), "changed.yaml")])[0]
    assert changed.content_hash() != plain.content_hash()
