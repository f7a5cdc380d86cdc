"""Safety controls blueprint: the circuit breaker state machine (executed in moto), the kill switch parameter and deny
policies, cost alarms, the budget and its action, incident playbooks (steps checked against botocore and run in moto),
nag and cfn-lint. The agent-side client, reader, CLI and cost records are tested under tests/safety/."""

from __future__ import annotations

import itertools
import json
import time

import aws_cdk as cdk
import boto3
import botocore.session
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match, Template
from botocore import xform_name
from moto import mock_aws

from agentzone import naming
from agentzone.blueprints.context import AgentAttachment, BlueprintContext
from agentzone.blueprints.safety import (
    DENIED_ACTIONS,
    ENV_CIRCUIT_BREAKER_ARN,
    ENV_KILL_SWITCH_CACHE_SECONDS,
    ENV_KILL_SWITCH_PARAMETER,
    ENV_MAX_SESSION_MINUTES,
    ENV_MAX_TOKENS,
    ENV_MAX_TOOL_CALLS,
    ENV_METRICS_NAMESPACE,
    ENV_SESSION_COST_LIMIT_USD,
    SafetyControls,
    SafetyControlsProps,
)
from agentzone.cfn_lint import run_cfn_lint
from agentzone.config.model import SafetyControls as SafetyConfig
from agentzone.constructs import BaselineKey
from agentzone.constructs.alarm_topic import encrypted_alarm_topic
from agentzone.nag import acknowledge_compliance
from agentzone.safety import circuit_breaker as cb
from agentzone.safety.killswitch import PROTECTED_ROLE_TAG, kill_switch_policy_name
from agentzone.safety.metrics import NAMESPACE

from ..support import NAG_PACKS, Synth, new_app, synthesize

ACCOUNT, REGION = "111111111111", "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
STACK = "SafetyTest"
PARAMETER = "/agentzone/claims/dev/kill-switch"
LIMITS = {"tool_calls": 25, "tokens": 50_000, "elapsed_seconds": 30 * 60}
REASONS = {"tool_calls": cb.MAX_TOOL_CALLS, "tokens": cb.MAX_TOKENS, "elapsed_seconds": cb.MAX_SESSION_MINUTES}


def by_prefix(synth: Synth, prefix: str) -> tuple[str, dict]:
    """The only resource, of any type, whose logical id starts with ``prefix``."""
    (found,) = [(k, v) for k, v in synth.raw["Resources"].items() if k.startswith(prefix)]
    return found


def tenant_stack(app: cdk.App, name: str = STACK, *, with_topic: bool = True):
    stack = cdk.Stack(app, name, env=ENV)
    key = BaselineKey(stack, "BaselineKey", alias="alias/agentzone/usecase", description="tenant key").key
    topic = (
        encrypted_alarm_topic(stack, "Alarms", encryption_key=key, display_name="claims agents") if with_topic else None
    )
    context = BlueprintContext(
        tenant="claims",
        environment="dev",
        encryption_key=key,
        alarm_topic=topic,
        tags={"owner": "claims-ai@example.com", "use-case-id": "UC-0001"},
    )
    return stack, context


def agent_role(stack: cdk.Stack, construct_id: str = "AgentRole") -> iam.Role:
    return iam.Role(stack, construct_id, assumed_by=iam.ServicePrincipal("bedrock-agentcore.amazonaws.com"))


def controls(stack, context, config: SafetyConfig | None = None, **kwargs) -> SafetyControls:
    kwargs = {"budget_monthly_usd": 5000, "session_usd": 2.0, **kwargs}
    return SafetyControls.from_config(stack, "Safety", context=context, config=config or SafetyConfig(), **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Synth, dict]:
    """Default safety config, one agent attached, synthesized through every nag pack; and the agent's variables.

    Synth raises on an unacknowledged nag error.
    """
    app = new_app(tmp_path_factory.mktemp("safety") / "cdk.out")
    stack, context = tenant_stack(app)
    safety = controls(stack, context)
    agent = agent_role(stack)
    env = safety.attach_to_agent(agent)
    acknowledge_compliance(
        agent.node.find_child("DefaultPolicy"),
        "IAMNoInlinePolicy",
        "Test scaffold: this role stands in for an agent runtime's execution role.",
    )
    resolved_env = stack.resolve(env)
    return synthesize(app, STACK), resolved_env


@pytest.fixture(scope="module")
def synth(built) -> Synth:
    return built[0]


