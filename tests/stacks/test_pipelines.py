"""Delivery pipelines: stages, waves, approvals and gates, synthesized for the sample (cdk-nag on)."""

from __future__ import annotations

import json

import pytest

from agentzone.composition import Selection, SelectionError, compose, create_app
from agentzone.config import load_landing_zone

from ..conftest import SAMPLE_CONFIG

PIPELINE_ACCOUNT = "100000000031"  # the central (prod) shared-services account


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory) -> dict[str, dict]:
    outdir = tmp_path_factory.mktemp("pipelines")
    app = create_app(outdir=str(outdir))
    compose(app, load_landing_zone(SAMPLE_CONFIG), Selection(only="pipelines"))
    assembly = app.synth()  # raises if cdk-nag reports an unacknowledged error
    return {
        s.stack_name: {
            "template": s.template,
            "env": f"{s.environment.account}/{s.environment.region}",
            "file": outdir / s.template_file,
        }
        for s in assembly.stacks
    }


def pipeline(pipelines, name: str) -> dict:
    (p,) = [
        r["Properties"]
        for r in pipelines[name]["template"]["Resources"].values()
        if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    return p


def stage(pipelines, name: str, stage_name: str) -> list[dict]:
    return next(s["Actions"] for s in pipeline(pipelines, name)["Stages"] if s["Name"] == stage_name)


def run_orders(actions: list[dict]) -> dict[str, int]:
    return {a["Name"]: a["RunOrder"] for a in actions}


def buildspec(pipelines, name: str, logical_prefix: str) -> dict:
    (project,) = [
        r["Properties"]
        for k, r in pipelines[name]["template"]["Resources"].items()
        if r["Type"] == "AWS::CodeBuild::Project" and k.startswith(logical_prefix)
    ]
    return json.loads(project["Source"]["BuildSpec"])


def test_pipelines_live_in_the_delivery_account(pipelines):
    assert {n: p["env"] for n, p in pipelines.items() if "-support-" not in n} == {
        "AgentZone-Pipeline": f"{PIPELINE_ACCOUNT}/eu-west-1",
        "AgentZone-claims-pipeline": f"{PIPELINE_ACCOUNT}/eu-west-1",
        "AgentZone-fraud-pipeline": f"{PIPELINE_ACCOUNT}/eu-west-1",
    }
    # fraud's prod account is in eu-central-1: CodePipeline needs a replication bucket there.
    assert pipelines["AgentZone-fraud-pipeline-support-eu-central-1"]["env"] == f"{PIPELINE_ACCOUNT}/eu-central-1"


def test_pipeline_templates_are_cfn_lint_clean(pipelines):
    from agentzone.cfn_lint import run_cfn_lint

    lint = run_cfn_lint([p["file"] for p in pipelines.values()])
    assert lint.errors == [], lint.render()


def test_platform_pipeline_promotes_environments_in_order_with_accounts_in_parallel(pipelines):
    stages = [s["Name"] for s in pipeline(pipelines, "AgentZone-Pipeline")["Stages"]]
    assert stages == [
        "Source",
        "Build",
        "UpdatePipeline",
        "Assets",
        "Bootstrap",
        "prod-Logging",
        "Organization",
        "Platform-dev",
        "Platform-staging",
        "Platform-prod",
    ]
    platform = {
        "dev": (("11", "12", "13", "14"), ("SharedServices", "Logging", "Security", "DataLake")),
        # The central log archive deployed first, before the organization trail that writes to it.
        "prod": (("31", "33", "34"), ("SharedServices", "Security", "DataLake")),
    }
    for env, (account_ids, roles_deployed) in platform.items():
        actions = stage(pipelines, "AgentZone-Pipeline", f"Platform-{env}")
        deploys = [a for a in actions if a["Name"].endswith(".Deploy")]
        assert len(deploys) == len(account_ids) and len({a["RunOrder"] for a in deploys}) == 1  # accounts at once
        roles = json.dumps([a["Configuration"]["RoleArn"] for a in actions if a["Name"].endswith(".Prepare")])
        for suffix in account_ids:
            assert f"cdk-agentzone-cfn-exec-role-1000000000{suffix}-eu-west-1" in roles
        # The stacks keep the names `cdk deploy` gives them.
        assert sorted(a["Configuration"]["StackName"] for a in deploys) == sorted(
            f"AgentZone-{r}-{env}" for r in roles_deployed
        )
    (archive,) = [a for a in stage(pipelines, "AgentZone-Pipeline", "prod-Logging") if a["Name"] == "Deploy"]
    assert archive["Configuration"]["StackName"] == "AgentZone-Logging-prod"


def test_only_prod_waits_for_a_human(pipelines):
    for env in ("dev", "staging"):
        assert not any(
            a["ActionTypeId"]["Provider"] == "Manual" for a in stage(pipelines, "AgentZone-Pipeline", f"Platform-{env}")
        )
    orders = run_orders(stage(pipelines, "AgentZone-Pipeline", "Platform-prod"))
    assert orders["Approve-prod"] < min(o for n, o in orders.items() if n.endswith(".Prepare"))


def test_synth_step_runs_the_pull_request_checks_and_the_pipeline_mutates_itself(pipelines):
    commands = buildspec(pipelines, "AgentZone-Pipeline", "DeliveryPipelineBuildSynth")["phases"]["build"]["commands"]
    assert commands[:2] == ["make test", "make synth"]
    assert commands[-1] == 'make synth ARGS="--only pipelines --output pipeline.out"'  # through the same gate
    mutate = buildspec(pipelines, "AgentZone-Pipeline", "DeliveryPipelineUpdatePipelineSelfMutation")["phases"]
    assert mutate["install"]["commands"] == ["npm install -g aws-cdk@2.1148.1"]  # the pinned CLI
    assert mutate["build"]["commands"][0].startswith("cdk -a . deploy AgentZone-Pipeline ")


def test_artifacts_are_in_a_cmk_bucket(pipelines):
    template = pipelines["AgentZone-Pipeline"]["template"]
    location = pipeline(pipelines, "AgentZone-Pipeline")["ArtifactStore"]
    bucket = template["Resources"][location["Location"]["Ref"]]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert (
        bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
            "SSEAlgorithm"
        ]
        == "aws:kms"
    )
    assert location["EncryptionKey"]["Type"] == "KMS"


