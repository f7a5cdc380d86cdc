"""`agentzone release watch`: canary promotion with automatic rollback on alarm.

Config pins each runtime endpoint to a version per environment; a canary
release gives one endpoint a newer version than the others
(``endpoints: {PROD: 7, CANARY: 8}``). After the tenant pipeline deploys
that, it runs this watch: for ``--minutes`` it reads the canary endpoint's
alarms (the runtime blueprint's system-error, throttle and latency alarms).
If one fires, the canary endpoint is pointed back at the stable version and
the command exits 1, which stops the pipeline. If none fires, it exits 0;
promotion is then a one-line config change (``PROD: 8``), reviewed like any
other, so CloudFormation and the live endpoints never disagree for long.

Exit codes: 0 healthy (or nothing to watch), 1 rolled back or AWS refused,
2 bad input (unknown tenant/environment, credentials, region).
"""

from __future__ import annotations

import argparse
import time

import boto3

from ..command import aws_session, guarded, run_alone
from ..config import load_landing_zone
from .canary import Canary, ReleaseError, canaries

PROG = "agentzone release"


def alarm_prefix(canary: Canary) -> str:
    """How the runtime blueprint describes its per-endpoint alarms."""
    return f"AgentCore runtime {canary.runtime_name}, endpoint {canary.endpoint}:"


def firing_alarms(cloudwatch, canary: Canary) -> list[str]:
    prefix = alarm_prefix(canary)
    firing = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(StateValue="ALARM", AlarmTypes=["MetricAlarm"]):
        firing += [a["AlarmName"] for a in page["MetricAlarms"] if (a.get("AlarmDescription") or "").startswith(prefix)]
    return sorted(firing)


def runtime_id(control, name: str) -> str:
    for page in control.get_paginator("list_agent_runtimes").paginate():
        for runtime in page["agentRuntimes"]:
            if runtime["agentRuntimeName"] == name:
                return runtime["agentRuntimeId"]
    raise ReleaseError(f"no AgentCore runtime named {name} in this account and region; is the tenant's stack deployed?")


def rollback(control, canary: Canary) -> None:
    control.update_agent_runtime_endpoint(
        agentRuntimeId=runtime_id(control, canary.runtime_name),
        endpointName=canary.endpoint,
        agentRuntimeVersion=str(canary.stable_version),
        description=f"agentzone release watch: rolled back from {canary.version} after an alarm",
    )


def watch(
    found: list[Canary],
    *,
    session: boto3.Session,
    region: str | None,
    minutes: float,
    poll_seconds: float,
    log=print,
    clock=time.monotonic,
    sleep=time.sleep,
) -> int:
    cloudwatch = session.client("cloudwatch", region_name=region)
    control = session.client("bedrock-agentcore-control", region_name=region)
    deadline = clock() + minutes * 60
    for canary in found:
        log(
            f"watching {canary.agent} {canary.endpoint} (version {canary.version}; stable {canary.stable_endpoint} = "
            f"{canary.stable_version})"
        )
    while True:
        for canary in found:
            alarms = firing_alarms(cloudwatch, canary)
            if alarms:
                rollback(control, canary)
                log(
                    f"ROLLED BACK {canary.agent} {canary.endpoint} to version {canary.stable_version}: "
                    f"{', '.join(alarms)} in ALARM. "
                    f"Set {canary.endpoint}: {canary.stable_version} in the tenant's config to match."
                )
                return 1
        if clock() >= deadline:
            break
        sleep(poll_seconds)
    for canary in found:
        log(
            f"{canary.agent} {canary.endpoint} healthy for {minutes:g} minutes; promote with {canary.stable_endpoint}: "
            f"{canary.version} in config"
        )
    return 0


_guarded = guarded(
    PROG,
    bad_input=(ReleaseError,),
    refused=(),
    credentials_hint="sign in or pass --profile (the tenant account's delivery role)",
    region_hint="no AWS region; pass --region or set AWS_REGION",
)


@_guarded
def cmd_watch(args) -> int:
    found = canaries(load_landing_zone(args.config_dir), args.tenant, args.environment)
    if not found:
        print(f"{args.tenant} {args.environment}: no endpoint serves a newer version than the others; nothing to watch")
        return 0
    session = aws_session(args.profile)
    return watch(found, session=session, region=args.region, minutes=args.minutes, poll_seconds=args.poll_seconds)


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "release",
        help="canary releases: watch the canary endpoint and roll back on alarm",
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="release_command", required=True)
    p = commands.add_parser("watch", help="watch canary endpoints' alarms; roll back and exit 1 if one fires")
    p.add_argument("--config-dir", help="config directory (default: AGENTZONE_CONFIG_DIR or ./config)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--environment", required=True)
    p.add_argument("--minutes", type=float, default=30, help="how long the canary must stay healthy (default 30)")
    p.add_argument("--poll-seconds", type=float, default=60, help="time between alarm checks (default 60)")
    p.add_argument("--region", help="the tenant environment's region (default: from the AWS configuration)")
    p.add_argument("--profile", help="AWS profile with the tenant account's delivery role")
    p.set_defaults(func=cmd_watch)


def main(argv: list[str] | None = None) -> int:
    return run_alone("release", add_parser, argv)
