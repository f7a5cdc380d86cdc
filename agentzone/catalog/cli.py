"""`agentzone catalog ...`: register, list, show and move catalog entries through approval.

Exit codes as for the rest of `agentzone`: 0 success; 1 the catalog refused
(immutable version, illegal transition, lineage, AWS error); 2 the input is
wrong (spec problems, bad reference or date, missing credentials, usage).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from .. import naming
from ..command import aws_error, aws_failure, aws_session, guarded, run_alone
from ..config import default_config_dir, load_landing_zone
from .spec import EntrySpec, load_specs
from .store import Catalog, CatalogError, Entry, InvalidRequest, Ref
from .tables import KINDS, STATES

PROG = "agentzone catalog"
REF_HELP = "NAME@VERSION or KIND/NAME@VERSION, e.g. tool/claims-lookup@1.2.0"

if TYPE_CHECKING:  # generic only in typeshed: subscripting it at runtime raises TypeError
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _fail(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _aws_message(exc: ClientError) -> tuple[str, int]:
    code, message = aws_error(exc)
    if code == "ResourceNotFoundException":
        return (
            f"{exc.operation_name}: catalog table not found ({message}); check --environment or --region and "
            "that the shared-services stack is deployed"
        ), 1
    if code in ("AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException"):
        return f"{exc.operation_name}: AWS refused the credentials in use ({code}): {message}", 1
    return aws_failure(exc)


_guarded = guarded(
    PROG,
    bad_input=(InvalidRequest,),
    refused=(CatalogError,),
    credentials_hint="sign in (e.g. aws sso login) or pass --profile",
    region_hint="no AWS region; pass --environment or --region, or set AWS_REGION",
    aws_message=_aws_message,
)


def _catalog(args: argparse.Namespace) -> Catalog:
    """Tables from --environment (shared-services account and region in the config), or explicit names/ARNs."""
    session = aws_session(args.profile)
    if args.environment:
        if args.region or args.model_table or args.component_table:
            raise InvalidRequest(
                "--environment locates the tables itself; "
                "do not combine it with --region, --model-table or --component-table"
            )
        lz = load_landing_zone(args.config_dir)
        env = lz.organization.environments.get(args.environment)
        if env is None:
            raise InvalidRequest(
                f"unknown environment {args.environment!r}; valid: {', '.join(lz.organization.environments)}"
            )
        return Catalog.for_account(env.shared_services, lz.region_of(env), session=session)
    return Catalog(
        args.model_table or naming.MODEL_CATALOG_TABLE,
        args.component_table or naming.COMPONENT_CATALOG_TABLE,
        session=session,
        region=args.region,
    )


def dependency_order(specs: list[EntrySpec]) -> list[EntrySpec]:
    """Specs registered together go in lineage order (a tool before the application that uses it)."""
    by_ref: dict[str, EntrySpec] = {}
    for spec in specs:
        by_ref.setdefault(str(spec), spec)
    done: set[int] = set()
    out: list[EntrySpec] = []

    def visit(spec: EntrySpec, path: set[int]) -> None:
        if id(spec) in done or id(spec) in path:
            return
        path.add(id(spec))
        for ref in spec.lineage:
            if str(ref) in by_ref:
                visit(by_ref[str(ref)], path)
        done.add(id(spec))
        out.append(spec)

    for spec in specs:
        visit(spec, set())
    return out


@_guarded
def cmd_register(args: argparse.Namespace) -> int:
    specs = load_specs(args.specs)  # every problem in every file, before anything is written
    catalog = _catalog(args)
    refused = 0
    for spec in dependency_order(specs):
        try:
            result = catalog.register(spec)
        except InvalidRequest:
            raise
        except CatalogError as exc:
            _fail(str(exc))
            refused += 1
            continue
        if result.created:
            print(f"registered {result.entry.ref} as draft ({result.entry.content_hash[:15]}…)")
        else:
            entry = result.entry
            print(f"{entry.ref} is already registered with identical content ({entry.state}); nothing changed")
    return 1 if refused else 0


def _row(entry: Entry) -> list[str]:
    return [entry.kind, entry.name, entry.version, entry.state, entry.spec.get("owner", "-"), entry.end_of_life]


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)


@_guarded
def cmd_list(args: argparse.Namespace) -> int:
    entries = _catalog(args).list(kind=args.kind, name=args.name, state=args.state)
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], indent=2))
    elif not entries:
        print("no catalog entries match")
    else:
        print(_table([["kind", "name", "version", "state", "owner", "end-of-life"], *map(_row, entries)]))
    return 0


@_guarded
def cmd_show(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    entry = catalog.get(args.ref)
    used_by = [e.ref for e in catalog.dependents(entry.ref)]
    if args.json:
        print(json.dumps({**entry.to_dict(), "used_by": used_by}, indent=2))
        return 0
    spec = entry.spec
    lines = [
        ("owner", spec["owner"]),
        ("description", spec["description"]),
        ("intended use", spec["intended_use"]),
        ("limitations", "; ".join(spec["limitations"])),
        (
            "consumption",
            f"{spec['consumption']} at {spec['endpoint']}"
            + (f" (deploy: {spec['deployment']})" if spec.get("deployment") else ""),
        ),
        ("lifecycle", f"{spec['lifecycle']['stage']}, end of life {entry.end_of_life}"),
        ("lineage", ", ".join(entry.lineage) or "-"),
        ("used by", ", ".join(used_by) or "-"),
        ("content hash", entry.content_hash),
        ("registered", f"{entry.registered_at} by {entry.registered_by}"),
    ]
    if entry.approved_by:
        lines.append(("approved", f"{entry.approved_at} by {entry.approved_by}"))
    if entry.deprecation:
        d = entry.deprecation
        lines.append(("deprecated", f"{d['at']} by {d['by']}: {d['reason']}"))
    print(f"{entry.ref}  {entry.state}")
    for label, value in lines:
        print(f"  {label + ':':<14}{value}")
    return 0


def _moved(entry: Entry) -> int:
    event = entry.history[-1]
    print(f"{entry.ref}: {event['from']} -> {event['to']}")
    return 0


@_guarded
def cmd_submit(args: argparse.Namespace) -> int:
    return _moved(_catalog(args).submit(args.ref))


@_guarded
def cmd_approve(args: argparse.Namespace) -> int:
    return _moved(_catalog(args).approve(args.ref))


@_guarded
def cmd_reject(args: argparse.Namespace) -> int:
    return _moved(_catalog(args).reject(args.ref, reason=args.reason))


@_guarded
def cmd_deprecate(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    entry = catalog.deprecate(args.ref, end_of_life=args.end_of_life, reason=args.reason)
    _moved(entry)
    still = [e.ref for e in catalog.dependents(entry.ref) if e.state != "deprecated"]
    if still:
        print(f"  still referenced by: {', '.join(still)}")
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2027-06-30") from None


def _ref(text: str) -> Ref:
    try:
        return Ref.parse(text)
    except InvalidRequest as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _location() -> argparse.ArgumentParser:
    """The options every command shares: where the catalog tables are and which AWS profile reaches them."""
    location = argparse.ArgumentParser(add_help=False)
    where = location.add_argument_group("where the catalogs are")
    where.add_argument(
        "--environment", help="platform environment; its shared-services account and region come from the config"
    )
    where.add_argument(
        "--config-dir",
        default=None,
        help=f"config tree for --environment (default: $AGENTZONE_CONFIG_DIR or {default_config_dir()})",
    )
    where.add_argument("--region", help="region of the tables (default: from the AWS configuration or the table ARNs)")
    where.add_argument("--model-table", help=f"model catalog table name or ARN (default: {naming.MODEL_CATALOG_TABLE})")
    where.add_argument(
        "--component-table", help=f"component catalog table name or ARN (default: {naming.COMPONENT_CATALOG_TABLE})"
    )
    where.add_argument("--profile", help="AWS profile to use")
    return location


def _add_entry_commands(commands: Subparsers, location: argparse.ArgumentParser) -> None:
    """register, list and show: write versions and read them back."""
    p = commands.add_parser(
        "register", parents=[location], help="register spec files as draft versions (lineage first)"
    )
    p.add_argument("specs", nargs="+", metavar="SPEC", help="YAML spec file(s)")
    p.set_defaults(func=cmd_register)

    p = commands.add_parser("list", parents=[location], help="list entries, sorted by kind, name and version")
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--state", choices=STATES)
    p.add_argument("--name", help="only versions of this name")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = commands.add_parser(
        "show", parents=[location], help="one version: spec, state, approvals, lineage and dependents"
    )
    p.add_argument("ref", metavar="REF", type=_ref, help=REF_HELP)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_show)


def _add_transitions(commands: Subparsers, location: argparse.ArgumentParser) -> None:
    """submit, approve, reject and deprecate: the moves through the approval states."""
    for name, func, text in (
        ("submit", cmd_submit, "ask for approval (draft -> pending)"),
        ("approve", cmd_approve, "approve (pending -> approved); needs another identity and an approved lineage"),
    ):
        p = commands.add_parser(name, parents=[location], help=text)
        p.add_argument("ref", metavar="REF", type=_ref, help=REF_HELP)
        p.set_defaults(func=func)

    p = commands.add_parser("reject", parents=[location], help="send back to the author (pending -> draft)")
    p.add_argument("ref", metavar="REF", type=_ref, help=REF_HELP)
    p.add_argument("--reason", required=True, help="what to fix")
    p.set_defaults(func=cmd_reject)

    p = commands.add_parser("deprecate", parents=[location], help="deprecate a version and set its end of life")
    p.add_argument("ref", metavar="REF", type=_ref, help=REF_HELP)
    p.add_argument(
        "--end-of-life",
        required=True,
        type=_date,
        metavar="YYYY-MM-DD",
        help="last supported day (not after the registered one)",
    )
    p.add_argument("--reason", required=True, help="why, and what to use instead")
    p.set_defaults(func=cmd_deprecate)


def add_parser(sub: Subparsers) -> None:
    """Add `catalog` and its commands to the `agentzone` subparsers."""
    parser = sub.add_parser(
        "catalog",
        help="model and component catalogs: register, list, show, submit, approve, reject, deprecate",
        description="Versions are immutable; entries move draft -> pending -> approved, and may be deprecated.",
    )
    commands = parser.add_subparsers(dest="catalog_command", required=True, metavar="COMMAND")
    location = _location()
    _add_entry_commands(commands, location)
    _add_transitions(commands, location)


def run(argv: list[str] | None = None) -> int:
    """`agentzone catalog` on its own: argv without the leading 'catalog'."""
    return run_alone("catalog", add_parser, argv)


if __name__ == "__main__":
    sys.exit(run())
