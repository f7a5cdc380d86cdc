"""The FM gateway construct: private-only network, encrypted state, least-privilege task role, nag- and lint-clean."""

from __future__ import annotations

import dataclasses
import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match

from agentzone.cfn_lint import run_cfn_lint
from agentzone.config import load_landing_zone
from agentzone.constructs.encryption_key import BaselineKey
from agentzone.constructs.fm_gateway import (
    CONTAINER_ENVIRONMENT,
    WAF_COUNT_ONLY_RULES,
    FmGateway,
    FmGatewayProps,
    bedrock_resources,
)
from agentzone.naming import FM_GATEWAY_ROLE_PREFIX, split_profile

from ..conftest import SAMPLE_CONFIG
from ..support import NAG_PACKS, Synth, new_app, synthesize

ACCOUNT, REGION = "100000000011", "eu-west-1"
CERTIFICATE = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/3f1c2a4b-5d6e-4f70-8a9b-0c1d2e3f4a51"
GUARDRAIL = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/abc123def456"
TENANTS = ("444444444444", "111111111111")
PROFILE = "eu.anthropic.claude-haiku-4-5-v1:0"  # a cross-region inference profile next to the sample's models
STACK = "FmGatewayTest"
PROXY_CONFIG = {
    "model_list": [{"model_name": "nova-lite", "litellm_params": {"model": "bedrock/amazon.nova-lite-v1:0"}}],
    "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
}


def sample_settings():
    settings = load_landing_zone(SAMPLE_CONFIG).organization.shared_services.fm_gateway
    assert settings is not None, "the sample config defines shared_services.fm_gateway"
    return settings


def sample_props() -> FmGatewayProps:
    props = FmGatewayProps.from_settings(
        sample_settings(),
        name="dev",
        certificate_arn=CERTIFICATE,
        allowed_principal_accounts=TENANTS,
        guardrail_arn=GUARDRAIL,
    )
    return dataclasses.replace(props, model_ids=(*props.model_ids, PROFILE))


@pytest.fixture(scope="module")
def props() -> FmGatewayProps:
    return sample_props()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, props) -> Synth:
    """One synth through all four nag packs, like the real app: an unacknowledged error raises here."""
    app = new_app(tmp_path_factory.mktemp("fm-gateway") / "cdk.out")
    stack = cdk.Stack(app, STACK, env=cdk.Environment(account=ACCOUNT, region=REGION))
    key = BaselineKey(stack, "Key", alias="alias/agentzone/test", description="test key").key
    FmGateway(stack, "FmGateway", props=props, encryption_key=key, proxy_config=PROXY_CONFIG)
    return synthesize(app, STACK)


def key_ref(g: Synth) -> dict:
    return {"Fn::GetAtt": [g.one("AWS::KMS::Key")[0], "Arn"]}


# ------------------------------------------------------------------ network


def test_vpc_has_isolated_subnets_only_in_named_zones(gateway, props):
    t = gateway.template
    for type_ in (
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::Route",
        "AWS::EC2::EgressOnlyInternetGateway",
    ):
        t.resource_count_is(type_, 0)
    subnets = gateway.resources("AWS::EC2::Subnet")
    assert len(subnets) == len(props.zones)
    assert sorted(s["Properties"]["AvailabilityZone"] for s in subnets.values()) == [
        f"{REGION}{z}" for z in props.zones
    ]
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    t.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"})
    t.resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_every_log_group_is_cmk_encrypted_retained_and_expires(gateway):
    groups = gateway.resources("AWS::Logs::LogGroup")
    assert len(groups) >= 5
    for name, group in groups.items():
        assert group["Properties"]["KmsKeyId"] == key_ref(gateway), name
        assert group["Properties"]["RetentionInDays"] >= 365, name
        assert group["DeletionPolicy"] == "Retain", name


def test_interface_endpoints_are_complete_with_private_dns_and_s3_is_a_gateway(gateway):
    endpoints = gateway.resources("AWS::EC2::VPCEndpoint")
    interface = {}
    for e in endpoints.values():
        p = e["Properties"]
        name = (
            p["ServiceName"]
            if isinstance(p["ServiceName"], str)
            else "".join(part if isinstance(part, str) else "" for part in p["ServiceName"]["Fn::Join"][1])
        )
        interface[name.rsplit(".", 1)[-1] if p.get("VpcEndpointType") == "Interface" else name] = p
    expected = {"bedrock", "bedrock-runtime", "sts", "logs", "api", "dkr", "secretsmanager"}
    assert expected <= set(interface), sorted(interface)
    assert all(interface[n]["PrivateDnsEnabled"] is True for n in expected)
    gateways = [e["Properties"] for e in endpoints.values() if e["Properties"].get("VpcEndpointType") == "Gateway"]
    assert len(gateways) == 1 and "s3" in json.dumps(gateways[0]["ServiceName"])
    assert len(endpoints) == len(expected) + 1


