"""`agentzone synth` / `make synth`: the incremental engine into a staging dir, the gates, then swap into cdk.out.

Units whose inputs did not change come from the cache (``.agentzone-cache/``, ``--no-cache`` to ignore it); the
rest synthesize with cdk-nag in parallel workers, each running cfn-lint and checkov over its own templates. cdk.out
is only replaced when every unit synthesized and cfn-lint, checkov, the pinned CDK CLI's read of the assembly and
the permissions check all pass, so a bad config or a failing check never leaves a half-written assembly behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .build.cache import CACHE_DIR_ENV, DEFAULT_DIR, PRUNE_AFTER_DAYS, RecordCache, UnitCache
from .build.engine import BuildResult, build, default_jobs, print_progress
from .cfn_lint import LintResult
from .cfn_lint import classify as classify_lint
from .checkov import classify as classify_checkov
from .config.model import LandingZone
from .permissions.check import check_permissions, render
from .permissions.decisions import DecisionStore
from .permissions.grants import EXCEPTIONS_FILE
from .permissions.simulator import SimulatorUnavailable
from .project import PROJECT_ROOT
from .report import acknowledgement_report, render_pack_table, render_table, summarize
from .units import Selection

CDK_CLI = PROJECT_ROOT / "node_modules" / ".bin" / "cdk"
DECISIONS_FILE = "decisions.sqlite"  # the IAM simulator's earlier decisions, in the cache directory
CFN_LINT_WARNINGS = "cfn-lint-warnings.json"  # every warning of the last synth, beside its templates


@dataclass(frozen=True)
class SynthOptions:
    jobs: int = field(default_factory=default_jobs)  # worker processes, one jsii runtime each
    use_cache: bool = True  # False: rebuild every unit (the fresh results still refresh the cache)
    cache_dir: Path | None = None  # default: $AGENTZONE_CACHE_DIR or .agentzone-cache in the project

    def cache(self) -> UnitCache:
        return UnitCache(self.cache_dir or Path(os.environ.get(CACHE_DIR_ENV) or PROJECT_ROOT / DEFAULT_DIR))


def cli_env() -> dict[str, str]:
    """The CDK CLI runs `python3 app.py`; make that resolve to this interpreter."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    env.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    return env