def getatt(logical_id: str, attribute: str) -> dict:
    return {"Fn::GetAtt": [logical_id, attribute]}


def resolve(value, refs: dict[str, str]):
    """Resolve Ref / Fn::GetAtt / Fn::Join against real (moto) values; refs maps 'Id' and 'Id.Attr' to strings."""
    pseudo = {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
    }
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return pseudo.get(value["Ref"]) or refs[value["Ref"]]
        if set(value) == {"Fn::GetAtt"}:
            return refs[".".join(value["Fn::GetAtt"])]
        if set(value) == {"Fn::Join"}:
            sep, parts = value["Fn::Join"]
            return sep.join(resolve(p, refs) for p in parts)
        return {k: resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    return value


def parameter_arn(synth: Synth) -> dict:
    """The kill switch's ARN as synthesized: this parameter exactly (a Ref, so grants depend on it)."""
    param_id, _ = synth.one("AWS::SSM::Parameter")
    return {"Fn::Join": ["", [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter", {"Ref": param_id}]]}


def statements(policy: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------ circuit breaker: executed in moto


@pytest.fixture
def breaker(synth):
    """The synthesized definition, tokens resolved, created as an EXPRESS machine in moto that really executes ASL."""
    _, machine = synth.one("AWS::StepFunctions::StateMachine")
    definition = machine["Properties"]["DefinitionString"]
    definition = definition if isinstance(definition, str) else resolve(definition, {})
    yield from executed(definition)


def executed(definition: str):
    """Run requests through ``definition`` in moto; yields ``run(request) -> (Decision, DescribeExecution)``."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("stepfunctions", region_name=REGION)
        arn = client.create_state_machine(
            name="circuit-breaker",
            definition=definition,
            type="EXPRESS",
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/circuit-breaker",
        )["stateMachineArn"]

        names = itertools.count()

        def run(request: dict) -> tuple[cb.Decision, dict]:
            # moto has no StartSyncExecution; StartExecution + DescribeExecution give the same
            # status/output/error/cause.
            execution = client.start_execution(
                stateMachineArn=arn, name=f"step-{next(names)}", input=json.dumps(request)
            )["executionArn"]
            for _ in range(200):
                result = client.describe_execution(executionArn=execution)
                if result["status"] != "RUNNING":
                    return cb.decision_from_execution(result), result
                time.sleep(0.01)
            raise AssertionError("execution did not finish")

        yield run


def base_request(**overrides) -> dict:
    return {**cb.request(session_id="s-1", tool_calls=0, tokens=0, elapsed_seconds=0, kill_switch="off"), **overrides}


@pytest.mark.parametrize("field", sorted(LIMITS))
@pytest.mark.parametrize("offset, allowed", [(-1, True), (0, False), (1, False)])
def test_circuit_breaker_trips_exactly_at_each_limit(breaker, field, offset, allowed):
    decision, result = breaker(base_request(**{field: LIMITS[field] + offset}))
    if allowed:
        assert decision == cb.Decision(True, cb.WITHIN_LIMITS)
        assert json.loads(result["output"]) == {"allowed": True, "reason": "within_limits"}
    else:
        assert decision == cb.Decision(False, REASONS[field], LIMITS[field])
        assert result["status"] == "FAILED" and result["error"] == cb.TRIPPED


def test_circuit_breaker_allows_a_fresh_session(breaker):
    assert breaker(base_request())[0].allowed


@pytest.mark.parametrize("value", ["on", "ON", "", "unknown"])
def test_circuit_breaker_refuses_unless_the_kill_switch_is_off(breaker, value):
    decision, result = breaker(base_request(kill_switch=value))
    assert decision == cb.Decision(False, cb.KILL_SWITCH) and result["error"] == cb.TRIPPED


def test_kill_switch_is_checked_before_the_limits(breaker):
    assert breaker(base_request(kill_switch="on", tool_calls=100))[0].reason == cb.KILL_SWITCH


@pytest.mark.parametrize(
    "broken",
    [
        {"tool_calls": None},
        {"tokens": "12"},
        {"session_id": 7},
        {"elapsed_seconds": None},
        {"kill_switch": None},
    ],
)
def test_circuit_breaker_refuses_malformed_requests(breaker, broken):
    request = base_request()
    for key, value in broken.items():
        if value is None:
            request.pop(key)
        else:
            request[key] = value
    decision, result = breaker(request)
    assert decision == cb.Decision(False, cb.INVALID_REQUEST) and result["error"] == cb.INVALID


# The operations guidance's IT-support example: the tenant's stops, and one agent's own, tighter ones.
IT_SUPPORT = {"max_tool_calls": 8, "max_output_tokens": 1500, "max_loop_cost_usd": 0.2, "human_checkpoint_after": 5}


@pytest.fixture(scope="module")
def it_support_definition() -> str:
    stack, context = tenant_stack(new_app(), "ItSupport")
    config = SafetyConfig(max_tool_calls=12, max_output_tokens=4000, max_step_retries=3, human_checkpoint_after=10)
    safety = controls(stack, context, config, agent_limits={"helpdesk": IT_SUPPORT})
    return stack.resolve(safety.circuit_breaker.node.default_child.definition_string)


@pytest.fixture
def it_support(it_support_definition):
    yield from executed(it_support_definition)


def helpdesk(**overrides) -> dict:
    return base_request(**{"agent": "helpdesk", **overrides})


@pytest.mark.parametrize(
    "field, limit, reason",
    [
        ("tool_calls", 8, cb.MAX_TOOL_CALLS),
        ("output_tokens", 1500, cb.MAX_OUTPUT_TOKENS),
        ("loop_cost_usd", 0.2, cb.MAX_LOOP_COST),
        ("session_cost_usd", 2.0, cb.MAX_SESSION_COST),  # the tenant's budget.session_usd
        ("step_retries", 3, cb.MAX_STEP_RETRIES),  # the tenant's, which the agent keeps
    ],
)
@pytest.mark.parametrize("offset, allowed", [(-1, True), (0, False), (1, False)])
def test_an_agents_own_limits_trip_exactly_at_each(it_support, field, limit, reason, offset, allowed):
    step = 0.01 if isinstance(limit, float) else 1
    decision, result = it_support(helpdesk(**{field: round(limit + offset * step, 2)}))
    if allowed:
        assert decision == cb.Decision(True, cb.WITHIN_LIMITS)
    else:
        assert decision == cb.Decision(False, reason, limit) and result["error"] == cb.TRIPPED


@pytest.mark.parametrize("offset, allowed", [(-1, True), (0, False), (1, False)])
def test_consecutive_tool_calls_at_the_checkpoint_need_a_human(it_support, offset, allowed):
    decision, result = it_support(helpdesk(consecutive_tool_calls=5 + offset))
    if allowed:
        assert decision.allowed
    else:
        assert decision == cb.Decision(False, cb.NEEDS_HUMAN_APPROVAL, 5) and decision.needs_human_approval
        assert result["error"] == cb.NEEDS_APPROVAL  # not a trip: the agent asks, and may go on once approved


def test_other_agents_get_the_tenants_limits(it_support):
    assert it_support(base_request(agent="triage", tool_calls=11, output_tokens=3999, consecutive_tool_calls=9))[
        0
    ].allowed
    assert it_support(base_request(agent="triage", tool_calls=12))[0].reason == cb.MAX_TOOL_CALLS
    assert it_support(base_request(tool_calls=11))[0].allowed  # no agent named: the tenant's
    assert it_support(base_request(consecutive_tool_calls=10))[0] == cb.Decision(False, cb.NEEDS_HUMAN_APPROVAL, 10)
    # A hard limit wins over the checkpoint; the kill switch over both.
    assert it_support(helpdesk(tool_calls=8, consecutive_tool_calls=5))[0].reason == cb.MAX_TOOL_CALLS
    assert it_support(helpdesk(kill_switch="on", consecutive_tool_calls=5))[0].reason == cb.KILL_SWITCH


@pytest.mark.parametrize("broken", [{"output_tokens": "12"}, {"loop_cost_usd": "0.1"}, {"agent": 7}])
def test_a_malformed_optional_counter_is_refused(it_support, broken):
    decision, result = it_support(helpdesk(**broken))
    assert decision == cb.Decision(False, cb.INVALID_REQUEST) and result["error"] == cb.INVALID


def test_an_agents_limits_can_only_tighten_the_tenants():
    stack, context = tenant_stack(new_app(), "Loose")
    safety = controls(stack, context, SafetyConfig(max_tool_calls=12), agent_limits={"a": {"max_tool_calls": 30}})
    definition = json.loads(stack.resolve(safety.circuit_breaker.node.default_child.definition_string))
    choices = definition["States"]["AgentACheckLimits"]["Choices"]
    assert choices[0]["Variable"] == "$.tool_calls" and choices[0]["NumericGreaterThanEquals"] == 12


def test_state_machine_is_express_traced_and_logs_without_execution_data(synth):
    key_id, _ = synth.one("AWS::KMS::Key")
    log_id, log_group = synth.one("AWS::Logs::LogGroup")
    _, machine = synth.one("AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert (
        props["StateMachineType"] == "EXPRESS" and props["StateMachineName"] == "agentzone-claims-dev-circuit-breaker"
    )
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert (
        props["LoggingConfiguration"]["Level"] == "ALL"
        and props["LoggingConfiguration"]["IncludeExecutionData"] is False
    )
    assert props["LoggingConfiguration"]["Destinations"] == [
        {"CloudWatchLogsLogGroup": {"LogGroupArn": getatt(log_id, "Arn")}}
    ]
    assert log_group["Properties"]["KmsKeyId"] == getatt(key_id, "Arn") and log_group["DeletionPolicy"] == "Retain"


def test_limits_come_from_config():
    stack, context = tenant_stack(new_app(), "Limits")
    safety = controls(stack, context, SafetyConfig(max_tool_calls=8, max_tokens=1500, max_session_minutes=15))
    definition = json.loads(stack.resolve(safety.circuit_breaker.node.default_child.definition_string))
    choices = definition["States"]["CheckLimits"]["Choices"]
    required = [(c.get("Variable"), c.get("NumericGreaterThanEquals")) for c in choices if "Variable" in c]
    assert required == [("$.tool_calls", 8), ("$.tokens", 1500), ("$.elapsed_seconds", 900)]
    # The optional counters are checked only when the agent sends them: session cost (budget.session_usd) and
    # step retries (default 3).
    optional = [c["And"][1] for c in choices if "And" in c]
    assert [(c["Variable"], c["NumericGreaterThanEquals"]) for c in optional] == [
        ("$.session_cost_usd", 2.0),
        ("$.step_retries", 3),
    ]


# ------------------------------------------------------------------ kill switch: parameter and deny policies


def test_kill_switch_parameter_is_a_string_that_starts_off(synth):
    _, param = synth.one("AWS::SSM::Parameter")
    assert param["Properties"]["Name"] == PARAMETER
    assert param["Properties"]["Type"] == "String" and param["Properties"]["Value"] == "off"
    assert param["Properties"]["Tier"] == "Standard"


@pytest.mark.parametrize(
    "prefix, name",
    [
        ("SafetyKillSwitchDenyPolicy", "agentzone-claims-dev-kill-switch-deny"),
        ("SafetyBudgetDenyPolicy", "agentzone-claims-dev-budget-deny"),
    ],
)
def test_deny_policies_stop_model_and_agent_calls_and_are_attached_to_nothing(synth, prefix, name):
    _, policy = by_prefix(synth, prefix)
    assert policy["Properties"]["ManagedPolicyName"] == name
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert (
        sorted(statement["Action"])
        == sorted(DENIED_ACTIONS)
        == ["bedrock-agentcore:InvokeAgentRuntime", "bedrock:InvokeModel*"]
    )
    assert (statement["Sid"], statement["Effect"], statement["Resource"]) == (
        "StopAgentModelAndAgentCalls",
        "Deny",
        "*",
    )
    assert not any(k in policy["Properties"] for k in ("Roles", "Users", "Groups"))  # attached at incident time only


# ------------------------------------------------------------------ cost: alarms, budget and its action


def _alarm(synth: Synth, prefix: str) -> dict:
    return by_prefix(synth, prefix)[1]["Properties"]


def test_session_cost_alarm_watches_the_most_expensive_session(synth):
    topic_id, _ = synth.one("AWS::SNS::Topic")
    alarm = _alarm(synth, "SafetySessionCostAlarm")
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"], alarm["Period"]) == (
        NAMESPACE,
        "SessionCostUSD",
        "Maximum",
        60,
    )
    assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == [
        {"Name": "Environment", "Value": "dev"},
        {"Name": "Tenant", "Value": "claims"},
    ]
    assert alarm["Threshold"] == 2.0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 1 and alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_daily_cost_alarm_defaults_to_a_thirtieth_of_the_budget(synth):
    alarm = _alarm(synth, "SafetyDailyCostAlarm")
    assert (alarm["MetricName"], alarm["Statistic"], alarm["Period"]) == ("CostUSD", "Sum", 86400)
    assert alarm["Threshold"] == pytest.approx(166.67)


def test_cost_settings_from_config():
    stack, context = tenant_stack(new_app(), "Cost")
    safety = controls(stack, context, SafetyConfig(daily_cost_usd=50), session_usd=None)
    assert set(safety.alarms) == {"daily_cost"} and safety.daily_cost_usd == 50
    assert ENV_SESSION_COST_LIMIT_USD not in safety.attach_to_agent(agent_role(stack))


def test_budget_is_the_tenant_budget(synth):
    _, budget = synth.one("AWS::Budgets::Budget")
    assert budget["Properties"]["Budget"] == {
        "BudgetName": "agentzone-claims-dev-safety",
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": 5000, "Unit": "USD"},
    }


def test_budget_action_denies_the_protected_roles_at_100_percent_actual(synth):
    budget_id, _ = synth.one("AWS::Budgets::Budget")
    _, action = synth.one("AWS::Budgets::BudgetsAction")
    policy_id, _ = by_prefix(synth, "SafetyBudgetDenyPolicy")
    role_id, _ = by_prefix(synth, "SafetyBudgetActionRole")
    (agent_id,) = [k for k in synth.resources("AWS::IAM::Role") if k.startswith("AgentRole")]
    props = action["Properties"]
    assert props["BudgetName"] == "agentzone-claims-dev-safety" and budget_id in action["DependsOn"]
    assert (props["ActionType"], props["NotificationType"], props["ApprovalModel"]) == (
        "APPLY_IAM_POLICY",
        "ACTUAL",
        "AUTOMATIC",
    )
    assert props["ActionThreshold"] == {"Type": "PERCENTAGE", "Value": 100}
    assert props["Definition"] == {
        "IamActionDefinition": {"PolicyArn": {"Ref": policy_id}, "Roles": [{"Ref": agent_id}]}
    }
    assert props["ExecutionRoleArn"] == getatt(role_id, "Arn")
    assert props["Subscribers"] == [{"Type": "EMAIL", "Address": "claims-ai@example.com"}]


def test_budgets_execution_role_may_only_attach_the_budget_policy_to_protected_roles(synth):
    role_id, role = by_prefix(synth, "SafetyBudgetActionRole")
    policy_id, _ = by_prefix(synth, "SafetyBudgetDenyPolicy")
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert trust["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:budgets::{ACCOUNT}:budget/agentzone-claims-dev-safety*"
    }
    _, policy = by_prefix(synth, "SafetyBudgetActionPolicy")
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    assert list(statements(policy).values()) == [
        {
            "Sid": "AttachTheBudgetDenyPolicy",
            "Effect": "Allow",
            "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            "Resource": f"arn:aws:iam::{ACCOUNT}:role/*",
            "Condition": {
                "ArnEquals": {"iam:PolicyARN": {"Ref": policy_id}},
                "StringEquals": {f"iam:ResourceTag/{PROTECTED_ROLE_TAG}": "claims/dev"},
            },
        }
    ]


def test_protect_roles_tags_them_and_extends_the_budget_action_in_any_order():
    stack, context = tenant_stack(new_app(), "Protect")
    safety = controls(stack, context)
    assert safety.budget_action is None  # nothing protected yet: no action
    first, second = agent_role(stack, "First"), agent_role(stack, "Second")
    safety.protect_roles([first])
    safety.protect_roles([second, first])  # later call, duplicate ignored
    assert safety.protected_roles == (first, second)
    definition = stack.resolve(safety.budget_action.definition)
    assert definition["iamActionDefinition"]["roles"] == [
        {"Ref": stack.get_logical_id(r.node.default_child)} for r in (first, second)
    ]
    template = Template.from_stack(stack).to_json()
    for role in (first, second):
        tags = template["Resources"][stack.get_logical_id(role.node.default_child)]["Properties"]["Tags"]
        assert {"Key": PROTECTED_ROLE_TAG, "Value": "claims/dev"} in tags


def test_imported_roles_are_protected_with_a_warning_to_tag_them():
    stack, context = tenant_stack(new_app(), "Imported")
    safety = controls(stack, context)
    safety.protect_roles([iam.Role.from_role_arn(stack, "Imported", f"arn:aws:iam::{ACCOUNT}:role/legacy-agent")])
    assert stack.resolve(safety.budget_action.definition)["iamActionDefinition"]["roles"] == ["legacy-agent"]
    Annotations.from_stack(stack).has_warning(
        "/Imported/Safety", Match.string_like_regexp("tag it agentzone:kill-switch=claims/dev")
    )


# ------------------------------------------------------------------ attachment and grants


def test_attach_to_agent_returns_the_variables(built):
    synth, env = built
    machine_id, _ = synth.one("AWS::StepFunctions::StateMachine")
    assert env == {
        ENV_KILL_SWITCH_PARAMETER: PARAMETER,
        ENV_KILL_SWITCH_CACHE_SECONDS: "30",
        ENV_CIRCUIT_BREAKER_ARN: {"Ref": machine_id},
        ENV_MAX_TOOL_CALLS: "25",
        ENV_MAX_TOKENS: "50000",
        ENV_MAX_SESSION_MINUTES: "30",
        ENV_METRICS_NAMESPACE: "AgentZone/Agents",
        ENV_SESSION_COST_LIMIT_USD: "2",
    }
    assert all(name.startswith("AGENTZONE_") for name in env)


def test_attached_agent_may_check_and_read_the_kill_switch_only(synth):
    machine_id, _ = synth.one("AWS::StepFunctions::StateMachine")
    (policy,) = [p for k, p in synth.resources("AWS::IAM::Policy").items() if k.startswith("AgentRoleDefaultPolicy")]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "ssm:GetParameter", "Effect": "Allow", "Resource": parameter_arn(synth)},
        {"Action": "states:StartSyncExecution", "Effect": "Allow", "Resource": {"Ref": machine_id}},
    ]
    (role,) = [v for k, v in synth.resources("AWS::IAM::Role").items() if k.startswith("AgentRole")]
    assert {"Key": PROTECTED_ROLE_TAG, "Value": "claims/dev"} in role["Properties"]["Tags"]


def test_safety_controls_are_an_agent_attachment_with_metrics():
    stack, context = tenant_stack(new_app(), "Metrics")
    safety = controls(stack, context)
    assert isinstance(safety, AgentAttachment) and SafetyControls.REGISTRY_NAME == "safety"
    machine = {"StateMachineArn": {"Ref": stack.get_logical_id(safety.circuit_breaker.node.default_child)}}
    trips, checks = safety.metric_trips(), safety.metric_checks()
    assert (trips.namespace, trips.metric_name) == ("AWS/States", "ExecutionsFailed")
    assert (checks.namespace, checks.metric_name) == ("AWS/States", "ExecutionsStarted")
    assert stack.resolve(trips.dimensions) == stack.resolve(checks.dimensions) == machine
    cost = safety.metric_cost()
    assert (cost.namespace, cost.metric_name, cost.statistic) == (NAMESPACE, "CostUSD", "Sum")
    assert stack.resolve(safety.circuit_breaker_arn) == machine["StateMachineArn"]


# ------------------------------------------------------------------ incident playbooks


def playbooks(synth: Synth) -> dict[str, dict]:
    return {k: v for k, v in synth.resources("AWS::SSM::Document").items()}


def test_playbooks_are_automation_documents_running_as_the_playbook_role(synth):
    role_id, _ = by_prefix(synth, "SafetyPlaybookRole")
    docs = {d["Properties"]["Name"]: d["Properties"] for d in playbooks(synth).values()}
    assert set(docs) == {f"AgentZone-claims-dev-{n}" for n in ("RunawayLoop", "PromptInjection", "CostExplosion")}
    for props in docs.values():
        content = props["Content"]
        json.dumps(content)  # a JSON document once CloudFormation resolves the role ARN
        assert (props["DocumentType"], props["DocumentFormat"], props["UpdateMethod"]) == (
            "Automation",
            "JSON",
            "NewVersion",
        )
        assert content["schemaVersion"] == "0.3" and content["assumeRole"] == "{{ AutomationAssumeRole }}"
        assert content["parameters"]["AutomationAssumeRole"]["default"] == getatt(role_id, "Arn")
        assert content["mainSteps"][1]["name"] == "FlipKillSwitch"  # first thing after recording the old value
        for step in content["mainSteps"]:
            for placeholder in json.dumps(step["inputs"]).split("{{ ")[1:]:
                assert placeholder.split(" }}")[0] in content["parameters"], step


def _iam_action(service: str, api: str) -> str:
    return f"{service}:{api}"


def _allows(policy_statements: list[dict], action: str) -> list[dict]:
    return [s for s in policy_statements if s["Effect"] == "Allow" and action in _list(s["Action"])]


def test_every_playbook_step_is_a_real_api_the_role_may_call(synth):
    _, policy = by_prefix(synth, "SafetyPlaybookPolicy")
    allowed = policy["Properties"]["PolicyDocument"]["Statement"]
    models = botocore.session.get_session()
    for doc in playbooks(synth).values():
        for step in doc["Properties"]["Content"]["mainSteps"]:
            assert step["action"] == "aws:executeAwsApi"
            service, api = step["inputs"]["Service"], step["inputs"]["Api"]
            model = models.get_service_model(service)
            assert api in model.operation_names, (service, api)
            shape = model.operation_model(api).input_shape
            params = {k for k in step["inputs"] if k not in ("Service", "Api")}
            assert set(shape.required_members) <= params <= set(shape.members), (api, params)
            assert _allows(allowed, _iam_action(service, api)), f"{service}:{api} is not allowed to the playbook role"


def test_playbook_role_is_least_privilege(synth):
    role_id, role = by_prefix(synth, "SafetyPlaybookRole")
    kill_policy_id, _ = by_prefix(synth, "SafetyKillSwitchDenyPolicy")
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "ssm.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-execution/*"},
    }
    _, policy = by_prefix(synth, "SafetyPlaybookPolicy")
    by_sid = statements(policy)
    assert by_sid["ReadAndFlipTheKillSwitch"]["Action"] == ["ssm:GetParameter", "ssm:PutParameter"]
    assert by_sid["ReadAndFlipTheKillSwitch"]["Resource"] == parameter_arn(synth)
    assert by_sid["StopAgentSessions"]["Action"] == "bedrock-agentcore:StopRuntimeSession"
    attach = by_sid["AttachTheKillSwitchDenyPolicy"]
    assert attach["Action"] == "iam:AttachRolePolicy"  # never detach: releasing is the operator's `killswitch off`
    assert attach["Condition"] == {
        "ArnEquals": {"iam:PolicyARN": {"Ref": kill_policy_id}},
        "StringEquals": {f"iam:ResourceTag/{PROTECTED_ROLE_TAG}": "claims/dev"},
    }
    assert by_sid["SnapshotAgentRolePolicies"]["Condition"] == {
        "StringEquals": {f"iam:ResourceTag/{PROTECTED_ROLE_TAG}": "claims/dev"}
    }
    assert len(by_sid) == 4 and policy["Properties"]["Roles"] == [{"Ref": role_id}]


def attached(iam_client, role: str) -> list[str]:
    return [p["PolicyArn"] for p in iam_client.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]


def _substitute(inputs: dict, values: dict[str, str]) -> dict:
    text = json.dumps(inputs)
    for name, value in values.items():
        text = text.replace("{{ " + name + " }}", value)
    return json.loads(text)


@mock_aws
def test_prompt_injection_playbook_steps_run_against_moto(synth):
    """Every step moto implements runs with the document's own inputs (StopRuntimeSession: shape-checked above)."""
    ssm, iam_client = boto3.client("ssm", region_name=REGION), boto3.client("iam")
    ssm.put_parameter(Name=PARAMETER, Value="off", Type="String")
    deny_arn = iam_client.create_policy(
        PolicyName=kill_switch_policy_name("claims", "dev"),
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": list(DENIED_ACTIONS), "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam_client.create_role(
        RoleName="claims-agent",
        AssumeRolePolicyDocument="{}",
        Tags=[{"Key": PROTECTED_ROLE_TAG, "Value": "claims/dev"}],
    )
    kill_policy_id, _ = by_prefix(synth, "SafetyKillSwitchDenyPolicy")
    (doc,) = [d for d in playbooks(synth).values() if d["Properties"]["Name"].endswith("PromptInjection")]
    clients = {"ssm": ssm, "iam": iam_client}
    results = {}
    for step in doc["Properties"]["Content"]["mainSteps"]:
        inputs = resolve(_substitute(step["inputs"], {"AgentRoleName": "claims-agent"}), {kill_policy_id: deny_arn})
        service, api = inputs.pop("Service"), inputs.pop("Api")
        if service not in clients:
            continue
        results[step["name"]] = getattr(clients[service], xform_name(api))(**inputs)
    assert results["RecordKillSwitch"]["Parameter"]["Value"] == "off"
    assert ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"] == "on"
    assert results["SnapshotAgentRolePolicies"]["AttachedPolicies"] == []  # taken before the deny
    assert attached(iam_client, "claims-agent") == [deny_arn]
    assert set(results) == {"RecordKillSwitch", "FlipKillSwitch", "SnapshotAgentRolePolicies", "DenyAgentRole"}


# ------------------------------------------------------------------ config and errors


def test_notify_defaults_to_the_owner_and_is_required():
    stack, context = tenant_stack(new_app(), "Notify")
    safety = controls(stack, context, notify=["oncall@example.com"])
    safety.protect_roles([agent_role(stack)])
    assert [s.address for s in safety.budget_action.subscribers] == ["oncall@example.com"]
    stack2, context2 = tenant_stack(new_app(), "NoOwner")
    context2 = BlueprintContext(tenant="claims", environment="dev", encryption_key=context2.encryption_key)
    with pytest.raises(ValueError, match="notify needs at least one e-mail"):
        controls(stack2, context2)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"notify": ("not-an-address",)}, "notify"),
        ({"budget_monthly_usd": 0}, "budget_monthly_usd"),
        ({"max_tool_calls": 0}, "max_tool_calls"),
        ({"daily_cost_usd": 6000.0}, "more than the monthly budget"),
    ],
)
def test_bad_props_are_refused(overrides, message):
    stack = cdk.Stack(new_app(), "BadProps", env=ENV)
    key = cdk.aws_kms.Key(stack, "Key")
    props = {
        "tenant": "claims",
        "environment": "dev",
        "encryption_key": key,
        "budget_monthly_usd": 5000,
        "notify": ("team@example.com",),
        **overrides,
    }
    with pytest.raises(ValueError, match=message):
        SafetyControls(stack, "Safety", props=SafetyControlsProps(**props))


def test_tenant_tags_reach_the_resources(synth):
    _, machine = synth.one("AWS::StepFunctions::StateMachine")
    assert {"Key": "use-case-id", "Value": "UC-0001"} in machine["Properties"]["Tags"]
    _, param = synth.one("AWS::SSM::Parameter")
    assert param["Properties"]["Tags"]["use-case-id"] == "UC-0001"


# ------------------------------------------------------------------ nag and cfn-lint


def test_nag_passed_with_narrow_acknowledgements(synth):
    acks = [a for a in synth.acknowledgements() if "/Safety/" in a.path]
    role_wildcard = f"AwsSolutions-IAM5[Resource::arn:aws:iam::{ACCOUNT}:role/*]"
    runtime = f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:runtime/*"
    assert {(a.path, a.finding) for a in acks if a.pack == "AwsSolutions"} == {
        (f"/{STACK}/Safety/CircuitBreaker/Role/DefaultPolicy", "AwsSolutions-IAM5[Resource::*]"),
        (f"/{STACK}/Safety/BudgetActionPolicy", role_wildcard),
        (f"/{STACK}/Safety/PlaybookPolicy", role_wildcard),
        (f"/{STACK}/Safety/PlaybookPolicy", f"AwsSolutions-IAM5[Resource::{runtime}]"),
        (f"/{STACK}/Safety/PlaybookPolicy", f"AwsSolutions-IAM5[Resource::{runtime}/*]"),
    }
    assert {(a.path, a.finding) for a in acks if a.pack != "AwsSolutions"} == {
        (f"/{STACK}/Safety/CircuitBreaker/Role/DefaultPolicy", f"{pack}-IAMNoInlinePolicy")
        for pack in NAG_PACKS - {"AwsSolutions"}
    }
    assert all(len(a.reason) >= 30 for a in acks)


def test_cfn_lint_is_clean(synth):
    result = run_cfn_lint([synth.path])
    assert result.errors == [], result.errors


def test_built_from_props_it_is_tagged_exactly_as_from_config():
    """Tags travel in the props, so a team that builds the controls itself gets the template YAML gives."""
    app = new_app()
    yaml_stack, context = tenant_stack(app, "FromConfig")
    controls(yaml_stack, context)
    props_stack, context = tenant_stack(app, "FromProps")
    SafetyControls(
        props_stack,
        "Safety",
        props=SafetyControlsProps(
            tenant="claims",
            environment="dev",
            encryption_key=context.encryption_key,
            budget_monthly_usd=5000,
            notify=("claims-ai@example.com",),
            session_usd=2.0,
            alarm_topic=context.alarm_topic,
            tags=context.tags,
        ),
    )
    from_props = Template.from_stack(props_stack)
    assert from_props.to_json() == Template.from_stack(yaml_stack).to_json()
    tags = [{"Key": k, "Value": v} for k, v in sorted(context.tags.items())]
    from_props.has_resource_properties("AWS::IAM::Role", {"RoleName": naming.BUDGET_ACTION_ROLE, "Tags": tags})
    from_props.has_resource_properties("AWS::StepFunctions::StateMachine", {"Tags": tags})
    from_props.has_resource_properties("AWS::SSM::Document", {"Tags": tags})
