"""`agentzone killswitch on|off|status --tenant T --environment E`: flip a tenant environment's kill switch.

Run with credentials for the tenant environment's account (the command checks
the account against the config). ``on`` sets the parameter, then attaches the
kill-switch deny policy to every role tagged ``agentzone:kill-switch=<T>/<E>``
(``--no-deny`` skips that: cooperative stop only); ``off`` detaches it from
every role it is attached to, then sets the parameter back.

Exit codes as for the rest of `agentzone`: 0 success; 1 AWS refused or the
stack is missing; 2 the input is wrong (unknown tenant or environment, wrong
account, missing credentials, usage).
"""

from __future__ import annotations

import argparse
import json
import sys

from ..command import aws_session, guarded, run_alone
from ..config import default_config_dir, load_landing_zone
from .killswitch import KillSwitchError, KillSwitchOperator, Status

PROG = "agentzone killswitch"


class InvalidRequest(Exception):
    pass


_guarded = guarded(
    PROG,
    bad_input=(InvalidRequest,),
    refused=(KillSwitchError,),
    credentials_hint="sign in to the tenant environment's account (e.g. aws sso login) or pass --profile",
)


def _operator(args) -> KillSwitchOperator:
    lz = load_landing_zone(args.config_dir)
    try:
        tenant = lz.tenant(args.tenant)
    except KeyError:
        raise InvalidRequest(
            f"unknown tenant {args.tenant!r}; valid: {', '.join(t.tenant for t in lz.tenants)}"
        ) from None
    env = tenant.environments.get(args.environment)
    if env is None:
        raise InvalidRequest(
            f"tenant {args.tenant} has no environment {args.environment!r}; valid: {', '.join(tenant.environments)}"
        )
    session = aws_session(args.profile)
    operator = KillSwitchOperator.for_session(session, args.tenant, args.environment, region=lz.region_of(env))
    account = operator.policy_arn.split(":")[4]
    if account != env.account:
        raise InvalidRequest(
            f"the credentials in use are for account {account}, "
            f"but {args.tenant} {args.environment} is account {env.account}"
        )
    return operator


def _print(status: Status, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "parameter": status.parameter,
                    "value": status.value,
                    "deny_policy": status.deny_policy_arn,
                    "denied_roles": list(status.denied_roles),
                },
                indent=2,
            )
        )
    else:
        print(status.render())


@_guarded
def cmd_on(args) -> int:
    _print(_operator(args).turn_on(deny=not args.no_deny), args.json)
    return 0


@_guarded
def cmd_off(args) -> int:
    _print(_operator(args).turn_off(), args.json)
    return 0


@_guarded
def cmd_status(args) -> int:
    _print(_operator(args).status(), args.json)
    return 0


def add_parser(sub) -> None:
    """Add `killswitch` and its commands to the `agentzone` subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("which kill switch")
    where.add_argument("--tenant", required=True, help="tenant slug, e.g. claims")
    where.add_argument("--environment", required=True, help="tenant environment, e.g. prod")
    where.add_argument(
        "--config-dir", default=None, help=f"config tree (default: $AGENTZONE_CONFIG_DIR or {default_config_dir()})"
    )
    where.add_argument("--profile", help="AWS profile for the tenant environment's account")
    where.add_argument("--json", action="store_true", help="machine-readable output")

    parser = sub.add_parser(
        "killswitch",
        help="stop (on) or release (off) a tenant environment's agents, or show the kill switch",
        description=(
            "Sets /agentzone/<tenant>/<environment>/kill-switch and attaches or detaches the kill-switch deny policy."
        ),
    )
    commands = parser.add_subparsers(dest="killswitch_command", required=True, metavar="COMMAND")
    p = commands.add_parser(
        "on", parents=[common], help="agents refuse their next step; IAM denies model and agent calls"
    )
    p.add_argument(
        "--no-deny", action="store_true", help="only set the parameter (cooperative stop), attach no deny policy"
    )
    p.set_defaults(func=cmd_on)
    p = commands.add_parser("off", parents=[common], help="detach the deny policy everywhere, then set the switch off")
    p.set_defaults(func=cmd_off)
    p = commands.add_parser(
        "status", parents=[common], help="the switch value and the roles the deny policy is attached to"
    )
    p.set_defaults(func=cmd_status)


def run(argv: list[str] | None = None) -> int:
    """`agentzone killswitch` on its own: argv without the leading 'killswitch'."""
    return run_alone("killswitch", add_parser, argv)


if __name__ == "__main__":
    sys.exit(run())
