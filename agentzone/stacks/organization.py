"""The management account: organization-wide controls.

Budgets live here because only the payer account sees every linked account's
spend; a tenant cannot raise or delete its own budget.
"""

from __future__ import annotations

from aws_cdk import aws_budgets as budgets
from constructs import Construct

from ..config.model import LandingZone
from .base import AgentZoneStack, StackTarget


class OrganizationStack(AgentZoneStack):
    ROLE = "Organization"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, landing_zone: LandingZone) -> None:
        super().__init__(scope, construct_id, target=target, description="AgentZone organization: budgets and guardrails across accounts")
        for tenant in landing_zone.tenants:
            for env_name, env in tenant.environments.items():
                self._tenant_budget(tenant.tenant, env_name, env.account, tenant.budget, tenant.owner)

    def _tenant_budget(self, tenant: str, env_name: str, account: str, budget, owner: str) -> None:
        budgets.CfnBudget(
            self,
            f"Budget-{tenant}-{env_name}",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=f"agentzone-{tenant}-{env_name}",
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=budget.monthly_usd, unit="USD"),
                cost_filters={"LinkedAccount": [account]},
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        comparison_operator="GREATER_THAN",
                        notification_type="ACTUAL",
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[budgets.CfnBudget.SubscriberProperty(address=owner, subscription_type="EMAIL")],
                )
                for percent in sorted(budget.alert_at_percent)
            ],
        )
