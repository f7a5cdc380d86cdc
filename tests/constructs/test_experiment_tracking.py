"""Shared-services components: agent image repositories, MLflow experiment tracking, the agent registry.

One module-scoped synth of small stacks holding the three constructs, through every
cdk-nag pack like the real app (synth raises on an unacknowledged error) and cfn-lint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from agentzone.composition import create_app
from agentzone.config.model import NagSettings
from agentzone.constructs import AccessLogsBucket, BaselineKey
from agentzone.constructs.agent_images import (
    PULL_ACTIONS,
    PUSH_ACTIONS,
    AgentImageRepository,
    AgentImageRepositoryProps,
    RegistryScanning,
)
from agentzone.constructs.agent_registry import AgentRegistry, AgentRegistryProps
from agentzone.constructs.experiment_tracking import (
    MLFLOW_SERVER_ACTIONS,
    ExperimentTracking,
    ExperimentTrackingProps,
    tenant_mlflow_role_name,
)
from agentzone.nag import add_rule_packs
from agentzone.naming import tenant_repository
from agentzone.report import acknowledgements
from agentzone.synth import run_cfn_lint

ENV = cdk.Environment(account="100000000011", region="eu-west-1")
ORG = "o-abcdefghij"
TENANTS = {"claims": ["111111111111", "222222222222"], "fraud": ["444444444444"]}
CI_ACCOUNT = "100000000011"  # pushes; the shared-services account itself
SHARED, DEDICATED = "SharedComponents", "SharedComponentsDedicated"


def _base(app: cdk.App, name: str) -> tuple[cdk.Stack, object, AccessLogsBucket]:
    stack = cdk.Stack(app, name, env=ENV)
    for k, v in {
        "owner": "platform@example.com",
        "cost-center": "CC-0001",
        "use-case-id": "platform",
        "environment": "dev",
    }.items():
        cdk.Tags.of(stack).add(k, v)
    key = BaselineKey(stack, "BaselineKey", alias="alias/agentzone/sharedservices", description="shared services").key
    return stack, key, AccessLogsBucket(stack, "AccessLogs")


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("shared") / "cdk.out"
    app = create_app(outdir=str(outdir))

    stack, key, logs = _base(app, SHARED)
    AgentImageRepository(
        stack,
        "ClaimsAgent",
        props=AgentImageRepositoryProps(
            repository_name=tenant_repository("claims", "agent"),
            encryption_key=key,
            pull_accounts=TENANTS["claims"],
            push_accounts=[CI_ACCOUNT],
            organization_id=ORG,
            keep_tagged=50,
            untagged_expire_days=7,
        ),
    )
    AgentImageRepository(
        stack,
        "FraudAgent",
        props=AgentImageRepositoryProps(
            repository_name=tenant_repository("fraud", "agent"),
            encryption_key=key,
            pull_accounts=list(reversed(TENANTS["fraud"])),
            organization_id=ORG,
            keep_tagged=20,
            untagged_expire_days=3,
        ),
    )
    RegistryScanning(stack, "RegistryScanning")
    ExperimentTracking(
        stack,
        "Mlflow",
        props=ExperimentTrackingProps(
            encryption_key=key,
            access_logs=logs,
            size="Small",
            mlflow_version="3.0",
            maintenance_window="Sun:02:00",
            tenant_accounts=TENANTS,
            organization_id=ORG,
        ),
    )
    curator = iam.Role(stack, "Curator", role_name="agentzone-registry-curator", assumed_by=iam.AccountRootPrincipal())
    publisher = iam.Role(
        stack, "Publisher", role_name="agentzone-registry-publisher", assumed_by=iam.AccountRootPrincipal()
    )
    registry = AgentRegistry(
        stack,
        "Registry",
        props=AgentRegistryProps(
            name="agentzone-components",
            description="Agents, MCP servers and tools",
            encryption_key=key,
            approvers=[curator],
            approval_emails=["platform-leads@example.com"],
        ),
    )
    registry.grant_publish(publisher)
    registry.add_record(
        "WebSearch",
        name="web-search",
        record_type="mcp-server",
        description="Web search",
        descriptor={"name": "web-search", "version": "1.2.0"},
        version="1.2.0",
        tools=[{"name": "search"}],
    )
    registry.add_record(
        "Triage",
        name="triage-agent",
        record_type="agent",
        description="Triage agent",
        descriptor={"name": "triage", "url": "https://example.com/a2a"},
        schema_version="0.3",
    )
    registry.add_record(
        "Calculator",
        name="calculator",
        record_type="tool",
        description="Calculator tool",
        descriptor={"name": "calculator"},
    )

    dedicated, key2, logs2 = _base(app, DEDICATED)
    ExperimentTracking(
        dedicated,
        "Mlflow",
        props=ExperimentTrackingProps(
            encryption_key=key2,
            access_logs=logs2,
            size="Medium",
            mlflow_version="3.0",
            maintenance_window="Sat:23:30",
            tenant_accounts=TENANTS,
            organization_id=ORG,
            dedicated_server_per_tenant=True,
        ),
    )

    add_rule_packs(app, NagSettings())
    synthesized = app.synth()  # raises on any unacknowledged nag error
    return outdir, {s.stack_name: s.template for s in synthesized.stacks}


@pytest.fixture(scope="module")
def shared(assembly) -> Template:
    return Template.from_json(assembly[1][SHARED])


@pytest.fixture(scope="module")
def dedicated(assembly) -> Template:
    return Template.from_json(assembly[1][DEDICATED])


def only(t: Template, type_: str, props: dict | None = None) -> Mapping[str, Any]:
    found = t.find_resources(type_, {"Properties": props} if props else None)
    assert len(found) == 1, (type_, props, list(found))
    return next(iter(found.values()))


def statements(resource: Mapping[str, Any]) -> list[dict]:
    return resource["Properties"]["PolicyDocument"]["Statement"]


def principals(statement: dict) -> list[str]:
    aws = statement["Principal"]["AWS"]
    return sorted(aws if isinstance(aws, list) else [aws])


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------- gates


def test_cfn_lint_clean(assembly):
    outdir, templates = assembly
    files = [outdir / f"{name}.template.json" for name in templates]
    result = run_cfn_lint(files)
    assert result.errors == [], result.render()


def test_acknowledgements_are_specific(assembly):
    outdir, templates = assembly
    acks = [a for name in templates for a in acknowledgements(outdir, name)]
    wildcard = sorted({a.finding for a in acks if a.finding.startswith("AwsSolutions-IAM5")})
    # No Action:: wildcard anywhere; every resource wildcard is named.
    assert not [f for f in wildcard if "[Action::" in f]
    assert all("[Resource::" in f for f in wildcard)
    resource_star = [a for a in acks if a.finding == "AwsSolutions-IAM5[Resource::*]"]
    assert {a.path.rsplit("/", 1)[-1] for a in resource_star} == {"TenantPolicy-claims", "TenantPolicy-fraud"}, (
        resource_star
    )
    assert all("AccessUI" in a.reason for a in resource_star)


# --------------------------------------------------------------------- ECR


def repository(t: Template, tenant: str) -> Mapping[str, Any]:
    return only(t, "AWS::ECR::Repository", {"RepositoryName": tenant_repository(tenant, "agent")})


@pytest.mark.parametrize("tenant", ["claims", "fraud"])
def test_repository_is_immutable_scanned_encrypted_and_retained(shared, tenant):
    repo = repository(shared, tenant)
    props = repo["Properties"]
    assert props["ImageTagMutability"] == "IMMUTABLE"
    assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert props["EncryptionConfiguration"]["EncryptionType"] == "KMS"
    assert props["EncryptionConfiguration"]["KmsKey"]["Fn::GetAtt"][0].startswith("BaselineKey")
    assert repo["DeletionPolicy"] == repo["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("tenant,keep,days", [("claims", 50, 7), ("fraud", 20, 3)])
def test_lifecycle_expires_untagged_and_keeps_newest_tagged(shared, tenant, keep, days):
    rules = json.loads(repository(shared, tenant)["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    priorities = [r["rulePriority"] for r in rules]
    assert priorities == sorted(set(priorities)) == [1, 2]
    # ECR: at most one tagStatus=any rule, and it must have the highest priority; none is used here.
    assert all(r["selection"]["tagStatus"] != "any" for r in rules)
    untagged, tagged = rules
    assert untagged["selection"] == {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countNumber": days,
        "countUnit": "days",
    }
    assert tagged["selection"] == {
        "tagStatus": "tagged",
        "tagPatternList": ["*"],
        "countType": "imageCountMoreThan",
        "countNumber": keep,
    }
    assert all(r["action"] == {"type": "expire"} for r in rules)


def test_repository_policy_pull_for_listed_accounts_push_only_for_pushers(shared):
    claims = statements(
        {"Properties": {"PolicyDocument": repository(shared, "claims")["Properties"]["RepositoryPolicyText"]}}
    )
    by_sid = {s["Sid"]: s for s in claims}
    assert set(by_sid) == {"PullFromOrganizationAccounts", "PushFromOrganizationAccounts"}
    pull, push = by_sid["PullFromOrganizationAccounts"], by_sid["PushFromOrganizationAccounts"]
    assert principals(pull) == sorted(f"arn:aws:iam::{a}:root" for a in [*TENANTS["claims"], CI_ACCOUNT])
    assert sorted(pull["Action"]) == sorted(PULL_ACTIONS)
    assert principals(push) == [f"arn:aws:iam::{CI_ACCOUNT}:root"]  # tenant accounts pull only
    assert sorted(push["Action"]) == sorted(PUSH_ACTIONS)
    for s in claims:
        assert s["Effect"] == "Allow"
        assert s["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG}}
        assert "Resource" not in s


def test_pull_only_repository_has_no_push_statement_and_no_wildcard_principal(shared):
    fraud = repository(shared, "fraud")["Properties"]["RepositoryPolicyText"]["Statement"]
    assert [s["Sid"] for s in fraud] == ["PullFromOrganizationAccounts"]
    assert principals(fraud[0]) == ["arn:aws:iam::444444444444:root"]
    assert not set(PUSH_ACTIONS) & set(as_list(fraud[0]["Action"]))
    for repo in shared.find_resources("AWS::ECR::Repository").values():
        for s in repo["Properties"]["RepositoryPolicyText"]["Statement"]:
            assert s["Principal"] != "*" and "*" not in as_list(s["Principal"].get("AWS")), s
            assert s.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalOrgID") == ORG


def test_enhanced_scanning_is_one_registry_setting(shared):
    config = only(shared, "AWS::ECR::RegistryScanningConfiguration")["Properties"]
    assert config == {
        "ScanType": "ENHANCED",
        "Rules": [
            {
                "ScanFrequency": "CONTINUOUS_SCAN",
                "RepositoryFilters": [{"Filter": "agentzone/*", "FilterType": "WILDCARD"}],
            }
        ],
    }


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"pull_accounts": ["12345"]}, "12-digit"),
        ({"push_accounts": ["abc"]}, "12-digit"),
        ({"organization_id": "org-1"}, "Organizations id"),
        ({"keep_tagged": 0}, "keep_tagged"),
        ({"untagged_expire_days": 0}, "untagged_expire_days"),
    ],
)
def test_repository_rejects_bad_input(kwargs, error):
    stack = cdk.Stack(cdk.App(), "Bad", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/bad", description="bad").key
    props = dict(
        repository_name="agentzone/x/agent",
        encryption_key=key,
        pull_accounts=["111111111111"],
        organization_id=ORG,
        keep_tagged=1,
        untagged_expire_days=1,
    )
    with pytest.raises(ValueError, match=error):
        AgentImageRepository(stack, "Repo", props=AgentImageRepositoryProps(**{**props, **kwargs}))


# ------------------------------------------------------------------ MLflow


def tenant_role(t: Template, tenant: str) -> tuple[str, Mapping[str, Any]]:
    found = t.find_resources("AWS::IAM::Role", {"Properties": {"RoleName": tenant_mlflow_role_name(tenant)}})
    assert len(found) == 1
    return next(iter(found.items()))


def policy_of(t: Template, role_id: str) -> Mapping[str, Any]:
    found = [
        p
        for p in t.find_resources("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
    ]
    assert len(found) == 1, role_id
    return found[0]


def bucket_id(t: Template) -> str:
    found = [k for k in t.find_resources("AWS::S3::Bucket") if k.startswith("MlflowArtifacts")]
    assert len(found) == 1
    return found[0]


def test_tracking_server_properties(shared):
    server = only(shared, "AWS::SageMaker::MlflowTrackingServer")["Properties"]
    assert server["TrackingServerName"] == "agentzone-mlflow"
    assert server["ArtifactStoreUri"] == {"Fn::Join": ["", ["s3://", {"Ref": bucket_id(shared)}, "/"]]}
    assert server["TrackingServerSize"] == "Small"
    assert server["MlflowVersion"] == "3.0"
    assert server["WeeklyMaintenanceWindowStart"] == "Sun:02:00"
    assert server["AutomaticModelRegistration"] is False
    role_id = server["RoleArn"]["Fn::GetAtt"][0]
    role = shared.to_json()["Resources"][role_id]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": ENV.account}},
        }
    ]
    granted = {a for s in statements(policy_of(shared, role_id)) for a in as_list(s["Action"])}
    assert granted == {
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:PutObject",
        "s3:GetBucketLocation",
        "s3:ListBucket",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }


def test_artifact_bucket_is_a_secure_bucket_with_the_cmk(shared):
    bucket = shared.to_json()["Resources"][bucket_id(shared)]
    assert bucket["DeletionPolicy"] == "Retain"
    sse = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0].startswith("BaselineKey")
    assert bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith("AccessLogs")


@pytest.mark.parametrize("tenant", sorted(TENANTS))
def test_tenant_role_trusts_exactly_its_own_accounts_in_the_organization(shared, tenant):
    _, role = tenant_role(shared, tenant)
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert principals(trust) == sorted(f"arn:aws:iam::{a}:root" for a in TENANTS[tenant])
    assert trust["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG}}


@pytest.mark.parametrize("tenant", sorted(TENANTS))
def test_tenant_role_uses_this_server_and_only_its_own_prefix(shared, tenant):
    role_id, _ = tenant_role(shared, tenant)
    policy = statements(policy_of(shared, role_id))
    by_sid = {s["Sid"]: s for s in policy}
    server_arn = {
        "Fn::GetAtt": [next(iter(shared.find_resources("AWS::SageMaker::MlflowTrackingServer"))), "TrackingServerArn"]
    }
    assert sorted(by_sid["UseTrackingServer"]["Action"]) == sorted(MLFLOW_SERVER_ACTIONS)
    assert by_sid["UseTrackingServer"]["Resource"] == server_arn
    assert sorted(by_sid["OpenTrackingServer"]["Action"]) == [
        "sagemaker:CreatePresignedMlflowTrackingServerUrl",
        "sagemaker:DescribeMlflowTrackingServer",
    ]
    assert by_sid["OpenTrackingServer"]["Resource"] == server_arn
    assert by_sid["MlflowUi"] == {
        "Sid": "MlflowUi",
        "Effect": "Allow",
        "Action": "sagemaker-mlflow:AccessUI",
        "Resource": "*",
    }
    bucket = bucket_id(shared)
    assert by_sid["ReadWriteArtifacts"]["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{tenant}/*"]]
    }
    assert by_sid["ListArtifacts"]["Condition"] == {"StringLike": {"s3:prefix": [f"{tenant}/*"]}}
    assert by_sid["ListArtifacts"]["Action"] == "s3:ListBucket"
    # GetBucketLocation has no s3:prefix key: under ListArtifacts' condition it would always be denied.
    assert by_sid["LocateArtifactBucket"] == {
        "Sid": "LocateArtifactBucket",
        "Effect": "Allow",
        "Action": "s3:GetBucketLocation",
        "Resource": {"Fn::GetAtt": [bucket, "Arn"]},
    }
    assert (
        by_sid["ArtifactKeyThroughS3"]["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Join"][1][0]
        == "s3.eu-west-1."
    )
    # Only the AccessUI statement (no resource type) may use "*"; nothing else is unscoped.
    assert [s["Sid"] for s in policy if s["Resource"] == "*"] == ["MlflowUi"]


def test_no_tenant_policy_names_another_tenants_prefix(shared, dedicated):
    for t in (shared, dedicated):
        for tenant in TENANTS:
            text = json.dumps(policy_of(t, tenant_role(t, tenant)[0]))
            for other in set(TENANTS) - {tenant}:
                assert f"/{other}/" not in text and f"{other}/*" not in text, (tenant, other)


def test_dedicated_servers_isolate_tenants(dedicated):
    servers = dedicated.find_resources("AWS::SageMaker::MlflowTrackingServer")
    by_name = {s["Properties"]["TrackingServerName"]: (k, s["Properties"]) for k, s in servers.items()}
    assert sorted(by_name) == [f"agentzone-mlflow-{t}" for t in sorted(TENANTS)]
    bucket = bucket_id(dedicated)
    for tenant in TENANTS:
        server_id, props = by_name[f"agentzone-mlflow-{tenant}"]
        assert props["ArtifactStoreUri"] == {"Fn::Join": ["", ["s3://", {"Ref": bucket}, f"/{tenant}/"]]}
        assert props["TrackingServerSize"] == "Medium" and props["WeeklyMaintenanceWindowStart"] == "Sat:23:30"
        server_policy = statements(policy_of(dedicated, props["RoleArn"]["Fn::GetAtt"][0]))
        assert {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{tenant}/*"]]} in [
            s["Resource"] for s in server_policy
        ]
        tenant_policy = statements(policy_of(dedicated, tenant_role(dedicated, tenant)[0]))
        server_refs = {
            json.dumps(s["Resource"]) for s in tenant_policy if "TrackingServerArn" in json.dumps(s["Resource"])
        }
        assert server_refs == {json.dumps({"Fn::GetAtt": [server_id, "TrackingServerArn"]})}
    outputs = dedicated.to_json()["Outputs"]
    assert sum(1 for k in outputs if k.startswith("MlflowTrackingServerArn")) == len(TENANTS)


def test_tracking_server_arn_is_an_output(shared):
    outputs = shared.to_json()["Outputs"]
    arn = [v for k, v in outputs.items() if k.startswith("MlflowTrackingServerArn")]
    assert arn == [
        {
            "Description": "MLflow tracking server agentzone-mlflow",
            "Value": {
                "Fn::GetAtt": [
                    next(iter(shared.find_resources("AWS::SageMaker::MlflowTrackingServer"))),
                    "TrackingServerArn",
                ]
            },
        }
    ]


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"tenant_accounts": {"claims": ["111111111111"], "fraud": ["111111111111"]}}, "listed for both"),
        ({"tenant_accounts": {"claims": ["1"]}}, "12-digit"),
        ({"maintenance_window": "Sun:2:00"}, "maintenance_window"),
        ({"size": "Huge"}, "size"),
        ({"organization_id": "o-1"}, "organization_id"),
    ],
)
def test_experiment_tracking_rejects_bad_input(kwargs, error):
    stack = cdk.Stack(cdk.App(), "Bad", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/bad", description="bad").key
    props = dict(encryption_key=key, tenant_accounts={"claims": ["111111111111"]}, organization_id=ORG)
    with pytest.raises(ValueError, match=error):
        ExperimentTracking(stack, "Mlflow", props=ExperimentTrackingProps(**{**props, **kwargs}))


# ---------------------------------------------------------------- registry


def test_registry_requires_manual_approval_and_uses_the_cmk(shared):
    registry = only(shared, "AWS::AgentRegistry::Registry")
    assert registry["DeletionPolicy"] == registry["UpdateReplacePolicy"] == "Retain"
    props = registry["Properties"]
    assert props["Name"] == "agentzone-components"
    assert props["ApprovalConfiguration"] == {"AutoApprovalRules": []}  # every submission waits for a curator
    assert props["AuthorizerType"] == "AWS_IAM"
    assert props["EncryptionConfiguration"]["KmsKeyArn"]["Fn::GetAtt"][0].startswith("BaselineKey")
    assert "DiscoveryConfiguration" not in props
    assert {t["Key"] for t in props["Tags"]} >= {"owner", "cost-center", "use-case-id", "environment"}


def test_records_map_to_service_types_and_descriptors(shared):
    records = {
        r["Properties"]["Name"]: r["Properties"]
        for r in shared.find_resources("AWS::AgentRegistry::RegistryRecord").values()
    }
    assert {n: r["RecordType"] for n, r in records.items()} == {
        "web-search": "MCP",
        "triage-agent": "AGENT",
        "calculator": "CUSTOM",
    }
    mcp = records["web-search"]["Descriptors"]["McpServer"]
    assert json.loads(mcp["Data"]) == {"name": "web-search", "version": "1.2.0"}
    assert json.loads(mcp["AdditionalData"]["Tools"]["Data"]) == [{"name": "search"}]
    assert records["web-search"]["RecordVersion"] == "1.2.0"
    assert records["triage-agent"]["Descriptors"]["A2aAgentCard"]["DataSchemaVersion"] == "0.3"
    assert set(records["calculator"]["Descriptors"]) == {"Custom"}
    for r in records.values():
        assert r["RegistryId"]["Fn::GetAtt"][1] == "RegistryId"
        assert "Status" not in r  # read-only: records start as DRAFT


def test_only_approvers_can_change_record_status(shared):
    def actions_of(role_name: str) -> set[str]:
        role_id = next(iter(shared.find_resources("AWS::IAM::Role", {"Properties": {"RoleName": role_name}})))
        return {a for s in statements(policy_of(shared, role_id)) for a in as_list(s["Action"])}

    curator, publisher = actions_of("agentzone-registry-curator"), actions_of("agentzone-registry-publisher")
    assert "agent-registry:UpdateRegistryRecordStatus" in curator
    assert "agent-registry:UpdateRegistryRecordStatus" not in publisher
    assert "agent-registry:SubmitRegistryRecordForApproval" in publisher
    assert not {a for a in curator if a.startswith("agent-registry:") and ("Create" in a or "Submit" in a)}
    every = [
        a
        for p in shared.find_resources("AWS::IAM::ManagedPolicy").values()
        for s in statements(p)
        for a in as_list(s["Action"])
    ]
    assert every.count("agent-registry:UpdateRegistryRecordStatus") == 1


def test_submissions_notify_approvers_on_an_encrypted_topic(shared):
    rule = only(shared, "AWS::Events::Rule")["Properties"]
    registry_id = next(iter(shared.find_resources("AWS::AgentRegistry::Registry")))
    assert rule["EventPattern"] == {
        "source": ["aws.agent-registry"],
        "detail-type": ["Registry Record State changed to Pending Approval"],
        "detail": {"registryId": [{"Fn::GetAtt": [registry_id, "RegistryId"]}]},
    }
    topic_id = rule["Targets"][0]["Arn"]["Ref"]
    topic = shared.to_json()["Resources"][topic_id]["Properties"]
    assert topic["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("BaselineKey")
    only(
        shared,
        "AWS::SNS::Subscription",
        {"Protocol": "email", "Endpoint": "platform-leads@example.com", "TopicArn": {"Ref": topic_id}},
    )


@pytest.mark.parametrize(
    "call,error",
    [
        (lambda r: r.add_record("X", name="x", record_type="prompt", description="d", descriptor={}), "record_type"),
        (
            lambda r: r.add_record("X", name="x", record_type="tool", description="d", descriptor={}, tools=[]),
            "only an mcp-server",
        ),
        (lambda r: r.add_record("X", name="-x", record_type="tool", description="d", descriptor={}), "record name"),
        (
            lambda r: [
                r.add_record(f"X{i}", name="x", record_type="tool", description="d", descriptor={}) for i in range(2)
            ],
            "already",
        ),
    ],
)
def test_registry_rejects_bad_records(call, error):
    stack = cdk.Stack(cdk.App(), "Bad", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/bad", description="bad").key
    registry = AgentRegistry(stack, "Registry", props=AgentRegistryProps(name="r", description="d", encryption_key=key))
    with pytest.raises(ValueError, match=error):
        call(registry)


def test_auto_approval_is_opt_in():
    stack = cdk.Stack(cdk.App(), "Sandbox", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/sandbox", description="sandbox").key
    AgentRegistry(
        stack,
        "Registry",
        props=AgentRegistryProps(name="sandbox", description="d", encryption_key=key, auto_approve=True),
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::AgentRegistry::Registry", {"ApprovalConfiguration": {"AutoApprovalRules": ["APPROVE_ALL"]}}
    )


def test_jwt_discovery_uses_the_central_identity():
    from aws_cdk import aws_agentregistry as agentregistry

    discovery = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123/.well-known/openid-configuration"
    stack = cdk.Stack(cdk.App(), "Jwt", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/jwt", description="jwt").key
    AgentRegistry(
        stack,
        "Registry",
        props=AgentRegistryProps(
            name="jwt",
            description="d",
            encryption_key=key,
            jwt_authorizer=agentregistry.CfnRegistry.CustomJWTAuthorizerConfigurationProperty(
                discovery_url=discovery, allowed_scopes=["agentzone/registry/search"]
            ),
        ),
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::AgentRegistry::Registry",
        {
            "AuthorizerType": "CUSTOM_JWT",
            "DiscoveryConfiguration": {
                "AuthorizerConfiguration": {
                    "CustomJWTAuthorizer": {"DiscoveryUrl": discovery, "AllowedScopes": ["agentzone/registry/search"]}
                }
            },
        },
    )
