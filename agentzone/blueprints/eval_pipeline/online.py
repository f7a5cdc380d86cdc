"""AgentCore online evaluation: built-in evaluators sample an agent endpoint's live sessions (prod).

It runs as a role named ``agentzone-eval-online-<agent>`` (``naming.online_evaluation_role``) that calls no
model: built-in evaluators judge with service-side models, and the tenant SCP denies unguarded model calls
outside the platform's named roles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_iam as iam
from constructs import Construct

from ... import naming
from ...nag import acknowledge, nag_arn
from ..runtime import AgentRuntime
from .contract import ONLINE_EVALUATORS, ONLINE_RESULTS_LOG_GROUPS, SPANS_LOG_GROUP
from .store import logical_id


@dataclass(frozen=True)
class OnlineEvaluationProps:
    """One agent endpoint's online evaluation.

    ``name`` is the agent's name in the store and ``suffix`` its construct id suffix; ``reserved_role_name``
    is a role name the online role must not take (the Bedrock evaluation job role's, when the pipeline has one).
    """

    agent: AgentRuntime
    name: str
    suffix: str
    endpoint: str
    tenant: str
    environment: str
    thresholds: Mapping[str, float]
    sampling_percent: float
    reserved_role_name: str | None = None


def online_evaluation(scope: Construct, props: OnlineEvaluationProps) -> agentcore.OnlineEvaluationConfig:
    """``OnlineRole<suffix>``, ``OnlinePolicy<suffix>`` and ``Online<suffix>``, in ``scope``."""
    agent, endpoint = props.agent, props.endpoint
    names = sorted({ONLINE_EVALUATORS[m] for m in props.thresholds if m in ONLINE_EVALUATORS}) or ["HELPFULNESS"]
    config_name = re.sub(r"[^A-Za-z0-9_]", "_", f"{props.tenant}_{props.name}_{props.environment}")[:48]
    data_source = agentcore.DataSourceConfig.from_agent_runtime_endpoint(agent.runtime, agent.endpoint(endpoint))
    role = _online_role(scope, props)
    policy = _online_policy(scope, props, role, data_source)
    config = agentcore.OnlineEvaluationConfig(
        scope,
        f"Online{props.suffix}",
        online_evaluation_config_name=config_name,
        description=f"Samples {props.sampling_percent}% of {agent.runtime_name}::{endpoint} sessions",
        evaluators=[agentcore.EvaluatorSelector.builtin(getattr(agentcore.BuiltinEvaluator, n)) for n in names],
        data_source=data_source,
        sampling_percentage=props.sampling_percent,
        execution_role=role,
    )
    config.node.add_dependency(policy)  # AgentCore reads the spans index with the role as soon as it exists
    return config


def _online_role(scope: Construct, props: OnlineEvaluationProps) -> iam.Role:
    """The L2's trust, a fixed name, no model grant.

    Built-in evaluators (the only kind this blueprint configures) judge with models the service runs
    itself; AgentCore needs model permissions on the role only for custom evaluators. The L2's default
    role grants InvokeModel on every foundation model and inference profile, unguarded, which the
    tenant SCP denies; this role has none. Its name is under agentzone-eval-*, so were a custom
    LLM-as-judge evaluator added, its only grant would be the tenant's evaluator_model, which the SCP
    exempts from the guardrail rule and allows as the evaluation roles' only model.
    """
    stack = cdk.Stack.of(scope)
    role_name = naming.online_evaluation_role(props.name)
    if len(role_name) > naming.IAM_ROLE_NAME_MAX:
        raise ValueError(
            f"online evaluation role name {role_name!r} is longer than {naming.IAM_ROLE_NAME_MAX} characters; "
            "shorten the agent name"
        )
    if role_name == props.reserved_role_name:
        raise ValueError(f"online evaluation role name {role_name!r} is the evaluation job role's; rename the agent")
    return iam.Role(
        scope,
        f"OnlineRole{props.suffix}",
        role_name=role_name,
        description=(
            f"AgentCore online evaluation of {props.agent.runtime_name}::{props.endpoint}: "
            "reads its spans, writes results; no model access"
        ),
        assumed_by=iam.ServicePrincipal(
            "bedrock-agentcore.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account, "aws:ResourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": [
                        stack.format_arn(service="bedrock-agentcore", resource="evaluator", resource_name="*"),
                        stack.format_arn(
                            service="bedrock-agentcore", resource="online-evaluation-config", resource_name="*"
                        ),
                    ]
                },
            },
        ),
    )


def _log_group_arn(scope: Construct, name: str) -> str:
    return cdk.Stack.of(scope).format_arn(
        service="logs", resource="log-group", resource_name=name, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
    )


def _online_policy(
    scope: Construct, props: OnlineEvaluationProps, role: iam.Role, data_source: agentcore.DataSourceConfig
) -> iam.ManagedPolicy:
    """Query the endpoint's spans and logs, write results; no model access."""
    sources = [*data_source.cloud_watch_logs_config.log_group_names, SPANS_LOG_GROUP]
    policy = iam.ManagedPolicy(
        scope,
        f"OnlinePolicy{props.suffix}",
        description=(
            f"AgentCore online evaluation of {props.agent.runtime_name}::{props.endpoint}: "
            "query its spans and logs, write results"
        ),
        roles=[role],
        statements=[
            iam.PolicyStatement(sid="DescribeLogGroups", actions=["logs:DescribeLogGroups"], resources=["*"]),
            iam.PolicyStatement(
                sid="QueryAgentSpansAndLogs",
                actions=["logs:GetQueryResults", "logs:StartQuery"],
                resources=[
                    arn
                    for source in sources
                    for arn in (_log_group_arn(scope, source), _log_group_arn(scope, f"{source}:*"))
                ],
            ),
            iam.PolicyStatement(
                sid="WriteEvaluationResults",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[_log_group_arn(scope, f"{ONLINE_RESULTS_LOG_GROUPS}*")],
            ),
            iam.PolicyStatement(
                sid="IndexAgentSpans",
                actions=["logs:DescribeIndexPolicies", "logs:PutIndexPolicy"],
                resources=[_log_group_arn(scope, SPANS_LOG_GROUP), _log_group_arn(scope, f"{SPANS_LOG_GROUP}:*")],
            ),
        ],
    )
    _acknowledge_online_policy(policy, props)
    return policy


def _acknowledge_online_policy(policy: iam.ManagedPolicy, props: OnlineEvaluationProps) -> None:
    runtime_id = f"<{logical_id(props.agent.runtime)}.AgentRuntimeId>"
    runtime_logs = f"log-group:/aws/bedrock-agentcore/runtimes/{runtime_id}-{props.endpoint}:*"
    findings = {
        "*": "logs:DescribeLogGroups supports no resource-level permission; it reads no log data.",
        nag_arn(policy, "logs", f"log-group:{ONLINE_RESULTS_LOG_GROUPS}*"): "AgentCore writes evaluation results "
        f"to log groups it names per evaluation configuration under {ONLINE_RESULTS_LOG_GROUPS}.",
        nag_arn(policy, "logs", f"log-group:{SPANS_LOG_GROUP}:*"): "Online evaluation reads the agent's spans "
        f"(transaction search) from the account's {SPANS_LOG_GROUP} log group and its streams.",
        nag_arn(policy, "logs", runtime_logs): "Streams of the monitored endpoint's own runtime log group, "
        "named by AgentCore per session.",
    }
    for resource, reason in findings.items():
        acknowledge(policy, f"AwsSolutions-IAM5[Resource::{resource}]", reason)
