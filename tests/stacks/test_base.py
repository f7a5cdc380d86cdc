"""The baseline every account stack starts with (stacks/base.py): its key, its buckets and its metadata."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

ENVIRONMENTS = ("dev", "staging", "prod")
PLATFORM = [
    f"AgentZone-{role}-{env}" for env in ENVIRONMENTS for role in ("SharedServices", "Logging", "Security", "DataLake")
]
TENANTS = [f"AgentZone-{t}-{env}" for t in ("claims", "fraud") for env in ("dev", "staging", "prod")]
GOVERNANCE = [f"AgentZone-{t}-governance" for t in ("claims", "fraud")]


@pytest.mark.parametrize("name", ["AgentZone-Organization", *PLATFORM, *TENANTS, *GOVERNANCE])
def test_every_stack_has_a_rotating_retained_cmk(sample_assembly, name):
    template = Template.from_json(sample_assembly.template(name))
    template.has_resource(
        "AWS::KMS::Key",
        {
            "Properties": {"EnableKeyRotation": True, "RotationPeriodInDays": 365, "PendingWindowInDays": 30},
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    template.has_resource_properties("AWS::KMS::Alias", {"AliasName": Match.string_like_regexp("^alias/agentzone/")})


@pytest.mark.parametrize(
    "name,logical_prefix",
    [
        ("AgentZone-Logging-prod", "LogArchive"),
        ("AgentZone-DataLake-dev", "RawZone"),
        ("AgentZone-SharedServices-staging", "Artifacts"),
        ("AgentZone-claims-dev", "AgentData"),
    ],
)
def test_data_buckets_are_cmk_encrypted_private_versioned_and_access_logged(sample_assembly, name, logical_prefix):
    buckets = sample_assembly.resources(name, "AWS::S3::Bucket")
    data = [v for k, v in buckets.items() if k.startswith(logical_prefix)]
    logs = [k for k in buckets if k.startswith("AccessLogs")]
    assert len(data) == 1 and len(logs) == 1
    bucket = data[0]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    key_ids = sample_assembly.resources(name, "AWS::KMS::Key")
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0] in key_ids
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs[0]}
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


@pytest.mark.parametrize("name", ["AgentZone-Logging-dev", "AgentZone-claims-prod"])
def test_bucket_policies_deny_plain_http_and_old_tls(sample_assembly, name):
    policies = sample_assembly.resources(name, "AWS::S3::BucketPolicy").values()
    assert policies
    for policy in policies:
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        denies = {json_key(s["Condition"]) for s in statements if s["Effect"] == "Deny"}
        assert "Bool:aws:SecureTransport=false" in denies
        assert "NumericLessThan:s3:TlsVersion=1.2" in denies


def json_key(condition: dict) -> str:
    ((op, inner),) = condition.items()
    ((key, value),) = inner.items()
    return f"{op}:{key}={str(value).lower() if isinstance(value, bool) else value}"


def test_access_logs_bucket_uses_sse_s3_because_log_delivery_requires_it(sample_assembly):
    logs = next(
        v
        for k, v in sample_assembly.resources("AgentZone-claims-dev", "AWS::S3::Bucket").items()
        if k.startswith("AccessLogs")
    )
    algo = logs["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ]["SSEAlgorithm"]
    assert algo == "AES256"
    assert logs["DeletionPolicy"] == "Retain"


def test_security_stack_has_no_bucket_it_does_not_need(sample_assembly):
    assert sample_assembly.resources("AgentZone-Security-dev", "AWS::S3::Bucket") == {}


def test_stack_metadata_names_role_environment_and_tenant(sample_assembly):
    assert sample_assembly.template("AgentZone-claims-prod")["Metadata"]["AgentZone"] == {
        "role": "UseCase",
        "environment": "prod",
        "tenant": "claims",
    }
    assert sample_assembly.template("AgentZone-Organization")["Metadata"]["AgentZone"]["environment"] == "global"
