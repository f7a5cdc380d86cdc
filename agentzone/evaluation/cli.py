"""`agentzone eval ...`: the promotion gate CI calls, and approving a version as the baseline.

Exit codes as for the rest of `agentzone`: 0 pass / done; 1 the gate failed
(threshold miss or regression beyond the allowed drop) or the store refused;
2 the input is wrong or there is no result to gate (bad names, missing result or
table, missing credentials, usage).
"""

from __future__ import annotations

import argparse
import json
import sys

from botocore.exceptions import ClientError

from ..command import aws_error, aws_failure, aws_session, guarded, run_alone
from . import record
from .store import EvaluationError, EvaluationStore, InvalidRequest, check_names

PROG = "agentzone eval"


def _aws_message(exc: ClientError) -> tuple[str, int]:
    code, message = aws_error(exc)
    if code == "ResourceNotFoundException":
        return (
            f"{exc.operation_name}: evaluation table not found ({message}); check --tenant, --environment, "
            "--region, and that the tenant's stack with the eval_pipeline blueprint is deployed"
        ), 2
    return aws_failure(exc)


_guarded = guarded(
    PROG,
    bad_input=(InvalidRequest,),
    refused=(EvaluationError,),
    credentials_hint="sign in (e.g. aws sso login) or pass --profile",
    region_hint="no AWS region; pass --region or set AWS_REGION",
    aws_message=_aws_message,
)


def _store(args) -> EvaluationStore:
    check_names(args.agent, args.version)
    for label, value in (("tenant", args.tenant), ("environment", args.environment)):
        if not record.AGENT_PATTERN.match(value or ""):
            raise InvalidRequest(f"--{label} {value!r} is not a slug (lowercase letters, digits, '-')")
    session = aws_session(args.profile)
    table = args.table or record.table_name(args.tenant, args.environment)
    return EvaluationStore(table, session=session, region=args.region)


@_guarded
def cmd_gate(args) -> int:
    decision, stored = _store(args).gate(args.agent, args.version)
    if args.json:
        print(
            json.dumps(
                {**decision.to_dict(), "evaluated_at": stored.get("evaluated_at"), "run": stored.get("run")}, indent=2
            )
        )
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
        session = aws_session(args.profile)
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
    where.add_argument(
        "--table", help="evaluation table name or ARN (default: agentzone-<tenant>-evaluations-<environment>)"
    )
    where.add_argument("--region", help="region of the table (default: from the AWS configuration)")
    where.add_argument("--profile", help="AWS profile to use (credentials for the tenant account)")

    parser = sub.add_parser(
        "eval",
        help="evaluation gate: pass/fail an agent version against thresholds and the approved baseline",
        description=(
            "Reads results the evaluation pipeline stored. Exit 0 pass, 1 gate failed, 2 bad input or no result."
        ),
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
    return run_alone("eval", add_parser, argv)


if __name__ == "__main__":
    sys.exit(run())
