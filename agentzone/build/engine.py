"""Plan the units, reuse every verified cache entry, build the rest in parallel workers, join the assembly.

``build`` never touches the destination unless every unit synthesized (nag included); template checks are
returned, not judged, so the caller decides what fails the gate.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from ..config.model import LandingZone
from ..units import Selection, Unit, platform_dependencies, platform_inputs, unit_landing_zone, units
from .assembly import assemble
from .cache import UnitCache
from .checks import add_passed
from .inputs import ConfigInputs
from .worker import RESULTS_FILE, UnitJob, UnitOutput, build_unit

TASKS_PER_WORKER = 12  # a fresh jsii runtime now and then keeps a worker's memory flat


@dataclass
class UnitRecord:
    unit: Unit
    digest: str
    from_cache: bool = False
    rejected: str = ""  # why a cache entry for this digest was not trusted
    seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_bytes: int = 0
    files: Path | None = None  # the unit's verified files: ``out/`` and ``results.json``
    checked_digest: str | None = None  # planned without checks: the same unit's digest with them (also serves)


@dataclass
class BuildResult:
    records: list[UnitRecord]
    failures: dict[str, str]  # unit label -> why it did not synthesize
    phases: dict[str, float]
    lint_findings: list[dict] = field(default_factory=list)
    checkov_failed: list[dict] = field(default_factory=list)
    checkov_passed: int = 0  # -1 when checkov was not installed
    checked_templates: list[str] = field(default_factory=list)  # every template cfn-lint and checkov judged

    @property
    def hits(self) -> int:
        return sum(r.from_cache for r in self.records)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def plan(lz: LandingZone, selection: Selection, checks: bool = True) -> list[UnitRecord]:
    """Each unit with the digest of its inputs. Without ``checks``, a unit also carries the digest it has with them:
    a checked entry holds the same templates, so it serves a build that skips the checks (never the reverse)."""
    config = ConfigInputs(Path(lz.source_dir))
    tenants = platform_inputs(lz)
    out = []
    for unit in units(lz, selection):
        files = config.files(unit.kind, unit.name if unit.kind == "tenant" else None)
        key: dict[str, object] = {"kind": unit.kind, "name": unit.name, "environment": unit.environment}
        if unit.kind == "platform":
            key["tenants"] = tenants
        digest = config.digest({**key, "checks": checks}, files)
        out.append(
            UnitRecord(unit, digest, checked_digest=None if checks else config.digest({**key, "checks": True}, files))
        )
    return out


@dataclass
class _Pool:
    executor: ProcessPoolExecutor
    workers: int
    tasks: int = 0  # submitted since it started


_POOL: list[_Pool] = []  # at most one, kept for the life of this process (a second build reuses warm workers)


def _pool(workers: int, tasks: int) -> ProcessPoolExecutor:
    """Workers for ``tasks`` more units; a fresh pool once each worker would pass TASKS_PER_WORKER units.

    Spawned, never forked: a fresh interpreter per worker, so no jsii runtime is ever copied into a child. Recycled
    by hand rather than with ``max_tasks_per_child``, which can deadlock Python 3.11's ProcessPoolExecutor when it
    replaces a worker.
    """
    current = _POOL[0] if _POOL else None
    if current is not None and (current.workers != workers or current.tasks + tasks > workers * TASKS_PER_WORKER):
        current.executor.shutdown(wait=True)
        _POOL.clear()
        current = None
    if current is None:
        context = multiprocessing.get_context("spawn")
        current = _Pool(ProcessPoolExecutor(workers, mp_context=context), workers)
        _POOL.append(current)
    current.tasks += tasks
    return current.executor


def _run_jobs(jobs: list[UnitJob], workers: int, on_done: Callable[[UnitJob, UnitOutput], None]) -> None:
    """Every job on the pool, in waves of at most TASKS_PER_WORKER units per worker."""
    workers = max(1, workers)
    wave = workers * TASKS_PER_WORKER
    for start in range(0, len(jobs), wave):
        chunk = jobs[start : start + wave]
        pool = _pool(workers, len(chunk))
        futures: dict[Future[UnitOutput], UnitJob] = {pool.submit(build_unit, job): job for job in chunk}
        for future in as_completed(futures):
            on_done(futures[future], future.result())


def _collect(result: BuildResult) -> None:
    for record in result.records:
        if record.files is None:
            raise RuntimeError(f"unit {record.unit.label} has no files")  # build() collects only after success
        checks = json.loads((record.files / RESULTS_FILE).read_text())
        result.lint_findings += checks["cfn_lint"]
        result.checked_templates += checks["templates"]
        result.checkov_failed += checks["checkov"]["failed"]
        result.checkov_passed = add_passed(result.checkov_passed, checks["checkov"]["passed"])


def _lookup(records: list[UnitRecord], cache: UnitCache, reuse: bool, progress: Callable[[str], None]):
    """Attach every verified cache entry (when reusing); the rest are to build."""
    if not reuse:  # --no-cache: nothing is read, so nothing needs verifying
        progress(f"0 of {len(records)} unit(s) from the cache (not read); building {len(records)}")
        return list(records)
    pending = []
    for record in records:
        lookup = cache.get(record.digest, record.unit.label)
        if lookup.path is None and record.checked_digest is not None:
            checked = cache.get(record.checked_digest, record.unit.label)
            lookup = checked if checked.path is not None or not lookup.problem else lookup
        record.rejected = lookup.problem
        if record.rejected:
            progress(f"cache entry of {record.unit.label} not used: {record.rejected}")
        if lookup.path is not None:
            record.from_cache, record.files = True, lookup.path
        else:
            pending.append(record)
    progress(f"{len(records) - len(pending)} of {len(records)} unit(s) from the cache; building {len(pending)}")
    return pending


@dataclass(frozen=True)
class _Run:
    lz: LandingZone
    cache: UnitCache
    jobs: int
    checks: bool
    progress: Callable[[str], None]


def _build_pending(run: _Run, result: BuildResult, pending: list[UnitRecord], scratch: Path) -> None:
    """Synthesize and check the units without a usable entry, storing each in the cache as it completes."""
    by_label = {r.unit.label: r for r in pending}
    work = [
        UnitJob(r.unit, unit_landing_zone(run.lz, r.unit), scratch / r.digest, run.checks, run.cache.root)
        for r in pending
    ]

    def done(job: UnitJob, output: UnitOutput) -> None:
        record = by_label[job.unit.label]
        if output.error:
            result.failures[record.unit.label] = output.error
            run.progress(f"FAILED {record.unit.label}")
            return
        record.seconds, record.peak_rss_bytes = output.seconds, output.peak_rss_bytes
        record.files = run.cache.put(record.digest, record.unit.label, job.workdir / "files")
        timing = ", ".join(f"{k} {v:.1f}s" for k, v in output.seconds.items())
        ready = sum(r.files is not None for r in result.records)
        run.progress(f"built {record.unit.label} ({timing}) [{ready}/{len(result.records)}]")

    _run_jobs(work, run.jobs, done)


def build(
    lz: LandingZone,
    selection: Selection,
    dest: Path,
    *,
    cache: UnitCache,
    jobs: int,
    reuse: bool = True,
    checks: bool = True,
    progress: Callable[[str], None] = lambda line: None,
) -> BuildResult:
    """Synthesize the selection into the new directory ``dest`` (written only when every unit succeeded)."""
    started = time.perf_counter()
    records = plan(lz, selection, checks)
    result = BuildResult(records, {}, {"plan": time.perf_counter() - started})
    pending = _lookup(records, cache, reuse, progress)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agentzone-units-", dir=dest.parent) as scratch:
        _build_pending(_Run(lz, cache, jobs, checks, progress), result, pending, Path(scratch))
    result.phases["units"] = time.perf_counter() - started
    if result.failures:
        return result
    started = time.perf_counter()
    dependencies: dict[str, list[str]] = {}
    for record in records:
        dependencies.update(platform_dependencies(lz, record.unit))
    assemble([r.files / "out" for r in records if r.files is not None], dest, dependencies)
    _collect(result)
    result.phases["assemble"] = time.perf_counter() - started
    return result


def print_progress(started: float) -> Callable[[str], None]:
    def emit(line: str) -> None:
        print(f"agentzone synth [{time.monotonic() - started:6.1f}s] {line}", file=sys.stderr, flush=True)

    return emit
