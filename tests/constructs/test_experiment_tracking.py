"""MLflow experiment tracking: a SageMaker tracking server per shared-services account (or one per tenant), tenant
roles that reach only their own artifact prefix.

One module-scoped synth of two shared-services stacks, one server for every tenant and one server per tenant,
through every cdk-nag pack like the real app (synth raises on an unacknowledged error), and cfn-lint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from agentzone.constructs import AccessLogsBucket, BaselineKey
from agentzone.constructs.experiment_tracking import (
    MLFLOW_SERVER_ACTIONS,
    ExperimentTracking,
    ExperimentTrackingProps,
    tenant_mlflow_role_name,
)

from ..support import Synth, new_app, synthesize_stacks
from .shared_components import (
    ENV,
    ORG,
    TENANTS,
    as_list,
    assert_cfn_lint_clean,
    base_stack,
    only,
    policy_of,
    principals,
    resource_star_acknowledgements,
    statements,
)

SHARED, DEDICATED = "SharedComponents", "SharedComponentsDedicated"


@pytest.fixture(scope="module")
def assembly(tmp_path_factory) -> dict[str, Synth]:
    app = new_app(tmp_path_factory.mktemp("mlflow") / "cdk.out")
    stack, key = base_stack(app, SHARED)
    logs = AccessLogsBucket(stack, "AccessLogs")
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
    dedicated, key2 = base_stack(app, DEDICATED)
    logs2 = AccessLogsBucket(dedicated, "AccessLogs")
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
    return synthesize_stacks(app)  # raises on any unacknowledged nag error


@pytest.fixture(scope="module")
def shared(assembly) -> Template:
    return assembly[SHARED].template


@pytest.fixture(scope="module")
def dedicated(assembly) -> Template:
    return assembly[DEDICATED].template


# ------------------------------------------------------------------- gates


def test_cfn_lint_clean(assembly):
    assert_cfn_lint_clean(assembly.values())


def test_acknowledgements_are_specific(assembly):
    # No Action:: wildcard; every resource wildcard is named, except sagemaker-mlflow:AccessUI's (no resource type).
    resource_star = resource_star_acknowledgements(assembly.values())
    assert {a.path.rsplit("/", 2)[-2] for a in resource_star} == {"TenantRole-claims", "TenantRole-fraud"}, (
        resource_star
    )
    assert all("AccessUI" in a.reason for a in resource_star)


# ------------------------------------------------------------------ MLflow


def tenant_role(t: Template, tenant: str) -> tuple[str, Mapping[str, Any]]:
    found = t.find_resources("AWS::IAM::Role", {"Properties": {"RoleName": tenant_mlflow_role_name(tenant)}})
    assert len(found) == 1
    return next(iter(found.items()))


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
    stack = cdk.Stack(new_app(), "Bad", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/bad", description="bad").key
    props = dict(encryption_key=key, tenant_accounts={"claims": ["111111111111"]}, organization_id=ORG)
    with pytest.raises(ValueError, match=error):
        ExperimentTracking(stack, "Mlflow", props=ExperimentTrackingProps(**{**props, **kwargs}))