def test_no_security_group_admits_the_internet(gateway, props):
    rules = []
    for group in gateway.resources("AWS::EC2::SecurityGroup").values():
        rules += group["Properties"].get("SecurityGroupIngress", [])
    rules += [r["Properties"] for r in gateway.resources("AWS::EC2::SecurityGroupIngress").values()]
    assert rules
    for rule in rules:
        assert rule.get("CidrIp") not in ("0.0.0.0/0",) and rule.get("CidrIpv6") != "::/0", rule
        assert rule.get("CidrIp") in (None, props.vpc_cidr), rule


# ------------------------------------------------------------ load balancers


def test_alb_is_internal_https_only_with_certificate_and_tls_policy(gateway):
    t = gateway.template
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Type": "application",
            "Scheme": "internal",
            "LoadBalancerAttributes": Match.array_with(
                [
                    {"Key": "deletion_protection.enabled", "Value": "true"},
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                ]
            ),
        },
    )
    balancers = gateway.resources("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert all(b["Properties"]["Scheme"] == "internal" for b in balancers.values())
    alb = next(k for k, b in balancers.items() if b["Properties"]["Type"] == "application")
    listeners = gateway.resources("AWS::ElasticLoadBalancingV2::Listener")
    alb_listeners = [
        listener["Properties"]
        for listener in listeners.values()
        if listener["Properties"]["LoadBalancerArn"] == {"Ref": alb}
    ]
    assert len(alb_listeners) == 1
    assert alb_listeners[0]["Protocol"] == "HTTPS" and alb_listeners[0]["Port"] == 443
    assert alb_listeners[0]["Certificates"] == [{"CertificateArn": CERTIFICATE}]
    assert alb_listeners[0]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    others = [
        listener["Properties"]
        for listener in listeners.values()
        if listener["Properties"]["LoadBalancerArn"] != {"Ref": alb}
    ]
    assert [(other["Protocol"], other["Port"]) for other in others] == [
        ("TCP", 443)
    ]  # the PrivateLink NLB passes TLS through


def test_private_link_allows_exactly_the_tenant_accounts(gateway):
    t = gateway.template
    t.has_resource_properties("AWS::EC2::VPCEndpointService", {"AcceptanceRequired": False})
    _, permissions = gateway.one("AWS::EC2::VPCEndpointServicePermissions")
    assert sorted(permissions["Properties"]["AllowedPrincipals"]) == sorted(f"arn:aws:iam::{a}:root" for a in TENANTS)
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup", {"TargetType": "alb", "Protocol": "TCP", "Port": 443}
    )
    outputs = gateway.raw["Outputs"]
    assert any("EndpointServiceName" in name for name in outputs)


def test_gateway_url_resolves_to_the_alb_inside_the_gateway_vpc(gateway, props):
    zone_id, zone = gateway.one("AWS::Route53::HostedZone")
    assert zone["Properties"]["Name"] == f"{props.domain_name}."
    assert len(zone["Properties"]["VPCs"]) == 1
    _, record = gateway.one("AWS::Route53::RecordSet")
    assert record["Properties"]["Type"] == "A" and record["Properties"]["HostedZoneId"] == {"Ref": zone_id}
    assert "AliasTarget" in record["Properties"]


