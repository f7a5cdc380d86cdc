"""Logging account: archive, observability sink and links, tenant isolation of the read-only roles, dashboards."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest

from agentzone import naming

LOGGING = "AgentZone-Logging-prod"
ARCHIVE = "agentzone-logs-100000000032-eu-west-1"
ORG_ID = "o-a1b2c3d4e5"
CLAIMS_PROD, FRAUD_PROD = "333333333333", "666666666666"


def resolver(sample_assembly, stack: str):
    """Turn the intrinsic functions of IAM resources into concrete ARNs, as CloudFormation would."""
    resources = sample_assembly.template(stack)["Resources"]

    def resolve(value):
        if isinstance(value, str):
            return value
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            return sep.join(resolve(p) for p in parts)
        if "Ref" in value:
            return {"AWS::Partition": "aws"}.get(value["Ref"], value["Ref"])
        if value.get("Fn::ImportValue") == "agentzone-logging-archive-key-arn":  # the Logging stack's export
            (logical,) = [k for k in sample_assembly.resources(LOGGING, "AWS::KMS::Key") if k.startswith("ArchiveKey")]
            return f"arn:aws:kms:eu-west-1:100000000032:key/{logical}"
        if "Fn::GetAtt" in value:
            logical, _ = value["Fn::GetAtt"]
            resource = resources[logical]
            if resource["Type"] == "AWS::S3::Bucket":
                return f"arn:aws:s3:::{resource['Properties']['BucketName']}"
            if resource["Type"] == "AWS::KMS::Key":
                return f"arn:aws:kms:eu-west-1:100000000032:key/{logical}"
        raise AssertionError(f"cannot resolve {value}")

    return resolve


def role_statements(sample_assembly, stack: str, role_name: str) -> list[dict]:
    roles = sample_assembly.resources(stack, "AWS::IAM::Role")
    logical = next(k for k, r in roles.items() if r["Properties"].get("RoleName") == role_name)
    resolve = resolver(sample_assembly, stack)
    out = []
    for policy in sample_assembly.resources(stack, "AWS::IAM::ManagedPolicy").values():
        if {"Ref": logical} in policy["Properties"].get("Roles", []):
            for s in policy["Properties"]["PolicyDocument"]["Statement"]:
                listify = lambda v: v if isinstance(v, list) else [v]  # noqa: E731
                out.append(
                    {**s, "Action": listify(s["Action"]), "Resource": [resolve(r) for r in listify(s["Resource"])]}
                )
    assert out, role_name
    return out


def allowed(statements: list[dict], action: str, resource: str, context: dict | None = None) -> bool:
    """Identity-policy Allow evaluation for the condition operators these roles use."""
    context = context or {}
    for s in statements:
        if s["Effect"] != "Allow" or not any(fnmatchcase(action, a) for a in s["Action"]):
            continue
        if not any(fnmatchcase(resource, r) for r in s["Resource"]):
            continue
        ok = True
        for operator, checks in s.get("Condition", {}).items():
            for key, expected in checks.items():
                expected = expected if isinstance(expected, list) else [expected]
                actual = context.get(key)
                match = fnmatchcase if operator == "StringLike" else str.__eq__
                ok &= actual is not None and any(match(actual, e) for e in expected)
        if ok:
            return True
    return False


def test_archive_bucket_object_lock_lifecycle_and_key(sample_assembly):
    bucket = next(
        b
        for b in sample_assembly.resources(LOGGING, "AWS::S3::Bucket").values()
        if b["Properties"].get("BucketName") == ARCHIVE
    )
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 365}},
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert [(t["StorageClass"], t["TransitionInDays"]) for t in rule["Transitions"]] == [
        ("GLACIER_IR", 90),
        ("DEEP_ARCHIVE", 365),
    ]
    key = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
        "KMSMasterKeyID"
    ]["Fn::GetAtt"][0]
    aliases = {
        a["Properties"]["AliasName"]: a["Properties"]["TargetKeyId"]
        for a in sample_assembly.resources(LOGGING, "AWS::KMS::Alias").values()
    }
    assert aliases["alias/agentzone/log-archive"] == {"Fn::GetAtt": [key, "Arn"]}
    assert "LoggingConfiguration" in props


def archive_policy(sample_assembly, stack: str) -> dict[str, dict]:
    for policy in sample_assembly.resources(stack, "AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any(s.get("Sid") == "LogDeliveryWrite" for s in statements):
            return {s.get("Sid", f"#{i}"): s for i, s in enumerate(statements)}
    raise AssertionError("no archive policy")


def test_archive_policy_is_tls_only_and_admits_only_the_organization(sample_assembly):
    statements = archive_policy(sample_assembly, LOGGING)
    tls = next(s for s in statements.values() if s["Effect"] == "Deny")
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    trail_arn = "arn:aws:cloudtrail:eu-west-1:100000000000:trail/agentzone-organization"
    write = statements["CloudTrailOrganizationTrailWrite"]
    assert write["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn
    assert statements["CloudTrailAclCheck"]["Condition"] == {"StringEquals": {"aws:SourceArn": trail_arn}}
    assert statements["LogDeliveryWrite"]["Condition"]["StringEquals"]["aws:SourceOrgID"] == ORG_ID
    # Replication writers by condition, not by a list that would outgrow the 20 KB policy limit: AgentZone's
    # (SCP-protected) roles of the organization, each only under its own account's prefix.
    for sid in ("ReplicateBedrockInvocationLogs", "ReplicationDestinationChecks"):
        assert statements[sid]["Principal"] == {"AWS": "*"}
        assert statements[sid]["Condition"] == {
            "StringEquals": {"aws:PrincipalOrgID": ORG_ID},
            "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/AgentZone-*"},
        }
    replicate = statements["ReplicateBedrockInvocationLogs"]
    assert replicate["Resource"]["Fn::Join"][1][-1] == "/bedrock/AWSLogs/${aws:PrincipalAccount}/*"
    # Every Allow to a service or to anyone carries an organization or trail condition.
    for sid, s in statements.items():
        if s["Effect"] == "Allow":
            flat = json.dumps(s.get("Condition", {}))
            assert ORG_ID in flat or trail_arn in flat, sid


def test_only_the_central_archive_accepts_the_organization_trail(sample_assembly):
    assert "CloudTrailOrganizationTrailWrite" in archive_policy(sample_assembly, "AgentZone-Logging-prod")
    assert "CloudTrailOrganizationTrailWrite" not in archive_policy(sample_assembly, "AgentZone-Logging-dev")


def test_sink_accepts_the_environments_same_region_accounts_of_the_organization(sample_assembly):
    (sink,) = sample_assembly.resources(LOGGING, "AWS::Oam::Sink").values()
    assert sink["DeletionPolicy"] == "Retain"
    (statement,) = sink["Properties"]["Policy"]["Statement"]
    assert statement["Principal"]["AWS"] == [
        "100000000031",
        "100000000033",
        "100000000034",
        CLAIMS_PROD,
    ]  # not fraud's eu-central-1 prod
    assert statement["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": ORG_ID},
        "ForAllValues:StringEquals": {
            "oam:ResourceTypes": ["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup", "AWS::XRay::Trace"]
        },
    }


@pytest.mark.parametrize(
    "stack,environment,logging_account",
    [
        ("AgentZone-claims-prod", "prod", "100000000032"),
        ("AgentZone-fraud-dev", "dev", "100000000012"),
        ("AgentZone-SharedServices-staging", "staging", "100000000022"),
        ("AgentZone-DataLake-prod", "prod", "100000000032"),
    ],
)
def test_accounts_link_logs_metrics_and_traces_to_their_environments_sink(
    sample_assembly, stack, environment, logging_account
):
    """The sink's ARN is read when the stack deploys, from the parameter the environment's Logging stack publishes
    (config adopts no sink in the sample)."""
    (link,) = sample_assembly.resources(stack, "AWS::Oam::Link").values()
    parameter = sample_assembly.template(stack)["Parameters"][link["Properties"]["SinkIdentifier"]["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert parameter["Default"] == naming.shared_parameter_arn(
        naming.observability_sink_parameter(environment), logging_account, "eu-west-1"
    )
    assert link["Properties"]["ResourceTypes"] == ["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup", "AWS::XRay::Trace"]
    published = sample_assembly.resources(f"AgentZone-Logging-{environment}", "AWS::SSM::Parameter")
    (sink_parameter,) = (
        r for r in published.values() if r["Properties"]["Name"] == naming.observability_sink_parameter(environment)
    )
    (sink,) = sample_assembly.resources(f"AgentZone-Logging-{environment}", "AWS::Oam::Sink")
    assert sink_parameter["Properties"]["Value"] == {"Fn::GetAtt": [sink, "Arn"]}


def test_cross_region_accounts_are_not_linked_and_agents_get_transaction_search(sample_assembly):
    assert sample_assembly.resources("AgentZone-fraud-prod", "AWS::Oam::Link") == {}
    for stack in ("AgentZone-fraud-prod", "AgentZone-claims-dev", "AgentZone-SharedServices-prod"):
        (search,) = sample_assembly.resources(stack, "AWS::XRay::TransactionSearchConfig").values()
        assert search["Properties"]["IndexingPercentage"] == 5
    assert sample_assembly.resources("AgentZone-DataLake-prod", "AWS::XRay::TransactionSearchConfig") == {}


def observability(tenant: str, environment: str = "prod") -> str:
    """The tenant's own stack in the logging account."""
    return f"AgentZone-{tenant}-{environment}-observability"


