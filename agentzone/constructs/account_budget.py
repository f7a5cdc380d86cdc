"""Monthly cost budgets with e-mail alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_budgets as budgets
from constructs import Construct


@dataclass(frozen=True)
class AccountBudgetProps:
    """``limit_usd`` a month; an e-mail to every ``notify`` address when actual spend passes each
    ``alert_at_percent``. ``linked_accounts`` (management account only): the accounts the budget watches."""

    name: str
    limit_usd: float
    alert_at_percent: Sequence[int]
    notify: Sequence[str]
    linked_accounts: Sequence[str] = ()


class AccountBudget(Construct):
    """Monthly COST budget with e-mail alerts at each percentage.

    In a member account it watches that account; in the management account,
    ``linked_accounts`` makes it watch a group (a tenant, a platform environment).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: AccountBudgetProps) -> None:
        super().__init__(scope, construct_id)
        subscribers = [
            budgets.CfnBudget.SubscriberProperty(address=a, subscription_type="EMAIL")
            for a in sorted(set(props.notify))
        ]
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=props.name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=props.limit_usd, unit="USD"),
                cost_filters={"LinkedAccount": sorted(props.linked_accounts)} if props.linked_accounts else None,
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
                for percent in sorted(props.alert_at_percent)
            ],
        )
