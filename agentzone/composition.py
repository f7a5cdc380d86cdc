"""Config → stacks: one stack per platform role per environment, one per tenant per environment."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Protocol

import aws_cdk as cdk
from constructs import Construct

from .config.model import LandingZone, Tenant
from .nag import add_rule_packs
from .project import PROJECT_ROOT
from .stacks import (
    PLATFORM_STACKS,
    AgentZoneStack,
    BootstrapStack,
    OrganizationStack,
    StackTarget,
    TenantDataStack,
    TenantGovernanceStack,
    TenantIdentityStack,
    TenantObservabilityStack,
    TenantServicesStack,
    UseCaseStack,
)
from .stacks.base import PLATFORM_USE_CASE, tag_cdk_providers
from .stacks.pipelines import StageStacks, pipeline_stacks
from .units import (
    GLOBAL_ENVIRONMENT,
    Selection,
    SelectionError,
    Unit,
    platform_dependencies,
    shards,
    stack_name,
    tenant_platform_stacks,
    unit_landing_zone,
    units,
)

# Selection and units live in .units (no aws-cdk-lib); they are re-exported for callers of composition.
__all__ = [
    "GLOBAL_ENVIRONMENT",
    "Selection",
    "SelectionError",
    "Unit",
    "compose",
    "compose_unit",
    "compose_units",
    "create_app",
    "prepare_app",
    "shards",
    "stack_name",
    "units",
]


def cdk_json_context() -> dict:
    """Feature flags frozen in cdk.json, so in-process synth (tests, benchmarks) matches the CLI."""
    return json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]


def create_app(outdir: str | None = None, context: dict | None = None) -> cdk.App:
    # The CLI disables creation-stack traces unless --debug; do the same in-process.
    merged = {**cdk_json_context(), "aws:cdk:disable-stack-trace": True, **(context or {})}
    return cdk.App(outdir=outdir, context=merged, analytics_reporting=False)


def platform_target(lz: LandingZone, environment: str, account: str, region: str) -> StackTarget:
    org = lz.organization
    return StackTarget(environment, account, region, org.platform.owner, org.platform.cost_center, PLATFORM_USE_CASE)


def tenant_target(lz: LandingZone, tenant: Tenant, environment: str, account: str, region: str) -> StackTarget:
    return StackTarget(environment, account, region, tenant.owner, tenant.cost_center, tenant.use_case_id)


def management_target(lz: LandingZone) -> StackTarget:
    """The management account's platform stacks: home region, no environment."""
    org = lz.organization
    return platform_target(lz, GLOBAL_ENVIRONMENT, org.management_account, org.home_region)


def bootstrap_stack(scope: Construct, lz: LandingZone) -> BootstrapStack:
    return BootstrapStack(scope, stack_name("Bootstrap"), target=management_target(lz), lz=lz)


def organization_stack(scope: Construct, lz: LandingZone) -> OrganizationStack:
    return OrganizationStack(scope, stack_name("Organization"), target=management_target(lz), lz=lz)


def platform_stack(scope: Construct, lz: LandingZone, env_name: str, role: str) -> AgentZoneStack:
    """One platform account's stack (``role`` is a PLATFORM_STACKS key)."""
    env = lz.organization.environments[env_name]
    stack_cls = PLATFORM_STACKS[role]
    target = platform_target(lz, env_name, getattr(env, role), lz.region_of(env))
    return stack_cls(scope, stack_name(stack_cls.ROLE, env_name), target=target, lz=lz)


def governance_stack(scope: Construct, lz: LandingZone, tenant: Tenant) -> TenantGovernanceStack:
    org = lz.organization
    target = tenant_target(lz, tenant, GLOBAL_ENVIRONMENT, org.management_account, org.home_region)
    return TenantGovernanceStack(
        scope, stack_name("Governance", "governance", tenant.tenant), target=target, tenant=tenant, lz=lz
    )


class TenantStackClass(Protocol):
    """What composition needs of a tenant's stack class in a platform account."""

    def __call__(
        self, scope: Construct, construct_id: str, *, target: StackTarget, tenant: Tenant, lz: LandingZone
    ) -> AgentZoneStack: ...


# The class of a tenant's stack in each platform account, by the suffix units.tenant_platform_stacks names.
TENANT_PLATFORM_STACKS: dict[str, TenantStackClass] = {
    "services": TenantServicesStack,
    "data": TenantDataStack,
    "observability": TenantObservabilityStack,
    "identity": TenantIdentityStack,
}