def test_tenant_reader_trusts_only_its_own_account(sample_assembly):
    roles = sample_assembly.resources(observability("claims"), "AWS::IAM::Role")
    reader = next(
        r for r in roles.values() if r["Properties"].get("RoleName") == "agentzone-claims-observability-reader"
    )
    (trust,) = reader["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{CLAIMS_PROD}:root"}
    assert reader["Properties"]["MaxSessionDuration"] == 3600


def test_tenant_readers_see_their_own_logs_traces_archive_and_dashboard_and_nothing_of_another_tenant(sample_assembly):
    s3 = {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    for me, mine, other, theirs, other_region in (
        ("claims", CLAIMS_PROD, "fraud", FRAUD_PROD, "eu-central-1"),
        ("fraud", FRAUD_PROD, "claims", CLAIMS_PROD, "eu-west-1"),
    ):
        st = role_statements(sample_assembly, observability(me), f"agentzone-{me}-observability-reader")
        my_region = "eu-west-1" if me == "claims" else "eu-central-1"
        for account, region, expect in ((mine, my_region, True), (theirs, other_region, False)):
            group = f"arn:aws:logs:{region}:{account}:log-group:aws/spans"
            for action in ("logs:StartQuery", "logs:FilterLogEvents", "logs:GetLogEvents", "logs:DescribeLogStreams"):
                assert allowed(st, action, group) is expect, (me, action, account)
            for key in (
                f"bedrock/AWSLogs/{account}/BedrockModelInvocationLogs/x.json.gz",
                f"AWSLogs/{ORG_ID}/{account}/CloudTrail/eu-west-1/x.json.gz",
            ):
                assert allowed(st, "s3:GetObject", f"arn:aws:s3:::{ARCHIVE}/{key}") is expect, (me, key)
            assert (
                allowed(st, "s3:ListBucket", f"arn:aws:s3:::{ARCHIVE}", {"s3:prefix": f"bedrock/AWSLogs/{account}/"})
                is expect
            )
        assert allowed(st, "cloudwatch:GetDashboard", f"arn:aws:cloudwatch::100000000032:dashboard/agentzone-{me}-prod")
        assert not allowed(
            st, "cloudwatch:GetDashboard", f"arn:aws:cloudwatch::100000000032:dashboard/agentzone-{other}-prod"
        )
        assert not allowed(
            st, "cloudwatch:GetDashboard", "arn:aws:cloudwatch::100000000032:dashboard/agentzone-platform-prod"
        )
        assert not allowed(st, "s3:ListBucket", f"arn:aws:s3:::{ARCHIVE}", {"s3:prefix": ""})
        assert not allowed(st, "logs:StartQuery", "arn:aws:logs:eu-west-1:100000000031:log-group:platform")
        archive_key = next(k for k in sample_assembly.resources(LOGGING, "AWS::KMS::Key") if k.startswith("ArchiveKey"))
        assert allowed(st, "kms:Decrypt", f"arn:aws:kms:eu-west-1:100000000032:key/{archive_key}", s3)
        assert not allowed(
            st, "kms:Decrypt", f"arn:aws:kms:eu-west-1:100000000032:key/{archive_key}"
        )  # only through S3
        # No metric or trace API: those have no resource-level scoping in a monitoring account.
        assert not any(a.startswith(("cloudwatch:GetMetric", "xray:")) for s in st for a in s["Action"])
        # Wildcard resources only where the API has no resource type.
        assert {a for s in st if "*" in s["Resource"] for a in s["Action"]} == {
            "logs:DescribeQueries",
            "logs:GetQueryResults",
            "logs:StopQuery",
        }


def test_platform_operator_reads_everything_and_manages_only_agentzone_dashboards(sample_assembly):
    st = role_statements(sample_assembly, LOGGING, "agentzone-platform-observability-operator")
    assert allowed(st, "logs:StartQuery", f"arn:aws:logs:eu-west-1:{CLAIMS_PROD}:log-group:aws/spans")
    assert allowed(st, "cloudwatch:GetMetricData", "*") and allowed(st, "xray:BatchGetTraces", "*")
    assert allowed(st, "s3:GetObject", f"arn:aws:s3:::{ARCHIVE}/AWSLogs/{ORG_ID}/{FRAUD_PROD}/x")
    assert allowed(st, "cloudwatch:PutDashboard", "arn:aws:cloudwatch::100000000032:dashboard/agentzone-claims-prod")
    assert not allowed(st, "cloudwatch:PutDashboard", "arn:aws:cloudwatch::100000000032:dashboard/finance")
    assert not allowed(st, "s3:PutObject", f"arn:aws:s3:::{ARCHIVE}/x") and not allowed(
        st, "s3:DeleteObject", f"arn:aws:s3:::{ARCHIVE}/x"
    )


def dashboard_body(sample_assembly, name: str, stack: str = LOGGING) -> str:
    for d in sample_assembly.resources(stack, "AWS::CloudWatch::Dashboard").values():
        if d["Properties"]["DashboardName"] == name:
            body = d["Properties"]["DashboardBody"]
            return body if isinstance(body, str) else json.dumps(body)
    raise AssertionError(name)


def test_tenant_dashboards_query_only_their_own_account(sample_assembly):
    claims = dashboard_body(sample_assembly, "agentzone-claims-prod", observability("claims"))
    assert CLAIMS_PROD in claims and FRAUD_PROD not in claims
    for title in (
        "Model invocations",
        "Agent latency",
        "Tokens",
        "Errors and throttles",
        "Estimated cost (USD/day): amazon.nova-lite-v1:0",
    ):
        assert title in claims
    assert "* 0.003 / 1000 + sum(output.outputTokenCount) * 0.015 / 1000" in claims


def test_platform_dashboard_shows_every_linked_account_without_naming_tenants(sample_assembly):
    """Metrics Insights in the sink's account sees every linked account: the dashboard does not grow with tenants."""
    (body,) = [
        d["Properties"]["DashboardBody"]
        for d in sample_assembly.resources(LOGGING, "AWS::CloudWatch::Dashboard").values()
        if d["Properties"]["DashboardName"] == "agentzone-platform-prod"
    ]
    platform = json.loads("".join(p if isinstance(p, str) else "eu-west-1" for p in body["Fn::Join"][1]))
    queries = [m[0]["expression"] for w in platform["widgets"] for m in w["properties"]["metrics"]]
    # Each series labelled by its account and model, not all with the query's text.
    assert {m[0]["label"] for w in platform["widgets"] for m in w["properties"]["metrics"]} == {"${LABEL}"}
    assert len(queries) == 7
    for query in queries:
        assert query.startswith("SELECT ") and query.endswith(
            'FROM SCHEMA("AWS/Bedrock", ModelId) GROUP BY AWS.AccountId, ModelId'
        ), query
    assert 'SELECT SUM(InvocationThrottles) FROM SCHEMA("AWS/Bedrock", ModelId)' in queries[4]
    assert CLAIMS_PROD not in json.dumps(platform) and FRAUD_PROD not in json.dumps(platform)


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_logging_stack_holds_nothing_per_tenant(sample_assembly, environment):
    """Tenant roles and dashboards are in the tenants' own stacks, so the Logging stack does not grow with tenants."""
    template = json.dumps(sample_assembly.template(f"AgentZone-Logging-{environment}")["Resources"])
    assert "observability-reader" not in template and "agentzone-claims" not in template
    for tenant in ("claims", "fraud"):
        stack = sample_assembly.template(observability(tenant, environment))
        assert sorted(r["Type"] for r in stack["Resources"].values()) == [
            "AWS::CloudWatch::Dashboard",
            "AWS::IAM::ManagedPolicy",
            "AWS::IAM::Role",
        ]


def test_tenant_accounts_log_every_model_call_and_replicate_it_to_their_environments_archive(sample_assembly):
    stack = "AgentZone-fraud-prod"  # eu-central-1, archive in the prod logging account in eu-west-1
    (setting,) = sample_assembly.resources(stack, "Custom::BedrockInvocationLogging").values()
    assert setting["Properties"]["KeyPrefix"] == "bedrock"
    groups = {
        g["Properties"].get("LogGroupName"): g for g in sample_assembly.resources(stack, "AWS::Logs::LogGroup").values()
    }
    assert groups["/agentzone/bedrock/model-invocations"]["Properties"]["KmsKeyId"]
    replicated = [
        b
        for b in sample_assembly.resources(stack, "AWS::S3::Bucket").values()
        if "ReplicationConfiguration" in b["Properties"]
    ]
    (rule,) = replicated[0]["Properties"]["ReplicationConfiguration"]["Rules"]
    assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{ARCHIVE}"
    assert rule["Destination"]["Account"] == "100000000032"
    assert rule["Destination"]["EncryptionConfiguration"] == {
        "ReplicaKmsKeyID": "arn:aws:kms:eu-west-1:100000000032:alias/agentzone/log-archive"
    }
    assert rule["Destination"]["AccessControlTranslation"] == {"Owner": "Destination"}
    assert rule["Filter"] == {"Prefix": "bedrock/"}
    # The custom resource's role is the one name the SCPs exempt from the invocation-logging protection.
    roles = [r["Properties"].get("RoleName") for r in sample_assembly.resources(stack, "AWS::IAM::Role").values()]
    assert "agentzone-platform-resources-eu-central-1" in roles


def test_replication_role_encrypts_replicas_with_the_archive_key_by_key_arn_and_the_key_policy_admits_it(
    sample_assembly,
):
    """KMS authorizes key operations against the key ARN, never the alias ARN: the replication role is granted
    the logging account's keys, bounded to the one the archive alias names, and only through S3; the archive
    key's policy in turn lets the environment's tenant accounts encrypt with it through S3."""
    stack = "AgentZone-fraud-prod"  # eu-central-1, archive in the prod logging account in eu-west-1
    (policy,) = [
        p
        for k, p in sample_assembly.resources(stack, "AWS::IAM::Policy").items()
        if k.startswith("BedrockInvocationLoggingBucketReplicationRole")
    ]
    kms_statements = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(a.startswith("kms:") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    ]
    archive = [s for s in kms_statements if "100000000032" in json.dumps(s["Resource"])]
    assert archive == [
        {
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Effect": "Allow",
            "Resource": "arn:aws:kms:eu-west-1:100000000032:key/*",
            "Condition": {
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/agentzone/log-archive"},
                "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
            },
        }
    ]
    assert ":alias/" not in json.dumps(kms_statements), "a grant on an alias ARN grants nothing"
    # The replication rule still names the archive key by its alias (S3 accepts it there).
    replicated = [
        b
        for b in sample_assembly.resources(stack, "AWS::S3::Bucket").values()
        if "ReplicationConfiguration" in b["Properties"]
    ]
    (rule,) = replicated[0]["Properties"]["ReplicationConfiguration"]["Rules"]
    assert rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"].endswith(":alias/agentzone/log-archive")
    # The archive key's policy lets this tenant account's AgentZone roles encrypt through S3 in the key's region.
    keys = sample_assembly.resources(LOGGING, "AWS::KMS::Key")
    (replicas,) = [
        s
        for k in keys.values()
        for s in k["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "ReplicasEncryptViaS3"
    ]
    assert f"arn:aws:iam::{FRAUD_PROD}:root" in json.dumps(replicas["Principal"])
    assert {"kms:Encrypt", "kms:GenerateDataKey*"} <= set(replicas["Action"])
    assert replicas["Condition"]["StringEquals"]["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"
    assert replicas["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == ORG_ID
    role_name_pattern = replicas["Condition"]["ArnLike"]["aws:PrincipalArn"]
    assert fnmatchcase(
        f"arn:aws:iam::{FRAUD_PROD}:role/{stack}-BedrockInvocationLoggingBucketRepl-ABC123", role_name_pattern
    )


def test_archive_key_by_alias_grants_encryption_only_on_the_aliased_key(tmp_path):
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam

    from agentzone.composition import create_app
    from agentzone.constructs.observability import ArchiveKeyByAlias

    stack = cdk.Stack(
        create_app(outdir=str(tmp_path)), "Tenant", env=cdk.Environment(account="333333333333", region="eu-central-1")
    )
    key = ArchiveKeyByAlias(stack, "ArchiveKey", account="100000000032", region="eu-west-1")
    assert key.key_arn == "arn:aws:kms:eu-west-1:100000000032:alias/agentzone/log-archive"
    assert key.key_ref.key_arn == key.key_arn
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("s3.amazonaws.com"))
    key.grant_encrypt(role)
    (statement,) = stack.resolve(role.node.find_child("DefaultPolicy").document.to_json())["Statement"]
    assert statement["Resource"] == "arn:aws:kms:eu-west-1:100000000032:key/*"
    assert statement["Condition"]["ForAnyValue:StringEquals"] == {"kms:ResourceAliases": "alias/agentzone/log-archive"}
    for refused in (key.grant_decrypt, key.grant_encrypt_decrypt):
        with pytest.raises(ValueError):
            refused(role)
    assert (
        key.add_to_resource_policy(iam.PolicyStatement(actions=["kms:Decrypt"], resources=["*"])).statement_added
        is False
    )


def test_log_archive_has_object_lock_from_creation(sample_assembly):
    archive = next(
        v
        for k, v in sample_assembly.resources("AgentZone-Logging-prod", "AWS::S3::Bucket").items()
        if k.startswith("LogArchive")
    )
    assert archive["Properties"]["ObjectLockEnabled"] is True
