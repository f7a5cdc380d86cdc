"""The `agentzone` command: exit codes, messages, and never a half-written cdk.out."""

from __future__ import annotations

import json
import subprocess

import pytest

from agentzone import cli
from agentzone.synth import CDK_CLI, cli_env

from .conftest import ROOT, SAMPLE_CONFIG, read_json, sample_cache_dir

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
    assert {
        "tenant": "fraud",
        "environment": "prod",
        "account": "666666666666",
        "region": "eu-central-1",
        "blueprints": ["guardrail", "memory", "prompt_store", "runtime", "eval_pipeline"],
        "namespaces": ["signals"],
    } in rows
    assert len(rows) == 6


def test_synth_with_broken_config_writes_nothing(config_copy, tmp_path, capsys):
    break_config(config_copy)
    out = tmp_path / "cdk.out"
    assert cli.main(["synth", "--config-dir", str(config_copy), "--output", str(out)]) == 2
    assert not out.exists() and not (tmp_path / "cdk.out.staging").exists()
    assert "nothing synthesized" in capsys.readouterr().err


def test_synth_with_unknown_tenant_is_a_usage_error(tmp_path, capsys):
    assert (
        cli.main(["synth", "--config-dir", str(SAMPLE_CONFIG), "--tenant", "billing", "--output", str(tmp_path / "o")])
        == 2
    )
    assert "-c tenant=billing: unknown tenant; valid: claims, fraud" in capsys.readouterr().err


@needs_cdk_cli
def test_a_unit_that_fails_to_synthesize_keeps_the_previous_output(config_copy, tmp_path, capsys):
    """A config that validates but cannot synthesize (a Cognito domain may not contain "aws"): the unit's error is
    printed and the previous cdk.out is left exactly as it was."""
    org = config_copy / "organization.yaml"
    org.write_text(org.read_text().replace("organization: acme-agents", "organization: acme-aws-agents"))
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "previous.txt").write_text("keep")
    args = ["synth", "--config-dir", str(config_copy), "--only", "platform", "--environment", "dev"]
    assert cli.main([*args, "--output", str(out), "--cache-dir", str(tmp_path / "cache")]) == 1
    assert sorted(p.name for p in out.iterdir()) == ["previous.txt"]
    assert not (tmp_path / "cdk.out.staging").exists()
    err = capsys.readouterr().err
    assert "unit platform-dev failed to synthesize" in err and "may not contain aws" in err


@needs_cdk_cli
def test_synth_one_tenant_from_the_unit_cache(sample_build, tmp_path, capsys):
    """After the suite's sample build, the claims unit comes from the cache; the pinned CDK CLI reads the result."""
    out = tmp_path / "cdk.out"
    args = ["synth", "--config-dir", str(SAMPLE_CONFIG), "--tenant", "claims", "--output", str(out)]
    assert cli.main([*args, "--cache-dir", str(sample_cache_dir())]) == 0
    assert len(list(out.glob("*.product.template.json"))) == 6  # guardrail and memory products per environment
    assert sorted(
        p.name for p in out.glob("*.template.json") if not p.name.endswith(".product.template.json")
    ) == sorted(
        [f"AgentZone-claims-{e}.template.json" for e in ("dev", "staging", "prod", "governance")]
        + [
            f"AgentZone-claims-{e}-{kind}.template.json"
            for e in ("dev", "staging", "prod")
            for kind in ("services", "data", "observability", "identity")
        ]
    )
    for name in ("AgentZone-claims-prod", "AgentZone-claims-dev-data"):
        assert read_json(out / f"{name}.template.json") == sample_build.synthesized.templates[name]
    printed = capsys.readouterr().out
    assert (
        "16 stacks (TenantData 3, TenantGovernance 1, TenantIdentity 3, TenantObservability 3, TenantServices 3, "
        "UseCase 3)" in printed
    )
    assert "cdk-nag: passed" in printed and "cfn-lint: 0 errors" in printed
    assert "units: 1 (1 from the cache, 0 built" in printed


