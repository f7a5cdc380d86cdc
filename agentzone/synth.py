"""`make synth`: CDK CLI synth into a staging dir, cfn-lint, then swap into cdk.out.

cdk.out is only replaced when synth (with cdk-nag) and cfn-lint both pass, so
a bad config or a failing check never leaves a half-written assembly behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .checkov import checkov_bin, run_checkov
from .config import load_landing_zone
from .permissions.check import check_permissions, render
from .permissions.simulator import SimulatorUnavailable
from .project import PROJECT_ROOT
from .report import acknowledgement_report, render_pack_table, render_table, summarize

CDK_CLI = PROJECT_ROOT / "node_modules" / ".bin" / "cdk"
CFN_LINT_CONFIG = PROJECT_ROOT / ".cfnlintrc.yaml"


@dataclass(frozen=True)
class LintResult:
    errors: list[dict]
    warnings: list[dict]

    def render(self, limit: int = 50) -> str:
        lines = []
        for item in (self.errors + self.warnings)[:limit]:
            loc = item.get("Location", {})
            path = "/".join(str(p) for p in loc.get("Path", []))
            lines.append(f"  {item['Rule']['Id']} {Path(item['Filename']).name} {path}: {item['Message']}")
        return "\n".join(lines)


def run_cfn_lint(templates: list[Path]) -> LintResult:
    """Run cfn-lint on the templates; E* findings are errors, W* warnings, I* ignored."""
    if not templates:
        return LintResult([], [])
    cmd = [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json"]
    if CFN_LINT_CONFIG.is_file():
        cmd += ["--config-file", str(CFN_LINT_CONFIG)]
    proc = subprocess.run([*cmd, "--", *map(str, templates)], capture_output=True, text=True)
    if proc.returncode not in (0, 2, 4, 6, 8, 10, 12, 14) and not proc.stdout.strip():
        raise RuntimeError(f"cfn-lint failed to run: {proc.stderr.strip()}")
    findings = json.loads(proc.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    warnings = [f for f in findings if f["Level"] == "Warning"]
    return LintResult(errors, warnings)


def cli_env() -> dict[str, str]:
    """The CDK CLI runs `python3 app.py`; make that resolve to this interpreter."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    env.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    return env


def cdk_synth(outdir: Path, context: dict[str, str]) -> int:
    if not CDK_CLI.exists():
        print(f"agentzone: CDK CLI not found at {CDK_CLI}; run `make synth` or `npm ci` first", file=sys.stderr)
        return 2
    cmd = [str(CDK_CLI), "synth", "--quiet", "--no-notices", "--output", str(outdir)]
    for key, value in sorted(context.items()):
        cmd += ["--context", f"{key}={value}"]
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=cli_env(), capture_output=True, text=True)
    if proc.returncode != 0:  # the CLI's own report (nag findings, app errors) is the useful part
        sys.stderr.write(proc.stdout + proc.stderr)
    return proc.returncode


def _reject(staging: Path, rejected: Path, outdir_name: str, what: str, details: str) -> None:
    """A check failed: keep the output for inspection beside the untouched assembly, and say why."""
    shutil.rmtree(rejected, ignore_errors=True)
    staging.rename(rejected)
    print(f"agentzone: {what}; {outdir_name} left unchanged, output kept in {rejected.name}:", file=sys.stderr)
    print(details, file=sys.stderr)


def _run_checkov(staging: Path, rejected: Path, outdir_name: str) -> str | None:
    """None when checkov found an unaccepted failure (the output is kept for inspection)."""
    if checkov_bin() is None:
        return "checkov: not installed, skipped (`make install` adds it)"
    result = run_checkov(staging)
    if result.failed:
        what = f"checkov found {len(result.failed)} failed check(s) not in checkov-skips.yaml"
        _reject(staging, rejected, outdir_name, what, result.render())
        return None
    return f"checkov: {result.passed} passed, 0 failed, {len(result.accepted)} accepted in checkov-skips.yaml"


def _run_permissions(staging: Path, rejected: Path, outdir_name: str, context: dict[str, str]) -> str | None:
    """None when the permissions check failed (the output is kept for inspection)."""
    if set(context) - {"config_dir"}:
        return "permissions: skipped for a partial synth (it needs every account's stacks)"
    try:
        report = check_permissions(staging, load_landing_zone(context.get("config_dir")))
    except SimulatorUnavailable as exc:
        return f"permissions: skipped ({exc})"
    if not report.ok:
        _reject(staging, rejected, outdir_name, "the permissions check failed", render(report))
        return None
    allowed = sum(p.path.kind == "designed" and p.decision == "Allowed" for p in report.paths)
    denied = sum(p.path.kind == "forbidden" and p.decision != "Unverified" for p in report.paths)
    unverified = sum(p.decision == "Unverified" for p in report.paths)
    return (
        f"permissions: 0 dead grants of {len(report.grants)}, {allowed} designed paths allowed, {denied} forbidden "
        f"paths denied, {unverified} unverified, {report.references} cross-account names resolved "
        "(`agentzone permissions` for details)"
    )


