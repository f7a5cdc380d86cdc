"""`agentzone tools validate|register`: check tool manifests and put them behind a gateway.

Exit codes follow the `agentzone` command: 0 done, 1 refused (a name conflict
on the gateway, or AWS said no), 2 the input is wrong (manifest problems,
unknown gateway, bad usage).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..config import ConfigError, load_landing_zone
from .manifest import load_manifests
from .register import RegistrationError, outcomes_json, register

OK, REFUSED, BAD_INPUT = 0, 1, 2


def _known_tenants(config_dir: str | None) -> tuple[set[str] | None, int]:
    """Tenant slugs from a config tree, so manifests naming an unknown tenant are caught."""
    if config_dir is None:
        return None, OK
    try:
        return {t.tenant for t in load_landing_zone(config_dir).tenants}, OK
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return None, BAD_INPUT


def _load(args):
    tenants, code = _known_tenants(args.config_dir)
    if code:
        return None, code
    loaded, problems = load_manifests([Path(p) for p in args.manifests], tenants)
    if problems:
        print(f"{len(problems)} manifest problem{'s' if len(problems) != 1 else ''}:", file=sys.stderr)
        for p in problems:
            print(f"  {p.render()}", file=sys.stderr)
        return None, BAD_INPUT
    return loaded, OK


def cmd_validate(args) -> int:
    loaded, code = _load(args)
    if loaded is None:
        return code
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "file": i.file,
                        "prefix": i.manifest.prefix,
                        "gateway": i.manifest.gateway,
                        "target": i.manifest.target_type,
                        "auth": i.manifest.auth_type,
                    }
                    for i in loaded
                ],
                indent=2,
            )
        )
    else:
        for i in loaded:
            print(
                f"{i.file}: valid ({i.manifest.target_type} target {i.manifest.prefix!r}, {i.manifest.gateway} gateway)"
            )
    return OK


def cmd_register(args) -> int:
    loaded, code = _load(args)
    if loaded is None:
        return code
    try:
        client = boto3.client("bedrock-agentcore-control", region_name=args.region)
        outcomes = register(
            client,
            loaded,
            gateway_id=args.gateway_id,
            gateway_name=args.gateway_name,
            dry_run=args.dry_run,
            update=args.update,
        )
    except RegistrationError as exc:
        print(f"agentzone tools: {exc}", file=sys.stderr)
        return BAD_INPUT
    except (ClientError, BotoCoreError) as exc:
        print(f"agentzone tools: AWS refused the request: {exc}", file=sys.stderr)
        return REFUSED
    conflicts = [o for o in outcomes if o.action == "conflict"]
    if args.json:
        print(outcomes_json(outcomes))
    else:
        for o in outcomes:
            print(o.render(), file=sys.stderr if o.action in ("conflict", "not-applied") else sys.stdout)
        if conflicts:
            print(f"{len(conflicts)} conflict(s): nothing registered", file=sys.stderr)
        elif args.dry_run:
            print("dry run: nothing changed")
    return REFUSED if conflicts else OK


def add_parser(sub) -> None:
    """Add `tools` (with `validate` and `register`) to the `agentzone` subcommands."""
    tools = sub.add_parser("tools", help="validate tool manifests and register them as AgentCore Gateway targets")
    verbs = tools.add_subparsers(dest="tools_command", required=True)

    def common(p):
        p.add_argument("manifests", nargs="+", metavar="MANIFEST", help="tool manifest YAML file(s)")
        p.add_argument(
            "--config-dir", default=None, help="also check that tenants named in manifests exist in this config tree"
        )
        p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    p = common(verbs.add_parser("validate", help="check manifests (prefix rules, uniqueness) without calling AWS"))
    p.set_defaults(func=cmd_validate)

    p = common(verbs.add_parser("register", help="create gateway targets from manifests, refusing name conflicts"))
    where = p.add_mutually_exclusive_group()
    where.add_argument("--gateway-id", help="gateway to register on")
    where.add_argument(
        "--gateway-name",
        help="gateway to register on, looked up by name (default: agentzone-shared-tools, or agentzone-<tenant>-tools)",
    )
    p.add_argument("--region", default=None, help="AWS region (default: from the AWS environment)")
    p.add_argument("--dry-run", action="store_true", help="show what would be created; change nothing")
    p.add_argument(
        "--update",
        action="store_true",
        help="update a same-named target whose configuration differs instead of refusing",
    )
    p.set_defaults(func=cmd_register)


def run(argv: list[str]) -> int:
    """`agentzone tools ...` without the rest of the command (tests, scripts)."""
    parser = argparse.ArgumentParser(prog="agentzone")
    add_parser(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage
        return int(exc.code or 0)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
