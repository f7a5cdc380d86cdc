"""The data lake stacks as the sample config composes them (the central lake and each tenant's data stack): zones,
Lake Formation isolation between tenants, ingestion, masking and the feedback connector."""

from __future__ import annotations

import hashlib
import hmac
import json

import boto3
import pytest

from agentzone.config import ConfigError, load_landing_zone
from agentzone.config.data_checks import estimated_data_resources
from agentzone.data_lake.jobs import curate_and_mask

from ..conftest import SAMPLE_CONFIG

LAKE = "100000000034"  # central (prod) data lake account
TENANT_ACCOUNTS = {
    "claims": {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"},
    "fraud": {"dev": "444444444444", "staging": "555555555555", "prod": "666666666666"},
}
TENANT_TAG, SENSITIVITY_TAG = "agentzone:tenant", "agentzone:sensitivity"


def props(sample_assembly, stack: str, type_: str) -> list[dict]:
    return [r["Properties"] for r in sample_assembly.resources(stack, type_).values()]


def tag_grants(sample_assembly, stack: str) -> list[dict]:
    return [
        p
        for p in props(sample_assembly, stack, "AWS::LakeFormation::PrincipalPermissions")
        if "LFTagPolicy" in p["Resource"]
    ]


def expression(grant: dict) -> dict[str, list[str]]:
    return {e["TagKey"]: e["TagValues"] for e in grant["Resource"]["LFTagPolicy"]["Expression"]}


# ---------------------------------------------------------------- the lake account


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_zones_are_retained_cmk_buckets_with_lifecycle(sample_assembly, env):
    stack = f"AgentZone-DataLake-{env}"
    buckets = {
        k: v for k, v in sample_assembly.resources(stack, "AWS::S3::Bucket").items() if not k.startswith("AccessLogs")
    }
    assert sorted(k[: -len("Bucket") - 8] for k in buckets) == ["CuratedZone", "MaskedZone", "RawZone"]
    for logical_id, bucket in buckets.items():
        p = bucket["Properties"]
        assert bucket["DeletionPolicy"] == "Retain"
        assert (
            p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
                "SSEAlgorithm"
            ]
            == "aws:kms"
        )
        assert p["VersioningConfiguration"] == {"Status": "Enabled"}
        assert "LoggingConfiguration" in p
        rule = p["LifecycleConfiguration"]["Rules"][0]
        assert rule["Transitions"] == [{"StorageClass": "STANDARD_IA", "TransitionInDays": 90}]
        # Raw data expires (raw_expire_days); curated and masked are kept.
        assert rule.get("ExpirationInDays") == (365 if logical_id.startswith("RawZone") else None)
    # TLS only, on every zone.
    for policy in props(sample_assembly, stack, "AWS::S3::BucketPolicy"):
        denies = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)


def test_lake_formation_is_the_only_permission_model(sample_assembly):
    (settings,) = props(sample_assembly, "AgentZone-DataLake-prod", "AWS::LakeFormation::DataLakeSettings")
    assert settings["Admins"] == [
        {"DataLakePrincipalIdentifier": f"arn:aws:iam::{LAKE}:role/cdk-agentzone-cfn-exec-role-{LAKE}-eu-west-1"},
        {"DataLakePrincipalIdentifier": f"arn:aws:iam::{LAKE}:role/AgentZoneDataLakeAdmin"},
    ]
    # No IAMAllowedPrincipals defaults: nothing is readable without a Lake Formation grant.
    assert settings["CreateDatabaseDefaultPermissions"] == settings["CreateTableDefaultPermissions"] == []
    assert settings["Parameters"] == {"CROSS_ACCOUNT_VERSION": "4"} and settings["MutationType"] == "REPLACE"
    locations = props(sample_assembly, "AgentZone-DataLake-prod", "AWS::LakeFormation::Resource")
    assert len(locations) == 3
    assert all(
        not loc["UseServiceLinkedRole"] and not loc["HybridAccessEnabled"] and "RoleArn" in loc for loc in locations
    )
    tags = {
        t["TagKey"]: t["TagValues"]
        for t in props(sample_assembly, "AgentZone-DataLake-prod", "AWS::LakeFormation::Tag")
    }
    assert tags == {TENANT_TAG: ["claims", "fraud"], SENSITIVITY_TAG: ["confidential", "masked", "restricted"]}


