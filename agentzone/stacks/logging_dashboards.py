"""The logging account's dashboards: one per tenant (in its observability stack; its reader role may open it) and
one for the platform team (in the logging stack).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from .. import naming
from ..blueprints.audit import audit_metric
from ..config.model import LandingZone, Tenant
from ..constructs.observability import BEDROCK_INVOCATION_LOG_GROUP, SPANS_LOG_GROUP
from ..safety import audit

INVOCATIONS = BEDROCK_INVOCATION_LOG_GROUP
# The platform dashboard's graphs: Bedrock metric, Metrics Insights function (it has no percentiles), title.
PLATFORM_GRAPHS = (
    ("Invocations", "SUM", "Model invocations"),
    ("InvocationLatency", "MAX", "Model latency, slowest (ms)"),
    ("InputTokenCount", "SUM", "Input tokens"),
    ("OutputTokenCount", "SUM", "Output tokens"),
    ("InvocationThrottles", "SUM", "Throttles"),
    ("InvocationServerErrors", "SUM", "Server errors"),
    ("InvocationClientErrors", "SUM", "Client errors"),
)


@dataclass(frozen=True)
class _TenantLogs:
    """Logs Insights queries over one tenant account's log groups (seen through the environment's OAM sink)."""

    account: str
    region: str

    def query(
        self,
        title: str,
        group: str,
        lines: list[str],
        view: cloudwatch.LogQueryVisualizationType = cloudwatch.LogQueryVisualizationType.LINE,
    ) -> cloudwatch.LogQueryWidget:
        return cloudwatch.LogQueryWidget(
            title=title,
            log_group_names=[group],
            account_id=self.account,
            region=self.region,
            query_lines=lines,
            view=view,
            width=12,
            height=6,
        )

    def usage(self) -> list[cloudwatch.IWidget]:
        """Invocations, agent latency, tokens, errors and throttles."""
        return [
            self.query("Model invocations", INVOCATIONS, ["stats count(*) as invocations by bin(5m)"]),
            self.query(
                "Agent latency (ms)",
                SPANS_LOG_GROUP,
                [
                    "filter kind = 'SERVER'",
                    "stats avg(durationNano) / 1000000 as avg_ms, pct(durationNano, 90) / 1000000 as p90_ms by bin(5m)",
                ],
            ),
            self.query(
                "Tokens",
                INVOCATIONS,
                [
                    "stats sum(input.inputTokenCount) as input_tokens, sum(output.outputTokenCount) as output_tokens "
                    "by bin(1h)",
                ],
            ),
            self.query(
                "Errors and throttles",
                INVOCATIONS,
                [
                    "filter ispresent(errorCode)",
                    "stats count(*) as calls by errorCode",
                ],
                cloudwatch.LogQueryVisualizationType.TABLE,
            ),
        ]

    def cost(self, models: list[str], prices: Mapping[str, Sequence[float]]) -> list[cloudwatch.IWidget]:
        """Estimated daily cost per priced model, and a note naming the models without a price."""
        widgets: list[cloudwatch.IWidget] = []
        for model in models:
            if model in prices:
                p_in, p_out = prices[model]
                widgets.append(
                    self.query(
                        f"Estimated cost (USD/day): {model}",
                        INVOCATIONS,
                        [
                            f"filter modelId like '{model}'",
                            f"stats sum(input.inputTokenCount) * {p_in} / 1000 + "
                            f"sum(output.outputTokenCount) * {p_out} / 1000 as usd by bin(1d)",
                        ],
                        cloudwatch.LogQueryVisualizationType.BAR,
                    )
                )
        unpriced = [m for m in models if m not in prices]
        if unpriced:
            widgets.append(
                cloudwatch.TextWidget(
                    markdown="No price in organization.yaml model_prices for: " + ", ".join(unpriced),
                    width=24,
                    height=2,
                )
            )
        return widgets


def _audit_widget(tenant: str, environment: str, account: str, region: str) -> cloudwatch.GraphWidget:
    """The agents' audit counts (safety.audit), five-minute sums: near misses apart from failures and denials."""
    metrics = [
        audit_metric(tenant, environment, name, cdk.Duration.minutes(5), account=account, region=region)
        for name in audit.COUNT_METRICS
    ]
    return cloudwatch.GraphWidget(title="Agent tool calls: audit counts", left=metrics, width=24, height=6)


def tenant_dashboard(scope: Construct, lz: LandingZone, tenant: Tenant, environment: str) -> cloudwatch.Dashboard:
    """Logs Insights over the tenant's own log groups, so the reader role's log scoping governs what it shows."""
    env = tenant.environments[environment]
    logs = _TenantLogs(env.account, lz.region_of(env))
    widgets = logs.usage() + logs.cost(sorted(tenant.models), lz.organization.model_prices)
    widgets.append(_audit_widget(tenant.tenant, environment, env.account, lz.region_of(env)))
    dashboard = cloudwatch.Dashboard(
        scope,
        "Dashboard",
        dashboard_name=naming.tenant_dashboard(tenant.tenant, environment),
        default_interval=cdk.Duration.days(1),
    )
    dashboard.add_widgets(*widgets)
    return dashboard


def platform_dashboard(scope: Construct, environment: str) -> cloudwatch.Dashboard:
    """Every linked account's Bedrock metrics side by side, by account and model (operator only).

    Metrics Insights queries in the sink's account see every linked account, so the dashboard names no tenant
    and does not grow with them.
    """
    dashboard = cloudwatch.Dashboard(
        scope,
        "PlatformDashboard",
        dashboard_name=naming.platform_dashboard(environment),
        default_interval=cdk.Duration.days(1),
    )
    for metric_name, function, title in PLATFORM_GRAPHS:
        query = cloudwatch.MathExpression(
            expression=f'SELECT {function}({metric_name}) FROM SCHEMA("AWS/Bedrock", ModelId) '
            "GROUP BY AWS.AccountId, ModelId",
            period=cdk.Duration.minutes(5),
            # A dynamic label: each series keeps its own (its account and model); CDK would name them all alike.
            label="${LABEL}",
        )
        dashboard.add_widgets(cloudwatch.GraphWidget(title=title, left=[query], width=12, height=6))
    return dashboard
