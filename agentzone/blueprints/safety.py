"""Runtime safety controls: circuit breaker, kill switch, cost alarms, budget action, incident playbooks.

Applied in every tenant environment (not a blueprint a team opts into). What
each piece does and why it looks like this:

* **Circuit breaker** - an EXPRESS Step Functions state machine the agent's
  loop calls synchronously (``StartSyncExecution``) before each step. EXPRESS,
  not STANDARD: a call per step needs low latency and a per-request price, and
  only EXPRESS machines answer synchronously. It is pure Choice/Pass/Fail: the
  agent sends what the session has used (tool calls, tokens, elapsed seconds)
  and the kill-switch value it read through its cache; limits live in the
  definition, so they change by deploy, not by agent code. Hard stops: at or
  over a limit is refused, so ``max_tool_calls: 25`` allows exactly 25 calls.
  Refusals end in a Fail state, so ``metric_trips()`` is the machine's own
  ``ExecutionsFailed``. No per-session table: the agent already counts, and a
  table would add a write per step and a stateful resource for no stronger
  guarantee (the agent is the caller either way; IAM is the enforced stop).
* **Kill switch** - String parameter ``/agentzone/<tenant>/<env>/kill-switch``
  (``off``/``on``). Not CMK-encrypted: CloudFormation cannot create a
  SecureString, and the value is not secret. Agents read it cached
  (:class:`agentzone.safety.KillSwitch`; Parameter Store's default throughput is
  tens of TPS). ``agentzone killswitch on`` also attaches the kill-switch deny
  policy to every role tagged ``agentzone:kill-switch=<tenant>/<env>``, which
  :meth:`SafetyControls.protect_roles` adds: the enforced stop.
  Note: CloudFormation writes ``off`` only when the parameter resource itself
  changes; a redeploy leaves an ``on`` switch on.
* **Cost** - AWS/Bedrock metrics have no session dimension, so agents print
  EMF records (:func:`agentzone.safety.emit_session_cost`): the per-session
  alarm watches the Maximum of ``SessionCostUSD`` over ``[Tenant,
  Environment]`` (the most expensive session each minute), the daily alarm
  the Sum of ``CostUSD`` over a day. A monthly COST budget carries a budget
  action (100 % ACTUAL, automatic) that attaches the budget deny policy to the
  protected roles; Budgets acts through an execution role that may attach and
  detach exactly that policy, on roles carrying the protection tag.
* **Playbooks** - SSM Automation documents for a runaway loop, a suspected
  prompt injection and a cost explosion, run as an automation role that may
  do exactly their steps.

Vend order: runtimes come after this construct. A runtime that lists it among
its attachments calls :meth:`attach_to_agent` with its execution role, which
protects that role; roles made elsewhere go through :meth:`protect_roles`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .. import naming
from ..config.model import SafetyControls as SafetyControlsConfig
from ..constructs.retention import retained_log_group
from ..nag import acknowledge, acknowledge_compliance, nag_arn
from ..patterns import EMAIL_PATTERN
from ..safety import circuit_breaker as cb
from ..safety import killswitch as ks
from ..safety import metrics as emf
from ..safety.playbooks import playbook_documents
from .context import BlueprintContext

ENV_KILL_SWITCH_PARAMETER = ks.ENV_PARAMETER
ENV_KILL_SWITCH_CACHE_SECONDS = ks.ENV_CACHE_SECONDS
ENV_CIRCUIT_BREAKER_ARN = cb.ENV_ARN
ENV_MAX_TOOL_CALLS = "AGENTZONE_MAX_TOOL_CALLS"
ENV_MAX_TOKENS = "AGENTZONE_MAX_TOKENS"
ENV_MAX_SESSION_MINUTES = "AGENTZONE_MAX_SESSION_MINUTES"
ENV_SESSION_COST_LIMIT_USD = "AGENTZONE_SESSION_COST_LIMIT_USD"
ENV_METRICS_NAMESPACE = "AGENTZONE_METRICS_NAMESPACE"

# What the deny policies stop: model calls and calls to other agents.
DENIED_ACTIONS = ("bedrock:InvokeModel*", "bedrock-agentcore:InvokeAgentRuntime")
_EMAIL = re.compile(EMAIL_PATTERN)


@dataclass(frozen=True)
class SafetyControlsProps:
    """Limits and cost ceilings of one tenant environment; defaults match the ``safety`` config section.

    ``notify`` receives the budget action's notices (at least one address).
    ``daily_cost_usd`` defaults to ``budget_monthly_usd / 30``; without
    ``session_usd`` there is no per-session cost alarm. ``tags`` go on every
    resource of the construct.
    """

    tenant: str
    environment: str
    encryption_key: kms.IKey
    budget_monthly_usd: float
    notify: tuple[str, ...]
    max_tool_calls: int = 25
    max_tokens: int = 50_000
    max_session_minutes: int = 30
    kill_switch_cache_seconds: int = 30
    session_usd: float | None = None
    daily_cost_usd: float | None = None
    alarm_topic: sns.ITopic | None = None
    log_retention_days: int = 90
    tags: Mapping[str, str] = field(default_factory=dict)
    max_output_tokens: int | None = None
    max_loop_cost_usd: float | None = None
    max_step_retries: int | None = 3
    human_checkpoint_after: int | None = None
    # Agent name -> its own, tighter, BreakerLimits fields (requests carrying "agent" are checked against them).
    agent_limits: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    @property
    def breaker_limits(self) -> BreakerLimits:
        """The tenant's stops; the session cost ceiling is ``session_usd`` (also the session cost alarm's)."""
        return BreakerLimits(
            max_tool_calls=self.max_tool_calls,
            max_tokens=self.max_tokens,
            max_session_minutes=self.max_session_minutes,
            max_output_tokens=self.max_output_tokens,
            max_session_cost_usd=self.session_usd,
            max_loop_cost_usd=self.max_loop_cost_usd,
            max_step_retries=self.max_step_retries,
            human_checkpoint_after=self.human_checkpoint_after,
        )


def _validate(props: SafetyControlsProps) -> None:
    if not props.notify or not all(_EMAIL.match(a) for a in props.notify):
        raise ValueError(f"notify needs at least one e-mail address for the budget action, got {list(props.notify)}")
    if props.budget_monthly_usd <= 0:
        raise ValueError("budget_monthly_usd must be positive")
    for name in ("max_tool_calls", "max_tokens", "max_session_minutes", "kill_switch_cache_seconds"):
        if getattr(props, name) < 1:
            raise ValueError(f"{name} must be at least 1")
    known = {f.name for f in fields(BreakerLimits)}
    for agent, overrides in props.agent_limits.items():
        unknown = sorted(set(overrides) - known)
        if unknown or any(v is None or v <= 0 for v in overrides.values()):
            raise ValueError(
                f"agent {agent!r}: limits must be positive BreakerLimits fields ({', '.join(sorted(known))})"
            )
    if props.daily_cost_usd is not None and props.daily_cost_usd > props.budget_monthly_usd:
        raise ValueError(
            f"daily_cost_usd {props.daily_cost_usd} is more than the monthly budget {props.budget_monthly_usd}"
        )


@dataclass(frozen=True)
class BreakerLimits:
    """The stops one circuit breaker check applies (the tenant's, or an agent's own). None: not checked."""

    max_tool_calls: int
    max_tokens: int
    max_session_minutes: int
    max_output_tokens: int | None = None
    max_session_cost_usd: float | None = None
    max_loop_cost_usd: float | None = None
    max_step_retries: int | None = None
    human_checkpoint_after: int | None = None

    def tightened(self, overrides: Mapping[str, float]) -> BreakerLimits:
        """These limits with an agent's own, which may only be tighter (a missing limit becomes the agent's)."""
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            current = getattr(self, name)
            values[name] = value if current is None else min(current, value)
        return replace(self, **values)

    def checks(self) -> list[tuple[str, str, float, str, bool]]:
        """(reason, request path, limit, state id, required field) in the order the breaker checks them."""
        rows: list[tuple[str, str, float | None, str, bool]] = [
            (cb.MAX_TOOL_CALLS, "$.tool_calls", self.max_tool_calls, "ToolCallLimitReached", True),
            (cb.MAX_TOKENS, "$.tokens", self.max_tokens, "TokenLimitReached", True),
            (
                cb.MAX_SESSION_MINUTES,
                "$.elapsed_seconds",
                self.max_session_minutes * 60,
                "SessionTimeLimitReached",
                True,
            ),
            (cb.MAX_OUTPUT_TOKENS, "$.output_tokens", self.max_output_tokens, "OutputTokenLimitReached", False),
            (cb.MAX_SESSION_COST, "$.session_cost_usd", self.max_session_cost_usd, "SessionCostLimitReached", False),
            (cb.MAX_LOOP_COST, "$.loop_cost_usd", self.max_loop_cost_usd, "LoopCostLimitReached", False),
            (cb.MAX_STEP_RETRIES, "$.step_retries", self.max_step_retries, "StepRetryLimitReached", False),
        ]
        return [
            (reason, path, limit, state, required) for reason, path, limit, state, required in rows if limit is not None
        ]


def _refuse(scope: Construct, state_id: str, error: str, reason: str, limit: float | None = None) -> sfn.Fail:
    cause = {"allowed": False, "reason": reason, **({"limit": limit} if limit is not None else {})}
    return sfn.Fail(scope, state_id, error=error, cause=json.dumps(cause, separators=(",", ":")))


def _limit_check(scope: Construct, prefix: str, limits: BreakerLimits, allowed: sfn.IChainable) -> sfn.Choice:
    """Refuse a counter at or over its limit; then, at the human checkpoint, refuse with needs_human_approval."""
    C = sfn.Condition
    check = sfn.Choice(scope, f"{prefix}CheckLimits")
    for reason, path, limit, state_id, required in limits.checks():
        over = C.number_greater_than_equals(path, limit)
        condition = over if required else C.and_(C.is_present(path), over)
        check = check.when(condition, _refuse(scope, f"{prefix}{state_id}", cb.TRIPPED, reason, limit))
    if limits.human_checkpoint_after is not None:
        path, limit = "$.consecutive_tool_calls", limits.human_checkpoint_after
        checkpoint = _refuse(scope, f"{prefix}HumanCheckpoint", cb.NEEDS_APPROVAL, cb.NEEDS_HUMAN_APPROVAL, limit)
        check = check.when(C.and_(C.is_present(path), C.number_greater_than_equals(path, limit)), checkpoint)
    return check.otherwise(allowed)


def _well_formed() -> sfn.Condition:
    """Required fields present with their types; optional ones, when present, with theirs (else: fail closed)."""
    C = sfn.Condition
    optional_numbers = [f for f in cb.OPTIONAL_FIELDS if f != "agent"]
    return C.and_(
        C.is_present("$.session_id"),
        C.is_string("$.session_id"),
        *[
            cond
            for field in ("tool_calls", "tokens", "elapsed_seconds")
            for cond in (C.is_present(f"$.{field}"), C.is_numeric(f"$.{field}"))
        ],
        C.is_present("$.kill_switch"),
        C.is_string("$.kill_switch"),
        *[C.or_(C.not_(C.is_present(f"$.{field}")), C.is_numeric(f"$.{field}")) for field in optional_numbers],
        C.or_(C.not_(C.is_present("$.agent")), C.is_string("$.agent")),
    )


def _circuit_breaker_definition(scope: Construct, props: SafetyControlsProps) -> sfn.IChainable:
    """Refuse a malformed request or an ``on`` kill switch; then check the agent's own limits (when it has any) or
    the tenant's."""
    C = sfn.Condition
    allowed = sfn.Pass(scope, "Allowed", result=sfn.Result.from_object({"allowed": True, "reason": cb.WITHIN_LIMITS}))
    tenant = props.breaker_limits
    checks = sfn.Choice(scope, "CheckKillSwitch").when(
        C.not_(C.string_equals("$.kill_switch", ks.OFF)), _refuse(scope, "KillSwitchOn", cb.TRIPPED, cb.KILL_SWITCH)
    )
    if props.agent_limits:
        route = sfn.Choice(scope, "RouteByAgent")
        for agent, overrides in sorted(props.agent_limits.items()):
            prefix = f"Agent{naming.pascal(agent)}"
            route = route.when(
                C.and_(C.is_present("$.agent"), C.string_equals("$.agent", agent)),
                _limit_check(scope, prefix, tenant.tightened(overrides), allowed),
            )
        checks = checks.otherwise(route.otherwise(_limit_check(scope, "", tenant, allowed)))
    else:
        checks = checks.otherwise(_limit_check(scope, "", tenant, allowed))
    return (
        sfn.Choice(scope, "ValidateRequest")
        .when(_well_formed(), checks)
        .otherwise(_refuse(scope, "InvalidRequest", cb.INVALID, cb.INVALID_REQUEST))
    )


