#!/usr/bin/env python3
"""Synth scale benchmark: N synthetic tenants (each 3 environments) plus the platform.

Each N runs in a fresh process (python + its jsii node child), so peak RSS is
the real peak of that synth, sampled from /proc for the whole process tree.
Prints a table and writes JSON. Run with `make bench`; not part of the tests.

    python benchmarks/synth_scale.py --tenants 1 10 50 100 200 --json benchmarks/results/synth_scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "config"


def make_config(target: Path, tenants: int) -> None:
    """The sample's organization plus N tenants shaped like the sample's claims tenant."""
    shutil.copytree(SAMPLE, target)
    template = (SAMPLE / "tenants" / "claims.yaml").read_text()
    for path in (target / "tenants").glob("*.yaml"):
        path.unlink()
    for i in range(tenants):
        name = f"team{i:04d}"
        text = template.replace("tenant: claims", f"tenant: {name}").replace("UC-0042", f"UC-{i:05d}")
        for env_index, account in enumerate(("111111111111", "222222222222", "333333333333")):
            text = text.replace(account, f"{2 + env_index}{i:011d}")
        (target / "tenants" / f"{name}.yaml").write_text(text)


def run_one(config_dir: Path, outdir: Path, selection: dict) -> dict:
    """Child process body: load, compose, synth with cdk-nag; report shape and timings."""
    started = time.perf_counter()
    # Imported here: loading aws-cdk-lib and starting jsii is part of what this measures.
    from agentzone.composition import Selection, compose, create_app
    from agentzone.config import load_landing_zone

    imported = time.perf_counter()
    app = create_app(outdir=str(outdir))
    stacks = compose(app, load_landing_zone(config_dir), Selection(**selection))
    composed = time.perf_counter()
    assembly = app.synth()
    done = time.perf_counter()
    sizes = {}
    resources = {}
    for stack in assembly.stacks:
        path = Path(stack.template_full_path)
        sizes[stack.stack_name] = path.stat().st_size
        resources[stack.stack_name] = len(stack.template.get("Resources", {}))
    largest = max(resources, key=lambda name: resources[name])
    return {
        "stacks": len(stacks),
        "resources": sum(resources.values()),
        "largest_stack": largest,
        "largest_stack_resources": resources[largest],
        "largest_template_bytes": max(sizes.values()),
        "import_s": round(imported - started, 2),
        "compose_s": round(composed - imported, 2),
        "synth_s": round(done - composed, 2),
    }


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
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def measure(tenants: int, workdir: Path, selection: dict | None = None) -> dict:
    selection = selection or {}
    label = f"{tenants}-" + "-".join(f"{k}={v}" for k, v in selection.items())
    config_dir = workdir / f"config-{tenants}"
    outdir = workdir / f"cdk.out-{label}"
    result_file = workdir / f"result-{label}.json"
    if not config_dir.exists():
        make_config(config_dir, tenants)
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    cmd = [sys.executable, __file__, "--child", str(config_dir), str(outdir), str(result_file), json.dumps(selection)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_bytes(proc.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"synth of {tenants} tenants failed (exit {proc.returncode})")
    result = json.loads(result_file.read_text())
    result.update(
        tenants=tenants,
        shard=" ".join(f"{k}={v}" for k, v in selection.items()) or "all",
        wall_s=round(wall, 2),
        peak_rss_mib=round(peak / 2**20),
    )
    shutil.rmtree(outdir, ignore_errors=True)
    return result


def render(rows: list[dict]) -> str:
    cols = [
        ("tenants", "tenants"),
        ("shard", "shard"),
        ("stacks", "stacks"),
        ("resources", "resources"),
        ("wall_s", "wall s"),
        ("synth_s", "synth s"),
        ("peak_rss_mib", "peak RSS MiB"),
        ("largest_stack_resources", "max stack res"),
        ("largest_template_bytes", "max template B"),
    ]
    table = [[h for _, h in cols]] + [[str(r[k]) for k, _ in cols] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        config_dir, outdir, result_file = map(Path, sys.argv[2:5])
        result_file.write_text(json.dumps(run_one(config_dir, outdir, json.loads(sys.argv[5]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, nargs="+", default=[1, 10, 50, 100, 200])
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "synth_scale.json"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="agentzone-bench-") as tmp:
        for n in args.tenants:
            rows.append(measure(n, Path(tmp)))
            print(f"  measured {n} tenant(s): {rows[-1]['wall_s']} s, {rows[-1]['peak_rss_mib']} MiB", file=sys.stderr)
        # CI shards at the largest N: one tenant, and one platform environment.
        largest = max(args.tenants)
        for selection in ({"tenant": "team0000"}, {"only": "platform", "environment": "prod"}):
            rows.append(measure(largest, Path(tmp), selection))
    print(render(rows))
    by_n = {r["tenants"]: r for r in rows if r["shard"] == "all"}
    if 10 in by_n and 100 in by_n:
        print(f"time(100)/time(10) = {by_n[100]['wall_s'] / by_n[10]['wall_s']:.1f}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": {"cpus": os.cpu_count()}, "results": rows}, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
