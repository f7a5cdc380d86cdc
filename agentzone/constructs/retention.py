"""Config speaks in days; CloudWatch Logs accepts only a fixed set of retention periods."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

_PERIODS = (
    (1, "ONE_DAY"),
    (3, "THREE_DAYS"),
    (5, "FIVE_DAYS"),
    (7, "ONE_WEEK"),
    (14, "TWO_WEEKS"),
    (30, "ONE_MONTH"),
    (60, "TWO_MONTHS"),
    (90, "THREE_MONTHS"),
    (120, "FOUR_MONTHS"),
    (150, "FIVE_MONTHS"),
    (180, "SIX_MONTHS"),
    (365, "ONE_YEAR"),
    (400, "THIRTEEN_MONTHS"),
    (545, "EIGHTEEN_MONTHS"),
    (731, "TWO_YEARS"),
    (1096, "THREE_YEARS"),
    (1827, "FIVE_YEARS"),
    (2192, "SIX_YEARS"),
    (2557, "SEVEN_YEARS"),
    (2922, "EIGHT_YEARS"),
    (3288, "NINE_YEARS"),
    (3653, "TEN_YEARS"),
)


def log_retention(days: int) -> logs.RetentionDays:
    """The shortest allowed period that keeps logs at least ``days`` (never shorter than asked)."""
    for period, name in _PERIODS:
        if period >= days:
            return getattr(logs.RetentionDays, name)
    return logs.RetentionDays.TEN_YEARS


def retained_log_group(
    scope: Construct,
    construct_id: str,
    *,
    encryption_key: kms.IKey,
    retention_days: int,
    log_group_name: str | None = None,
) -> logs.LogGroup:
    """A CMK-encrypted log group kept for ``retention_days`` (rounded up) and retained with its stack."""
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=log_group_name,
        encryption_key=encryption_key,
        retention=log_retention(retention_days),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
