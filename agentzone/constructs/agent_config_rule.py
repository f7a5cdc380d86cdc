"""The account's agent-configuration Config rule: its runtimes keep the account guardrail and the VPC mode config
gives them (``agentzone/handlers/agent_config_rule.py``).

A periodic custom rule with a Lambda of its own in the tenant account, because what it checks (a runtime's network
mode and environment) is read from the AgentCore control plane, and which runtimes need a VPC is per tenant. Its
results reach the central security account through the organization's Config aggregator like the organization
rules'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from ..nag import acknowledge, acknowledge_compliance
from .fm_gateway.base import finding_arn
from .platform_resource import HandlerFunctionProps, handler_function

HANDLER_MODULE = "agent_config_rule"


@dataclass(frozen=True)
class AgentConfigRuleProps:
    """``guardrail_id``: the account guardrail every runtime must carry (None: the tenant has none);
    ``vpc_runtimes``: names of the runtimes config gives a VPC."""

    rule_name: str
    encryption_key: kms.IKey
    guardrail_id: str | None = None
    vpc_runtimes: Sequence[str] = ()
    frequency: str = "One_Hour"  # AWS Config's MaximumExecutionFrequency values
    log_retention_days: int = 365


class AgentConfigRule(Construct):
    """``rule`` (a periodic ``AWS::Config::ConfigRule``) and ``function``, whose role may list and read the account's
    runtimes, report evaluations and write its own log group; AWS Config may invoke it from this account only."""

    def __init__(self, scope: Construct, construct_id: str, *, props: AgentConfigRuleProps) -> None:
        super().__init__(scope, construct_id)
        environment = {"AGENTZONE_VPC_RUNTIMES": ",".join(sorted(props.vpc_runtimes))}
        if props.guardrail_id:
            environment["AGENTZONE_GUARDRAIL_ID"] = props.guardrail_id
        stack = cdk.Stack.of(self)
        runtimes = f"arn:{stack.partition}:bedrock-agentcore:{stack.region}:{stack.account}:runtime/*"
        handler = handler_function(
            self,
            "Function",
            HandlerFunctionProps(
                module=HANDLER_MODULE,
                statements=[
                    iam.PolicyStatement(actions=["bedrock-agentcore:GetAgentRuntime"], resources=[runtimes]),
                    # Neither action has resource-level permissions.
                    iam.PolicyStatement(
                        actions=["bedrock-agentcore:ListAgentRuntimes", "config:PutEvaluations"], resources=["*"]
                    ),
                ],
                encryption_key=props.encryption_key,
                log_retention_days=props.log_retention_days,
                timeout=cdk.Duration.minutes(2),
                description="AgentZone: runtimes keep the account guardrail and their configured VPC mode "
                "(Config rule)",
                policy_description="AgentZone agent-configuration rule: read the account's AgentCore runtimes, report "
                "to Config",
                role_description="Runs the AgentZone agent-configuration Config rule",
                environment=environment,
            ),
        )
        _acknowledge_policy(handler.policy, runtimes)
        self.function = handler.function
        _acknowledge_function(self.function)
        self.rule = _periodic_rule(self, props, self.function)
        # Its own ARN ends in an id Config generates, and the rule names the function: attached from the policy's
        # side (the role cannot wait for the rule that waits for the function that waits for the role).
        iam.ManagedPolicy(
            self,
            "ResultsPolicy",
            description="AgentZone agent-configuration rule: read its own earlier results (to retire deleted runtimes)",
            statements=[
                iam.PolicyStatement(actions=["config:GetComplianceDetailsByConfigRule"], resources=[self.rule.attr_arn])
            ],
            roles=[handler.role],
        )


def _periodic_rule(scope: Construct, props: AgentConfigRuleProps, function: lambda_.IFunction) -> config.CfnConfigRule:
    """The rule as an L1: the L2 CustomRule would also give the role AWSConfigRulesExecutionRole (config:Put*,
    Get*, List*, Describe* and S3 reads), far more than this rule needs."""
    invoke = lambda_.CfnPermission(
        scope,
        "ConfigInvoke",
        action="lambda:InvokeFunction",
        function_name=function.function_arn,
        principal="config.amazonaws.com",
        source_account=cdk.Stack.of(scope).account,
    )
    rule = config.CfnConfigRule(
        scope,
        "Rule",
        config_rule_name=props.rule_name,
        description="AgentCore runtimes carry the account guardrail; those the tenant file gives a VPC run in VPC mode",
        source=config.CfnConfigRule.SourceProperty(
            owner="CUSTOM_LAMBDA",
            source_identifier=function.function_arn,
            source_details=[
                config.CfnConfigRule.SourceDetailProperty(
                    event_source="aws.config",
                    message_type="ScheduledNotification",
                    maximum_execution_frequency=props.frequency,
                )
            ],
        ),
    )
    rule.add_dependency(invoke)
    return rule


def _acknowledge_policy(policy: iam.ManagedPolicy, runtimes: str) -> None:
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "bedrock-agentcore:ListAgentRuntimes and config:PutEvaluations have no resource-level permissions; the "
        "statement holds only these two actions.",
    )
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{finding_arn(runtimes)}]",
        "The rule reads every runtime of its own account and region, including ones AgentZone did not create "
        "(those are what it must catch); GetAgentRuntime only.",
    )


def _acknowledge_function(function: lambda_.Function) -> None:
    acknowledge_compliance(
        function,
        "LambdaConcurrency",
        "Runs once an hour when AWS Config schedules it; reserving concurrency would take capacity from new "
        "accounts whose whole limit is 10.",
    )
    acknowledge_compliance(
        function,
        "LambdaDLQ",
        "AWS Config invokes it and retries on its next period; a missed run leaves the previous evaluations in "
        "place, so there is no event to dead-letter.",
    )
    acknowledge_compliance(
        function,
        "LambdaInsideVPC",
        "It calls only the regional AgentCore control plane and AWS Config; use-case accounts have no VPC this "
        "construct could rely on.",
    )
