"""Which part of the landing zone to synthesize, and the units it is built from. No aws-cdk-lib here.

The synth engine plans, hashes and schedules units in a process that never starts jsii; composition builds each
unit's stacks in the worker that synthesizes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config.model import LandingZone

if TYPE_CHECKING:
    import aws_cdk as cdk

GLOBAL_ENVIRONMENT = "global"
# config role -> the platform stack's ROLE (stacks.roles checks these against the stack classes at import)
PLATFORM_STACK_ROLES = {
    "shared_services": "SharedServices",
    "logging": "Logging",
    "security": "Security",
    "data_lake": "DataLake",
}


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


@dataclass(frozen=True)
class Unit:
    """A part of the landing zone that synthesizes on its own, from only the config it reads.

    ``organization``: the management account's stack (reads no tenant); ``platform``: one environment's
    platform accounts (read every tenant of that environment); ``tenant``: one tenant's stacks in every
    account (reads only its own file), limited to one environment when ``environment`` is set;
    ``pipelines``: every delivery pipeline.
    """

    kind: str
    name: str = ""
    environment: str | None = None

    @property
    def label(self) -> str:
        parts = [self.kind, self.name, self.environment or ""]
        return "-".join(p for p in parts if p)


def units(lz: LandingZone, selection: Selection | None = None) -> list[Unit]:
    """The units a selection covers, in composition (and manifest) order."""
    selection = selection or Selection()
    selection.check(lz)
    if selection.only == "pipelines":
        return [Unit("pipelines")]
    out: list[Unit] = []
    if selection.tenant is None and selection.only != "tenants":
        if selection.environment is None:
            out.append(Unit("organization"))
        out += [Unit("platform", env) for env in lz.organization.environments if selection.environment in (None, env)]
    if selection.only != "platform":
        out += [
            Unit("tenant", t.tenant, selection.environment)
            for t in lz.tenants  # already sorted by name
            if selection.tenant in (None, t.tenant)
        ]
    return out


def unit_landing_zone(lz: LandingZone, unit: Unit) -> LandingZone:
    """The part of the config a unit may read: a tenant unit never sees another tenant's file."""
    if unit.kind == "organization":
        return lz.model_copy(update={"tenants": ()})
    if unit.kind == "tenant":
        return lz.model_copy(update={"tenants": (lz.tenant(unit.name),)})
    return lz


def platform_dependencies(lz: LandingZone, unit: Unit) -> dict[str, list[str]]:
    """Tenant stack -> the platform stacks it deploys after (names only, so units can declare them).

    Its gateway team is created by the admin function in SharedServices; its data stack imports the lake's zones.
    """
    if unit.kind != "tenant":
        return {}
    tenant = lz.tenant(unit.name)
    out: dict[str, list[str]] = {}
    for env_name in lz.organization.environments:
        if env_name not in tenant.environments or unit.environment not in (None, env_name):
            continue
        out[stack_name("TenantServices", f"{env_name}-services", tenant.tenant)] = [
            stack_name(PLATFORM_STACK_ROLES["shared_services"], env_name)
        ]
        if tenant.data.namespaces:
            out[stack_name("TenantData", f"{env_name}-data", tenant.tenant)] = [
                stack_name(PLATFORM_STACK_ROLES["data_lake"], env_name)
            ]
    return out