def test_tenant_pipeline_gates_prod_on_evaluation_then_hitl_then_approval(pipelines):
    stages = [s["Name"] for s in pipeline(pipelines, "AgentZone-claims-pipeline")["Stages"]]
    assert stages == ["Source", "Build", "UpdatePipeline", "Assets", "Governance", "dev", "staging", "prod"]
    orders = run_orders(stage(pipelines, "AgentZone-claims-pipeline", "prod"))
    first_deploy = min(o for n, o in orders.items() if n.endswith(".Prepare"))
    assert orders["EvaluationGate-prod"] < orders["HitlReview-prod"] < orders["Approve-prod"] < first_deploy
    # Services (image repositories) and data deploy before the account that pulls the images.
    assert orders["AgentZone-claims-prod-services.Deploy"] < orders["AgentZone-claims-prod.Prepare"]
    assert not any(
        a["ActionTypeId"]["Provider"] == "Manual" for a in stage(pipelines, "AgentZone-claims-pipeline", "staging")
    )


def test_evaluation_gate_checks_the_versions_bound_for_prod_in_staging(pipelines):
    spec = buildspec(pipelines, "AgentZone-claims-pipeline", "DeliveryPipelineprodEvaluationGateprod")
    commands = spec["phases"]["build"]["commands"]
    assert (
        commands[0]
        == "aws configure set profile.tenant.role_arn arn:aws:iam::222222222222:role/agentzone-delivery-claims"
    )
    assert (
        ".venv/bin/agentzone eval gate --tenant claims --environment staging --agent intake --version 7 --profile "
        "tenant --region eu-west-1" in commands
    )
    assert any("--agent settlement" in c for c in commands)
    policies = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in pipelines["AgentZone-claims-pipeline"]["template"]["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
    ]
    assumes = [
        s
        for statements in policies
        for s in statements
        if s["Action"] == "sts:AssumeRole" and "agentzone-delivery" in json.dumps(s)
    ]
    assert [s["Resource"] for s in assumes] == ["arn:aws:iam::222222222222:role/agentzone-delivery-claims"]


def test_canary_is_watched_after_the_prod_deploy_and_rolled_back_on_alarm(pipelines):
    orders = run_orders(stage(pipelines, "AgentZone-fraud-pipeline", "prod"))
    assert orders["CanaryWatch-prod"] > orders["AgentZone-fraud-prod.Deploy"]
    assert "HitlReview-prod" not in orders  # fraud has no hitl blueprint
    commands = buildspec(pipelines, "AgentZone-fraud-pipeline", "DeliveryPipelineprodCanaryWatchprod")["phases"][
        "build"
    ]["commands"]
    assert commands[-1] == (
        ".venv/bin/agentzone release watch --tenant fraud --environment prod --minutes 30 --profile tenant "
        "--region eu-central-1"
    )
    assert "CanaryWatch-prod" not in run_orders(
        stage(pipelines, "AgentZone-claims-pipeline", "prod")
    )  # no canary configured


def test_pipelines_selection_rules(config_copy):
    lz = load_landing_zone(SAMPLE_CONFIG)
    with pytest.raises(SelectionError, match="cannot be combined"):
        compose(create_app(), lz, Selection(only="pipelines", tenant="claims"))
    text = (config_copy / "organization.yaml").read_text()
    start = text.index("delivery:")
    end = text.index("# cdk-nag rule packs")
    (config_copy / "organization.yaml").write_text(text[:start] + text[end:])
    with pytest.raises(SelectionError, match="no delivery: section"):
        compose(create_app(), load_landing_zone(config_copy), Selection(only="pipelines"))