def _deny_policy(scope: Construct, construct_id: str, name: str, description: str) -> iam.ManagedPolicy:
    """A managed policy denying model calls and calls to other agents, attached on demand."""
    return iam.ManagedPolicy(
        scope,
        construct_id,
        managed_policy_name=name,
        description=description,
        statements=[
            iam.PolicyStatement(
                sid="StopAgentModelAndAgentCalls",
                effect=iam.Effect.DENY,
                actions=list(DENIED_ACTIONS),
                resources=["*"],
            )
        ],
    )


def _cost_alarm(
    scope: Construct,
    construct_id: str,
    metric: cloudwatch.IMetric,
    threshold: float,
    what: str,
    topic: sns.ITopic | None,
) -> cloudwatch.Alarm:
    alarm = cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        threshold=threshold,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,  # no sessions is not an incident
        alarm_description=f"AgentZone safety: {what}",
    )
    if topic is not None:
        alarm.add_alarm_action(cw_actions.SnsAction(topic))
    return alarm


def _acknowledge_state_machine_role(machine: sfn.StateMachine) -> None:
    policy = machine.role.node.find_child("DefaultPolicy")
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "Step Functions log delivery (logs:*LogDelivery, PutResourcePolicy, Describe*) and X-Ray trace writes "
        "support no resource-level permissions; the machine calls no other service.",
    )
    acknowledge_compliance(
        policy,
        "IAMNoInlinePolicy",
        "The Step Functions L2 writes its logging and tracing grants as a policy on its own role only.",
    )