class CliRead:
    """The pinned CDK CLI lists the joined assembly's stacks, in the background while the permissions check runs.

    A passed read is recorded under the digest of ``manifest.json`` and of every unit the assembly joins (their
    inputs decide every other file, the CLI's version included), so an unchanged assembly is not read again."""

    def __init__(self, assembly: Path, build: BuildResult, cache_root: Path) -> None:
        self.store = RecordCache(cache_root, "cli-read")
        digests = "\n".join(r.digest for r in build.records).encode()
        self.key = hashlib.sha256((assembly / "manifest.json").read_bytes() + b"\n" + digests).hexdigest()
        self.seconds = 0.0  # the CLI's own run time (it overlaps the permissions check)
        self.output = ""
        self.proc: subprocess.Popen[str] | None = None
        self.reader: threading.Thread | None = None
        if CDK_CLI.exists() and self.store.get(self.key) is None:
            cmd = [str(CDK_CLI), "ls", "--app", str(assembly), "--no-notices"]
            self.proc = subprocess.Popen(
                cmd, cwd=PROJECT_ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            self.reader = threading.Thread(target=self._read, args=(self.proc, time.perf_counter()), daemon=True)
            self.reader.start()

    def _read(self, proc: subprocess.Popen[str], started: float) -> None:
        self.output, _ = proc.communicate()
        self.seconds = time.perf_counter() - started

    def stop(self) -> None:
        if self.proc is not None and self.reader is not None:
            self.proc.kill()
            self.reader.join()

    def problem(self) -> str | None:
        """None when the CLI reads the assembly (now or in an earlier run), else what it said."""
        if not CDK_CLI.exists():
            return f"CDK CLI not found at {CDK_CLI}; run `make synth` or `npm ci` first"
        if self.proc is None or self.reader is None:
            return None
        self.reader.join()
        if self.proc.returncode != 0:
            return self.output.strip()
        self.store.put(self.key, {"read": True})
        return None


def _reject(staging: Path, rejected: Path, outdir_name: str, what: str, details: str) -> None:
    """A check failed: keep the output for inspection beside the untouched assembly, and say why."""
    shutil.rmtree(rejected, ignore_errors=True)
    staging.rename(rejected)
    print(f"agentzone: {what}; {outdir_name} left unchanged, output kept in {rejected.name}:", file=sys.stderr)
    print(details, file=sys.stderr)


def _checkov_gate(result: BuildResult, staging: Path, rejected: Path, outdir_name: str) -> str | None:
    """None when checkov found an unaccepted failure (the output is kept for inspection)."""
    if result.checkov_passed < 0:
        return "checkov: not installed, skipped (`make install` adds it)"
    checkov = classify_checkov(result.checkov_failed, result.checkov_passed)
    if checkov.failed:
        what = f"checkov found {len(checkov.failed)} failed check(s) not in checkov-skips.yaml"
        _reject(staging, rejected, outdir_name, what, checkov.render())
        return None
    return f"checkov: {checkov.passed} passed, 0 failed, {len(checkov.accepted)} accepted in checkov-skips.yaml"


def permissions_key(build: BuildResult) -> str:
    """The check reads the whole assembly (every unit's digest covers its part), the config and the exceptions."""
    exceptions = EXCEPTIONS_FILE.read_bytes() if EXCEPTIONS_FILE.is_file() else b""
    digests = "\n".join(r.digest for r in build.records)
    return hashlib.sha256(digests.encode() + b"\n" + exceptions).hexdigest()


@dataclass(frozen=True)
class GateResult:
    line: str  # the summary line when it passed
    failure: tuple[str, str] | None = None  # (what failed, its report) when it failed


def _run_permissions(outcome: Outcome, staging: Path, lz: LandingZone) -> GateResult:
    """A passed result is cached under permissions_key; a failed one is reported (and not cached)."""
    store = RecordCache(outcome.cache_root, "permissions")
    key = permissions_key(outcome.build)
    cached = store.get(key)
    if cached is not None:
        return GateResult(str(cached["line"]))
    try:
        report = check_permissions(staging, lz, decisions=outcome.cache_root / DECISIONS_FILE)
    except SimulatorUnavailable as exc:  # not a result: nothing to cache
        return GateResult(f"permissions: skipped ({exc})")
    if not report.ok:
        return GateResult("", ("the permissions check failed", render(report)))
    allowed = sum(p.path.kind == "designed" and p.decision == "Allowed" for p in report.paths)
    denied = sum(p.path.kind == "forbidden" and p.decision != "Unverified" for p in report.paths)
    unverified = sum(p.decision == "Unverified" for p in report.paths)
    line = (
        f"permissions: 0 dead grants of {report.grants_simulated}, {allowed} designed paths allowed, "
        f"{denied} forbidden paths denied, {unverified} unverified, {report.references} cross-account names resolved "
        "(`agentzone permissions` for details)"
    )
    store.put(key, {"line": line})
    return GateResult(line)


@dataclass
class Outcome:
    """What the summary reports: the build, each gate's line and where the time went."""

    build: BuildResult
    jobs: int
    cache_root: Path
    lint: LintResult = field(default_factory=lambda: LintResult([], []))
    checkov_line: str = ""
    permissions_line: str = ""
    phases: dict[str, float] = field(default_factory=dict)


def _build(
    lz: LandingZone, selection: Selection, staging: Path, options: SynthOptions, cache: UnitCache, started: float
) -> BuildResult:
    emit = print_progress(started)
    scope = ", ".join(f"{k}={v}" for k, v in sorted(selection.as_context().items())) or "everything"
    emit(f"synth with cdk-nag, cfn-lint and checkov per unit ({scope}; {options.jobs} job(s))")
    return build(lz, selection, staging, cache=cache, jobs=options.jobs, reuse=options.use_cache, progress=emit)


def _gates(outcome: Outcome, lz: LandingZone, selection: Selection, staging: Path, outdir: Path) -> bool:
    """cfn-lint and checkov (from the units), then the CDK CLI's read and the permissions check side by side; False
    at the first failure (in that order)."""
    rejected = outdir.with_name(f"{outdir.name}.rejected")
    outcome.lint = classify_lint(outcome.build.lint_findings)
    if outcome.lint.errors:
        what = f"cfn-lint found {len(outcome.lint.errors)} error(s)"
        _reject(staging, rejected, outdir.name, what, outcome.lint.render())
        return False
    checkov_line = _checkov_gate(outcome.build, staging, rejected, outdir.name)
    if checkov_line is None:
        return False
    outcome.checkov_line = checkov_line
    cli = CliRead(staging, outcome.build, outcome.cache_root)
    timer = time.perf_counter()
    if selection.as_context():
        permissions = GateResult("permissions: skipped for a partial synth (it needs every account's stacks)")
    else:
        try:
            permissions = _run_permissions(outcome, staging, lz)
        except BaseException:
            cli.stop()
            raise
    outcome.phases["permissions"] = time.perf_counter() - timer
    problem = cli.problem()  # waits for the CLI, which reads staging: nothing is moved before it is done
    outcome.phases["cdk cli"] = cli.seconds
    if problem is not None:
        _reject(staging, rejected, outdir.name, "the CDK CLI cannot read the assembly", problem)
        return False
    if permissions.failure:
        _reject(staging, rejected, outdir.name, *permissions.failure)
        return False
    outcome.permissions_line = permissions.line
    return True


def synth(lz: LandingZone, selection: Selection, outdir: Path, *, as_json: bool = False, options=None) -> int:
    """Returns a process exit code: 0 ok, 1 synth/nag/lint failed."""
    options = options or SynthOptions()
    started = time.monotonic()
    outdir = outdir.resolve()
    staging = outdir.with_name(f"{outdir.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    cache = options.cache()
    outcome = Outcome(_build(lz, selection, staging, options, cache, started), options.jobs, cache.root)
    outcome.phases.update(outcome.build.phases)
    if outcome.build.failures:
        shutil.rmtree(staging, ignore_errors=True)
        for label, error in outcome.build.failures.items():
            print(f"agentzone: unit {label} failed to synthesize:\n{error}\n", file=sys.stderr)
        print(f"agentzone: synth failed; {outdir.name} left unchanged", file=sys.stderr)
        return 1
    print_progress(started)("gates: cfn-lint, checkov, CDK CLI, permissions")
    if not _gates(outcome, lz, selection, staging, outdir):
        return 1
    shutil.rmtree(outdir, ignore_errors=True)
    staging.rename(outdir)
    cache.prune()
    DecisionStore(cache.root / DECISIONS_FILE).prune(PRUNE_AFTER_DAYS)
    stacks = summarize(outdir)
    report_file = outdir / "agentzone-acknowledgements.json"
    report_file.write_text(json.dumps(acknowledgement_report(stacks), indent=2, sort_keys=True) + "\n")
    outcome.lint.write_warnings(outdir / CFN_LINT_WARNINGS)
    print_progress(started)("done")
    _summary(outdir, stacks, report_file, time.monotonic() - started, outcome, as_json)
    return 0


def _summary(outdir: Path, stacks: list, report_file: Path, elapsed: float, outcome: Outcome, as_json: bool) -> None:
    """The stack table and one line per check (or the same as JSON)."""
    by_role: dict[str, int] = {}
    for s in stacks:
        by_role[s.role] = by_role.get(s.role, 0) + 1
    roles = ", ".join(f"{role} {n}" for role, n in sorted(by_role.items()))
    acks = sum(s.acknowledgements for s in stacks)
    build = outcome.build
    units = {"total": len(build.records), "from_cache": build.hits, "built": len(build.records) - build.hits}
    phases = {name: round(seconds, 1) for name, seconds in outcome.phases.items()}
    if as_json:
        print(
            json.dumps(
                {
                    "output": str(outdir),
                    "seconds": round(elapsed, 1),
                    "jobs": outcome.jobs,
                    "units": units,
                    "phases": phases,
                    "peak_worker_rss_mib": round(max((r.peak_rss_bytes for r in build.records), default=0) / 2**20),
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
                    "cfn_lint": {
                        "errors": 0,
                        "warnings": len(outcome.lint.warnings),
                        "list": str(outdir / CFN_LINT_WARNINGS),
                    },
                    "checkov": outcome.checkov_line,
                    "permissions": outcome.permissions_line,
                },
                indent=2,
            )
        )
        return
    print(render_table(stacks))
    print(
        f"\n{len(stacks)} stacks ({roles}); {sum(s.resources for s in stacks)} resources; "
        f"cdk-nag: passed with {acks} acknowledgement(s); cfn-lint: 0 errors, {len(outcome.lint.warnings)} warning(s) "
        f"(listed in {outdir.name}/{CFN_LINT_WARNINGS}; ignored checks and why: .cfnlintrc.yaml); {elapsed:.1f}s"
    )
    print(f"{render_pack_table(stacks)} (details: {report_file.relative_to(outdir.parent)})")
    print(outcome.checkov_line)
    print(outcome.permissions_line)
    print(
        f"units: {units['total']} ({units['from_cache']} from the cache, {units['built']} built, "
        f"{outcome.jobs} job(s)); seconds: " + ", ".join(f"{k} {v}" for k, v in phases.items())
    )
