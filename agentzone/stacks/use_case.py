"""One tenant's account in one environment: the baseline plus the blueprints it selected."""

from __future__ import annotations

from constructs import Construct

from ..blueprints import vend_blueprints
from ..constructs import AccountBudget, BedrockInvocationLogging
from ..config.model import LandingZone, Tenant
from .base import AgentZoneStack, StackTarget


class UseCaseStack(AgentZoneStack):
    ROLE = "UseCase"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, tenant: Tenant, lz: LandingZone) -> None:
        super().__init__(
            scope,
            construct_id,
            target=target,
            description=f"AgentZone use case {tenant.tenant} ({target.environment}): baseline and blueprints",
            tenant=tenant.tenant,
        )
        self.tenant = tenant
        self.agent_data = self.secure_bucket("AgentData")
        self.budget = AccountBudget(
            self,
            "Budget",
            name=f"agentzone-{tenant.tenant}-{target.environment}",
            limit_usd=tenant.budget.monthly_usd,
            alert_at_percent=tenant.budget.alert_at_percent,
            notify=[tenant.owner],
        )
        self.observability = self.link_observability(lz, transaction_search=True)
        logging_env = lz.organization.environments[target.environment]
        self.invocation_logging = BedrockInvocationLogging(
            self,
            "BedrockInvocationLogging",
            encryption_key=self.key,
            access_logs=self.access_logs,
            archive_account=logging_env.logging,
            archive_region=lz.region_of(logging_env),
            log_retention_days=lz.organization.observability.log_retention_days,
        )
        self.blueprints = vend_blueprints(self, tenant=tenant, environment=target.environment, encryption_key=self.key)
