#!/usr/bin/env python3
"""Scale benchmark of the full gate: `agentzone synth` (every nag pack, cfn-lint, checkov, CDK CLI read,
permissions check, acknowledgement report) over N generated tenants shaped like the sample's claims tenant.

For each N and each --jobs value it runs, each in a fresh process tree:
  cold        an empty unit cache
  warm-none   again, nothing changed
  warm-one    again after one tenant file changed (its owner)
and, at the largest N, a cold one-tenant shard (`--tenant team0000`, what a CI matrix job does without a cache).
Wall time, the process tree's peak RSS (sampled from /proc), the per-worker peak reported by the engine, units
built / from the cache, per-phase seconds and the largest stack. Run with `make bench`; not part of the tests.

    python benchmarks/synth_scale.py --tenants 1 10 50 100 --jobs 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from agentzone.config.model import MAX_FEEDBACK_SENDERS  # noqa: E402  (config only: no aws-cdk-lib)

SAMPLE = ROOT / "config"
AGENTZONE = Path(sys.executable).parent / "agentzone"


# The claims tenant's feedback namespace: dropped from generated tenants past the feedback bus's limit.
FEEDBACK_NAMESPACE = (
    "    - name: feedback\n"
    "      description: Monitoring signals of the claims agents in prod, for the next agent version\n"
    "      feedback_from: [prod]\n"
)


def make_config(target: Path, tenants: int) -> None:
    """The sample's organization plus N tenants shaped like the sample's claims tenant (those past the feedback
    bus's limit without feedback)."""
    shutil.copytree(SAMPLE, target)
    template = (SAMPLE / "tenants" / "claims.yaml").read_text()
    for path in (target / "tenants").glob("*.yaml"):
        path.unlink()
    for i in range(tenants):
        name = f"team{i:04d}"
        text = template.replace("tenant: claims", f"tenant: {name}").replace("UC-0042", f"UC-{i:05d}")
        if i >= MAX_FEEDBACK_SENDERS:  # the lake's feedback bus lists at most this many senders
            assert FEEDBACK_NAMESPACE in text, "the sample's claims tenant changed: update FEEDBACK_NAMESPACE"
            text = text.replace(FEEDBACK_NAMESPACE, "")
        for env_index, account in enumerate(("111111111111", "222222222222", "333333333333")):
            text = text.replace(account, f"{2 + env_index}{i:011d}")
        (target / "tenants" / f"{name}.yaml").write_text(text)


def _tree_rss_bytes(root_pid: int) -> int:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += sum(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
        except OSError:
            continue
    return total


def largest_stack(outdir: Path) -> tuple[str, int, int]:
    """(name, resources, template bytes) of the stack with the most resources."""
    best = ("", 0, 0)
    for path in outdir.glob("*.template.json"):
        if path.name.endswith(".product.template.json"):
            continue
        resources = len(json.loads(path.read_text()).get("Resources", {}))
        if resources > best[1]:
            best = (path.name.removesuffix(".template.json"), resources, path.stat().st_size)
    return best


def run_synth(config: Path, cache: Path, outdir: Path, jobs: int, extra: list[str]) -> dict:
    cmd = [str(AGENTZONE), "synth", "--json", "--config-dir", str(config), "--cache-dir", str(cache)]
    cmd += ["--output", str(outdir), "--jobs", str(jobs), *extra]
    env = dict(os.environ, JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1")
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss_bytes(proc.pid))
            time.sleep(0.5)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"agentzone synth failed ({proc.returncode}):\n{err.read().decode()[-5000:]}")
        summary = json.loads(out.read())
    name, resources, size = largest_stack(outdir)
    return {
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(peak / 2**20),
        "peak_worker_rss_mib": summary.get("peak_worker_rss_mib"),
        "units_built": summary["units"]["built"],
        "units_cached": summary["units"]["from_cache"],
        "phases": summary["phases"],
        "stacks": len(summary["stacks"]),
        "resources": summary["resources"],
        "largest_stack": name,
        "largest_stack_resources": resources,
        "largest_template_kb": round(size / 1024),
    }


def measure(tenants: int, jobs: int, workdir: Path) -> list[dict]:
    config, cache, outdir = workdir / f"config-{tenants}", workdir / f"cache-{tenants}-{jobs}", workdir / "cdk.out"
    shutil.rmtree(config, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    make_config(config, tenants)
    rows = []
    for run in ("cold", "warm-none", "warm-one"):
        if run == "warm-one":
            tenant = config / "tenants" / "team0000.yaml"
            tenant.write_text(tenant.read_text().replace("owner: ", "owner: x-", 1))
        row = {"tenants": tenants, "jobs": jobs, "run": run, **run_synth(config, cache, outdir, jobs, [])}
        print(f"  {tenants} tenant(s), jobs {jobs}, {run}: {row['wall_s']} s", file=sys.stderr, flush=True)
        rows.append(row)
    shutil.rmtree(cache, ignore_errors=True)
    return rows


def measure_shard(tenants: int, jobs: int, workdir: Path) -> dict:
    config, cache = workdir / f"config-{tenants}", workdir / "cache-shard"
    row = run_synth(config, cache, workdir / "cdk.out", jobs, ["--tenant", "team0000", "--no-cache"])
    shutil.rmtree(cache, ignore_errors=True)
    return {"tenants": tenants, "jobs": jobs, "run": "cold shard --tenant team0000", **row}


COLUMNS = [
    ("tenants", "tenants"),
    ("jobs", "jobs"),
    ("run", "run"),
    ("stacks", "stacks"),
    ("resources", "resources"),
    ("units_built", "built"),
    ("units_cached", "cached"),
    ("wall_s", "wall s"),
    ("peak_rss_mib", "peak RSS MiB"),
    ("peak_worker_rss_mib", "per worker MiB"),
    ("largest_stack_resources", "max stack res"),
    ("largest_template_kb", "max template KB"),
]


def render(rows: list[dict]) -> str:
    table = [[h for _, h in COLUMNS]] + [[str(r.get(k, "")) for k, _ in COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> dict:
    lines = Path("/proc/meminfo").read_text().splitlines()
    mem = next((line.split()[1] for line in lines if line.startswith("MemTotal")), "0")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "memory_gib": round(int(mem) / 2**20),
        "python": platform.python_version(),
        "node": node,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, nargs="+", default=[1, 10, 50, 100])
    parser.add_argument("--jobs", type=int, nargs="+", default=[os.cpu_count() or 1])
    parser.add_argument("--no-shard", action="store_true", help="skip the one-tenant shard at the largest N")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "synth_scale.json"))
    args = parser.parse_args()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="agentzone-bench-") as tmp:
        for tenants in args.tenants:
            for jobs in args.jobs:
                rows += measure(tenants, jobs, Path(tmp))
        if not args.no_shard:
            rows.append(measure_shard(max(args.tenants), max(args.jobs), Path(tmp)))
    print(render(rows))
    cold = {(r["tenants"], r["jobs"]): r["wall_s"] for r in rows if r["run"] == "cold"}
    for jobs in args.jobs:
        if (10, jobs) in cold and (100, jobs) in cold:
            print(f"jobs {jobs}: time(100)/time(10) = {cold[(100, jobs)] / cold[(10, jobs)]:.1f}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), "results": rows}, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