def test_glue_encryption_covers_logs_bookmarks_and_s3(sample_assembly):
    (config,) = props(sample_assembly, "AgentZone-DataLake-staging", "AWS::Glue::SecurityConfiguration")
    assert config["Name"] == "agentzone-data-lake-staging"
    enc = config["EncryptionConfiguration"]
    assert enc["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert enc["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"
    assert enc["S3Encryptions"][0]["S3EncryptionMode"] == "SSE-KMS"


# ---------------------------------------------------------------- tenant isolation


@pytest.mark.parametrize("tenant,other", [("claims", "fraud"), ("fraud", "claims")])
def test_each_tenant_is_granted_only_its_own_namespaces(sample_assembly, tenant, other):
    grants = tag_grants(sample_assembly, f"AgentZone-{tenant}-prod-data")
    # One DESCRIBE (databases) and one SELECT (tables) grant per tenant account, nothing else.
    assert sorted(g["Principal"]["DataLakePrincipalIdentifier"] for g in grants) == sorted(
        2 * list(TENANT_ACCOUNTS[tenant].values())
    )
    for grant in grants:
        assert expression(grant)[TENANT_TAG] == [tenant]
        assert grant["Principal"]["DataLakePrincipalIdentifier"] not in TENANT_ACCOUNTS[other].values()
        assert grant["PermissionsWithGrantOption"] == grant["Permissions"]  # the consumer's admin re-grants
    # The tenant's databases and tables carry its tag and no other tenant's.
    text = json.dumps(props(sample_assembly, f"AgentZone-{tenant}-prod-data", "AWS::LakeFormation::TagAssociation"))
    assert f'"TagValues": ["{tenant}"]' in text and f'"{other}"' not in text
    databases = [
        d["DatabaseInput"]["Name"]
        for d in props(sample_assembly, f"AgentZone-{tenant}-prod-data", "AWS::Glue::Database")
    ]
    assert databases and all(name.startswith(f"{tenant}_") for name in databases)


def test_only_prod_reads_unmasked_data(sample_assembly):
    for grant in tag_grants(sample_assembly, "AgentZone-claims-prod-data"):
        account = grant["Principal"]["DataLakePrincipalIdentifier"]
        tags = expression(grant)
        if grant["Resource"]["LFTagPolicy"]["ResourceType"] == "DATABASE":
            assert tags == {TENANT_TAG: ["claims"]} and grant["Permissions"] == ["DESCRIBE"]
        elif account == TENANT_ACCOUNTS["claims"]["prod"]:
            assert tags[SENSITIVITY_TAG] == ["confidential", "masked"] and grant["Permissions"] == [
                "SELECT",
                "DESCRIBE",
            ]
        else:
            assert tags[SENSITIVITY_TAG] == ["masked"], f"{account} must read masked data only"
        assert "restricted" not in tags.get(SENSITIVITY_TAG, [])  # raw is the lake's own


def test_sensitivity_tags_follow_the_zone(sample_assembly):
    associations = props(sample_assembly, "AgentZone-claims-prod-data", "AWS::LakeFormation::TagAssociation")
    by_resource = {}
    for a in associations:
        res = a["Resource"]
        name = res["Table"]["Name"] if "Table" in res else "<database>:" + res["Database"]["Name"]
        by_resource[name] = {t["TagKey"]: t["TagValues"] for t in a["LFTags"]}
    assert by_resource["<database>:claims_history"] == {TENANT_TAG: ["claims"], SENSITIVITY_TAG: ["restricted"]}
    assert by_resource["curated_claims"] == {SENSITIVITY_TAG: ["confidential"]}
    assert by_resource["masked_claims"] == {SENSITIVITY_TAG: ["masked"]}
    assert "raw_claims" not in by_resource  # inherits the database's restricted tag


def test_only_the_central_lake_grants_tenant_accounts(sample_assembly):
    for env in ("dev", "staging"):
        assert tag_grants(sample_assembly, f"AgentZone-claims-{env}-data") == []
        principals = [
            p["Principal"]["DataLakePrincipalIdentifier"]
            for p in props(sample_assembly, f"AgentZone-claims-{env}-data", "AWS::LakeFormation::PrincipalPermissions")
        ]
        assert principals and all(isinstance(p, dict) for p in principals)  # the lake's own Glue roles only


@pytest.mark.parametrize("tenant", ["claims", "fraud"])
def test_the_validate_time_resource_estimate_covers_the_largest_data_stack(sample_assembly, tenant):
    actual = max(
        len(sample_assembly.template(f"AgentZone-{tenant}-{e}-data")["Resources"]) for e in ("dev", "staging", "prod")
    )
    estimate = estimated_data_resources(load_landing_zone(SAMPLE_CONFIG).tenant(tenant))
    assert actual <= estimate <= actual * 1.1


def test_too_many_datasets_for_one_stack_is_a_config_error(config_copy):
    path = config_copy / "tenants/fraud.yaml"
    columns = "          columns: [{name: id}]\n"
    datasets = "".join(f"        - name: stream_{i}\n          ingestion: stream\n{columns}" for i in range(19))
    extra = "".join(f"    - name: extra_{n}\n      datasets:\n{datasets}" for n in range(2))
    path.write_text(path.read_text().replace("  namespaces:\n", "  namespaces:\n" + extra, 1))
    with pytest.raises(ConfigError) as info:
        load_landing_zone(config_copy)
    (problem,) = [p.render() for p in info.value.problems]
    assert (
        problem.startswith(f"{path}:")
        and " data: these namespaces need about 7" in problem
        and "at most 450" in problem
    )


# ---------------------------------------------------------------- catalog, ingestion, governance


def tables(sample_assembly, stack: str) -> dict[str, dict]:
    return {
        t["TableInput"]["Name"]: t["TableInput"]
        for t in props(sample_assembly, stack, "AWS::Glue::Table")
        if t["DatabaseName"] == "claims_history"
    }


def test_each_dataset_has_a_table_per_zone_with_lineage(sample_assembly):
    found = tables(sample_assembly, "AgentZone-claims-prod-data")
    assert sorted(found) == sorted(
        f"{z}_{d}" for z in ("raw", "curated", "masked") for d in ("claims", "adjuster_notes")
    )
    masked = found["masked_claims"]
    types = {c["Name"]: c["Type"] for c in masked["StorageDescriptor"]["Columns"]}
    assert types["amount"] == "double" and types["closed_at"] == "timestamp"
    assert masked["Parameters"]["agentzone:lineage:source"] == "claims_history.curated_claims"
    assert masked["Parameters"]["agentzone:lineage:job"] == "agentzone-claims-history-curate-mask"
    assert masked["Parameters"]["agentzone:masked_columns"] == "customer_email:hash,customer_name:redact,iban:partial"
    assert found["curated_claims"]["Parameters"]["agentzone:lineage:source"] == "claims_history.raw_claims"
    assert (
        found["raw_adjuster_notes"]["Parameters"]["agentzone:ingestion"]
        == "firehose:agentzone-claims-history-adjuster-notes"
    )
    assert found["raw_claims"]["Parameters"]["agentzone:ingestion"] == "batch:claims/history/claims/"
    assert masked["PartitionKeys"] == [{"Name": "dt", "Type": "string", "Comment": "Delivery date, YYYY-MM-DD"}]
    assert masked["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    location = masked["StorageDescriptor"]["Location"]["Fn::Join"][1]
    assert location == ["s3://", {"Fn::ImportValue": "agentzone-data-lake-masked-bucket"}, "/claims/history/claims/"]


def test_streams_write_gzip_json_lines_into_the_raw_prefix(sample_assembly):
    streams = {
        s["DeliveryStreamName"]: s
        for s in props(sample_assembly, "AgentZone-claims-prod-data", "AWS::KinesisFirehose::DeliveryStream")
    }
    assert sorted(streams) == ["agentzone-claims-feedback-agent-signals", "agentzone-claims-history-adjuster-notes"]
    stream = streams["agentzone-claims-history-adjuster-notes"]
    assert stream["DeliveryStreamEncryptionConfigurationInput"]["KeyType"] == "CUSTOMER_MANAGED_CMK"
    dest = stream["ExtendedS3DestinationConfiguration"]
    assert dest["Prefix"] == "claims/history/adjuster_notes/dt=!{timestamp:yyyy-MM-dd}/"
    assert dest["ErrorOutputPrefix"].startswith("_errors/claims/history/adjuster_notes/")
    assert dest["CompressionFormat"] == "GZIP" and "KMSEncryptionConfig" in dest["EncryptionConfiguration"]
    assert dest["ProcessingConfiguration"]["Processors"][0]["Type"] == "AppendDelimiterToRecord"


def test_crawler_only_adds_partitions_to_the_raw_tables(sample_assembly):
    crawlers = {c["Name"]: c for c in props(sample_assembly, "AgentZone-claims-prod-data", "AWS::Glue::Crawler")}
    crawler = crawlers["agentzone-claims-history-raw"]
    assert crawler["Targets"]["CatalogTargets"] == [
        {"DatabaseName": "claims_history", "Tables": ["raw_adjuster_notes", "raw_claims"]}
    ]
    assert crawler["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}
    assert (
        json.loads(crawler["Configuration"])["CrawlerOutput"]["Partitions"]["AddOrUpdateBehavior"] == "InheritFromTable"
    )
    assert crawler["CrawlerSecurityConfiguration"] == "agentzone-data-lake-prod"
    assert crawler["Schedule"] == {"ScheduleExpression": "cron(0 * * * ? *)"}


def job(sample_assembly, stack: str, name: str) -> dict:
    return next(j for j in props(sample_assembly, stack, "AWS::Glue::Job") if j["Name"] == name)


def test_masking_job_reads_raw_and_writes_curated_and_masked(sample_assembly):
    spec = job(sample_assembly, "AgentZone-claims-prod-data", "agentzone-claims-history-curate-mask")
    assert spec["Command"]["Name"] == "pythonshell" and spec["Command"]["PythonVersion"] == "3.9"
    assert spec["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    assert spec["SecurityConfiguration"] == "agentzone-data-lake-prod"
    plan = resolve_plan(spec, {"raw": "raw-zone", "curated": "curated-zone", "masked": "masked-zone"})
    assert (plan["raw_bucket"], plan["curated_bucket"], plan["masked_bucket"]) == (
        "raw-zone",
        "curated-zone",
        "masked-zone",
    )
    claims = next(d for d in plan["datasets"] if d["name"] == "claims")
    assert claims["prefix"] == "claims/history/claims/"
    assert (claims["raw_table"], claims["curated_table"], claims["masked_table"]) == (
        "raw_claims",
        "curated_claims",
        "masked_claims",
    )
    assert {c["name"]: c["pii"] for c in claims["columns"] if c["pii"]} == {
        "customer_email": "hash",
        "customer_name": "redact",
        "iban": "partial",
    }
    assert {c["name"] for c in claims["columns"] if c["required"]} == {"claim_id", "policy_id"}
    assert spec["DefaultArguments"]["--hash_key_secret"]["Ref"].startswith("DataMaskingKey")


def test_job_role_reaches_only_its_namespace(sample_assembly):
    spec = job(sample_assembly, "AgentZone-claims-prod-data", "agentzone-claims-history-curate-mask")
    role = spec["Role"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in props(sample_assembly, "AgentZone-claims-prod-data", "AWS::IAM::Policy")
        if {"Ref": role} in p["Roles"]
        for s in p["PolicyDocument"]["Statement"]
    ]
    s3_objects = json.dumps(
        [s["Resource"] for s in statements if any(str(a).startswith("s3:") for a in _list(s["Action"]))]
    )
    assert "/claims/history/*" in s3_objects and "/claims/feedback/" not in s3_objects and "fraud" not in s3_objects
    glue_tables = [r for s in statements if "glue:BatchCreatePartition" in _list(s["Action"]) for r in s["Resource"]]
    assert not any("raw_" in json.dumps(r) for r in glue_tables)  # writes curated and masked partitions only


def test_quality_rules_check_required_columns_and_config_rules(sample_assembly):
    rulesets = {
        r["Name"]: r for r in props(sample_assembly, "AgentZone-claims-prod-data", "AWS::Glue::DataQualityRuleset")
    }
    claims = rulesets["claims_history.curated_claims"]
    assert claims["TargetTable"] == {"DatabaseName": "claims_history", "TableName": "curated_claims"}
    rules = claims["Ruleset"]
    for rule in (
        'IsComplete "claim_id"',
        'IsComplete "policy_id"',
        'IsUnique "claim_id"',
        'ColumnValues "amount" >= 0',
    ):
        assert rule in rules
    schedules = [
        json.loads(join_with_placeholders(s["Target"]["Input"]))
        for s in props(sample_assembly, "AgentZone-claims-prod-data", "AWS::Scheduler::Schedule")
    ]
    run = next(s for s in schedules if s["RulesetNames"] == ["claims_history.curated_claims"])
    assert run["DataSource"] == {"GlueTable": {"DatabaseName": "claims_history", "TableName": "curated_claims"}}
    assert run["AdditionalRunOptions"] == {
        "CloudWatchMetricsEnabled": True,
        "ResultsS3Prefix": "s3://TOKEN/_quality/claims_history/curated_claims/",
    }
    assert run["Role"] == "TOKEN"


def test_quality_role_gets_lake_formation_credentials_in_its_own_statement_on_star(sample_assembly):
    """lakeformation:GetDataAccess supports only Resource "*": beside the Glue table and ruleset ARNs it granted
    nothing. It has its own statement on "*"; Lake Formation's grants decide which tables it vends for."""
    stack = "AgentZone-claims-prod-data"
    roles = {k for k in sample_assembly.resources(stack, "AWS::IAM::Role") if "QualityRole" in k}
    assert roles
    for role in roles:
        statements = [
            s
            for p in props(sample_assembly, stack, "AWS::IAM::Policy")
            if {"Ref": role} in p["Roles"]
            for s in p["PolicyDocument"]["Statement"]
        ]
        data_access = [s for s in statements if "lakeformation:GetDataAccess" in _list(s["Action"])]
        assert data_access == [{"Action": "lakeformation:GetDataAccess", "Effect": "Allow", "Resource": "*"}], role
        glue = next(s for s in statements if "glue:GetDataQualityRuleset" in _list(s["Action"]))
        assert glue["Resource"] != "*" and "lakeformation:GetDataAccess" not in _list(glue["Action"])


def test_producers_assume_an_ingest_role_that_only_writes_raw(sample_assembly):
    roles = {
        r["RoleName"]: r
        for r in props(sample_assembly, "AgentZone-claims-prod-data", "AWS::IAM::Role")
        if "RoleName" in r
    }
    role = roles["agentzone-ingest-claims-history"]
    principals = [s["Principal"]["AWS"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
    assert json.dumps(principals).count("100000000090") == 1
    policy = next(
        p
        for p in props(sample_assembly, "AgentZone-claims-prod-data", "AWS::IAM::Policy")
        if p["Roles"]
        == [
            {"Ref": k}
            for k, v in sample_assembly.resources("AgentZone-claims-prod-data", "AWS::IAM::Role").items()
            if v["Properties"].get("RoleName") == "agentzone-ingest-claims-history"
        ]
    )
    actions = {a for s in policy["PolicyDocument"]["Statement"] for a in _list(s["Action"])}
    assert "s3:GetObject" not in actions and not any(a.startswith("s3:Delete") for a in actions)
    assert {"firehose:PutRecord", "firehose:PutRecordBatch"} <= actions


# ---------------------------------------------------------------- feedback connector and tenant side


def test_feedback_flows_from_tenant_prod_into_its_raw_namespace(sample_assembly):
    # The bus carries its policy itself (no AWS::Events::EventBusPolicy, whose deprecated field cdk-nag reads).
    assert props(sample_assembly, "AgentZone-DataLake-prod", "AWS::Events::EventBusPolicy") == []
    (bus,) = props(sample_assembly, "AgentZone-DataLake-prod", "AWS::Events::EventBus")
    (statement,) = bus["Policy"]["Statement"]
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == f"arn:aws:events:eu-west-1:{LAKE}:event-bus/agentzone-feedback"
    assert sorted(statement["Principal"]["AWS"]) == [f"arn:aws:iam::{a}:root" for a in ("333333333333", "666666666666")]
    assert props(sample_assembly, "AgentZone-DataLake-dev", "AWS::Events::EventBus") == []
    (rule,) = props(sample_assembly, "AgentZone-claims-prod-data", "AWS::Events::Rule")
    assert rule["EventBusName"] == "agentzone-feedback"
    assert rule["EventPattern"] == {"account": ["333333333333"], "source": ["agentzone.evaluation", "aws.cloudwatch"]}
    template = json.loads(rule["Targets"][0]["InputTransformer"]["InputTemplate"].replace("<", '"<').replace(">", '>"'))
    assert sorted(template) == ["account", "detail", "detail_type", "id", "source", "time"]
    # The tenant's prod account forwards evaluation results and alarm changes; dev does not.
    forwards = props(sample_assembly, "AgentZone-claims-prod", "AWS::Events::Rule")
    targets = [t["Arn"] for r in forwards for t in r.get("Targets", []) if "agentzone-feedback" in json.dumps(t["Arn"])]
    assert targets == [f"arn:aws:events:eu-west-1:{LAKE}:event-bus/agentzone-feedback"] * 2
    dev_rules = json.dumps(props(sample_assembly, "AgentZone-claims-dev", "AWS::Events::Rule"))
    assert "agentzone-feedback" not in dev_rules


@pytest.mark.parametrize("stack,region", [("AgentZone-claims-dev", "eu-west-1"), ("AgentZone-fraud-prod", "eu-west-1")])
def test_tenant_accounts_link_to_the_central_namespaces(sample_assembly, stack, region):
    links = [d["DatabaseInput"] for d in props(sample_assembly, stack, "AWS::Glue::Database")]
    tenant = stack.split("-")[1]
    expected = {"claims": ["claims_feedback", "claims_history"], "fraud": ["fraud_signals"]}[tenant]
    assert sorted(link["Name"] for link in links) == expected
    assert all(
        link["TargetDatabase"] == {"CatalogId": LAKE, "DatabaseName": link["Name"], "Region": region} for link in links
    )
    (settings,) = props(sample_assembly, stack, "AWS::LakeFormation::DataLakeSettings")
    assert settings["MutationType"] == "APPEND"  # never drops the team's own Lake Formation admins


# ---------------------------------------------------------------- the synthesized job plan, run in moto


def resolve_plan(spec: dict, buckets: dict[str, str]) -> dict:
    parts = spec["DefaultArguments"]["--plan"]["Fn::Join"][1]
    names = {f"agentzone-data-lake-{zone}-bucket": name for zone, name in buckets.items()}
    return json.loads("".join(p if isinstance(p, str) else names[p["Fn::ImportValue"]] for p in parts))


def test_the_synthesized_plan_masks_what_config_names(sample_assembly, aws):
    spec = job(sample_assembly, "AgentZone-claims-prod-data", "agentzone-claims-history-curate-mask")
    plan = resolve_plan(spec, {"raw": "raw-zone", "curated": "curated-zone", "masked": "masked-zone"})
    s3, glue, secrets = (boto3.client(n, region_name="eu-west-1") for n in ("s3", "glue", "secretsmanager"))
    for zone in ("raw-zone", "curated-zone", "masked-zone"):
        s3.create_bucket(Bucket=zone, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    key = secrets.create_secret(Name="masking-key", SecretString="k" * 64)["ARN"]
    glue.create_database(DatabaseInput={"Name": "claims_history"})
    for dataset in plan["datasets"]:
        for zone in ("curated", "masked"):
            glue.create_table(
                DatabaseName="claims_history",
                TableInput={
                    "Name": dataset[f"{zone}_table"],
                    "PartitionKeys": [{"Name": "dt", "Type": "string"}],
                    "StorageDescriptor": {
                        "Columns": [{"Name": c["name"], "Type": "string"} for c in dataset["columns"]],
                        "Location": f"s3://{zone}-zone/{dataset['prefix']}",
                    },
                },
            )
    record = {
        "claim_id": "C-1",
        "policy_id": "P-9",
        "customer_name": "Jane Doe",
        "customer_email": "jane@example.com",
        "iban": "DE89370400440532013000",
        "amount": "120.5",
        "status": "settled",
        "closed_at": "2026-11-20T10:00:00Z",
        "extra": "dropped",
    }
    s3.put_object(
        Bucket="raw-zone", Key="claims/history/claims/dt=2026-11-21/batch-1.json", Body=json.dumps(record) + "\n"
    )

    summary = curate_and_mask.main(["--plan", json.dumps(plan), "--hash_key_secret", key, "--JOB_RUN_ID", "jr_1"])

    assert summary["datasets"]["claims"]["accepted"] == 1
    out_key = "claims/history/claims/dt=2026-11-21/batch-1.json"
    curated = json.loads(s3.get_object(Bucket="curated-zone", Key=out_key)["Body"].read())
    masked = json.loads(s3.get_object(Bucket="masked-zone", Key=out_key)["Body"].read())
    assert curated["amount"] == 120.5 and "extra" not in curated and curated["customer_name"] == "Jane Doe"
    assert masked["customer_name"] is None
    assert masked["customer_email"] == hmac.new(b"k" * 64, b"jane@example.com", hashlib.sha256).hexdigest()
    assert masked["iban"] == "*" * 18 + "3000"
    assert masked["claim_id"] == "C-1" and masked["status"] == "settled"
    partitions = glue.get_partitions(DatabaseName="claims_history", TableName="masked_claims")["Partitions"]
    assert [p["Values"] for p in partitions] == [["2026-11-21"]]
    lineage = s3.get_object(Bucket="curated-zone", Key="_lineage/claims_history/jr_1.json")["Body"].read()
    assert b"jane@example.com" not in lineage and b"claims_history.raw_claims" in lineage


def join_with_placeholders(value) -> str:
    """A Fn::Join'd JSON string with each token replaced by a placeholder string."""
    if isinstance(value, str):
        return value
    return "".join(p if isinstance(p, str) else "TOKEN" for p in value["Fn::Join"][1])


def _list(value):
    return value if isinstance(value, list) else [value]
