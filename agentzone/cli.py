"""The `agentzone` command: validate, schema, list, synth, diagram, shards, guard, permissions, catalog, tools,
killswitch, eval, release, bootstrap-policy, deploy-plan.

Exit codes: 0 success, 1 a check failed (synth, cdk-nag, cfn-lint, stale schema),
2 the input is wrong (configuration problems, unknown selector, bad usage).

Commands import what only they need (aws-cdk-lib through synth and composition, Graphviz rendering, cfn-lint,
the IAM simulator) inside their ``cmd_*`` function: `agentzone validate` must answer without starting the jsii
runtime.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .catalog.cli import add_parser as add_catalog_parser
from .config import ConfigError, LandingZone, default_config_dir, load_landing_zone
from .config.model import Organization, Tenant
from .delivery.bootstrap import add_parser as add_bootstrap_parser
from .delivery.plan import add_parser as add_deploy_plan_parser
from .delivery.release import add_parser as add_release_parser
from .evaluation.cli import add_parser as add_eval_parser
from .guard import guard, violations_json
from .project import PROJECT_ROOT
from .safety.cli import add_parser as add_killswitch_parser
from .tools.cli import add_parser as add_tools_parser
from .units import Selection, SelectionError, shards

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

SCHEMA_FILES: dict[str, type[BaseModel]] = {"organization.schema.json": Organization, "tenant.schema.json": Tenant}
DEFAULT_SCHEMA_DIR = PROJECT_ROOT / "schema"


def schema_documents() -> dict[str, str]:
    """JSON Schema text per file name, deterministic so a test can detect drift."""
    out = {}
    for name, model in SCHEMA_FILES.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://agentzone.dev/schema/{name}"
        out[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def _load(args) -> LandingZone | None:
    try:
        return load_landing_zone(args.config_dir)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return None


def _validate_json(args) -> int:
    try:
        lz = load_landing_zone(args.config_dir)
    except ConfigError as exc:
        print(json.dumps({"valid": False, "problems": [asdict(p) for p in exc.problems]}, indent=2))
        return 2
    print(
        json.dumps(
            {
                "valid": True,
                "config_dir": lz.source_dir,
                "tenants": [t.tenant for t in lz.tenants],
                "environments": list(lz.organization.environments),
            },
            indent=2,
        )
    )
    return 0


def cmd_validate(args) -> int:
    if args.json:
        return _validate_json(args)
    lz = _load(args)
    if lz is None:
        return 2
    envs = ", ".join(lz.organization.environments)
    print(f"{lz.source_dir}: valid ({len(lz.tenants)} tenant(s); platform environments: {envs})")
    return 0


def cmd_schema(args) -> int:
    out = Path(args.out)
    docs = schema_documents()
    if args.check:
        stale = [n for n, text in docs.items() if not (out / n).is_file() or (out / n).read_text() != text]
        if stale:
            print(f"stale schema files in {out}: {', '.join(stale)}; run `agentzone schema`", file=sys.stderr)
            return 1
        print(f"{out}: schema files up to date")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (out / name).write_text(text)
        print(f"wrote {out / name}")
    return 0


def cmd_list(args) -> int:
    lz = _load(args)
    if lz is None:
        return 2
    rows: list[dict[str, Any]] = []
    for tenant in lz.tenants:
        selected = tenant.blueprints.selected()
        for env_name, env in tenant.environments.items():
            rows.append(
                {
                    "tenant": tenant.tenant,
                    "environment": env_name,
                    "account": env.account,
                    "region": lz.region_of(env),
                    "blueprints": selected,
                    "namespaces": sorted(ns.name for ns in tenant.data.namespaces),
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    header = ["tenant", "environment", "account", "region", "blueprints", "namespaces"]
    table = [header] + [
        [
            r["tenant"],
            r["environment"],
            r["account"],
            r["region"],
            ",".join(r["blueprints"]) or "-",
            ",".join(r["namespaces"]) or "-",
        ]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_diagram(args) -> int:
    from .diagram import DiagramError, write_diagram  # lazy: it builds stack names with aws-cdk-lib (jsii, seconds)

    lz = _load(args)
    if lz is None:
        return 2
    try:
        out = write_diagram(lz, Path(args.output), args.format)
    except DiagramError as exc:
        print(f"agentzone diagram: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"wrote {out}")
    return 0


def cmd_synth(args) -> int:
    from .build.engine import default_jobs  # lazy: with the synth below, only this command needs them
    from .synth import SynthOptions, synth  # lazy: it loads the permissions check (~0.3 s)

    lz = _load(args)
    if lz is None:
        print(f"agentzone: nothing synthesized; {args.output} left unchanged", file=sys.stderr)
        return 2
    selection = Selection(environment=args.environment, tenant=args.tenant, only=args.only)
    try:
        selection.check(lz)
    except SelectionError as exc:
        print(f"agentzone: {exc}", file=sys.stderr)
        return 2
    options = SynthOptions(jobs=args.jobs or default_jobs(), use_cache=not args.no_cache, cache_dir=args.cache_dir)
    return synth(lz, selection, Path(args.output), as_json=args.json, options=options)


def cmd_shards(args) -> int:

    lz = _load(args)
    if lz is None:
        return 2
    entries = shards(lz)
    if args.json:
        print(json.dumps(entries))
    else:
        for entry in entries:
            flags = " ".join(f"--{k} {v}" for k, v in entry["context"].items())
            print(f"{entry['name']}: agentzone synth {flags}")
    return 0


def cmd_guard(args) -> int:
    for path in (args.old, args.new):
        if not (Path(path) / "manifest.json").is_file():
            print(f"agentzone: {path} is not a synthesized assembly (no manifest.json)", file=sys.stderr)
            return 2
    violations = guard(args.old, args.new)
    if args.json:
        print(violations_json(violations))
    elif violations:
        print(f"{len(violations)} stateful resource(s) would be removed or replaced:", file=sys.stderr)
        for v in violations:
            print(f"  {v.render()}", file=sys.stderr)
    else:
        print(f"no stateful resource removed or replaced between {args.old} and {args.new}")
    return 1 if violations else 0


def cmd_permissions(args) -> int:
    # lazy: the IAM model and simulator add ~0.3 s to every command; only this one needs them
    from .permissions.check import check_permissions, dump, render
    from .permissions.simulator import SimulatorUnavailable

    if not (Path(args.cdk_out) / "manifest.json").is_file():
        print(
            f"agentzone: {args.cdk_out} is not a synthesized assembly (no manifest.json); run `make synth` first",
            file=sys.stderr,
        )
        return 2
    lz = _load(args)
    if lz is None:
        return 2
    try:
        report = check_permissions(Path(args.cdk_out), lz, jobs=args.jobs)
    except SimulatorUnavailable as exc:
        print(f"agentzone: {exc}", file=sys.stderr)
        return 2
    print(dump(report) if args.json else render(report))
    return 0 if report.ok else 1


def _with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument(
        "--config-dir",
        default=None,
        help=f"config tree to use (default: $AGENTZONE_CONFIG_DIR or {default_config_dir()})",
    )
    return p


def _add_config_commands(sub: Subparsers) -> None:
    """validate, schema and list: read the config tree only."""
    p = _with_config(sub.add_parser("validate", help="check the config tree and report every problem at once"))
    p.add_argument(
        "--json", action="store_true", help="machine-readable output: {valid, problems: [{file, line, path, message}]}"
    )
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="write JSON Schema files for editor completion and validation")
    p.add_argument("--out", default=str(DEFAULT_SCHEMA_DIR), help="directory to write to (default: %(default)s)")
    p.add_argument("--check", action="store_true", help="fail if the files on disk are out of date")
    p.set_defaults(func=cmd_schema)

    p = _with_config(sub.add_parser("list", help="tenants, environments, accounts, blueprints and data namespaces"))
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _add_synth_commands(sub: Subparsers) -> None:
    """synth, shards and diagram: what the config becomes."""
    p = _with_config(sub.add_parser("synth", help="synthesize with cdk-nag, lint with cfn-lint, print a summary"))
    p.add_argument("--environment", help="only this platform environment (and tenants' stacks in it)")
    p.add_argument("--tenant", help="only this tenant's stacks")
    p.add_argument(
        "--only",
        choices=["platform", "tenants", "pipelines"],
        help="only the platform's stacks, only tenants' stacks, or only the delivery pipelines",
    )
    p.add_argument(
        "--output", default="cdk.out", help="assembly directory, replaced only on success (default: %(default)s)"
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON (progress still goes to stderr)")
    p.add_argument(
        "--jobs", type=_positive, default=0, help="worker processes, one jsii runtime each (default: the CPU count)"
    )
    p.add_argument(
        "--no-cache", action="store_true", help="rebuild every unit, ignoring cached results (they are still refreshed)"
    )
    p.add_argument(
        "--cache-dir", type=Path, help="unit cache (default: $AGENTZONE_CACHE_DIR, else .agentzone-cache here)"
    )
    p.set_defaults(func=cmd_synth)

    p = _with_config(sub.add_parser("shards", help="CI matrix entries covering every stack exactly once"))
    p.add_argument("--json", action="store_true", help="one JSON array, for a GitHub Actions matrix")
    p.set_defaults(func=cmd_shards)

    p = _with_config(
        sub.add_parser(
            "diagram", help="draw the landing zone from config: accounts, stacks, blueprints, cross-account links"
        )
    )
    p.add_argument(
        "--output", "-o", default="agentzone.svg", help="file to write; .svg, .png or .dot (default: %(default)s)"
    )
    p.add_argument("--format", choices=["svg", "png", "dot"], help="override the format the file name implies")
    p.set_defaults(func=cmd_diagram)


def _add_assembly_commands(sub: Subparsers) -> None:
    """guard and permissions: checks of a synthesized assembly."""
    p = sub.add_parser("guard", help="fail if a stateful resource would be removed or replaced between two assemblies")
    p.add_argument("old", help="assembly of the deployed version (e.g. main's cdk.out)")
    p.add_argument("new", help="assembly of the proposed change")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_guard)

    p = _with_config(
        sub.add_parser(
            "permissions",
            help="simulate the assembly's IAM offline: dead grants, designed and forbidden paths, cross-account names",
        )
    )
    p.add_argument("--cdk-out", default="cdk.out", help="synthesized assembly to check (default: %(default)s)")
    p.add_argument("--jobs", type=int, default=None, help="simulator processes (default: the core count, at most 4)")
    p.add_argument("--json", action="store_true", help="every grant failure, path and wiring problem as JSON")
    p.set_defaults(func=cmd_permissions)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentzone",
        description="AgentZone: multi-account landing zone for AI agents",
        epilog="exit codes (every command): 0 success; 1 a check failed or AWS refused; 2 bad input (config, "
        "arguments, credentials). `agentzone <command> --help` for each command; most take --json for "
        "machine-readable output.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_config_commands(sub)
    _add_synth_commands(sub)
    _add_assembly_commands(sub)
    # The AWS-facing commands (boto3 only) define their own arguments.
    for add_parser in (
        add_catalog_parser,
        add_tools_parser,
        add_killswitch_parser,
        add_eval_parser,
        add_release_parser,
        add_bootstrap_parser,
        add_deploy_plan_parser,
    ):
        add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