def tenant_environment_stacks(
    scope: Construct, lz: LandingZone, tenant: Tenant, env_name: str
) -> dict[str, AgentZoneStack]:
    """A tenant's stacks in one environment: its share of each platform account, and its own account."""
    platform_env = lz.organization.environments[env_name]
    platform_region = lz.region_of(platform_env)
    env = tenant.environments[env_name]
    out: dict[str, AgentZoneStack] = {}
    for suffix, role in tenant_platform_stacks(tenant):
        out[suffix] = TENANT_PLATFORM_STACKS[suffix](
            scope,
            stack_name("", f"{env_name}-{suffix}", tenant.tenant),
            target=tenant_target(lz, tenant, env_name, getattr(platform_env, role), platform_region),
            tenant=tenant,
            lz=lz,
        )
    out["use_case"] = UseCaseStack(
        scope,
        stack_name("UseCase", env_name, tenant.tenant),
        target=tenant_target(lz, tenant, env_name, env.account, lz.region_of(env)),
        tenant=tenant,
        lz=lz,
    )
    return out


def add_dependencies(stacks: Iterable[AgentZoneStack], dependencies: dict[str, list[str]]) -> None:
    """The deploy order ``units.platform_dependencies`` declares, between those of ``stacks`` it names."""
    by_name = {s.stack_name: s for s in stacks}
    for name, needs in dependencies.items():
        for need in needs:
            if name in by_name and need in by_name:
                by_name[name].add_stack_dependency(by_name[need])


def staged_tenant_environment(
    scope: Construct, lz: LandingZone, tenant: Tenant, env_name: str
) -> dict[str, AgentZoneStack]:
    """A pipeline stage's tenant environment, ordered within the stage by the same table as a synth."""
    stacks = tenant_environment_stacks(scope, lz, tenant, env_name)
    add_dependencies(stacks.values(), platform_dependencies(lz, Unit("tenant", tenant.tenant, env_name)))
    return stacks


def compose_unit(app: cdk.App, lz: LandingZone, unit: Unit) -> list[AgentZoneStack]:
    """Add one unit's stacks to the app (``lz`` is the whole config; the unit sees only its part)."""
    lz = unit_landing_zone(lz, unit)
    if unit.kind == "pipelines":
        stages = StageStacks(
            bootstrap_stack,
            organization_stack,
            platform_stack,
            tuple(PLATFORM_STACKS),
            governance_stack,
            staged_tenant_environment,
        )
        return list(pipeline_stacks(app, lz, stages))
    if unit.kind == "organization":
        return [bootstrap_stack(app, lz), organization_stack(app, lz)]
    if unit.kind == "platform":
        return [platform_stack(app, lz, unit.name, role) for role in PLATFORM_STACKS]
    tenant = lz.tenant(unit.name)
    stacks: list[AgentZoneStack] = []
    if unit.environment is None:
        stacks.append(governance_stack(app, lz, tenant))
    for env_name in lz.organization.environments:  # platform promotion order
        if env_name in tenant.environments and unit.environment in (None, env_name):
            stacks += tenant_environment_stacks(app, lz, tenant, env_name).values()
    return stacks


def prepare_app(app: cdk.App, lz: LandingZone) -> None:
    """What every app needs before its stacks: the bootstrap qualifier the SCPs exempt."""
    app.node.set_context("@aws-cdk/core:bootstrapQualifier", lz.organization.guardrails.bootstrap_qualifier)


def compose(app: cdk.App, lz: LandingZone, selection: Selection | None = None) -> list[AgentZoneStack]:
    """Add the selected stacks to the app and register the nag packs. Deterministic in every input order."""
    return compose_units(app, lz, units(lz, selection))


def compose_units(app: cdk.App, lz: LandingZone, selected: list[Unit]) -> list[AgentZoneStack]:
    """These units' stacks, the deploy order between them, and the nag packs (a synth worker passes one unit)."""
    prepare_app(app, lz)
    stacks: list[AgentZoneStack] = []
    dependencies: dict[str, list[str]] = {}
    for unit in selected:
        stacks += compose_unit(app, lz, unit)
        dependencies.update(platform_dependencies(lz, unit))
    add_dependencies(stacks, dependencies)
    tag_cdk_providers(app)
    add_rule_packs(app, lz.organization.nag)
    return stacks
