"""Config → stacks: one stack per platform role per environment, one per tenant per environment."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk

from .config.model import LandingZone
from .nag import add_rule_packs
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

PROJECT_ROOT = Path(__file__).resolve().parents[1]
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
    def from_context(cls, app: cdk.App) -> "Selection":
        return cls(
            environment=app.node.try_get_context("environment") or None,
            tenant=app.node.try_get_context("tenant") or None,
            only=app.node.try_get_context("only") or None,
        )

    def as_context(self) -> dict[str, str]:
        return {k: v for k, v in (("environment", self.environment), ("tenant", self.tenant), ("only", self.only)) if v}

    def check(self, lz: LandingZone) -> None:
        if self.only not in (None, "platform", "tenants"):
            raise SelectionError(f"-c only={self.only}: valid values are platform, tenants")
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


def compose(app: cdk.App, lz: LandingZone, selection: Selection | None = None) -> list[AgentZoneStack]:
    """Add the selected stacks to the app and register the nag packs. Deterministic in every input order."""
    selection = selection or Selection()
    selection.check(lz)
    org = lz.organization
    # The SCPs exempt this qualifier's CloudFormation execution role, so every stack must deploy through it.
    app.node.set_context("@aws-cdk/core:bootstrapQualifier", org.guardrails.bootstrap_qualifier)
    stacks: list[AgentZoneStack] = []
    shared_services: dict[str, AgentZoneStack] = {}
    data_lakes: dict[str, AgentZoneStack] = {}

    def platform_target(environment: str, account: str, region: str) -> StackTarget:
        return StackTarget(environment, account, region, org.platform.owner, org.platform.cost_center, PLATFORM_USE_CASE)

    if selection.tenant is None and selection.only != "tenants":
        if selection.environment is None:
            target = platform_target(GLOBAL_ENVIRONMENT, org.management_account, org.home_region)
            stacks.append(OrganizationStack(app, stack_name("Organization"), target=target, lz=lz))
        for env_name, env in org.environments.items():
            if selection.environment not in (None, env_name):
                continue
            for role, stack_cls in PLATFORM_STACKS.items():
                target = platform_target(env_name, getattr(env, role), lz.region_of(env))
                stack = stack_cls(app, stack_name(stack_cls.ROLE, env_name), target=target, lz=lz)
                stacks.append(stack)
                if role == "shared_services":
                    shared_services[env_name] = stack
                if role == "data_lake":
                    data_lakes[env_name] = stack

    for tenant in lz.tenants:  # already sorted by name
        if selection.only == "platform" or selection.tenant not in (None, tenant.tenant):
            continue
        if selection.environment is None:
            target = StackTarget(GLOBAL_ENVIRONMENT, org.management_account, org.home_region, tenant.owner, tenant.cost_center, tenant.use_case_id)
            name = stack_name("Governance", "governance", tenant.tenant)
            stacks.append(TenantGovernanceStack(app, name, target=target, tenant=tenant, lz=lz))
        for env_name in org.environments:  # platform promotion order
            env = tenant.environments.get(env_name)
            if env is None or selection.environment not in (None, env_name):
                continue
            platform_env = org.environments[env_name]
            target = StackTarget(env_name, platform_env.shared_services, lz.region_of(platform_env), tenant.owner, tenant.cost_center, tenant.use_case_id)
            name = stack_name("TenantServices", f"{env_name}-services", tenant.tenant)
            services = TenantServicesStack(app, name, target=target, tenant=tenant, lz=lz)
            if env_name in shared_services:  # its team is created by the gateway admin function there
                services.add_stack_dependency(shared_services[env_name])
            stacks.append(services)
            if tenant.data.namespaces:
                target = StackTarget(env_name, platform_env.data_lake, lz.region_of(platform_env), tenant.owner, tenant.cost_center, tenant.use_case_id)
                data = TenantDataStack(app, stack_name("TenantData", f"{env_name}-data", tenant.tenant), target=target, tenant=tenant, lz=lz)
                if env_name in data_lakes:  # imports its zones; Lake Formation tags and settings must exist first
                    data.add_stack_dependency(data_lakes[env_name])
                stacks.append(data)
            target = StackTarget(env_name, env.account, lz.region_of(env), tenant.owner, tenant.cost_center, tenant.use_case_id)
            stacks.append(UseCaseStack(app, stack_name("UseCase", env_name, tenant.tenant), target=target, tenant=tenant, lz=lz))

    add_rule_packs(app, org.nag)
    return stacks