def test_waf_guards_the_alb_with_managed_rules_and_a_per_key_rate_limit(gateway):
    acl_id, acl = gateway.one("AWS::WAFv2::WebACL")
    _, association = gateway.one("AWS::WAFv2::WebACLAssociation")
    alb = next(
        k
        for k, b in gateway.resources("AWS::ElasticLoadBalancingV2::LoadBalancer").items()
        if b["Properties"]["Type"] == "application"
    )
    assert association["Properties"] == {"ResourceArn": {"Ref": alb}, "WebACLArn": {"Fn::GetAtt": [acl_id, "Arn"]}}
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    rate = rules["RatePerApiKey"]["Statement"]["RateBasedStatement"]
    assert rate["Limit"] == sample_settings().waf_requests_per_5min
    assert rate["CustomKeys"][0]["Header"]["Name"] == "authorization"
    common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert {o["Name"] for o in common["RuleActionOverrides"]} == set(WAF_COUNT_ONLY_RULES) >= {"SizeRestrictions_BODY"}
    assert "AWSManagedRulesKnownBadInputsRuleSet" in rules
    _, logging = gateway.one("AWS::WAFv2::LoggingConfiguration")
    assert logging["Properties"]["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert {"SingleHeader": {"Name": "authorization"}} in logging["Properties"]["RedactedFields"]
    waf_logs = [
        g
        for g in gateway.resources("AWS::Logs::LogGroup").values()
        if g["Properties"].get("LogGroupName", "").startswith("aws-waf-logs-")
    ]
    assert len(waf_logs) == 1


# ------------------------------------------------------------------- state


def test_aurora_is_encrypted_protected_tls_only_and_retained(gateway):
    t = gateway.template
    _, cluster = gateway.one("AWS::RDS::DBCluster")
    p = cluster["Properties"]
    assert cluster["DeletionPolicy"] == "Retain"
    assert p["StorageEncrypted"] is True and p["KmsKeyId"] == key_ref(gateway)
    assert p["DeletionProtection"] is True and p["EnableIAMDatabaseAuthentication"] is True
    assert p["EnableCloudwatchLogsExports"] == ["postgresql"]
    assert p["BackupRetentionPeriod"] == sample_settings().database.backup_retention_days
    assert p["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4}
    assert "{{resolve:secretsmanager:" in json.dumps(p["MasterUserPassword"])
    t.has_resource_properties("AWS::RDS::DBClusterParameterGroup", {"Parameters": {"rds.force_ssl": "1"}})
    instances = gateway.resources("AWS::RDS::DBInstance")
    assert len(instances) == 2
    assert len({i["Properties"]["AvailabilityZone"] for i in instances.values()}) == 2  # writer and reader apart
    assert all(
        i["Properties"]["DBInstanceClass"] == "db.serverless" and i["Properties"]["PubliclyAccessible"] is False
        for i in instances.values()
    )
    db_sg = p["VpcSecurityGroupIds"][0]["Fn::GetAtt"][0]
    ingress = [
        r["Properties"]
        for r in gateway.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"]["Fn::GetAtt"][0] == db_sg
    ]
    assert (
        len(ingress) == 1
        and ingress[0]["FromPort"] == ingress[0]["ToPort"] == 5432
        and "SourceSecurityGroupId" in ingress[0]
    )


def test_redis_is_non_cluster_tls_auth_cmk_and_fails_over(gateway):
    _, cache = gateway.one("AWS::ElastiCache::ReplicationGroup")
    p = cache["Properties"]
    assert cache["DeletionPolicy"] == "Retain"
    assert p["Engine"] == "redis"
    assert p.get("NumNodeGroups", 1) == 1 and "ReplicasPerNodeGroup" not in p
    assert p["NumCacheClusters"] == 1 + sample_settings().cache.replicas
    assert p["TransitEncryptionEnabled"] is True and p["TransitEncryptionMode"] == "required"
    assert json.dumps(p["AuthToken"]).startswith('{"Fn::Join": ["", ["{{resolve:secretsmanager:')
    assert p["AtRestEncryptionEnabled"] is True and p["KmsKeyId"] == key_ref(gateway)
    assert p["AutomaticFailoverEnabled"] is True and p["MultiAZEnabled"] is True
    assert p["SnapshotRetentionLimit"] >= 1
    cache_sg = p["SecurityGroupIds"][0]["Fn::GetAtt"][0]
    ingress = [
        r["Properties"]
        for r in gateway.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"]["Fn::GetAtt"][0] == cache_sg
    ]
    assert len(ingress) == 1 and ingress[0]["FromPort"] == 6379 and "SourceSecurityGroupId" in ingress[0]


def test_secrets_are_cmk_encrypted_and_retained_and_master_key_starts_with_sk(gateway):
    secrets = gateway.resources("AWS::SecretsManager::Secret")
    ptc = [k for k, s in secrets.items() if s["Properties"].get("Name", "").startswith("ecr-pullthroughcache/")]
    assert len(ptc) == 1  # the sample pulls through ghcr.io, which needs a login
    for name, secret in secrets.items():
        assert secret["DeletionPolicy"] == "Retain", name
        if name not in ptc:
            assert secret["Properties"]["KmsKeyId"] == key_ref(gateway), name
    master = next(s for s in secrets.values() if "master key (admin API)" in s["Properties"]["Description"])
    assert master["Properties"]["SecretString"]["Fn::Join"][1][0].startswith("sk-{{resolve:secretsmanager:")


# ---------------------------------------------------------------- service


def container(g: Synth) -> dict:
    _, task = g.one("AWS::ECS::TaskDefinition")
    (definition,) = task["Properties"]["ContainerDefinitions"]
    return definition


def test_container_image_comes_from_this_accounts_ecr(gateway, props):
    image = json.dumps(container(gateway)["Image"])
    assert f"{ACCOUNT}.dkr.ecr.{REGION}." in image
    assert f"/{props.image_repository}:{props.image_tag}" in image
    gateway.template.has_resource_properties(
        "AWS::ECR::PullThroughCacheRule",
        {
            "EcrRepositoryPrefix": "ghcr",
            "UpstreamRegistryUrl": "ghcr.io",
            "UpstreamRegistry": "github-container-registry",
        },
    )


def test_container_environment_matches_the_documented_names_and_secrets_stay_secret(gateway):
    c = container(gateway)
    plain = {e["Name"]: e["Value"] for e in c["Environment"]}
    secret = {s["Name"] for s in c["Secrets"]}
    assert set(plain) | secret == set(CONTAINER_ENVIRONMENT)
    assert {
        "LITELLM_MASTER_KEY",
        "LITELLM_SALT_KEY",
        "DATABASE_PASSWORD",
        "DATABASE_USERNAME",
        "REDIS_PASSWORD",
    } == secret
    assert plain["REDIS_SSL"] == "True" and plain["REDIS_PORT"] == "6379"
    assert re.fullmatch(r"config/[0-9a-f]{64}\.yaml", plain["LITELLM_CONFIG_BUCKET_OBJECT_KEY"])
    assert c["HealthCheck"]["Command"][1].count("/health/liveliness") == 1
    gateway.template.resource_count_is("Custom::CDKBucketDeployment", 1)


def test_task_role_is_named_for_the_scp_exemption_and_invokes_only_the_gateway_models(gateway, props):
    roles = {k: r for k, r in gateway.resources("AWS::IAM::Role").items() if r["Properties"].get("RoleName")}
    assert [r["Properties"]["RoleName"] for r in roles.values()] == [f"{FM_GATEWAY_ROLE_PREFIX}-dev"]
    (role_id,) = roles
    policies = [
        p["Properties"]
        for p in gateway.resources("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    assert len(policies) == 1
    assert not [
        p
        for p in gateway.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
    ]
    statements = {s["Sid"]: s for s in policies[0]["PolicyDocument"]["Statement"]}
    arns = bedrock_resources(props.model_ids, partition="aws", region=REGION, account=ACCOUNT)
    invoke = statements["InvokeGatewayModels"]
    assert sorted(invoke["Action"]) == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert sorted(invoke["Resource"]) == sorted(
        [*arns.foundation_models, *arns.inference_profiles, arns.application_profiles]
    )
    settings_models = {m.model for m in sample_settings().models}
    assert sorted(arns.foundation_models) == sorted(
        f"arn:aws:bedrock:{REGION}::foundation-model/{m}" for m in settings_models
    )
    assert arns.inference_profiles == (f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{PROFILE}",)
    behind = statements["InvokeModelsBehindProfiles"]
    assert behind["Resource"] == f"arn:aws:bedrock:*::foundation-model/{split_profile(PROFILE)[1]}"
    assert behind["Condition"]["StringLike"]["bedrock:InferenceProfileArn"] == [
        *arns.inference_profiles,
        arns.application_profiles,
    ]
    assert statements["ApplyGatewayGuardrail"]["Resource"] == GUARDRAIL
    bedrock = [
        s
        for s in statements.values()
        if any(a.startswith("bedrock:") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    ]
    assert len(bedrock) == 3


def test_service_scales_on_cpu_and_requests(gateway):
    t, settings = gateway.template, sample_settings()
    t.has_resource_properties(
        "AWS::ECS::Service",
        {
            "LaunchType": "FARGATE",
            "DesiredCount": settings.min_tasks,
            "NetworkConfiguration": {"AwsvpcConfiguration": Match.object_like({"AssignPublicIp": "DISABLED"})},
        },
    )
    t.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": settings.min_tasks, "MaxCapacity": settings.max_tasks},
    )
    metrics = sorted(
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]
        for p in gateway.resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    )
    assert metrics == ["ALBRequestCountPerTarget", "ECSServiceAverageCPUUtilization"]
    t.has_resource_properties(
        "AWS::ECS::Cluster", {"ClusterSettings": [{"Name": "containerInsights", "Value": "enhanced"}]}
    )


def test_alarms_cover_the_gateway_and_notify_an_encrypted_topic(gateway):
    topic_id, topic = gateway.one("AWS::SNS::Topic")
    assert topic["Properties"]["KmsMasterKeyId"] == key_ref(gateway)
    alarms = gateway.resources("AWS::CloudWatch::Alarm")
    metrics = set()
    for alarm in alarms.values():
        p = alarm["Properties"]
        assert p["AlarmActions"] == [{"Ref": topic_id}] and p["TreatMissingData"] in ("notBreaching", "breaching")
        metrics |= {p.get("MetricName")} | {
            m["MetricStat"]["Metric"]["MetricName"] for m in p.get("Metrics", []) if "MetricStat" in m
        }
    assert {
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_Target_5XX_Count",
        "TargetResponseTime",
        "UnHealthyHostCount",
        "CPUUtilization",
        "ServerlessDatabaseCapacity",
        "EngineCPUUtilization",
        "DatabaseMemoryUsagePercentage",
        "Evictions",
    } <= metrics


# -------------------------------------------------------------- gates


def test_nag_passed_with_specific_acknowledgements_on_the_gateways_own_resources(gateway):
    # The fixture's synth would have raised on any unacknowledged error; here: where the acknowledgements sit.
    acks = gateway.acknowledgements()  # the nag packs' only (CDK also records cfn-lint ones)
    assert acks
    for ack in acks:
        assert ack.path.startswith((f"/{STACK}/FmGateway/", f"/{STACK}/Custom::CDKBucketDeployment")), ack
        assert ack.path not in (f"/{STACK}", f"/{STACK}/FmGateway"), ack  # never a whole stack or construct
        assert "IAM5[Resource::*]" not in ack.finding or ack.path.endswith("/ExecutionPolicy"), ack
    assert {a.pack for a in acks} == NAG_PACKS


def test_cfn_lint_is_clean(gateway):
    result = run_cfn_lint([gateway.path])
    assert result.errors == [], result.render()


# -------------------------------------------------------------- props


def test_props_from_settings_and_validation():
    props = sample_props()
    assert props.role_name == "agentzone-fm-gateway-dev"
    assert props.allowed_principal_accounts == tuple(sorted(TENANTS))
    assert (
        len(
            FmGatewayProps.from_settings(
                sample_settings(), name="x" * 43, certificate_arn=CERTIFICATE, allowed_principal_accounts=TENANTS
            ).cache_id
        )
        <= 40
    )
    with pytest.raises(ValueError) as error:
        dataclasses.replace(
            props, image_repository="berriai/litellm", allowed_principal_accounts=("12345",), zones=("a",)
        )
    message = str(error.value)
    assert "pull-through-cache prefix" in message and "'12345'" in message and "zones" in message
    assert split_profile("eu.anthropic.claude-sonnet-4-5-v1:0") == ("eu", "anthropic.claude-sonnet-4-5-v1:0")
    assert split_profile("amazon.nova-lite-v1:0") == (None, "amazon.nova-lite-v1:0")


def test_an_existing_registry_login_is_used_instead_of_a_placeholder_secret():
    """environments.<env>.registry_credential_arn: the cache reads the operator's secret; none is created."""
    from agentzone.constructs.fm_gateway.props import PullThroughCacheProps
    from agentzone.constructs.fm_gateway.service_roles import build_pull_through_cache

    login = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/ghcr-AbC123"
    app = new_app()
    named = cdk.Stack(app, "Named", env=cdk.Environment(account=ACCOUNT, region=REGION))
    assert build_pull_through_cache(named, PullThroughCacheProps("ghcr", "ghcr.io", login)) is None
    created = cdk.Stack(app, "Created", env=cdk.Environment(account=ACCOUNT, region=REGION))
    assert build_pull_through_cache(created, PullThroughCacheProps("ghcr", "ghcr.io")) is not None
    public = cdk.Stack(app, "Public", env=cdk.Environment(account=ACCOUNT, region=REGION))
    assert build_pull_through_cache(public, PullThroughCacheProps("quay", "quay.io")) is None
    stacks = {s.stack_name: s.template for s in app.synth().stacks}

    def rule_and_secrets(name: str) -> tuple[dict, list]:
        resources = stacks[name]["Resources"].values()
        (rule,) = [r["Properties"] for r in resources if r["Type"] == "AWS::ECR::PullThroughCacheRule"]
        return rule, [r for r in resources if r["Type"] == "AWS::SecretsManager::Secret"]

    rule, secrets = rule_and_secrets("Named")
    assert rule["CredentialArn"] == login and not secrets
    rule, secrets = rule_and_secrets("Created")
    assert rule["CredentialArn"] == {"Ref": next(iter(stacks["Created"]["Resources"]))} and len(secrets) == 1
    rule, secrets = rule_and_secrets("Public")
    assert "CredentialArn" not in rule and not secrets
