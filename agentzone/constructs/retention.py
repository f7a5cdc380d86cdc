"""Config speaks in days; CloudWatch Logs accepts only a fixed set of retention periods."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

_PERIODS = (
    (1, "ONE_DAY"), (3, "THREE_DAYS"), (5, "FIVE_DAYS"), (7, "ONE_WEEK"), (14, "TWO_WEEKS"), (30, "ONE_MONTH"),
    (60, "TWO_MONTHS"), (90, "THREE_MONTHS"), (120, "FOUR_MONTHS"), (150, "FIVE_MONTHS"), (180, "SIX_MONTHS"),
    (365, "ONE_YEAR"), (400, "THIRTEEN_MONTHS"), (545, "EIGHTEEN_MONTHS"), (731, "TWO_YEARS"), (1096, "THREE_YEARS"),
    (1827, "FIVE_YEARS"), (2192, "SIX_YEARS"), (2557, "SEVEN_YEARS"), (2922, "EIGHT_YEARS"), (3288, "NINE_YEARS"),
    (3653, "TEN_YEARS"),
)


def log_retention(days: int) -> logs.RetentionDays:
    """The shortest allowed period that keeps logs at least ``days`` (never shorter than asked)."""
    for period, name in _PERIODS:
        if period >= days:
            return getattr(logs.RetentionDays, name)
    return logs.RetentionDays.TEN_YEARS
