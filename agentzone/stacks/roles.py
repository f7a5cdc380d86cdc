"""The platform account roles in one table: the stack each role's account gets and what people call it.

``config.model.PLATFORM_ROLES`` names the roles, because config validation never imports aws-cdk-lib and so
cannot hold stack classes. This table must list exactly those roles, in that order (composition creates the
stacks in it); importing this module checks that, so a role added on one side only fails at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from constructs import Construct

from ..config.model import PLATFORM_ROLES, LandingZone
from ..units import PLATFORM_STACK_ROLES
from .base import AgentZoneStack, StackTarget
from .data_lake import DataLakeStack
from .logging import LoggingStack
from .platform import SharedServicesStack
from .security import SecurityStack


class PlatformStackClass(Protocol):
    """What composition needs of a platform account's stack class."""

    ROLE: str

    def __call__(
        self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone
    ) -> AgentZoneStack: ...


@dataclass(frozen=True)
class PlatformRole:
    """One platform account of every environment."""

    name: str  # its key in organization.yaml environments.<env>, which holds the account id
    stack: PlatformStackClass  # the stack composition deploys to that account
    title: str  # how the diagram names the account


class UnknownPlatformRole(LookupError):
    """A role name that is not in the table (a programming error: config validation only knows the table's roles)."""


def _table(roles: Iterable[PlatformRole]) -> dict[str, PlatformRole]:
    return {role.name: role for role in roles}


PLATFORM_ACCOUNTS = _table(
    (
        PlatformRole("shared_services", SharedServicesStack, "Shared services"),
        PlatformRole("logging", LoggingStack, "Logging"),
        PlatformRole("security", SecurityStack, "Security"),
        PlatformRole("data_lake", DataLakeStack, "Data lake"),
    )
)
# What composition and the pipelines iterate: role -> stack class, in config order.
PLATFORM_STACKS = {name: role.stack for name, role in PLATFORM_ACCOUNTS.items()}


def check_roles(table: dict[str, PlatformRole], roles: tuple[str, ...]) -> None:
    """Raise unless ``table`` covers exactly the config's ``roles``, in the same order."""
    if tuple(table) != tuple(roles):
        raise RuntimeError(
            f"config.model.PLATFORM_ROLES is {roles}, but the platform role table in {__name__} lists "
            f"{tuple(table)}: a platform role needs both, in the same order"
        )


def check_stack_roles(table: dict[str, PlatformRole], names: dict[str, str]) -> None:
    """Raise unless ``units.PLATFORM_STACK_ROLES`` (what the engine names stacks by) matches each class's ROLE."""
    actual = {name: role.stack.ROLE for name, role in table.items()}
    if actual != names:
        raise RuntimeError(f"units.PLATFORM_STACK_ROLES is {names}, but the platform stack classes say {actual}")


def platform_role(name: str) -> PlatformRole:
    """The table's entry for ``name``; an unknown role raises instead of being mistaken for another."""
    try:
        return PLATFORM_ACCOUNTS[name]
    except KeyError:
        raise UnknownPlatformRole(
            f"unknown platform account role {name!r}: the roles are {', '.join(PLATFORM_ACCOUNTS)}"
        ) from None


check_roles(PLATFORM_ACCOUNTS, PLATFORM_ROLES)
check_stack_roles(PLATFORM_ACCOUNTS, PLATFORM_STACK_ROLES)
