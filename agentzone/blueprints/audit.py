"""The tenant account's side of the agent audit records (:mod:`agentzone.safety.audit`): saved Logs Insights
queries over them and the runaway-loop alarm on their counts.

Agents print the records to their runtime logs; the queries carry no log groups (AgentCore names a runtime's
groups after ids it assigns), so they are run against the runtimes' ``/aws/bedrock-agentcore/runtimes/`` groups.
The alarm watches ``ToolCalls`` per minute and fires when two of three minutes reach the threshold: a loop that
keeps calling tools is reported within three minutes, inside the five the operations guidance allows.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from .. import naming
from ..safety import audit

RECORDS = f"record_type = '{audit.RECORD_TYPE}'"
# Saved queries: name -> the query (filtered to audit records first).
QUERIES: dict[str, logs.QueryString] = {
    "session-trace": logs.QueryString(
        fields=[
            "@timestamp",
            "session_id",
            "parent_trace_id",
            "agent_id",
            "tool_name",
            "tool_version",
            "policy_decision",
            "final_outcome",
            "latency_ms",
            "token_in",
            "token_out",
            "estimated_cost_usd",
            "human_override",
        ],
        filter_statements=[RECORDS],
        sort="@timestamp asc",
        limit=1000,
    ),
    "near-misses-and-failures-by-tool": logs.QueryString(
        filter_statements=[RECORDS],
        stats=f"sum({audit.NEAR_MISS_METRIC}) as near_misses, sum({audit.FAILURE_METRIC}) as failures, "
        f"sum({audit.DENIAL_METRIC}) as denials, count(*) as calls by agent_id, tool_name, tool_version",
        sort="near_misses desc",
    ),
    "cost-and-latency-by-agent": logs.QueryString(
        filter_statements=[RECORDS],
        stats="sum(estimated_cost_usd) as usd, sum(token_in) as tokens_in, sum(token_out) as tokens_out, "
        "pct(latency_ms, 95) as p95_ms by agent_id, bin(1h)",
    ),
    "human-overrides": logs.QueryString(
        fields=["@timestamp", "session_id", "agent_id", "tool_name", "policy_decision", "final_outcome"],
        filter_statements=[RECORDS, "human_override = 1"],
        sort="@timestamp desc",
    ),
}


@dataclass(frozen=True)
class AgentAuditProps:
    """``runaway_tool_calls_per_minute``: the tool calls per minute (all the account's agents) that mean a loop."""

    tenant: str
    environment: str
    runaway_tool_calls_per_minute: int
    alarm_topic: sns.ITopic | None = None


class AgentAudit(Construct):
    """Saved audit queries (``agentzone/<tenant>/<env>/audit/<name>``) and the ``RunawayLoop`` alarm."""

    def __init__(self, scope: Construct, construct_id: str, *, props: AgentAuditProps) -> None:
        super().__init__(scope, construct_id)
        if props.runaway_tool_calls_per_minute < 1:
            raise ValueError("runaway_tool_calls_per_minute must be at least 1")
        prefix = f"{naming.PREFIX}/{props.tenant}/{props.environment}/audit"
        self.queries = {
            name: logs.QueryDefinition(
                self, f"Query{naming.pascal(name)}", query_definition_name=f"{prefix}/{name}", query_string=query
            )
            for name, query in QUERIES.items()
        }
        self.runaway_loop = cloudwatch.Alarm(
            self,
            "RunawayLoop",
            metric=audit_metric(props.tenant, props.environment, audit.TOOL_CALLS_METRIC, cdk.Duration.minutes(1)),
            threshold=props.runaway_tool_calls_per_minute,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,  # no tool calls is not an incident
            alarm_description=f"AgentZone safety: {props.tenant} agents ({props.environment}) made "
            f"{props.runaway_tool_calls_per_minute}+ tool calls a minute in 2 of 3 minutes: a runaway loop? "
            f"Playbook: {naming.playbook_document(props.tenant, props.environment, 'RunawayLoop')}",
        )
        if props.alarm_topic is not None:
            self.runaway_loop.add_alarm_action(cw_actions.SnsAction(props.alarm_topic))


def audit_metric(
    tenant: str,
    environment: str,
    name: str,
    period: cdk.Duration,
    *,
    account: str | None = None,
    region: str | None = None,
) -> cloudwatch.Metric:
    """An audit count of one tenant environment (``account``/``region``: read from another account, over OAM)."""
    return cloudwatch.Metric(
        namespace=audit.NAMESPACE,
        metric_name=name,
        dimensions_map={"Tenant": tenant, "Environment": environment},
        statistic="Sum",
        period=period,
        account=account,
        region=region,
    )
