"""The `agentzone` command: exit codes, messages, and never a half-written cdk.out."""

from __future__ import annotations

import json

import pytest

from agentzone import cli
from agentzone.synth import CDK_CLI, synth

from .conftest import SAMPLE_CONFIG

needs_cdk_cli = pytest.mark.skipif(not CDK_CLI.exists(), reason="CDK CLI not installed (make install)")


def break_config(config_copy):
    path = config_copy / "tenants/claims.yaml"
    path.write_text(path.read_text().replace('"111111111111"', '"12345"').replace("owner:", "ownr:"))
    return path


def test_validate_sample(capsys):
    assert cli.main(["validate", "--config-dir", str(SAMPLE_CONFIG)]) == 0
    assert "valid (2 tenant(s); platform environments: dev, staging, prod)" in capsys.readouterr().out


def test_validate_reports_all_problems_and_exits_2(config_copy, capsys):
    path = break_config(config_copy)
    assert cli.main(["validate", "--config-dir", str(config_copy)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("3 configuration problems:")
    assert f"{path}:8: environments.dev.account: '12345' is not a 12-digit AWS account id" in err
    assert "Traceback" not in err


def test_schema_files_in_repo_are_current(capsys):
    assert cli.main(["schema", "--check"]) == 0


def test_schema_check_detects_drift(tmp_path, capsys):
    assert cli.main(["schema", "--out", str(tmp_path)]) == 0
    tenant_schema = json.loads((tmp_path / "tenant.schema.json").read_text())
    assert "memory" in tenant_schema["$defs"]["Blueprints"]["properties"]
    assert tenant_schema["additionalProperties"] is False
    (tmp_path / "tenant.schema.json").write_text("{}")
    assert cli.main(["schema", "--check", "--out", str(tmp_path)]) == 1


def test_sample_files_point_editors_at_the_schema():
    for path in [SAMPLE_CONFIG / "organization.yaml", *sorted((SAMPLE_CONFIG / "tenants").glob("*.yaml"))]:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        target = (path.parent / first.split("$schema=")[1]).resolve()
        assert target.is_file(), target


def test_list_json(capsys):
    assert cli.main(["list", "--json", "--config-dir", str(SAMPLE_CONFIG)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"tenant": "fraud", "environment": "prod", "account": "666666666666", "region": "eu-central-1", "blueprints": ["guardrail", "memory", "prompt_store", "runtime", "eval_pipeline"]} in rows
    assert len(rows) == 6


def test_synth_with_broken_config_writes_nothing(config_copy, tmp_path, capsys):
    break_config(config_copy)
    out = tmp_path / "cdk.out"
    assert cli.main(["synth", "--config-dir", str(config_copy), "--output", str(out)]) == 2
    assert not out.exists() and not (tmp_path / "cdk.out.staging").exists()
    assert "nothing synthesized" in capsys.readouterr().err


def test_synth_with_unknown_tenant_is_a_usage_error(tmp_path, capsys):
    assert cli.main(["synth", "--config-dir", str(SAMPLE_CONFIG), "--tenant", "billing", "--output", str(tmp_path / "o")]) == 2
    assert "-c tenant=billing: unknown tenant; valid: claims, fraud" in capsys.readouterr().err


@needs_cdk_cli
def test_cli_failure_keeps_previous_output(config_copy, tmp_path, capsys):
    """If the app fails inside the CDK CLI, the previous cdk.out is left exactly as it was."""
    break_config(config_copy)
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "previous.txt").write_text("keep")
    assert synth({"config_dir": str(config_copy)}, out) == 1
    assert sorted(p.name for p in out.iterdir()) == ["previous.txt"]
    assert not (tmp_path / "cdk.out.staging").exists()
    assert "is not a 12-digit AWS account id" in capsys.readouterr().err


@needs_cdk_cli
def test_synth_one_tenant_through_the_cdk_cli(tmp_path, capsys):
    out = tmp_path / "cdk.out"
    assert cli.main(["synth", "--config-dir", str(SAMPLE_CONFIG), "--tenant", "claims", "--output", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.template.json")) == sorted(
        [f"AgentZone-claims-{e}.template.json" for e in ("dev", "staging", "prod", "governance")]
        + [f"AgentZone-claims-{e}-{kind}.template.json" for e in ("dev", "staging", "prod") for kind in ("services", "data")]
    )
    printed = capsys.readouterr().out
    assert "10 stacks (TenantData 3, TenantGovernance 1, TenantServices 3, UseCase 3)" in printed
    assert "cdk-nag: passed" in printed and "cfn-lint: 0 errors" in printed


def test_shards_json_feeds_a_ci_matrix(capsys):
    assert cli.main(["shards", "--json", "--config-dir", str(SAMPLE_CONFIG)]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert entries[0] == {"name": "platform", "context": {"only": "platform"}}
    assert {"name": "tenant-fraud", "context": {"tenant": "fraud"}} in entries


def test_sample_ci_workflow_uses_real_commands():
    import yaml

    from .conftest import ROOT

    workflow = yaml.safe_load((ROOT / "docs/ci-sharded-synth.yml").read_text())
    runs = " ".join(step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"])
    assert "agentzone shards --json" in runs and "agentzone synth" in runs and "make install" in runs
    assert workflow["jobs"]["synth"]["strategy"]["matrix"]["shard"] == "${{ fromJson(needs.shards.outputs.matrix) }}"
