"""`agentzone catalog` against moto: register, submit, approve, list, show and deprecate, with their exit codes."""

from __future__ import annotations

import json

from agentzone import cli as agentzone_cli
from agentzone.catalog import cli
from agentzone.config import load_landing_zone

from ..conftest import ROOT, SAMPLE_CONFIG
from .conftest import ACCOUNT, ref, reviewer_credentials, spec_doc, write


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.run([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def app_doc(version: str) -> dict:
    """The claims app, built on the claims-lookup tool."""
    return spec_doc(
        kind="application", name="claims-app", version=version, lineage=[ref("tool", "claims-lookup", "1.2.0")]
    )


def test_cli_end_to_end(aws, tmp_path, capsys, monkeypatch):
    register_in_lineage_order_once(tmp_path, capsys)
    approve_with_four_eyes(capsys, monkeypatch)
    list_and_show(capsys)
    deprecate_and_refuse_new_dependents(tmp_path, capsys)


def register_in_lineage_order_once(tmp_path, capsys) -> None:
    """Register puts a tool before the app built on it, says when nothing changed and refuses new content."""
    tool = write(tmp_path, spec_doc())
    app = write(tmp_path, app_doc("1.0.0"))
    code, out, err = run(capsys, "register", app, tool)  # given out of order: the tool goes first
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith("registered tool/claims-lookup@1.2.0 as draft (sha256:")
    assert out.splitlines()[1].startswith("registered application/claims-app@1.0.0 as draft")

    code, out, _ = run(capsys, "register", tool)
    assert (code, out) == (
        0,
        "tool/claims-lookup@1.2.0 is already registered with identical content (draft); nothing changed\n",
    )

    changed = write(tmp_path, spec_doc(limitations=["Read-only.", "Slow."]), "changed.yaml")
    code, _, err = run(capsys, "register", changed)
    assert code == 1
    assert err.startswith("agentzone catalog: tool/claims-lookup@1.2.0 is already registered with different content")
    assert "Traceback" not in err


def approve_with_four_eyes(capsys, monkeypatch) -> None:
    """Only a submitted entry is approved, and only by another identity than the one that registered it."""
    code, out, _ = run(capsys, "submit", "claims-lookup@1.2.0")
    assert (code, out) == (0, "tool/claims-lookup@1.2.0: draft -> pending\n")
    code, _, err = run(capsys, "approve", "claims-app@1.0.0")
    assert (code, err) == (1, "agentzone catalog: application/claims-app@1.0.0 is draft; submit it before approving\n")
    code, _, err = run(capsys, "approve", "claims-lookup@1.2.0")
    assert code == 1 and "another identity must approve it (four eyes)" in err

    for name, value in reviewer_credentials().items():
        monkeypatch.setenv(name, value)
    code, out, _ = run(capsys, "approve", "tool/claims-lookup@1.2.0")
    assert (code, out) == (0, "tool/claims-lookup@1.2.0: pending -> approved\n")


def list_and_show(capsys) -> None:
    """List filters and prints a table or JSON; show names who uses an entry."""
    code, out, _ = run(capsys, "list", "--json", "--state", "approved")
    rows = json.loads(out)
    assert [(r["ref"], r["approved_by"]) for r in rows] == [
        ("tool/claims-lookup@1.2.0", f"arn:aws:sts::{ACCOUNT}:assumed-role/catalog-reviewer/reviewer")
    ]
    code, out, _ = run(capsys, "list", "--kind", "application")
    assert out.splitlines() == [
        "kind         name        version  state  owner                  end-of-life",
        "application  claims-app  1.0.0    draft  claims-ai@example.com  2099-12-31",
    ]
    code, out, _ = run(capsys, "show", "claims-lookup@1.2.0")
    assert code == 0 and "  used by:      application/claims-app@1.0.0" in out
    code, out, _ = run(capsys, "show", "claims-lookup@1.2.0", "--json")
    assert json.loads(out)["used_by"] == ["application/claims-app@1.0.0"]


def deprecate_and_refuse_new_dependents(tmp_path, capsys) -> None:
    """Deprecating names who still depends on the entry; a new version of a dependent is then refused."""
    code, out, _ = run(
        capsys, "deprecate", "claims-lookup@1.2.0", "--end-of-life", "2099-06-30", "--reason", "Use 2.0.0."
    )
    assert code == 0
    assert (
        out == "tool/claims-lookup@1.2.0: approved -> deprecated\n  still referenced by: application/claims-app@1.0.0\n"
    )
    code, _, err = run(capsys, "register", write(tmp_path, app_doc("1.1.0")))
    assert code == 1 and "lineage tool/claims-lookup@1.2.0 is deprecated (end of life 2099-06-30)" in err


def test_cli_bad_input_exits_2_and_writes_nothing(aws, tmp_path, capsys):
    good = write(tmp_path, spec_doc())
    bad = write(tmp_path, spec_doc(kind="agent", name="claims-agent", version="1.2", owner="nobody"))
    code, out, err = run(capsys, "register", good, bad)
    assert code == 2 and out == ""
    assert err.splitlines()[0] == "2 configuration problems:"
    assert f"{bad}:3: version: must be a semantic version" in err
    assert f"{bad}:4: owner: 'nobody' is not an email address" in err
    assert run(capsys, "list")[1] == "no catalog entries match\n"

    code, _, err = run(capsys, "show", "claims-lookup")
    assert code == 2 and "'claims-lookup' is not a catalog reference; write NAME@VERSION" in err
    code, _, err = run(capsys, "deprecate", "claims-lookup@1.2.0", "--end-of-life", "soon", "--reason", "x")
    assert code == 2 and "'soon' is not a date; write YYYY-MM-DD" in err
    code, _, err = run(capsys, "show", "claims-lookup@9.9.9")
    assert (code, err) == (1, "agentzone catalog: claims-lookup@9.9.9 is not in the catalogs\n")


def test_cli_environment_resolves_the_shared_services_tables(aws, tmp_path, capsys):
    assert load_landing_zone(SAMPLE_CONFIG).organization.environments["dev"].shared_services == ACCOUNT
    run(capsys, "register", write(tmp_path, spec_doc()))
    code, out, _ = run(capsys, "list", "--environment", "dev", "--config-dir", SAMPLE_CONFIG)
    assert code == 0 and "claims-lookup" in out
    # staging's shared-services account has no tables here: a clear AWS error, exit 1.
    code, _, err = run(capsys, "list", "--environment", "staging", "--config-dir", SAMPLE_CONFIG)
    assert code == 1 and "catalog table not found" in err and "Traceback" not in err
    code, _, err = run(capsys, "list", "--environment", "qa", "--config-dir", SAMPLE_CONFIG)
    assert (code, err) == (2, "agentzone catalog: unknown environment 'qa'; valid: dev, staging, prod\n")
    code, _, err = run(capsys, "list", "--environment", "dev", "--region", "eu-west-1")
    assert code == 2 and "do not combine it with --region" in err


def test_cli_without_credentials_exits_2(aws, monkeypatch, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    code, _, err = run(capsys, "list")
    assert (code, err) == (
        2,
        "agentzone catalog: no AWS credentials found; sign in (e.g. aws sso login) or pass --profile\n",
    )


def test_the_agentzone_command_carries_catalog_and_tools(aws, capsys):
    """The same commands through `agentzone` itself (the entry point users run), end to end in moto."""
    examples = ROOT / "examples"
    specs = [str(examples / "catalog" / name) for name in ("claude-sonnet.model.yaml", "claims-lookup.tool.yaml")]
    assert agentzone_cli.main(["catalog", "register", *specs]) == 0
    assert agentzone_cli.main(["catalog", "register", *specs]) == 0  # same content again: a no-op
    capsys.readouterr()
    assert agentzone_cli.main(["catalog", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    refs = {(e["ref"], e["state"]) for e in (listed if isinstance(listed, list) else listed["entries"])}
    assert {r for r, _ in refs} >= {"tool/claims-lookup@1.2.0"} and all(state == "draft" for _, state in refs)
    assert agentzone_cli.main(["catalog", "approve", "tool/claims-lookup@1.2.0"]) == 1  # still draft: refused
    assert "draft" in capsys.readouterr().err
    assert agentzone_cli.main(["tools", "validate", str(examples / "tools" / "shared-claims.yaml")]) == 0