@needs_cdk_cli
def test_the_cdk_app_synthesizes_through_the_cdk_cli(tmp_path):
    """app.py, what `npx cdk synth` and `cdk deploy` run: one tenant environment through the pinned CLI."""
    out = tmp_path / "cdk.out"
    cmd = [str(CDK_CLI), "synth", "--quiet", "--no-notices", "--output", str(out)]
    cmd += ["--context", "tenant=fraud", "--context", "environment=dev"]
    proc = subprocess.run(cmd, cwd=ROOT, env=cli_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stacks = sorted(p.name for p in out.glob("AgentZone-*.template.json"))
    suffixes = ("", "-data", "-services", "-observability", "-identity")
    assert stacks == sorted(f"AgentZone-fraud-dev{s}.template.json" for s in suffixes)
    manifest = read_json(out / "manifest.json")
    assert manifest["artifacts"]["AgentZone-fraud-dev-data"]["dependencies"] == ["AgentZone-fraud-dev-data.assets"]


def test_shards_json_feeds_a_ci_matrix(capsys):
    assert cli.main(["shards", "--json", "--config-dir", str(SAMPLE_CONFIG)]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert entries[0] == {"name": "platform", "context": {"only": "platform"}}
    assert {"name": "tenant-fraud", "context": {"tenant": "fraud"}} in entries


def _make_targets() -> set[str]:
    from .conftest import ROOT

    phony = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith(".PHONY:"))
    return set(phony.split(":", 1)[1].split())


def test_github_workflow_is_valid_and_runs_real_make_targets():
    import re

    import yaml

    from .conftest import ROOT

    workflow = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    assert workflow[True] == {"pull_request": None, "push": {"branches": ["main"]}}  # YAML 1.1 reads `on` as true
    jobs = workflow["jobs"]
    runs = {name: " ".join(step.get("run", "") for step in job["steps"]) for name, job in jobs.items()}
    used = {target for text in runs.values() for target in re.findall(r"\bmake (\w+)", text)}
    assert used and used <= _make_targets(), f"unknown make targets: {used - _make_targets()}"
    assert "make test" in runs["test"]  # the README's test command
    assert "make synth" in runs["synth"] and 'make synth ARGS="--only pipelines' in runs["synth"]
    assert "agentzone shards --json" in runs["shards"]
    assert jobs["sharded-synth"]["strategy"]["matrix"]["shard"] == "${{ fromJson(needs.shards.outputs.matrix) }}"
    assert "agentzone guard ../base.out ../change.out" in runs["guard"]
    assert any(
        step.get("uses", "").startswith("actions/github-script") for step in jobs["synth"]["steps"]
    )  # the PR comment


def test_codebuild_buildspec_runs_the_same_checks():
    import yaml

    from .conftest import ROOT

    spec = yaml.safe_load((ROOT / "docs/codebuild-buildspec.yml").read_text())
    assert spec["version"] == 0.2
    assert spec["phases"]["build"]["commands"][:2] == ["make test", "make synth"]


def test_validate_json_lists_every_problem_with_its_location(config_copy, capsys):
    assert cli.main(["validate", "--json", "--config-dir", str(SAMPLE_CONFIG)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (
        out["valid"] is True
        and out["tenants"] == ["claims", "fraud"]
        and out["environments"] == ["dev", "staging", "prod"]
    )
    break_config(config_copy)
    assert cli.main(["validate", "--json", "--config-dir", str(config_copy)]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False and out["problems"]
    assert set(out["problems"][0]) == {"file", "line", "path", "message"} and out["problems"][0]["line"] > 0


def test_diagram_command_writes_the_file_or_explains(tmp_path, capsys):
    out = tmp_path / "lz.dot"
    assert cli.main(["diagram", "--config-dir", str(SAMPLE_CONFIG), "-o", str(out)]) == 0
    assert out.read_text().startswith("digraph") and f"wrote {out}" in capsys.readouterr().out
    assert cli.main(["diagram", "--config-dir", str(SAMPLE_CONFIG), "-o", str(tmp_path / "lz.jpg")]) == 2
    assert "agentzone diagram:" in capsys.readouterr().err


def test_synth_rejects_pipelines_with_a_selector(capsys):
    assert cli.main(["synth", "--config-dir", str(SAMPLE_CONFIG), "--only", "pipelines", "--tenant", "claims"]) == 2
    assert "cannot be combined" in capsys.readouterr().err
