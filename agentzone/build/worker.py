"""Synthesize and check one unit, in a worker process with its own jsii runtime.

Runs cdk-nag (every pack the config switches on) during synth, then cfn-lint and checkov side by side over the
unit's templates. Results are raw findings (checkov-skips.yaml is applied later, over the whole assembly), so a
cached unit stays valid when only the accepted skips change.
"""

from __future__ import annotations

import json
import os
import re
import resource
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..config.model import LandingZone
from ..units import Unit
from .checks import check_templates

RESULTS_FILE = "results.json"  # beside the unit's assembly (``out/``) in a cache entry
KERNEL_DIR = re.compile(r"jsii-kernel-[A-Za-z0-9]+")


@dataclass(frozen=True)
class UnitJob:
    unit: Unit
    lz: LandingZone  # only the part of the config the unit may read
    workdir: Path  # the job writes ``files/out/`` (the assembly), ``files/results.json`` and ``synth.log``
    checks: bool = True  # False: synth and nag only (results.json then holds no findings)
    cache_root: Path | None = None  # where template findings are cached (None: always check)


@dataclass
class UnitOutput:
    """What a worker sends back: where its files are, or why the unit failed."""

    workdir: Path
    error: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_bytes: int = 0


def _peak_rss_bytes() -> int:
    """This worker's peak RSS plus its jsii Node child's (VmHWM), in bytes."""
    total = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    except OSError:
        return total
    for pid in children:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def _synthesize(job: UnitJob, outdir: Path) -> None:
    # lazy: aws-cdk-lib starts jsii; only worker processes (and tests) should pay for it.
    from ..composition import compose_units, create_app

    app = create_app(outdir=str(outdir))
    compose_units(app, job.lz, [job.unit])
    app.synth()  # raises on an unacknowledged nag error


def _normalize(outdir: Path) -> None:
    """Creation traces name jsii's random temporary directory; without it two synths of one input are equal.
    Pipeline stages are nested assemblies, so their metadata is one directory down."""
    for path in [*outdir.glob("*.json"), *outdir.glob("assembly-*/*.json")]:
        text = path.read_text()
        if "jsii-kernel-" in text:
            path.write_text(KERNEL_DIR.sub("jsii-kernel", text))


@contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (and the Node child's, which jsii relays) to a file."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def build_unit(job: UnitJob) -> UnitOutput:
    """Worker entry point: synth (with nag), then the template checks; never raises for a unit's failure."""
    outdir = job.workdir / "files" / "out"
    output = UnitOutput(job.workdir)
    started = time.perf_counter()
    job.workdir.mkdir(parents=True, exist_ok=True)
    log = job.workdir / "synth.log"
    try:
        with _output_to(log):
            _synthesize(job, outdir)
    except Exception as exc:  # a nag error or a construct's ValueError: report it, the other units go on
        error = str(exc).strip() or traceback.format_exc()
        printed = log.read_text(errors="replace").strip() if log.is_file() else ""
        output.error = "\n".join(part for part in (printed[-20000:], error) if part)
        return output
    synthesized = time.perf_counter()
    _normalize(outdir)
    if job.checks:
        results = check_templates(outdir, job.cache_root)
    else:
        results = {"cfn_lint": [], "checkov": {"failed": [], "passed": -1}, "templates": []}
    (job.workdir / "files" / RESULTS_FILE).write_text(json.dumps(results, sort_keys=True) + "\n")
    output.seconds = {"synth": synthesized - started, "checks": time.perf_counter() - synthesized}
    output.peak_rss_bytes = _peak_rss_bytes()
    return output
