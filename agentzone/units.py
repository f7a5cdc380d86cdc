"""Which part of the landing zone to synthesize, and the units it is built from. No aws-cdk-lib here.

The synth engine plans, hashes and schedules units in a process that never starts jsii; composition builds each
unit's stacks in the worker that synthesizes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config.model import LandingZone, Tenant

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


# What a platform environment's stacks read of each tenant: its accounts (policies list them), its models and gateway
# settings (the FM gateway's router), whether it uses experiment tracking, and its data namespaces (the lake's tags
# and feedback bus). Everything else of a tenant is its own units' business, so editing it rebuilds no platform unit.
PLATFORM_TENANT_FIELDS = ("tenant", "environments", "models", "fm_gateway", "experiment_tracking", "data")


class WithheldTenantField(RuntimeError):
    """A platform stack read a tenant field its unit's digest does not cover (a programming error)."""


class _Withheld:
    """Stands in for a tenant field platform units may not read: any use fails instead of going unhashed."""

    def __init__(self, field: str) -> None:
        object.__setattr__(self, "_field", field)

    def _refuse(self, *_args, **_kwargs):
        raise WithheldTenantField(
            f"platform stacks may not read tenant.{object.__getattribute__(self, '_field')}: add it to "
            "units.PLATFORM_TENANT_FIELDS so platform units hash it"
        )

    __getattr__ = __setattr__ = __iter__ = __len__ = __bool__ = __str__ = __format__ = __eq__ = __hash__ = _refuse
    __getitem__ = __contains__ = __repr__ = _refuse


def platform_view(tenant: Tenant) -> Tenant:
    """The tenant as a platform unit sees it: only PLATFORM_TENANT_FIELDS, every other field withheld."""
    withheld = {name: _Withheld(name) for name in type(tenant).model_fields if name not in PLATFORM_TENANT_FIELDS}
    return tenant.model_copy(update=withheld)


def platform_inputs(lz: LandingZone) -> list[dict]:
    """What a platform unit's digest covers of the tenants (besides the organization's files)."""
    return [t.model_dump(mode="json", include=set(PLATFORM_TENANT_FIELDS)) for t in lz.tenants]


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
    """The part of the config a unit may read: a tenant unit never sees another tenant's file, a platform unit sees
    only the tenant fields its digest covers."""
    if unit.kind == "organization":
        return lz.model_copy(update={"tenants": ()})
    if unit.kind == "tenant":
        return lz.model_copy(update={"tenants": (lz.tenant(unit.name),)})
    if unit.kind == "platform":
        return lz.model_copy(update={"tenants": tuple(platform_view(t) for t in lz.tenants)})
    return lz


def tenant_platform_stacks(tenant: Tenant) -> list[tuple[str, str]]:
    """A tenant's stacks in each environment's platform accounts, in composition order: (stack name suffix,
    platform account role). Every environment the tenant has gets them all; ``-data`` only with namespaces."""
    out = [("services", "shared_services")]
    if tenant.data.namespaces:
        out.append(("data", "data_lake"))
    return [*out, ("observability", "logging"), ("identity", "security")]


BOOTSTRAP_STACK = stack_name("Bootstrap")
ORGANIZATION_STACK = stack_name("Organization")


def platform_dependencies(lz: LandingZone, unit: Unit) -> dict[str, list[str]]:
    """Stack -> the stacks of other units it deploys after (names only, so units can declare them).

    - The Bootstrap stack comes first: it creates the OUs, places the platform accounts in them and bootstraps
      them (StackSet), and switches on RAM sharing with the organization. Every platform stack deploys after it.
    - The Organization stack's trail writes to the central environment's log archive (key and bucket); the
      central Security stack is the delegated administrator the Organization stack registers.
    - Within an environment: the Logging stack publishes the OAM sink every other account links to, the Security
      stack the user pool the shared tool gateway trusts (RAM-shared parameters).
    - A tenant's governance stack reads the workload OU ids the Bootstrap stack publishes, and places (and waits
      for the bootstrap of) the tenant's accounts, which its account stacks then deploy into.
    - A tenant's stacks in the platform accounts: its gateway team is created by the admin function in
      SharedServices; its data, observability and identity stacks import the lake's zones, the archive key and
      the user pool and credentials key by export.
    - A tenant's own account stack: its runtimes pull images from its ``-services`` repositories, its invocation
      log bucket replicates into the environment's log archive, and its feedback rule targets the lake's bus.
    """
    central = lz.organization.central_environment
    if unit.kind == "organization":
        return {ORGANIZATION_STACK: [BOOTSTRAP_STACK, stack_name(PLATFORM_STACK_ROLES["logging"], central)]}
    if unit.kind == "platform":
        return _platform_environment_dependencies(unit.name, central)
    return _tenant_dependencies(lz, unit) if unit.kind == "tenant" else {}


def _platform_environment_dependencies(env: str, central: str) -> dict[str, list[str]]:
    logging, security = (stack_name(PLATFORM_STACK_ROLES[r], env) for r in ("logging", "security"))
    out = {stack_name(PLATFORM_STACK_ROLES[role], env): [BOOTSTRAP_STACK] for role in PLATFORM_STACK_ROLES}
    for role in ("shared_services", "security", "data_lake"):
        out[stack_name(PLATFORM_STACK_ROLES[role], env)].append(logging)
    out[stack_name(PLATFORM_STACK_ROLES["shared_services"], env)].append(security)
    if env == central:
        out[security].append(ORGANIZATION_STACK)
    return out


def _tenant_dependencies(lz: LandingZone, unit: Unit) -> dict[str, list[str]]:
    tenant = lz.tenant(unit.name)
    governance = stack_name("Governance", "governance", tenant.tenant)
    out: dict[str, list[str]] = {governance: [BOOTSTRAP_STACK]}
    for env_name in lz.organization.environments:
        if env_name not in tenant.environments or unit.environment not in (None, env_name):
            continue
        for suffix, role in tenant_platform_stacks(tenant):
            out[stack_name("", f"{env_name}-{suffix}", tenant.tenant)] = [
                stack_name(PLATFORM_STACK_ROLES[role], env_name)
            ]
        out[stack_name("", env_name, tenant.tenant)] = [
            governance,
            stack_name("", f"{env_name}-services", tenant.tenant),
            *(stack_name(PLATFORM_STACK_ROLES[role], env_name) for role in ("logging", "data_lake")),
        ]
    return out
