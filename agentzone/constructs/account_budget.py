"""A monthly cost budget for the account the stack deploys to."""

from __future__ import annotations

from aws_cdk import aws_budgets as budgets
from constructs import Construct

from ..config.model import Budget


class AccountBudget(Construct):
    """Monthly COST budget with e-mail alerts at each configured percentage.

    Lives in the account it watches, so it scales with tenants (no single
    stack grows per tenant) and a tenant's change never touches another stack.
    """

    def __init__(self, scope: Construct, construct_id: str, *, name: str, budget: Budget, notify: str) -> None:
        super().__init__(scope, construct_id)
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=budget.monthly_usd, unit="USD"),
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        comparison_operator="GREATER_THAN",
                        notification_type="ACTUAL",
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[budgets.CfnBudget.SubscriberProperty(address=notify, subscription_type="EMAIL")],
                )
                for percent in sorted(budget.alert_at_percent)
            ],
        )
