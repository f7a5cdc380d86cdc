"""Stack composition: which stacks the sample yields, where they deploy, and the selectors that pick a subset."""

from __future__ import annotations

import functools

import pytest

from agentzone.composition import Selection, SelectionError, compose
from agentzone.config import load_landing_zone

from .conftest import SAMPLE_CONFIG
from .support import new_app

ENVIRONMENTS = ("dev", "staging", "prod")
PLATFORM = [
    f"AgentZone-{role}-{env}" for env in ENVIRONMENTS for role in ("SharedServices", "Logging", "Security", "DataLake")
]
TENANTS = [f"AgentZone-{t}-{env}" for t in ("claims", "fraud") for env in ("dev", "staging", "prod")]
GOVERNANCE = [f"AgentZone-{t}-governance" for t in ("claims", "fraud")]
SERVICES = [f"AgentZone-{t}-{env}-services" for t in ("claims", "fraud") for env in ("dev", "staging", "prod")]
DATA = [f"AgentZone-{t}-{env}-data" for t in ("claims", "fraud") for env in ("dev", "staging", "prod")]
# A tenant's read-only role and dashboard (logging account) and its OAuth2 client (security account).
OBSERVABILITY = [f"AgentZone-{t}-{env}-observability" for t in ("claims", "fraud") for env in ENVIRONMENTS]
IDENTITY = [f"AgentZone-{t}-{env}-identity" for t in ("claims", "fraud") for env in ENVIRONMENTS]
TENANT_STACKS = TENANTS + GOVERNANCE + SERVICES + DATA + OBSERVABILITY + IDENTITY


@functools.cache
def _composed(selection: Selection) -> tuple[str, ...]:
    app = new_app()
    return tuple(s.stack_name for s in compose(app, load_landing_zone(SAMPLE_CONFIG), selection))


def stack_names(selection: Selection) -> list[str]:
    """The stacks compose() creates for a selection: each selection is composed once per run (the shards are
    selections the other tests compose too). A selection compose() rejects is not cached: it raises every time."""
    return list(_composed(selection))


def test_every_account_gets_its_stack(sample_assembly):
    assert sorted(sample_assembly.templates) == sorted(
        ["AgentZone-Bootstrap", "AgentZone-Organization", *PLATFORM, *TENANT_STACKS]
    )
    envs = sample_assembly.environments
    assert envs["AgentZone-Organization"] == envs["AgentZone-fraud-governance"] == "aws://100000000000/eu-west-1"
    assert envs["AgentZone-Bootstrap"] == "aws://100000000000/eu-west-1"
    assert envs["AgentZone-Logging-staging"] == "aws://100000000022/eu-west-1"
    assert envs["AgentZone-claims-prod"] == "aws://333333333333/eu-west-1"
    assert envs["AgentZone-fraud-prod"] == "aws://666666666666/eu-central-1"
    # A tenant's share of shared services lives in the environment's shared-services account.
    assert (
        envs["AgentZone-fraud-prod-services"] == envs["AgentZone-SharedServices-prod"] == "aws://100000000031/eu-west-1"
    )
    # Its namespaces live in the environment's data lake account, beside the lake they import.
    assert envs["AgentZone-fraud-prod-data"] == envs["AgentZone-DataLake-prod"] == "aws://100000000034/eu-west-1"
    # Its reader and dashboard beside the archive and sink; its OAuth2 client beside the user pool.
    assert envs["AgentZone-fraud-prod-observability"] == envs["AgentZone-Logging-prod"]
    assert envs["AgentZone-fraud-prod-identity"] == envs["AgentZone-Security-prod"]


def test_prod_and_organization_stacks_have_termination_protection(sample_assembly):
    protected = {name for name, on in sample_assembly.termination_protection.items() if on}
    assert protected == {
        n
        for n in sample_assembly.templates
        if n.endswith(("-prod", "-prod-services", "-prod-data", "-prod-observability", "-prod-identity"))
    } | {"AgentZone-Bootstrap", "AgentZone-Organization", *GOVERNANCE}


@pytest.mark.parametrize(
    "selection,expected",
    [
        (Selection(environment="prod"), [n for n in PLATFORM + TENANT_STACKS if "-prod" in n]),
        (Selection(tenant="claims"), [n for n in TENANT_STACKS if "claims" in n]),
        (
            Selection(tenant="fraud", environment="dev"),
            [f"AgentZone-fraud-dev{suffix}" for suffix in ("", "-services", "-data", "-observability", "-identity")],
        ),
    ],
)
def test_context_selectors_synthesize_a_subset(selection, expected):
    assert sorted(stack_names(selection)) == sorted(expected)


@pytest.mark.parametrize(
    "selection,message",
    [
        (Selection(environment="qa"), "-c environment=qa: unknown environment; valid: dev, staging, prod"),
        (Selection(tenant="billing"), "-c tenant=billing: unknown tenant; valid: claims, fraud"),
    ],
)
def test_unknown_selectors_are_rejected(selection, message):
    with pytest.raises(SelectionError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        stack_names(selection)


def test_platform_only_selection_is_independent_of_tenants():
    assert sorted(stack_names(Selection(only="platform"))) == sorted(
        ["AgentZone-Bootstrap", "AgentZone-Organization", *PLATFORM]
    )
    assert sorted(stack_names(Selection(only="platform", environment="dev"))) == sorted(
        n for n in PLATFORM if n.endswith("-dev")
    )
    assert sorted(stack_names(Selection(only="tenants"))) == sorted(TENANT_STACKS)


def test_shards_cover_every_stack_exactly_once(sample_assembly):
    from agentzone.composition import shards

    covered = []
    for shard in shards(load_landing_zone(SAMPLE_CONFIG)):
        covered += stack_names(Selection(**shard["context"]))
    assert sorted(covered) == sorted(sample_assembly.templates)


def test_invalid_only_selector():
    with pytest.raises(SelectionError, match="valid values are platform, tenants"):
        stack_names(Selection(only="everything"))
