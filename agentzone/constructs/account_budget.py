"""Monthly cost budgets with e-mail alerts."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_budgets as budgets
from constructs import Construct


class AccountBudget(Construct):
    """Monthly COST budget with e-mail alerts at each percentage.

    In a member account it watches that account; in the management account,
    ``linked_accounts`` makes it watch a group (a tenant, a platform environment).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        limit_usd: float,
        alert_at_percent: Sequence[int],
        notify: Sequence[str],
        linked_accounts: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        subscribers = [
            budgets.CfnBudget.SubscriberProperty(address=a, subscription_type="EMAIL") for a in sorted(set(notify))
        ]
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=limit_usd, unit="USD"),
                cost_filters={"LinkedAccount": sorted(linked_accounts)} if linked_accounts else None,
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        comparison_operator="GREATER_THAN",
                        notification_type="ACTUAL",
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=subscribers,
                )
                for percent in sorted(alert_at_percent)
            ],
        )
