"""Runtime blueprint: pinned endpoints per environment, JWT or IAM inbound, least-privilege role, VPC, alarms."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from agentzone.blueprints.context import BlueprintContext, CentralIdentity, ImageRegistry
from agentzone.blueprints.runtime import (
    AgentRuntime,
    AgentRuntimeProps,
    RuntimeImage,
    RuntimeVpcProps,
)
from agentzone.cfn_lint import run_cfn_lint
from agentzone.config.model import AgentRuntimeBlueprint
from agentzone.constructs import BaselineKey

from ..support import NAG_PACKS, Synth, new_app, synthesize

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
REGISTRY = ImageRegistry(account="100000000011", region="eu-west-1")
DISCOVERY = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123/.well-known/openid-configuration"
SCOPE = "agentzone/claims/invoke"
FM_GATEWAY_URL = "https://llm.dev.agentzone.internal"
TAGS = {"owner": "claims-ai@example.com", "cost-center": "CC-1234", "use-case": "claims", "environment": "dev"}
STACK = "RuntimeBlueprintTest"
REPOSITORY_ARN = ":ecr:eu-west-1:100000000011:repository/agentzone/claims/agent"
KILL_SWITCH_ARN = "arn:aws:ssm:eu-west-1:111111111111:parameter/agentzone/claims/dev/kill-switch"
MODEL_ARN = "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-lite-v1:0"

RELEASES = {
    "dev": {"image_tag": "1.9.0", "endpoints": {"DEV": 9}},
    "prod": {"image_tag": "1.7.2", "endpoints": {"PROD": 7, "PREPROD": 8}},
}


@dataclass(frozen=True)
class FakeAttachment:
    """Grants one action on one resource and names it in one variable, like a memory or guardrail attachment."""

    variable: str
    value: str
    action: str
    resource: str

    def attach_to_agent(self, grantee: iam.IGrantable) -> dict[str, str]:
        iam.Grant.add_to_principal(grantee=grantee, actions=[self.action], resource_arns=[self.resource])
        return {self.variable: self.value}


KILL_SWITCH = FakeAttachment(
    "AGENTZONE_KILL_SWITCH_PARAMETER", "/agentzone/claims/dev/kill-switch", "ssm:GetParameter", KILL_SWITCH_ARN
)
MODEL = FakeAttachment("AGENTZONE_MODEL_ID", "amazon.nova-lite-v1:0", "bedrock:InvokeModel", MODEL_ARN)


def blueprint(**overrides) -> AgentRuntimeBlueprint:
    data = {
        "image": "agent",
        "protocol": "A2A",
        "releases": RELEASES,
        "environment": {"LOG_LEVEL": "INFO"},
        "idle_timeout_minutes": 20,
        "max_lifetime_hours": 4,
        "alarms": {"system_errors": 3, "throttles": 10, "p95_latency_seconds": 12.5},
    }
    return AgentRuntimeBlueprint.model_validate({**data, **overrides})


def new_stack(name: str = "Runtime", app: cdk.App | None = None) -> tuple[cdk.Stack, BlueprintContext]:
    stack = cdk.Stack(app or new_app(), name, env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/agentzone/claims", description="claims baseline").key
    topic = sns.Topic(stack, "Alarms", master_key=key, enforce_ssl=True)
    context = BlueprintContext(
        tenant="claims",
        environment="dev",
        encryption_key=key,
        tags=TAGS,
        alarm_topic=topic,
        identity=CentralIdentity(discovery_url=DISCOVERY, allowed_scopes=(SCOPE,)),
        image_registry=REGISTRY,
        fm_gateway_url=FM_GATEWAY_URL,
    )
    return stack, context


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Synth:
    """Two runtimes through every nag pack (synth raises on an unacknowledged error):

    Triage: JWT, managed network, a kill-switch attachment.
    Intake: no identity (IAM inbound), own VPC, a model attachment.
    """
    app = new_app(tmp_path_factory.mktemp("runtime") / "cdk.out")
    stack, context = new_stack(STACK, app)
    AgentRuntime.from_config(
        stack, "Triage", context=context, name="triage", config=blueprint(), attachments=[KILL_SWITCH]
    )
    AgentRuntime.from_config(
        stack,
        "Intake",
        context=dataclasses.replace(context, identity=None, fm_gateway_url=None),
        name="intake",
        config=blueprint(protocol="MCP", vpc={"cidr": "10.80.0.0/22", "zones": ["a", "c"]}, environment={}),
        attachments=[MODEL],
    )
    return synthesize(app, STACK)


def resources(raw: dict, kind: str, prefix: str = "") -> dict[str, dict]:
    return {k: v for k, v in raw["Resources"].items() if v["Type"] == kind and k.startswith(prefix)}


def runtime(raw: dict, prefix: str) -> tuple[str, dict]:
    (item,) = resources(raw, "AWS::BedrockAgentCore::Runtime", prefix).items()
    return item


def role_statements(raw: dict, prefix: str) -> list[dict]:
    (policy,) = resources(raw, "AWS::IAM::Policy", f"{prefix}ExecutionRoleDefaultPolicy").values()
    return policy["Properties"]["PolicyDocument"]["Statement"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def joined(value) -> str:
    """A Fn::Join of strings and pseudo-parameter refs as text (``${AWS::URLSuffix}``)."""
    if isinstance(value, str):
        return value
    sep, parts = value["Fn::Join"]
    return sep.join(p if isinstance(p, str) else "${" + p["Ref"] + "}" for p in parts)


# ------------------------------------------------------------------ the gate


def test_cfn_lint_has_no_errors(synth):
    result = run_cfn_lint([synth.path])
    assert result.errors == [], result.render()


def test_every_acknowledgement_is_on_an_execution_role_policy_with_a_reason(synth):
    acks = synth.acknowledgements()
    assert {a.pack for a in acks} == NAG_PACKS
    for ack in acks:
        assert re.fullmatch(rf"/{STACK}/(Triage|Intake)/ExecutionRole/DefaultPolicy", ack.path), ack
        assert len(ack.reason) >= 30, ack
    aws_solutions = {a.finding for a in acks if a.path.startswith(f"/{STACK}/Triage/") and a.pack == "AwsSolutions"}
    assert aws_solutions == {
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::arn:aws:logs:eu-west-1:111111111111:log-group:*]",
        "AwsSolutions-IAM5[Resource::arn:aws:logs:eu-west-1:111111111111:log-group:/aws/bedrock-agentcore/runtimes/*]",
        "AwsSolutions-IAM5[Resource::arn:aws:logs:eu-west-1:111111111111:log-group:/aws/bedrock-agentcore/runtimes/*:log-stream:*]",
        "AwsSolutions-IAM5[Resource::arn:aws:bedrock-agentcore:eu-west-1:111111111111:workload-identity-directory/default/workload-identity/*]",
    }
    # Nothing acknowledged on the VPC, its endpoints, flow logs or security groups.
    assert not any("/Network/" in a.path or "SecurityGroup" in a.path for a in acks)


# ------------------------------------------------------------------ runtime


def test_runtime_runs_the_pinned_image_from_the_shared_services_ecr(synth):
    _, triage = runtime(synth.raw, "Triage")
    props = triage["Properties"]
    assert props["AgentRuntimeName"] == "claims_triage_dev"
    uri = joined(props["AgentRuntimeArtifact"]["ContainerConfiguration"]["ContainerUri"])
    assert uri == "100000000011.dkr.ecr.eu-west-1.${AWS::URLSuffix}/agentzone/claims/agent:1.9.0"  # dev's image_tag
    assert props["ProtocolConfiguration"] == "A2A"
    assert props["LifecycleConfiguration"] == {"IdleRuntimeSessionTimeout": 20 * 60, "MaxLifetime": 4 * 3600}
    assert props["NetworkConfiguration"] == {"NetworkMode": "PUBLIC"}  # AgentCore's managed network by default
    assert props["Tags"] == TAGS
    assert props["Description"] == "triage agent of claims (dev)"


def test_jwt_inbound_through_the_central_identity(synth):
    _, triage = runtime(synth.raw, "Triage")
    assert triage["Properties"]["AuthorizerConfiguration"] == {
        "CustomJWTAuthorizer": {"DiscoveryUrl": DISCOVERY, "AllowedScopes": [SCOPE]}
    }


def test_iam_inbound_when_there_is_no_identity(synth):
    _, intake = runtime(synth.raw, "Intake")
    assert "AuthorizerConfiguration" not in intake["Properties"]  # AgentCore's default: SigV4, only granted principals
    assert intake["Properties"]["ProtocolConfiguration"] == "MCP"


def test_tracing_is_delivered_to_xray(synth):
    (runtime_id, _), deliveries = (
        runtime(synth.raw, "Triage"),
        resources(synth.raw, "AWS::Logs::DeliverySource", "Triage"),
    )
    (source,) = deliveries.values()
    assert source["Properties"]["LogType"] == "TRACES"
    assert source["Properties"]["ResourceArn"] == {"Fn::GetAtt": [runtime_id, "AgentRuntimeArn"]}
    (destination,) = resources(synth.raw, "AWS::Logs::DeliveryDestination", "Triage").values()
    assert destination["Properties"]["DeliveryDestinationType"] == "XRAY"
    assert len(resources(synth.raw, "AWS::Logs::Delivery", "Triage")) == 1


def test_environment_has_runtime_config_and_attachment_variables(synth):
    _, triage = runtime(synth.raw, "Triage")
    assert triage["Properties"]["EnvironmentVariables"] == {
        "AGENTZONE_TENANT": "claims",
        "AGENTZONE_ENVIRONMENT": "dev",
        "AGENTZONE_AGENT": "triage",  # what it sends the circuit breaker, which checks its own limits
        "AGENTZONE_FM_GATEWAY_URL": FM_GATEWAY_URL,
        "AGENTZONE_KILL_SWITCH_PARAMETER": "/agentzone/claims/dev/kill-switch",  # from the attachment
        "LOG_LEVEL": "INFO",
    }
    _, intake = runtime(synth.raw, "Intake")
    # No FM gateway deployed yet: no URL variable rather than an empty one.
    assert intake["Properties"]["EnvironmentVariables"] == {
        "AGENTZONE_TENANT": "claims",
        "AGENTZONE_ENVIRONMENT": "dev",
        "AGENTZONE_AGENT": "intake",
        "AGENTZONE_MODEL_ID": "amazon.nova-lite-v1:0",
    }


def test_endpoints_pin_the_dev_release_versions(synth):
    runtime_id, _ = runtime(synth.raw, "Triage")
    endpoints = resources(synth.raw, "AWS::BedrockAgentCore::RuntimeEndpoint", "Triage")
    assert [(e["Properties"]["Name"], e["Properties"]["AgentRuntimeVersion"]) for e in endpoints.values()] == [
        ("DEV", "9")
    ]
    (endpoint,) = endpoints.values()
    assert endpoint["Properties"]["AgentRuntimeId"] == {"Fn::GetAtt": [runtime_id, "AgentRuntimeId"]}
    assert endpoint["Properties"]["Tags"] == TAGS


@pytest.mark.parametrize(
    "environment, expected, tag",
    [
        ("dev", {"DEV": "9"}, "1.9.0"),
        ("prod", {"PREPROD": "8", "PROD": "7"}, "1.7.2"),
    ],
)
def test_each_environment_gets_its_own_release(environment, expected, tag):
    stack, context = new_stack()
    agent = AgentRuntime.from_config(
        stack,
        "Triage",
        context=dataclasses.replace(context, environment=environment),
        name="triage",
        config=blueprint(),
    )
    raw = Template.from_stack(stack).to_json()
    endpoints = resources(raw, "AWS::BedrockAgentCore::RuntimeEndpoint")
    assert {e["Properties"]["Name"]: e["Properties"]["AgentRuntimeVersion"] for e in endpoints.values()} == expected
    # Construct ids come from the endpoint name only: promotion (a new version) updates, never replaces, the endpoint.
    assert sorted(endpoints) == sorted(stack.get_logical_id(agent.endpoints[n].node.default_child) for n in expected)
    assert all(
        re.match(rf"^TriageEndpoint{name}[0-9A-F]{{8}}$", k)
        for name in expected
        for k in endpoints
        if f"Endpoint{name}" in k
    )
    ((_, props),) = [(k, v["Properties"]) for k, v in resources(raw, "AWS::BedrockAgentCore::Runtime").items()]
    assert props["AgentRuntimeName"] == f"claims_triage_{environment}"
    assert joined(props["AgentRuntimeArtifact"]["ContainerConfiguration"]["ContainerUri"]).endswith(
        f"/agentzone/claims/agent:{tag}"
    )


def test_promotion_changes_only_the_version_of_the_same_resource():
    def endpoints(prod_version: int) -> dict[str, str]:
        stack, context = new_stack()
        releases = {**RELEASES, "prod": {"image_tag": "1.7.2", "endpoints": {"PROD": prod_version}}}
        AgentRuntime.from_config(
            stack,
            "Triage",
            context=dataclasses.replace(context, environment="prod"),
            name="triage",
            config=blueprint(releases=releases),
        )
        raw = dict(Template.from_stack(stack).to_json())
        return {
            k: v["Properties"]["AgentRuntimeVersion"]
            for k, v in resources(raw, "AWS::BedrockAgentCore::RuntimeEndpoint").items()
        }

    before, after = endpoints(7), endpoints(8)
    assert list(before) == list(after) and list(before.values()) == ["7"] and list(after.values()) == ["8"]


# ------------------------------------------------------------------ role


def test_execution_role_trusts_agentcore_for_this_runtime_only(synth):
    (role,) = resources(synth.raw, "AWS::IAM::Role", "TriageExecutionRole").values()
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "bedrock-agentcore.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "111111111111"}
    assert joined(statement["Condition"]["ArnLike"]["aws:SourceArn"]) == (
        "arn:aws:bedrock-agentcore:eu-west-1:111111111111:runtime/claims_triage_dev-*"
    )  # a literal partition under cdk.json's enablePartitionLiterals
    runtime_id, triage = runtime(synth.raw, "Triage")
    assert triage["Properties"]["RoleArn"] == {
        "Fn::GetAtt": [next(iter(resources(synth.raw, "AWS::IAM::Role", "TriageExecutionRole"))), "Arn"]
    }
    # The attachments' grants are in place before AgentCore first assumes the role.
    policy = next(iter(resources(synth.raw, "AWS::IAM::Policy", "TriageExecutionRoleDefaultPolicy")))
    assert policy in synth.raw["Resources"][runtime_id]["DependsOn"]


def test_role_pulls_only_the_agent_repository_and_has_no_action_wildcards(synth):
    for prefix in ("Triage", "Intake"):
        statements = role_statements(synth.raw, prefix)
        actions = [a for s in statements for a in as_list(s["Action"])]
        assert not any("*" in a for a in actions), actions
        assert all(s["Effect"] == "Allow" for s in statements)
        pulls = [
            s
            for s in statements
            if any(a in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer") for a in as_list(s["Action"]))
        ]
        assert len(pulls) == 1
        assert joined(pulls[0]["Resource"]) == "arn:${AWS::Partition}" + REPOSITORY_ARN
        token = [s for s in statements if "ecr:GetAuthorizationToken" in as_list(s["Action"])]
        assert [as_list(s["Action"]) for s in token] == [
            ["ecr:GetAuthorizationToken"]
        ]  # alone on "*": no resource-level form


def test_model_access_comes_only_from_an_attachment(synth):
    triage = json.dumps(role_statements(synth.raw, "Triage"))
    assert "bedrock:" not in triage  # no attachment granted models
    assert any(
        s["Action"] == "ssm:GetParameter" and s["Resource"] == KILL_SWITCH_ARN
        for s in role_statements(synth.raw, "Triage")
    )
    model = [
        s for s in role_statements(synth.raw, "Intake") if any(a.startswith("bedrock:") for a in as_list(s["Action"]))
    ]
    assert model == [{"Action": "bedrock:InvokeModel", "Effect": "Allow", "Resource": MODEL_ARN}]


# ------------------------------------------------------------------ VPC


def test_vpc_variant_is_isolated(synth):
    raw = synth.raw
    for kind in (
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::EgressOnlyInternetGateway",
        "AWS::EC2::TransitGatewayAttachment",
    ):
        assert not resources(raw, kind), kind
    assert not any(
        r["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0" for r in resources(raw, "AWS::EC2::Route").values()
    )
    (vpc,) = resources(raw, "AWS::EC2::VPC", "IntakeNetwork").values()
    assert vpc["Properties"]["CidrBlock"] == "10.80.0.0/22"
    subnets = resources(raw, "AWS::EC2::Subnet", "IntakeNetwork")
    assert sorted(s["Properties"]["AvailabilityZone"] for s in subnets.values()) == ["eu-west-1a", "eu-west-1c"]
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    # Flow logs of all traffic into a CMK-encrypted, retained log group.
    (flow_log,) = resources(raw, "AWS::EC2::FlowLog", "IntakeNetwork").values()
    assert flow_log["Properties"]["TrafficType"] == "ALL"
    group_id = flow_log["Properties"]["LogGroupName"]["Ref"]
    group = raw["Resources"][group_id]
    assert group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0].startswith("Key") and group["DeletionPolicy"] == "Retain"
    assert len(resources(raw, "Custom::VpcRestrictDefaultSG")) == 1  # default security group stripped of its rules


def test_vpc_runtime_security_group_allows_only_https_to_the_vpc(synth):
    raw = synth.raw
    runtime_id, intake = runtime(raw, "Intake")
    network = intake["Properties"]["NetworkConfiguration"]
    assert network["NetworkMode"] == "VPC"
    subnets = {k for k in resources(raw, "AWS::EC2::Subnet", "IntakeNetwork")}
    assert {s["Ref"] for s in network["NetworkModeConfig"]["Subnets"]} == subnets
    (group_ref,) = network["NetworkModeConfig"]["SecurityGroups"]
    group = raw["Resources"][group_ref["Fn::GetAtt"][0]]["Properties"]
    assert group["SecurityGroupEgress"] == [
        {
            "CidrIp": "10.80.0.0/22",
            "Description": "HTTPS to the VPC's interface endpoints",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert "SecurityGroupIngress" not in group
    everything = json.dumps(
        {k: v for k, v in raw["Resources"].items() if v["Type"].startswith("AWS::EC2::SecurityGroup")}
    )
    assert "0.0.0.0/0" not in everything and "::/0" not in everything
    # AgentCore pulls the image through these endpoints when it creates the runtime.
    endpoints = resources(raw, "AWS::EC2::VPCEndpoint", "IntakeNetwork")
    assert set(endpoints) <= set(raw["Resources"][runtime_id]["DependsOn"])


def test_vpc_has_the_endpoints_an_agent_needs(synth):
    endpoints = resources(synth.raw, "AWS::EC2::VPCEndpoint", "IntakeNetwork")
    services = {
        e["Properties"]["ServiceName"].removeprefix("com.amazonaws.eu-west-1."): e["Properties"]
        for e in endpoints.values()
    }
    assert set(services) == {
        "bedrock-runtime",
        "bedrock-agentcore",
        "bedrock-agentcore.gateway",
        "ecr.api",
        "ecr.dkr",
        "s3",
        "logs",
        "monitoring",
        "xray",
        "sts",
        "secretsmanager",
        "ssm",
    }
    for props in services.values():
        assert props["VpcEndpointType"] == "Interface" and props["PrivateDnsEnabled"] is True
    # S3 (image layers) resolves to the interface endpoint inside the VPC, so HTTPS to the VPC CIDR is enough.
    assert services["s3"]["DnsOptions"] == {"PrivateDnsOnlyForInboundResolverEndpoint": "AllResolvers"}


# ------------------------------------------------------------------ alarms


def test_alarms_per_endpoint_with_thresholds_and_the_alarm_topic(synth):
    alarms = resources(synth.raw, "AWS::CloudWatch::Alarm", "Triage")
    by_metric = {a["Properties"]["MetricName"]: a["Properties"] for a in alarms.values()}
    assert set(by_metric) == {"SystemErrors", "Throttles", "Latency"} and len(alarms) == 3
    topic = next(iter(resources(synth.raw, "AWS::SNS::Topic")))
    for props in by_metric.values():
        assert props["Namespace"] == "AWS/Bedrock-AgentCore" and props["Period"] == 300
        assert props["TreatMissingData"] == "notBreaching"
        assert props["AlarmActions"] == [{"Ref": topic}] and props["OKActions"] == [{"Ref": topic}]
        assert {"Name": "Name", "Value": "claims_triage_dev::DEV"} in props["Dimensions"]
    errors, throttles, latency = by_metric["SystemErrors"], by_metric["Throttles"], by_metric["Latency"]
    assert (errors["Statistic"], errors["Threshold"], errors["EvaluationPeriods"], errors["ComparisonOperator"]) == (
        "Sum",
        3,
        1,
        "GreaterThanOrEqualToThreshold",
    )
    assert (
        throttles["Statistic"],
        throttles["Threshold"],
        throttles["EvaluationPeriods"],
        throttles["ComparisonOperator"],
    ) == ("Sum", 10, 1, "GreaterThanOrEqualToThreshold")
    assert (
        latency["ExtendedStatistic"],
        latency["Threshold"],
        latency["EvaluationPeriods"],
        latency["ComparisonOperator"],
    ) == ("p95", 12_500, 3, "GreaterThanThreshold")  # milliseconds, three 5-minute periods


# ------------------------------------------------------------------ API


def test_props_api_plain_image_uri_grants_and_metrics():
    stack, _ = new_stack()
    agent = AgentRuntime(
        stack,
        "Agent",
        props=AgentRuntimeProps(
            runtime_name="outside_team_agent",
            image=RuntimeImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/agent:2.0.1"),
            endpoints={"PROD": 2, "CANARY": 3},
        ),
    )
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    agent.grant_invoke(caller)
    raw = Template.from_stack(stack).to_json()
    runtime_id, props = runtime(raw, "Agent")
    assert joined(props["Properties"]["AgentRuntimeArtifact"]["ContainerConfiguration"]["ContainerUri"]) == (
        "123456789012.dkr.ecr.eu-west-1.${AWS::URLSuffix}/team/agent:2.0.1"
    )
    assert "AuthorizerConfiguration" not in props["Properties"]
    alarms = resources(raw, "AWS::CloudWatch::Alarm", "Agent")
    assert len(alarms) == 6 and all("AlarmActions" not in a["Properties"] for a in alarms.values())  # no topic given
    pull = [s for s in role_statements(raw, "Agent") if "ecr:BatchGetImage" in as_list(s["Action"])]
    assert [joined(s["Resource"]) for s in pull] == [
        "arn:${AWS::Partition}:ecr:eu-west-1:123456789012:repository/team/agent"
    ]

    (policy,) = resources(raw, "AWS::IAM::Policy", "CallerDefaultPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    endpoints = {
        e["Properties"]["Name"]: k for k, e in resources(raw, "AWS::BedrockAgentCore::RuntimeEndpoint").items()
    }
    assert statement["Action"] == "bedrock-agentcore:InvokeAgentRuntime"  # not InvokeAgentRuntimeForUser
    assert statement["Resource"] == [  # in the order cdk.json's minimizePolicies sorts them
        {"Fn::GetAtt": [endpoints["CANARY"], "AgentRuntimeEndpointArn"]},
        {"Fn::GetAtt": [endpoints["PROD"], "AgentRuntimeEndpointArn"]},
        {"Fn::GetAtt": [runtime_id, "AgentRuntimeArn"]},
    ]  # the named endpoints only: not DEFAULT (always the newest version), not <runtime>/*

    assert set(agent.endpoints) == {"PROD", "CANARY"} and set(agent.alarms) == {"PROD", "CANARY"}
    assert set(agent.alarms["PROD"]) == {"system_errors", "throttles", "p95_latency"}
    assert stack.resolve(agent.endpoint_arn("PROD")) == {"Fn::GetAtt": [endpoints["PROD"], "AgentRuntimeEndpointArn"]}
    assert stack.resolve(agent.runtime_arn) == {"Fn::GetAtt": [runtime_id, "AgentRuntimeArn"]}
    assert agent.role is agent.grant_principal
    latency = agent.metric_latency("CANARY", statistic="p99")
    assert latency.metric_name == "Latency" and latency.statistic == "p99"
    assert latency.dimensions["Name"] == "outside_team_agent::CANARY"
    assert (
        agent.metric_invocations("PROD").statistic == "Sum"
        and agent.metric_user_errors("PROD").metric_name == "UserErrors"
    )
    with pytest.raises(ValueError, match="name the one to measure"):
        agent.metric_system_errors()
    with pytest.raises(ValueError, match="no endpoint 'DEV'"):
        agent.metric_throttles("DEV")


# ------------------------------------------------------------------ errors


def test_missing_release_for_the_environment_names_it():
    stack, context = new_stack()
    with pytest.raises(ValueError, match=r"no release for environment 'staging'.*configured: dev, prod"):
        AgentRuntime.from_config(
            stack,
            "Triage",
            context=dataclasses.replace(context, environment="staging"),
            name="triage",
            config=blueprint(),
        )


def test_config_environment_may_not_use_the_reserved_prefix():
    stack, context = new_stack()
    # model_copy skips validation, so the blueprint's own check is what is tested (the model may reject it too).
    config = blueprint().model_copy(update={"environment": {"LOG_LEVEL": "INFO", "AGENTZONE_TENANT": "someone-else"}})
    with pytest.raises(ValueError, match=r"\['AGENTZONE_TENANT'\] use the reserved prefix"):
        AgentRuntime.from_config(stack, "Triage", context=context, name="triage", config=config)


@pytest.mark.parametrize(
    "attachments, message",
    [
        (
            [KILL_SWITCH, dataclasses.replace(MODEL, variable=KILL_SWITCH.variable)],
            "AGENTZONE_KILL_SWITCH_PARAMETER is set by both attachment FakeAttachment and attachment FakeAttachment",
        ),
        (
            [dataclasses.replace(MODEL, variable="AGENTZONE_TENANT")],
            "AGENTZONE_TENANT is set by both the runtime's environment and attachment",
        ),
        ([dataclasses.replace(MODEL, variable="MODEL_ID")], "returned environment variable 'MODEL_ID'"),
    ],
)
def test_environment_variable_collisions_are_errors(attachments, message):
    stack, context = new_stack()
    with pytest.raises(ValueError, match=re.escape(message)):
        AgentRuntime.from_config(
            stack, "Triage", context=context, name="triage", config=blueprint(), attachments=attachments
        )


def test_from_config_needs_an_image_registry():
    stack, context = new_stack()
    with pytest.raises(ValueError, match="image_registry"):
        AgentRuntime.from_config(
            stack,
            "Triage",
            context=dataclasses.replace(context, image_registry=None),
            name="triage",
            config=blueprint(),
        )


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"endpoints": {}}, "at least one endpoint"),
        ({"endpoints": {"DEFAULT": 3}}, "not DEFAULT"),
        ({"endpoints": {"PROD": 0}}, "version 0"),
        ({"runtime_name": "claims-triage"}, "runtime_name 'claims-triage'"),
        ({"vpc": RuntimeVpcProps()}, "encryption_key"),
        ({"idle_timeout_minutes": 300, "max_lifetime_hours": 2}, "longer than max_lifetime_hours"),
        (
            {"identity": CentralIdentity(discovery_url=DISCOVERY, allowed_scopes=())},
            "allowed_scopes or allowed_clients",
        ),
    ],
)
def test_props_are_validated(overrides, message):
    props = {
        "runtime_name": "claims_triage_dev",
        "image": RuntimeImage.from_registry(REGISTRY, tenant="claims", image="agent", tag="1.0.0"),
        "endpoints": {"DEV": 1},
    }
    with pytest.raises(ValueError, match=re.escape(message)):
        AgentRuntimeProps(**{**props, **overrides})


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: RuntimeImage.from_registry(REGISTRY, tenant="claims", image="agent", tag="latest"), "not 'latest'"),
        (lambda: RuntimeImage.from_uri("docker.io/library/python:3.12"), "not an ECR image URI"),
        (
            lambda: RuntimeImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/agent"),
            "not an ECR image URI",
        ),
    ],
)
def test_images_are_pinned_ecr_images(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()