def _budget_action_definition(
    policy: iam.IManagedPolicy, roles: Sequence[iam.IRole]
) -> budgets.CfnBudgetsAction.DefinitionProperty:
    """What the budget action does: attach ``policy`` to ``roles``."""
    return budgets.CfnBudgetsAction.DefinitionProperty(
        iam_action_definition=budgets.CfnBudgetsAction.IamActionDefinitionProperty(
            policy_arn=policy.managed_policy_arn, roles=[role.role_name for role in roles]
        )
    )


def _attach_to_tagged_roles(
    stack: cdk.Stack, tag_condition: dict, sid: str, policy: iam.IManagedPolicy, *, detach: bool
) -> iam.PolicyStatement:
    """Attach (and detach) one policy, only to roles tagged for this tenant environment."""
    actions = ["iam:AttachRolePolicy"] + (["iam:DetachRolePolicy"] if detach else [])
    return iam.PolicyStatement(
        sid=sid,
        actions=actions,
        resources=[f"arn:{stack.partition}:iam::{stack.account}:role/*"],
        conditions={"ArnEquals": {"iam:PolicyARN": policy.managed_policy_arn}, "StringEquals": tag_condition},
    )


def _acknowledge_tagged_role_wildcard(stack: cdk.Stack, tag_value: str, policy: iam.ManagedPolicy, who: str) -> None:
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{_nag_iam_arn(stack, 'role/*')}]",
        f"{who} acts on agent roles made after this construct (vend order); the statement only matches roles "
        f"tagged {ks.PROTECTED_ROLE_TAG}={tag_value} and only the one deny policy.",
    )