def test_delivery_role_in_tenant_accounts_is_only_for_the_tenants_pipeline(sample_assembly):
    resources = sample_assembly.template("AgentZone-claims-staging")["Resources"]
    (role_id, role) = next(
        (k, r["Properties"])
        for k, r in resources.items()
        if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == "agentzone-delivery-claims"
    )
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"]["AWS"] == f"arn:aws:iam::{PIPELINE_ACCOUNT}:root"
    assert trust["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/AgentZone-claims-pipeline-*"}
    }
    (policy,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"]["Roles"]
    ]
    actions = {s["Sid"]: s["Action"] for s in policy["PolicyDocument"]["Statement"]}
    assert actions == {
        "EvaluationGate": ["dynamodb:GetItem", "dynamodb:Query"],
        "EvaluationStoreKey": "kms:Decrypt",
        "CanaryWatch": ["bedrock-agentcore:ListAgentRuntimes", "cloudwatch:DescribeAlarms"],
        "CanaryRollback": ["bedrock-agentcore:GetAgentRuntimeEndpoint", "bedrock-agentcore:UpdateAgentRuntimeEndpoint"],
    }
    rollback = next(s for s in policy["PolicyDocument"]["Statement"] if s["Sid"] == "CanaryRollback")
    assert all("runtime/claims_*" in json.dumps(r) for r in rollback["Resource"])


def test_synth_step_keeps_the_unit_cache_in_the_artifact_bucket(pipelines):
    from agentzone.stacks.pipelines import SYNTH_CACHE_PREFIX

    template = pipelines["AgentZone-Pipeline"]["template"]["Resources"]
    synth = [
        r["Properties"]
        for r in template.values()
        if r["Type"] == "AWS::CodeBuild::Project" and ".agentzone-cache/**/*" in json.dumps(r["Properties"])
    ]
    assert len(synth) == 1
    cache = synth[0]["Cache"]
    assert cache["Type"] == "S3"
    assert SYNTH_CACHE_PREFIX in json.dumps(cache["Location"])
    spec = json.loads(synth[0]["Source"]["BuildSpec"])
    assert spec["cache"] == {"paths": [".agentzone-cache/**/*"]}
    assert "make synth" in spec["phases"]["build"]["commands"]


def test_deploy_plan_reads_the_platform_pipelines_run_in_order(pipelines):
    """`agentzone deploy-plan` over the pipelines' assembly: stages in order, each deploy with its account."""
    from agentzone.delivery.plan import pipeline_runs

    outdir = pipelines["AgentZone-Pipeline"]["file"].parent
    runs = pipeline_runs(outdir)
    stages = dict(runs["agentzone-platform"])
    assert list(stages)[4:7] == ["Bootstrap", "prod-Logging", "Organization"]
    (archive,) = stages["prod-Logging"]
    assert (archive.kind, archive.account, archive.region, archive.stack) == (
        "deploy",
        "100000000032",
        "eu-west-1",
        "AgentZone-Logging-prod",
    )
    prod = stages["Platform-prod"]
    assert prod[0].kind == "approval" and {a.stack for a in prod if a.kind == "deploy"} == {
        "AgentZone-SharedServices-prod",
        "AgentZone-Security-prod",
        "AgentZone-DataLake-prod",
    }


def test_cross_region_replication_bucket_is_versioned_and_logged_and_no_generated_grant_is_on_star(pipelines):
    """What checkov flagged in the L3's output (CKV_AWS_18, 21, 111), fixed rather than accepted."""
    (support,) = [p for n, p in pipelines.items() if "-support-" in n]  # CDK names it <pipeline>-support-<region>
    buckets = {
        k: r["Properties"] for k, r in support["template"]["Resources"].items() if r["Type"] == "AWS::S3::Bucket"
    }
    replication = next(v for k, v in buckets.items() if k.startswith("CrossRegionCodePipelineReplicationBucket"))
    logs = next(k for k in buckets if k.startswith("AccessLogs"))
    assert replication["VersioningConfiguration"] == {"Status": "Enabled"}
    assert replication["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": logs},
        "LogFilePrefix": "replication/",
    }
    for name, p in pipelines.items():
        for resource in p["template"]["Resources"].values():
            if resource["Type"] != "AWS::IAM::Policy":
                continue
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if {"codebuild:StartBuild", "kms:GenerateDataKey*"} & set(actions):
                    assert "*" not in json.dumps(statement["Resource"]).replace("/*", ""), (name, statement)
    fraud = json.dumps(pipelines["AgentZone-fraud-pipeline"]["template"])
    assert "arn:aws:kms:eu-central-1:100000000031:key/*" in fraud  # the replication region's keys, by pattern


def test_the_bootstrap_execution_policy_covers_the_pipelines_stacks(pipelines):
    """The delivery account is bootstrapped by the Bootstrap stack's StackSet too: its policy must let CloudFormation
    deploy the pipelines (and their cross-region support stacks)."""
    from agentzone.delivery.execution_policy import ORGANIZATION_SERVICES, execution_policy

    types = sorted({r["Type"] for p in pipelines.values() for r in p["template"]["Resources"].values()})
    assert "AWS::CodePipeline::Pipeline" in types
    needed = set(execution_policy(types)["Statement"][0]["Action"])
    assert needed <= {f"{s}:*" for s in ORGANIZATION_SERVICES}, sorted(needed)