def progress(step: str, started: float) -> None:
    """One line per phase on stderr, so long runs show where they are and stdout stays parseable."""
    print(f"agentzone synth [{time.monotonic() - started:5.1f}s] {step}", file=sys.stderr, flush=True)


def synth(context: dict[str, str], outdir: Path, *, as_json: bool = False) -> int:
    """Returns a process exit code: 0 ok, 1 synth/nag/lint failed, 2 usage."""
    started = time.monotonic()
    selected = ", ".join(f"{k}={v}" for k, v in sorted(context.items()) if k != "config_dir") or "everything"
    progress(f"1/4 cdk synth with cdk-nag ({selected})", started)
    outdir = outdir.resolve()
    staging = outdir.with_name(f"{outdir.name}.staging")
    rejected = outdir.with_name(f"{outdir.name}.rejected")
    shutil.rmtree(staging, ignore_errors=True)
    code = cdk_synth(staging, context)
    if code != 0:
        shutil.rmtree(staging, ignore_errors=True)
        print(f"agentzone: synth failed; {outdir.name} left unchanged", file=sys.stderr)
        return 1 if code != 2 else 2
    templates = sorted(staging.glob("*.template.json"))
    progress(f"2/4 cfn-lint on {len(templates)} template(s)", started)
    lint = run_cfn_lint(templates)
    if lint.errors:
        _reject(staging, rejected, outdir.name, f"cfn-lint found {len(lint.errors)} error(s)", lint.render())
        return 1
    progress("3/4 checkov", started)
    checkov_line = _run_checkov(staging, rejected, outdir.name)
    if checkov_line is None:
        return 1
    progress("4/4 permissions (IAM simulation)", started)
    permissions_line = _run_permissions(staging, rejected, outdir.name, context)
    if permissions_line is None:
        return 1
    shutil.rmtree(outdir, ignore_errors=True)
    staging.rename(outdir)
    stacks = summarize(outdir)
    report_file = outdir / "agentzone-acknowledgements.json"
    report_file.write_text(json.dumps(acknowledgement_report(stacks), indent=2, sort_keys=True) + "\n")
    progress("done", started)
    _summary(outdir, stacks, report_file, time.monotonic() - started, lint, checkov_line, permissions_line, as_json)
    return 0


def _summary(
    outdir: Path,
    stacks: list,
    report_file: Path,
    elapsed: float,
    lint: LintResult,
    checkov_line: str,
    permissions_line: str,
    as_json: bool,
) -> None:
    """The stack table and one line per check (or the same as JSON)."""
    by_role: dict[str, int] = {}
    for s in stacks:
        by_role[s.role] = by_role.get(s.role, 0) + 1
    roles = ", ".join(f"{role} {n}" for role, n in sorted(by_role.items()))
    acks = sum(s.acknowledgements for s in stacks)
    if as_json:
        print(
            json.dumps(
                {
                    "output": str(outdir),
                    "seconds": round(elapsed, 1),
                    "stacks": [
                        {
                            "name": s.name,
                            "role": s.role,
                            "resources": s.resources,
                            "acknowledgements": s.acknowledgements,
                        }
                        for s in stacks
                    ],
                    "resources": sum(s.resources for s in stacks),
                    "acknowledgements": acks,
                    "acknowledgement_report": str(report_file),
                    "cfn_lint": {"errors": 0, "warnings": len(lint.warnings)},
                    "checkov": checkov_line,
                    "permissions": permissions_line,
                },
                indent=2,
            )
        )
        return
    print(render_table(stacks))
    print(
        f"\n{len(stacks)} stacks ({roles}); {sum(s.resources for s in stacks)} resources; "
        f"cdk-nag: passed with {acks} acknowledgement(s); cfn-lint: 0 errors, {len(lint.warnings)} warning(s); {elapsed:.1f}s"
    )
    print(f"{render_pack_table(stacks)} (details: {report_file.relative_to(outdir.parent)})")
    print(checkov_line)
    print(permissions_line)
    if lint.warnings:
        print(lint.render())
