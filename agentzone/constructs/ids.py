"""Checks of account and organization ids that constructs take as props (same rules as config)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..patterns import ACCOUNT_PATTERN, ORG_ID_PATTERN


def invalid_accounts(accounts: Iterable[object]) -> list:
    """The entries that are not 12-digit AWS account id strings, in input order."""
    return [a for a in accounts if not isinstance(a, str) or not re.fullmatch(ACCOUNT_PATTERN, a)]


def is_organization_id(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(ORG_ID_PATTERN, value) is not None
