"""Config → stacks: one stack per platform role per environment, one per tenant per environment."""

from __future__ import annotations

import json
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct

from .config.model import LandingZone, Tenant
from .nag import add_rule_packs
from .project import PROJECT_ROOT
from .stacks import (
    PLATFORM_STACKS,
    AgentZoneStack,
    OrganizationStack,
    StackTarget,
    TenantDataStack,
    TenantGovernanceStack,
    TenantServicesStack,
    UseCaseStack,
)
from .stacks.base import PLATFORM_USE_CASE
from .stacks.pipelines import StageStacks, pipeline_stacks

GLOBAL_ENVIRONMENT = "global"


class SelectionError(ValueError):
    """A context selector (-c environment=..., -c tenant=...) names nothing that exists."""


@dataclass(frozen=True)
class Selection:
    """Which part of the landing zone to synthesize; empty means all of it."""

    environment: str | None = None
    tenant: str | None = None
    only: str | None = None  # "platform" or "tenants"

    @classmethod
    def from_context(cls, app: cdk.App) -> Selection:
        return cls(
            environment=app.node.try_get_context("environment") or None,
            tenant=app.node.try_get_context("tenant") or None,
            only=app.node.try_get_context("only") or None,
        )

    def as_context(self) -> dict[str, str]:
        return {k: v for k, v in (("environment", self.environment), ("tenant", self.tenant), ("only", self.only)) if v}

    def check(self, lz: LandingZone) -> None:
        if self.only not in (None, "platform", "tenants", "pipelines"):
            raise SelectionError(f"-c only={self.only}: valid values are platform, tenants, pipelines")
        if self.only == "pipelines" and (self.tenant or self.environment):
            raise SelectionError(
                "-c only=pipelines synthesizes every pipeline; it cannot be combined with -c tenant or -c environment"
            )
        if self.only == "pipelines" and lz.organization.delivery is None:
            raise SelectionError("-c only=pipelines: organization.yaml has no delivery: section")
        if self.only == "platform" and self.tenant:
            raise SelectionError(f"-c only=platform cannot be combined with -c tenant={self.tenant}")
        envs = list(lz.organization.environments)
        tenants = [t.tenant for t in lz.tenants]
        if self.environment and self.environment not in envs:
            raise SelectionError(f"-c environment={self.environment}: unknown environment; valid: {', '.join(envs)}")
        if self.tenant and self.tenant not in tenants:
            raise SelectionError(f"-c tenant={self.tenant}: unknown tenant; valid: {', '.join(tenants) or '(none)'}")
        if self.tenant and self.environment and self.environment not in lz.tenant(self.tenant).environments:
            have = ", ".join(lz.tenant(self.tenant).environments)
            raise SelectionError(f"tenant {self.tenant} has no {self.environment} environment; it has: {have}")


def shards(lz: LandingZone) -> list[dict]:
    """CI matrix entries that together cover every stack exactly once.

    One for the platform (its size does not grow with tenants), one per tenant.
    """
    out = [{"name": "platform", "context": Selection(only="platform").as_context()}]
    out += [{"name": f"tenant-{t.tenant}", "context": Selection(tenant=t.tenant).as_context()} for t in lz.tenants]
    return out


def stack_name(role: str, environment: str | None = None, tenant: str | None = None) -> str:
    """Stable stack ids: renaming one would make CloudFormation create a new stack."""
    parts = ["AgentZone", tenant or role]
    if environment:
        parts.append(environment)
    return "-".join(parts)


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


def organization_stack(scope: Construct, lz: LandingZone) -> OrganizationStack:
    org = lz.organization
    return OrganizationStack(
        scope,
        stack_name("Organization"),
        target=platform_target(lz, GLOBAL_ENVIRONMENT, org.management_account, org.home_region),
        lz=lz,
    )


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


def tenant_environment_stacks(
    scope: Construct, lz: LandingZone, tenant: Tenant, env_name: str
) -> dict[str, AgentZoneStack]:
    """A tenant's stacks in one environment: its share of shared services and the data lake, and its account."""
    platform_env = lz.organization.environments[env_name]
    platform_region = lz.region_of(platform_env)
    env = tenant.environments[env_name]
    out: dict[str, AgentZoneStack] = {}
    out["services"] = TenantServicesStack(
        scope,
        stack_name("TenantServices", f"{env_name}-services", tenant.tenant),
        target=tenant_target(lz, tenant, env_name, platform_env.shared_services, platform_region),
        tenant=tenant,
        lz=lz,
    )
    if tenant.data.namespaces:
        out["data"] = TenantDataStack(
            scope,
            stack_name("TenantData", f"{env_name}-data", tenant.tenant),
            target=tenant_target(lz, tenant, env_name, platform_env.data_lake, platform_region),
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


def compose(app: cdk.App, lz: LandingZone, selection: Selection | None = None) -> list[AgentZoneStack]:
    """Add the selected stacks to the app and register the nag packs. Deterministic in every input order."""
    selection = selection or Selection()
    selection.check(lz)
    org = lz.organization
    # The SCPs exempt this qualifier's CloudFormation execution role, so every stack must deploy through it.
    app.node.set_context("@aws-cdk/core:bootstrapQualifier", org.guardrails.bootstrap_qualifier)
    stacks: list[AgentZoneStack] = []
    if selection.only == "pipelines":
        stages = StageStacks(
            organization_stack, platform_stack, tuple(PLATFORM_STACKS), governance_stack, tenant_environment_stacks
        )
        stacks += pipeline_stacks(app, lz, stages)
        add_rule_packs(app, org.nag)
        return stacks
    platform: dict[tuple[str, str], AgentZoneStack] = {}

    if selection.tenant is None and selection.only != "tenants":
        if selection.environment is None:
            stacks.append(organization_stack(app, lz))
        for env_name in org.environments:
            if selection.environment not in (None, env_name):
                continue
            for role in PLATFORM_STACKS:
                platform[(env_name, role)] = platform_stack(app, lz, env_name, role)
                stacks.append(platform[(env_name, role)])

    for tenant in lz.tenants:  # already sorted by name
        if selection.only == "platform" or selection.tenant not in (None, tenant.tenant):
            continue
        if selection.environment is None:
            stacks.append(governance_stack(app, lz, tenant))
        for env_name in org.environments:  # platform promotion order
            if env_name not in tenant.environments or selection.environment not in (None, env_name):
                continue
            tenant_stacks = tenant_environment_stacks(app, lz, tenant, env_name)
            # Its gateway team is created by the admin function in SharedServices;
            # its data stack imports the lake's zones.
            for kind, role in (("services", "shared_services"), ("data", "data_lake")):
                if kind in tenant_stacks and (env_name, role) in platform:
                    tenant_stacks[kind].add_stack_dependency(platform[(env_name, role)])
            stacks += tenant_stacks.values()

    add_rule_packs(app, org.nag)
    return stacks