def _nag_iam_arn(stack: cdk.Stack, resource: str) -> str:
    """An IAM ARN as cdk-nag prints it (IAM ARNs have no region)."""
    partition = "<AWS::Partition>" if cdk.Token.is_unresolved(stack.partition) else stack.partition
    account = "<AWS::AccountId>" if cdk.Token.is_unresolved(stack.account) else stack.account
    return f"arn:{partition}:iam::{account}:{resource}"


class SafetyControls(Construct):
    """Circuit breaker, kill switch, cost alarms, budget action and incident playbooks of one tenant environment::

    safety = SafetyControls(stack, "Safety", props=SafetyControlsProps(
        tenant="claims", environment="dev", encryption_key=key, budget_monthly_usd=5000, notify=("team@example.com",)))
    env = safety.attach_to_agent(agent_role)   # grants + AGENTZONE_* variables, protects the role
    safety.protect_roles([other_role])         # roles that are not agents' execution roles
    """

    REGISTRY_NAME = "safety"

    def __init__(self, scope: Construct, construct_id: str, *, props: SafetyControlsProps) -> None:
        super().__init__(scope, construct_id)
        _validate(props)
        self._props = props
        self._stack = cdk.Stack.of(self)
        self.daily_cost_usd = props.daily_cost_usd or round(props.budget_monthly_usd / 30, 2)
        self._protected: list[iam.IRole] = []
        self.budget_action: budgets.CfnBudgetsAction | None = None
        self._tag_value = ks.protected_role_tag_value(props.tenant, props.environment)
        # Roles carrying this tag are the ones the kill switch, the playbooks and the budget action act on.
        self._tag_condition = {f"iam:ResourceTag/{ks.PROTECTED_ROLE_TAG}": self._tag_value}
        self._kill_switch()
        self._circuit_breaker()
        self._cost_alarms()
        self._budget()
        self._playbooks()
        for key, value in sorted(props.tags.items()):
            cdk.Tags.of(self).add(key, value)

    # ------------------------------------------------------------------ pieces

    def _kill_switch(self) -> None:
        """The switch parameter, and the deny policies the CLI, the playbooks and the budget action attach."""
        p = self._props
        self.kill_switch_parameter_name = ks.kill_switch_parameter(p.tenant, p.environment)
        self.kill_switch = ssm.StringParameter(
            self,
            "KillSwitch",
            parameter_name=self.kill_switch_parameter_name,
            string_value=ks.OFF,
            description=f"Kill switch of {p.tenant} agents in {p.environment}: off or on (agentzone killswitch)",
            tier=ssm.ParameterTier.STANDARD,
        )
        stops = f"Stops {p.tenant} agents ({p.environment}) calling models and agents"
        self.kill_switch_policy = _deny_policy(
            self,
            "KillSwitchDenyPolicy",
            ks.kill_switch_policy_name(p.tenant, p.environment),
            f"{stops}; attached by `agentzone killswitch on` and the incident playbooks",
        )
        self.budget_policy = _deny_policy(
            self,
            "BudgetDenyPolicy",
            ks.budget_policy_name(p.tenant, p.environment),
            f"{stops}; attached by the budget action when the monthly budget is spent",
        )

    def _circuit_breaker(self) -> None:
        """The EXPRESS state machine agents call before each step, and its log group."""
        p = self._props
        name = naming.tenant_state_machine(p.tenant, p.environment, "circuit-breaker")
        self.log_group = retained_log_group(
            self,
            "CircuitBreakerLogs",
            encryption_key=p.encryption_key,
            retention_days=p.log_retention_days,
            log_group_name=f"/aws/vendedlogs/states/{name}",
        )
        self.circuit_breaker = sfn.StateMachine(
            self,
            "CircuitBreaker",
            state_machine_name=name,
            state_machine_type=sfn.StateMachineType.EXPRESS,
            definition_body=sfn.DefinitionBody.from_chainable(_circuit_breaker_definition(self, p)),
            comment=f"Per-step circuit breaker of {p.tenant} agents ({p.environment})",
            tracing_enabled=True,
            # Session ids and counters only; still not worth keeping: the decision is in the execution status.
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            timeout=cdk.Duration.seconds(30),
        )
        _acknowledge_state_machine_role(self.circuit_breaker)

    def _cost_alarms(self) -> None:
        """The most expensive session per minute (with ``session_usd``) and the day's spend."""
        p = self._props
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        if p.session_usd is not None:
            self.alarms["session_cost"] = _cost_alarm(
                self,
                "SessionCostAlarm",
                self.metric_session_cost(),
                p.session_usd,
                f"a {p.tenant} session in {p.environment} cost more than {p.session_usd:g} USD",
                p.alarm_topic,
            )
        self.alarms["daily_cost"] = _cost_alarm(
            self,
            "DailyCostAlarm",
            self.metric_cost(period=cdk.Duration.days(1)),
            self.daily_cost_usd,
            f"{p.tenant} agents in {p.environment} spent more than {self.daily_cost_usd:g} USD in a day",
            p.alarm_topic,
        )

    def _budget(self) -> None:
        """The monthly COST budget, and the role its action attaches the budget deny policy as."""
        p, stack = self._props, self._stack
        self.budget_name = f"{naming.PREFIX}-{p.tenant}-{p.environment}-safety"
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=self.budget_name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=p.budget_monthly_usd, unit="USD"),
            ),
        )
        self.budget_role = iam.Role(
            self,
            "BudgetActionRole",
            role_name=naming.BUDGET_ACTION_ROLE,  # the SCP lets it attach deny policies to protected agent roles
            description=f"AWS Budgets: attach {ks.budget_policy_name(p.tenant, p.environment)} to protected roles",
            assumed_by=iam.ServicePrincipal(
                "budgets.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{stack.partition}:budgets::{stack.account}:budget/{self.budget_name}*"
                    },
                },
            ),
        )
        self.budget_role_policy = iam.ManagedPolicy(
            self,
            "BudgetActionPolicy",
            description="Attach and detach the budget deny policy, on protected roles only",
            roles=[self.budget_role],
            statements=[
                _attach_to_tagged_roles(
                    self._stack, self._tag_condition, "AttachTheBudgetDenyPolicy", self.budget_policy, detach=True
                )
            ],
        )
        _acknowledge_tagged_role_wildcard(self._stack, self._tag_value, self.budget_role_policy, "The budget action")

    def _playbooks(self) -> None:
        """The incident playbooks, and the automation role that may make exactly their API calls."""
        p, stack = self._props, self._stack
        automation_executions = f"arn:{stack.partition}:ssm:{stack.region}:{stack.account}:automation-execution/*"
        self.automation_role = iam.Role(
            self,
            "PlaybookRole",
            role_name=naming.PLAYBOOK_ROLE,  # the SCP lets it attach deny policies to protected agent roles
            description=f"SSM Automation: incident playbooks of {p.tenant} agents ({p.environment})",
            assumed_by=iam.ServicePrincipal(
                "ssm.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": automation_executions},
                },
            ),
        )
        self.runtime_arn_pattern = f"arn:{stack.partition}:bedrock-agentcore:{stack.region}:{stack.account}:runtime/*"
        self.automation_policy = iam.ManagedPolicy(
            self,
            "PlaybookPolicy",
            description="Exactly the API calls of the incident playbooks",
            roles=[self.automation_role],
            statements=self._playbook_statements(),
        )
        self._acknowledge_playbook_policy()
        self.playbooks: dict[str, ssm.CfnDocument] = {
            name: ssm.CfnDocument(
                self,
                f"{name}Playbook",
                name=naming.playbook_document(p.tenant, p.environment, name),
                document_type="Automation",
                document_format="JSON",
                update_method="NewVersion",
                content=content,
            )
            for name, content in self.playbook_contents().items()
        }

    def _playbook_statements(self) -> list[iam.PolicyStatement]:
        stack = self._stack
        return [
            iam.PolicyStatement(
                sid="ReadAndFlipTheKillSwitch",
                actions=["ssm:GetParameter", "ssm:PutParameter"],
                resources=[self.kill_switch.parameter_arn],
            ),
            iam.PolicyStatement(
                sid="StopAgentSessions",
                actions=["bedrock-agentcore:StopRuntimeSession"],
                resources=[self.runtime_arn_pattern, f"{self.runtime_arn_pattern}/*"],
            ),
            _attach_to_tagged_roles(
                self._stack, self._tag_condition, "AttachTheKillSwitchDenyPolicy", self.kill_switch_policy, detach=False
            ),
            iam.PolicyStatement(
                sid="SnapshotAgentRolePolicies",
                actions=["iam:ListAttachedRolePolicies"],
                resources=[f"arn:{stack.partition}:iam::{stack.account}:role/*"],
                conditions={"StringEquals": self._tag_condition},
            ),
        ]

    def playbook_contents(self) -> dict[str, dict]:
        """SSM Automation (schema 0.3) content of each playbook; every step is one aws:executeAwsApi call."""
        return playbook_documents(
            tenant=self._props.tenant,
            environment=self._props.environment,
            automation_role_arn=self.automation_role.role_arn,
            kill_switch_parameter=self.kill_switch_parameter_name,
            kill_switch_policy_arn=self.kill_switch_policy.managed_policy_arn,
        )

    # ------------------------------------------------------------------ acknowledgements

    def _acknowledge_playbook_policy(self) -> None:
        _acknowledge_tagged_role_wildcard(self._stack, self._tag_value, self.automation_policy, "The incident playbook")
        for resource in ("runtime/*", "runtime/*/*"):
            acknowledge(
                self.automation_policy,
                f"AwsSolutions-IAM5[Resource::{nag_arn(self, 'bedrock-agentcore', resource)}]",
                "Runtime ids are assigned by AgentCore at creation and every runtime in this account is this tenant "
                "environment's; the playbook stops the session the operator names.",
            )

    # ------------------------------------------------------------------ config entry point

    @classmethod
    def from_config(
        cls,
        scope: Construct,
        construct_id: str,
        *,
        context: BlueprintContext,
        config: SafetyControlsConfig,
        budget_monthly_usd: float,
        session_usd: float | None,
        notify: Sequence[str] = (),
        agent_limits: Mapping[str, Mapping[str, float]] | None = None,
    ) -> SafetyControls:
        """``notify`` defaults to the tenant's ``owner`` tag (the team mailbox); ``agent_limits``: agent name -> its
        own stops (``safety`` of a runtime blueprint), tighter than the tenant's."""
        addresses = tuple(notify) or tuple(a for a in (context.tags.get("owner"),) if a)
        return cls(
            scope,
            construct_id,
            props=SafetyControlsProps(
                tenant=context.tenant,
                environment=context.environment,
                encryption_key=context.encryption_key,
                budget_monthly_usd=budget_monthly_usd,
                notify=addresses,
                max_tool_calls=config.max_tool_calls,
                max_tokens=config.max_tokens,
                max_session_minutes=config.max_session_minutes,
                kill_switch_cache_seconds=config.kill_switch_cache_seconds,
                session_usd=session_usd,
                daily_cost_usd=config.daily_cost_usd,
                alarm_topic=context.alarm_topic,
                tags=context.tags,
                max_output_tokens=config.max_output_tokens,
                max_loop_cost_usd=config.max_loop_cost_usd,
                max_step_retries=config.max_step_retries,
                human_checkpoint_after=config.human_checkpoint_after,
                agent_limits=dict(agent_limits or {}),
            ),
        )

    # ------------------------------------------------------------------ protection

    @property
    def protected_roles(self) -> tuple[iam.IRole, ...]:
        return tuple(self._protected)

    def protect_roles(self, roles: Sequence[iam.IRole]) -> None:
        """Put roles under the kill switch and the budget action. Call any time before synth, in any order.

        Roles made in this app get the ``agentzone:kill-switch`` tag (what the
        CLI, the playbooks and the Budgets execution role match on); imported
        roles cannot be tagged here and are only listed in the budget action.
        """
        for role in roles:
            if any(role is known for known in self._protected):
                continue
            self._protected.append(role)
            if isinstance(role, iam.Role):
                cdk.Tags.of(role).add(ks.PROTECTED_ROLE_TAG, self._tag_value)
            else:
                cdk.Annotations.of(self).add_warning_v2(
                    "agentzone:safetyImportedRole",
                    f"{role.node.path} is imported: tag it {ks.PROTECTED_ROLE_TAG}={self._tag_value} yourself, "
                    "or the kill switch and the budget action cannot attach their deny policies to it.",
                )
        self._update_budget_action()

    def _update_budget_action(self) -> None:
        if not self._protected:
            return
        definition = _budget_action_definition(self.budget_policy, self._protected)
        if self.budget_action is None:
            self.budget_action = budgets.CfnBudgetsAction(
                self,
                "BudgetAction",
                budget_name=self.budget_name,
                action_type="APPLY_IAM_POLICY",
                action_threshold=budgets.CfnBudgetsAction.ActionThresholdProperty(type="PERCENTAGE", value=100),
                notification_type="ACTUAL",
                approval_model="AUTOMATIC",
                execution_role_arn=self.budget_role.role_arn,
                definition=definition,
                subscribers=[
                    budgets.CfnBudgetsAction.SubscriberProperty(type="EMAIL", address=a)
                    for a in sorted(set(self._props.notify))
                ],
            )
            self.budget_action.node.add_dependency(self.budget)
            self.budget_action.node.add_dependency(self.budget_role_policy)
        else:
            self.budget_action.definition = definition

    # ------------------------------------------------------------------ grants and attachment

    def grant_read_kill_switch(self, grantee: iam.IGrantable) -> iam.Grant:
        """ssm:GetParameter on the kill switch only."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["ssm:GetParameter"], resource_arns=[self.kill_switch.parameter_arn]
        )

    def grant_check(self, grantee: iam.IGrantable) -> iam.Grant:
        """states:StartSyncExecution on the circuit breaker only."""
        return self.circuit_breaker.grant_start_sync_execution(grantee)

    def attach_to_agent(self, grantee: iam.IGrantable) -> dict[str, str]:
        """AgentAttachment: read the kill switch, call the circuit breaker; an execution role is also protected."""
        self.grant_read_kill_switch(grantee)
        self.grant_check(grantee)
        if isinstance(grantee, iam.Role):
            self.protect_roles([grantee])
        p = self._props
        env = {
            ENV_KILL_SWITCH_PARAMETER: self.kill_switch_parameter_name,
            ENV_KILL_SWITCH_CACHE_SECONDS: str(p.kill_switch_cache_seconds),
            ENV_CIRCUIT_BREAKER_ARN: self.circuit_breaker.state_machine_arn,
            ENV_MAX_TOOL_CALLS: str(p.max_tool_calls),
            ENV_MAX_TOKENS: str(p.max_tokens),
            ENV_MAX_SESSION_MINUTES: str(p.max_session_minutes),
            ENV_METRICS_NAMESPACE: emf.NAMESPACE,
        }
        if p.session_usd is not None:
            env[ENV_SESSION_COST_LIMIT_USD] = f"{p.session_usd:g}"
        return env

    # ------------------------------------------------------------------ attributes and metrics

    @property
    def circuit_breaker_arn(self) -> str:
        return self.circuit_breaker.state_machine_arn

    def metric_trips(self, **kwargs) -> cloudwatch.Metric:
        """Steps the circuit breaker refused (limits, kill switch, malformed requests): its ExecutionsFailed."""
        return self.circuit_breaker.metric_failed(**kwargs)

    def metric_checks(self, **kwargs) -> cloudwatch.Metric:
        """Steps checked (ExecutionsStarted)."""
        return self.circuit_breaker.metric_started(**kwargs)

    def _cost_metric(self, name: str, statistic: str, period: cdk.Duration, **kwargs) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=emf.NAMESPACE,
            metric_name=name,
            statistic=statistic,
            period=period,
            dimensions_map={"Tenant": self._props.tenant, "Environment": self._props.environment},
            **kwargs,
        )

    def metric_session_cost(self, *, period: cdk.Duration | None = None, **kwargs) -> cloudwatch.Metric:
        """The most expensive session's running cost (USD) per period (default 1 minute), from EMF records."""
        return self._cost_metric(emf.SESSION_COST_METRIC, "Maximum", period or cdk.Duration.minutes(1), **kwargs)

    def metric_cost(self, *, period: cdk.Duration | None = None, **kwargs) -> cloudwatch.Metric:
        """Agents' spend (USD) per period (default 1 hour), from their EMF records."""
        return self._cost_metric(emf.COST_METRIC, "Sum", period or cdk.Duration.hours(1), **kwargs)
