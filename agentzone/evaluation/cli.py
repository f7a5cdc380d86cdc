"""`agentzone eval ...`: the promotion gate CI calls, and approving a version as the baseline.

Exit codes as for the rest of `agentzone`: 0 pass / done; 1 the gate failed
(threshold miss or regression beyond the allowed drop) or the store refused;
2 the input is wrong or there is no result to gate (bad names, missing result or
table, missing credentials, usage).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError, PartialCredentialsError, ProfileNotFound

from . import record
from .store import EvaluationError, EvaluationStore, InvalidRequest, check_names

PROG = "agentzone eval"


def _fail(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _guarded(command):
    """Every user or AWS mistake becomes one clear message and an exit code, never a traceback."""

    @functools.wraps(command)
    def run(args) -> int:
        try:
            return command(args)
        except InvalidRequest as exc:
            _fail(str(exc))
            return 2
        except EvaluationError as exc:
            _fail(str(exc))
            return 1
        except (NoCredentialsError, PartialCredentialsError):
            _fail("no AWS credentials found; sign in (e.g. aws sso login) or pass --profile")
            return 2
        except NoRegionError:
            _fail("no AWS region; pass --region or set AWS_REGION")
            return 2
        except ProfileNotFound as exc:
            _fail(str(exc))
            return 2
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = error.get("Code", "Error"), error.get("Message", str(exc))
            if code == "ResourceNotFoundException":
                _fail(f"{exc.operation_name}: evaluation table not found ({message}); check --tenant, --environment, "
                      "--region, and that the tenant's stack with the eval_pipeline blueprint is deployed")
                return 2
            _fail(f"{exc.operation_name} failed: {code}: {message}")
            return 1
        except BotoCoreError as exc:
            _fail(f"AWS call failed: {exc}")
            return 1

    return run


def _store(args) -> EvaluationStore:
    check_names(args.agent, args.version)
    for label, value in (("tenant", args.tenant), ("environment", args.environment)):
        if not record.AGENT_PATTERN.match(value or ""):
            raise InvalidRequest(f"--{label} {value!r} is not a slug (lowercase letters, digits, '-')")
    session = boto3.Session(profile_name=args.profile) if args.profile else boto3.Session()
    table = args.table or record.table_name(args.tenant, args.environment)
    return EvaluationStore(table, session=session, region=args.region)


@_guarded
def cmd_gate(args) -> int:
    decision, stored = _store(args).gate(args.agent, args.version)
    if args.json:
        print(json.dumps({**decision.to_dict(), "evaluated_at": stored.get("evaluated_at"), "run": stored.get("run")}, indent=2))
    else:
        print(decision.report())
        if stored.get("evaluated_at"):
            print(f"  (evaluated {stored['evaluated_at']}, run {stored.get('run') or '-'})")
    return 0 if decision.passed else 1


@_guarded
def cmd_approve(args) -> int:
    store = _store(args)
    by = args.by
    if not by:
        session = boto3.Session(profile_name=args.profile) if args.profile else boto3.Session()
        by = session.client("sts", region_name=args.region).get_caller_identity()["Arn"]
    approved = store.approve(args.agent, args.version, by=by)
    print(f"{args.agent} version {args.version} is now the approved baseline ({approved['approved_at']} by {by})")
    return 0


def add_parser(sub) -> None:
    """Add `eval` and its commands to the `agentzone` subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    which = common.add_argument_group("which result")
    which.add_argument("--tenant", required=True, help="tenant slug, e.g. claims")
    which.add_argument("--environment", required=True, help="tenant environment, e.g. staging")
    which.add_argument("--agent", required=True, help="agent (runtime) name, e.g. triage")
    which.add_argument("--version", required=True, help="agent version evaluated, e.g. 7")
    where = common.add_argument_group("where the store is")
    where.add_argument("--table", help="evaluation table name or ARN (default: agentzone-<tenant>-evaluations-<environment>)")
    where.add_argument("--region", help="region of the table (default: from the AWS configuration)")
    where.add_argument("--profile", help="AWS profile to use (credentials for the tenant account)")

    parser = sub.add_parser(
        "eval",
        help="evaluation gate: pass/fail an agent version against thresholds and the approved baseline",
        description="Reads results the evaluation pipeline stored. Exit 0 pass, 1 gate failed, 2 bad input or no result.",
    )
    commands = parser.add_subparsers(dest="eval_command", required=True, metavar="COMMAND")

    p = commands.add_parser("gate", parents=[common], help="exit 0 if the version passes, 1 with a report if not")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_gate)

    p = commands.add_parser("approve", parents=[common], help="make a passing version the agent's baseline")
    p.add_argument("--by", help="who approves (default: the caller's ARN)")
    p.set_defaults(func=cmd_approve)


def run(argv: list[str] | None = None) -> int:
    """`agentzone eval` on its own: argv without the leading 'eval'."""
    parser = argparse.ArgumentParser(prog="agentzone")
    add_parser(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(["eval", *(sys.argv[1:] if argv is None else argv)])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(run())
