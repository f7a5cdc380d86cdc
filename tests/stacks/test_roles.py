"""The platform account roles table (stacks/roles.py): it must match the config's roles, and drives the stacks."""

from __future__ import annotations

import pytest

from agentzone.composition import Selection, compose
from agentzone.config import load_landing_zone
from agentzone.config.model import PLATFORM_ROLES
from agentzone.stacks import PLATFORM_ACCOUNTS, PLATFORM_STACKS, UnknownPlatformRole, platform_role
from agentzone.stacks.roles import check_roles

from ..conftest import SAMPLE_CONFIG
from ..support import new_app

ENVIRONMENTS = ("dev", "staging", "prod")
PLATFORM = [
    f"AgentZone-{role}-{env}" for env in ENVIRONMENTS for role in ("SharedServices", "Logging", "Security", "DataLake")
]


def test_the_platform_role_table_covers_exactly_the_config_roles_in_order():
    assert tuple(PLATFORM_ACCOUNTS) == PLATFORM_ROLES
    assert {name: role.stack for name, role in PLATFORM_ACCOUNTS.items()} == PLATFORM_STACKS
    names = [f"AgentZone-{PLATFORM_STACKS[role].ROLE}-{env}" for env in ENVIRONMENTS for role in PLATFORM_ROLES]
    assert names == PLATFORM


@pytest.mark.parametrize(
    "roles",
    [PLATFORM_ROLES[:-1], (*PLATFORM_ROLES, "delivery"), tuple(reversed(PLATFORM_ROLES))],
    ids=["missing-from-config", "missing-from-table", "other-order"],
)
def test_a_role_on_one_side_only_fails_the_check(roles):
    with pytest.raises(RuntimeError, match=r"config\.model\.PLATFORM_ROLES is .* a platform role needs both"):
        check_roles(PLATFORM_ACCOUNTS, roles)


def test_an_unknown_platform_role_is_an_error():
    with pytest.raises(UnknownPlatformRole, match=r"^unknown platform account role 'audit': the roles are shared_"):
        platform_role("audit")


def test_every_platform_account_but_logging_links_its_telemetry_to_the_sink():
    """What the diagram draws: an OAM link from each platform account except the one that holds the sink."""
    stacks = compose(new_app(), load_landing_zone(SAMPLE_CONFIG), Selection(only="platform", environment="dev"))
    linked = {s.ROLE for s in stacks if s.node.try_find_child("Observability") is not None}
    assert linked == {role.stack.ROLE for name, role in PLATFORM_ACCOUNTS.items() if name != "logging"}
