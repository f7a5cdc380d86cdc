"""Typed configuration: what a platform team and each use-case team may write.

Field docstrings (``description=``) flow into the JSON Schema the sample YAML
files point at, so editors show them as hover help.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ACCOUNT_PATTERN = r"^\d{12}$"
SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
REGION_PATTERN = r"^[a-z]{2}(-gov)?-[a-z]+-\d$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
COST_CENTER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"
USE_CASE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"
MODEL_PATTERN = r"^([a-z]{2}\.)?[a-z0-9-]+\.[A-Za-z0-9.:_-]+$"
ENV_PATTERN = r"^[a-z][a-z0-9]{1,15}$"

AccountId = Annotated[str, StringConstraints(pattern=ACCOUNT_PATTERN), Field(description="12-digit AWS account id, quoted")]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Region = Annotated[str, StringConstraints(pattern=REGION_PATTERN), Field(description="AWS region code, e.g. eu-west-1")]
Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN)]
CostCenter = Annotated[str, StringConstraints(pattern=COST_CENTER_PATTERN)]
EnvName = Annotated[str, StringConstraints(pattern=ENV_PATTERN)]
ModelId = Annotated[str, StringConstraints(pattern=MODEL_PATTERN), Field(description="Bedrock model id, e.g. amazon.nova-lite-v1:0")]

PLATFORM_ROLES = ("shared_services", "logging", "security", "data_lake")


class Strict(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# ---------------------------------------------------------------- organization


class PlatformTeam(Strict):
    owner: Email = Field(description="Team mailbox that owns the platform accounts")
    cost_center: CostCenter = Field(description="Cost center the platform's spend is booked to")


class PlatformEnvironment(Strict):
    """The four platform accounts of one platform environment."""

    shared_services: AccountId
    logging: AccountId
    security: AccountId
    data_lake: AccountId
    region: Region | None = Field(None, description="Defaults to home_region")


class NagSettings(Strict):
    """Rule packs run on every synth; any unacknowledged error fails it."""

    aws_solutions: bool = Field(True, description="cdk-nag AwsSolutions pack")
    nist_800_53_r5: bool = Field(True, description="cdk-nag NIST 800-53 rev 5 pack")
    hipaa_security: bool = Field(True, description="cdk-nag HIPAA Security pack")
    pci_dss_321: bool = Field(True, description="cdk-nag PCI DSS 3.2.1 pack")


class Organization(Strict):
    organization: Slug = Field(description="Short name of the organization, used in resource names")
    home_region: Region
    allowed_regions: list[Region] = Field(min_length=1, description="Regions workloads may use; home_region must be one")
    management_account: AccountId
    platform: PlatformTeam
    environments: dict[EnvName, PlatformEnvironment] = Field(
        min_length=1, description="Platform environments in promotion order, e.g. dev, staging, prod"
    )
    nag: NagSettings = NagSettings()


# --------------------------------------------------------------------- tenants


class TenantEnvironment(Strict):
    account: AccountId
    region: Region | None = Field(None, description="Defaults to the organization's home_region")


class Budget(Strict):
    monthly_usd: float = Field(gt=0, le=10_000_000, description="Monthly spend budget per account, USD")
    session_usd: float | None = Field(None, gt=0, le=10_000, description="Cost ceiling for one agent session, USD")
    alert_at_percent: list[Annotated[int, Field(gt=0, le=200)]] = Field(
        default=[80, 100], min_length=1, description="Notify the owner at these percentages of the monthly budget"
    )


MemoryStrategyName = Literal["semantic", "summary", "user_preference", "episodic"]


class MemoryBlueprint(Strict):
    """AgentCore Memory: short-term events plus long-term extraction strategies."""

    expiry_days: int = Field(90, ge=7, le=365, description="Days raw events are kept (AgentCore allows 7-365)")
    strategies: list[MemoryStrategyName] = Field(
        default=["semantic", "summary"], min_length=1, description="Built-in long-term extraction strategies"
    )


class Blueprints(Strict):
    """Blueprints this tenant vends into each of its accounts."""

    memory: MemoryBlueprint | None = None


class Tenant(Strict):
    tenant: Slug = Field(description="Unique slug of the use-case team, e.g. claims")
    owner: Email = Field(description="Team mailbox; receives budget notifications")
    cost_center: CostCenter
    use_case_id: Annotated[str, StringConstraints(pattern=USE_CASE_PATTERN)] = Field(
        description="Use-case id used for cost allocation, e.g. UC-0042"
    )
    description: str | None = Field(None, max_length=256)
    environments: dict[EnvName, TenantEnvironment] = Field(
        min_length=1, description="One account per platform environment the tenant deploys to"
    )
    models: list[ModelId] = Field(min_length=1, description="Foundation models this tenant may call")
    budget: Budget
    blueprints: Blueprints = Blueprints()


class LandingZone(BaseModel):
    """The whole validated configuration, tenants sorted by name for deterministic synth."""

    model_config = ConfigDict(frozen=True)

    organization: Organization
    tenants: tuple[Tenant, ...]
    source_dir: str

    def region_of(self, env: PlatformEnvironment | TenantEnvironment) -> str:
        return env.region or self.organization.home_region

    def tenant(self, name: str) -> Tenant:
        for tenant in self.tenants:
            if tenant.tenant == name:
                return tenant
        raise KeyError(name)
