"""Evaluation pipeline: gate module, gate Lambda, store and `agentzone eval`, the blueprint under nag and cfn-lint,
and the state machine definitions executed in moto (Step Functions ASL really runs there)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aws_cdk as cdk
import boto3
import pytest
from moto import mock_aws

from agentzone import naming
from agentzone.blueprints.context import BlueprintContext
from agentzone.blueprints.eval_pipeline import (
    EVENT_SOURCE,
    FAILED_DETAIL_TYPE,
    GATE_FILES,
    PASSED_DETAIL_TYPE,
    EvaluationPipeline,
    EvaluationPipelineProps,
)
from agentzone.blueprints.runtime import AgentRuntime, AgentRuntimeProps, RuntimeImage
from agentzone.cfn_lint import run_cfn_lint
from agentzone.config.model import EvalPipelineBlueprint
from agentzone.constructs import BaselineKey
from agentzone.constructs.alarm_topic import encrypted_alarm_topic
from agentzone.evaluation import cli, gate, record
from agentzone.evaluation.store import EvaluationError, EvaluationStore
from agentzone.handlers import eval_gate

from ..support import Synth, new_app, synthesize

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
REGION = "eu-west-1"
MOTO_ACCOUNT = "123456789012"
JUDGE = "anthropic.claude-sonnet-4-5-v1:0"
THRESHOLDS = {"correctness": 0.9, "helpfulness": 0.8}
NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


# ============================================================================ gate (pure)


def test_gate_passes_at_threshold_and_within_allowed_drop():
    result = gate.evaluate(
        {"correctness": 0.9, "helpfulness": 0.85, "latency_score": 0.5},
        THRESHOLDS,
        max_regression=0.02,
        baseline={"correctness": 0.92, "helpfulness": 0.85},
        baseline_version="6",
        agent="triage",
        version="7",
    )
    assert result.passed and result.baseline_version == "6"
    assert result.worst_drop == pytest.approx(0.02)
    assert result.extra_metrics == {"latency_score": 0.5}
    assert "triage version 7: PASSED (baseline 6" in result.report()
    assert "info latency_score" in result.report()


def test_gate_float_rounding_does_not_fail_an_exact_threshold():
    assert gate.evaluate({"correctness": 0.1 + 0.2}, {"correctness": 0.3}, max_regression=0).passed


def test_gate_reports_threshold_misses_regressions_and_missing_metrics():
    result = gate.evaluate(
        {"correctness": 0.95, "helpfulness": 0.7},
        {**THRESHOLDS, "faithfulness": 0.5},
        max_regression=0.02,
        baseline={"correctness": 0.99},
        baseline_version="6",
        agent="triage",
        version="7",
    )
    assert not result.passed
    statuses = {c.metric: c.status for c in result.checks}
    assert statuses == {
        "correctness": gate.REGRESSED,
        "helpfulness": gate.BELOW_THRESHOLD,
        "faithfulness": gate.MISSING,
    }
    report = result.report()
    assert (
        "FAIL correctness: 0.950 (threshold 0.900, baseline 0.990) dropped 0.040 against the baseline, "
        "more than the allowed 0.020" in report
    )
    assert "FAIL helpfulness: 0.700 (threshold 0.800) below the threshold 0.800 by 0.100" in report
    assert "FAIL faithfulness: missing" in report


def test_gate_without_baseline_checks_thresholds_only():
    result = gate.evaluate({"correctness": 0.91, "helpfulness": 0.81}, THRESHOLDS, max_regression=0.0)
    assert result.passed and result.baseline_version is None and "no approved baseline yet" in result.report()


@pytest.mark.parametrize(
    "metrics, message",
    [
        ({"correctness": 1.5}, "from 0 to 1"),
        ({"correctness": "high"}, "numbers from 0 to 1"),
        ({"Correctness": 0.5}, "must match"),
        ({"correctness": float("nan")}, "numbers"),
    ],
)
def test_gate_refuses_bad_metrics(metrics, message):
    with pytest.raises(gate.InvalidMetrics, match=message):
        gate.evaluate(metrics, THRESHOLDS, max_regression=0.02)


def test_metrics_documents_and_bedrock_output_parse():
    assert gate.parse_metrics('{"metrics": {"correctness": 0.9}}') == {"correctness": 0.9}
    assert gate.parse_metrics(b'{"correctness": 1}') == {"correctness": 1.0}
    with pytest.raises(gate.InvalidMetrics, match="not JSON"):
        gate.parse_metrics("nope")
    lines = [
        json.dumps(
            {
                "automatedEvaluationResult": {
                    "scores": [
                        {"metricName": "Builtin.Correctness", "result": 1.0},
                        {"metricName": "Builtin.Helpfulness", "result": 0.5},
                    ]
                }
            }
        ),
        json.dumps(
            {
                "automatedEvaluationResult": {
                    "scores": [
                        {"metricName": "Builtin.Correctness", "result": 0.5},
                        {"metricName": "Builtin.Helpfulness", "result": None},
                    ]
                }
            }
        ),
        "",
    ]
    assert gate.parse_bedrock_output(lines) == {"correctness": 0.75, "helpfulness": 0.5}


# ============================================================================ moto fixtures


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


def _table_from_template(template: dict) -> dict:
    """The store table as the blueprint declares it (keys, attributes, sparse baseline index)."""
    (table,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::GlobalTable"]
    return table


def create_store(table: dict) -> EvaluationStore:
    boto3.client("dynamodb").create_table(
        TableName=table["TableName"],
        KeySchema=table["KeySchema"],
        AttributeDefinitions=table["AttributeDefinitions"],
        GlobalSecondaryIndexes=[
            {k: v for k, v in gsi.items() if k in ("IndexName", "KeySchema", "Projection")}
            for gsi in table["GlobalSecondaryIndexes"]
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return EvaluationStore(table["TableName"], region=REGION)


def put_result(
    store: EvaluationStore, version: str, metrics: dict, *, approve_at: str | None = None, thresholds=THRESHOLDS
) -> None:
    decision = gate.evaluate(metrics, thresholds, max_regression=0.02)
    store.put(
        record.to_item(
            agent="triage",
            version=version,
            passed=decision.passed,
            metrics=metrics,
            thresholds=thresholds,
            max_regression=0.02,
            report=decision.report(),
            evaluated_at="2026-11-01T00:00:00Z",
            run="test",
        )
    )
    if approve_at:
        store.approve("triage", version, by="release-manager", now=datetime.fromisoformat(approve_at))


# ============================================================================ blueprint synth


def _synth(outdir: Path, stack_name: str, environment: str, config: EvalPipelineBlueprint, *, agent: bool) -> Synth:
    app = new_app(outdir)
    stack = cdk.Stack(app, stack_name, env=ENV)
    key = BaselineKey(stack, "BaselineKey", alias="alias/agentzone/usecase", description="tenant key").key
    topic = encrypted_alarm_topic(stack, "Alarms", encryption_key=key, display_name="claims alarms")
    context = BlueprintContext(
        tenant="claims",
        environment=environment,
        encryption_key=key,
        models=(JUDGE,),
        alarm_topic=topic,
        tags={"owner": "claims-ai@example.com", "use-case-id": "UC-0001"},
    )
    pipeline = EvaluationPipeline.from_config(stack, "EvalPipeline", context=context, config=config)
    if agent:
        runtime = AgentRuntime(
            stack,
            "Agent",
            props=AgentRuntimeProps(
                runtime_name=f"claims_triage_{environment}",
                endpoints={"PROD": 7},
                alarm_topic=topic,
                image=RuntimeImage.from_uri("111111111111.dkr.ecr.eu-west-1.amazonaws.com/claims/triage:1.0.0"),
            ),
        )
        pipeline.monitor_agent(runtime, name="triage", endpoint="PROD", version=7)
    return synthesize(app, stack_name)  # raises on any unacknowledged nag error


@pytest.fixture(scope="module")
def prod(tmp_path_factory) -> Synth:
    """Team command, prod: pipeline, canary (prod is a canary environment), schedule, drift alarm, online evaluation."""
    config = EvalPipelineBlueprint(
        thresholds=THRESHOLDS, command="python run_eval.py --out $AGENTZONE_METRICS_FILE", online_sampling_percent=5
    )
    return _synth(tmp_path_factory.mktemp("eval-prod") / "cdk.out", "EvalProd", "prod", config, agent=True)


@pytest.fixture(scope="module")
def bedrock(tmp_path_factory) -> Synth:
    """No command, dev: a Bedrock evaluation job, no canary, no online evaluation."""
    config = EvalPipelineBlueprint(thresholds=THRESHOLDS, evaluator_model=JUDGE)
    return _synth(tmp_path_factory.mktemp("eval-dev") / "cdk.out", "EvalDev", "dev", config, agent=True)


def definition(synth: Synth, prefix: str) -> tuple[str, dict, list]:
    logical_id, machine = synth.one("AWS::StepFunctions::StateMachine", prefix)
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return logical_id, machine, parts


def render(parts: list, refs: dict) -> dict:
    """Resolve the DefinitionString's Fn::Join against real (moto) names and ARNs."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif "Ref" in part:
            out.append(refs[part["Ref"]])
        else:
            out.append(refs[tuple(part["Fn::GetAtt"])])
    return json.loads("".join(out))


def states(synth: Synth, prefix: str) -> dict:
    _, _, parts = definition(synth, prefix)
    return render(parts, _Placeholders())["States"]


class _Placeholders(dict):
    def __missing__(self, key):
        return f"<{key}>"


def test_store_table_is_cmk_encrypted_pitr_retained_with_the_baseline_index(prod):
    key_id, _ = prod.one("AWS::KMS::Key")
    table_id, table = prod.one("AWS::DynamoDB::GlobalTable")
    props = table["Properties"]
    assert (
        table_id.startswith("EvalPipelineStore")
        and table["DeletionPolicy"] == "Retain"
        and table["UpdateReplacePolicy"] == "Retain"
    )
    assert props["TableName"] == "agentzone-claims-evaluations-prod" == record.table_name("claims", "prod")
    assert props["KeySchema"] == [
        {"AttributeName": "agent", "KeyType": "HASH"},
        {"AttributeName": "version", "KeyType": "RANGE"},
    ]
    (gsi,) = props["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "approved" and gsi["KeySchema"] == [
        {"AttributeName": "approved_agent", "KeyType": "HASH"},
        {"AttributeName": "approved_at", "KeyType": "RANGE"},
    ]
    assert props["SSESpecification"]["SSEType"] == "KMS"
    (replica,) = props["Replicas"]
    assert replica["SSESpecification"]["KMSMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert replica["DeletionProtectionEnabled"] is True


def test_dataset_and_results_buckets_are_cmk_versioned_and_retained(prod):
    key_id, _ = prod.one("AWS::KMS::Key")
    for prefix in ("EvalPipelineDatasets", "EvalPipelineResults"):
        _, bucket = prod.one("AWS::S3::Bucket", prefix)
        assert bucket["DeletionPolicy"] == "Retain"
        assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
        (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
        }


def test_codebuild_runs_the_command_unprivileged_with_cmk_and_cmk_logs(prod):
    key_id, _ = prod.one("AWS::KMS::Key")
    _, project = prod.one("AWS::CodeBuild::Project")
    props = project["Properties"]
    assert props["Environment"]["PrivilegedMode"] is False
    assert props["EncryptionKey"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert props["Source"]["Type"] == "NO_SOURCE"
    assert "cd harness && python run_eval.py --out $AGENTZONE_METRICS_FILE" in props["Source"]["BuildSpec"]
    log_id = props["LogsConfig"]["CloudWatchLogs"]["GroupName"]["Ref"]
    log_group = prod.raw["Resources"][log_id]
    assert (
        log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        and log_group["DeletionPolicy"] == "Retain"
    )


def test_build_policy_reads_harness_and_datasets_and_writes_run_prefixes_only(prod):
    _, policy = prod.one("AWS::IAM::ManagedPolicy", "EvalPipelineBuildPolicy")
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    datasets, _ = prod.one("AWS::S3::Bucket", "EvalPipelineDatasets")
    results, _ = prod.one("AWS::S3::Bucket", "EvalPipelineResults")
    assert statements["ReadHarnessAndDatasets"]["Resource"] == [
        {"Fn::Join": ["", [{"Fn::GetAtt": [datasets, "Arn"]}, f"/{p}*"]]} for p in ("datasets/", "harness/")
    ]
    assert statements["WriteRunMetrics"] == {
        "Sid": "WriteRunMetrics",
        "Effect": "Allow",
        "Action": "s3:PutObject",
        "Resource": [{"Fn::Join": ["", [{"Fn::GetAtt": [results, "Arn"]}, f"/{p}/*"]]} for p in ("canary", "runs")],
    }
    assert statements["UseTheTenantKeyThroughS3"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    }


def test_gate_lambda_ships_only_the_gate_modules(prod):
    _, function = prod.one("AWS::Lambda::Function", "EvalPipelineGateFunction")
    assert function["Properties"]["Handler"] == "agentzone.handlers.eval_gate.handler"
    asset = prod.outdir / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    assert asset.is_dir()
    shipped = sorted(str(p.relative_to(asset)) for p in asset.rglob("*.py"))
    assert shipped == sorted(GATE_FILES)


def test_pipeline_runs_build_then_baseline_gate_record_and_event(prod):
    s = states(prod, "EvalPipelineEvaluation")
    assert s["RunEvaluation"]["Resource"].endswith(":states:::codebuild:startBuild.sync")
    assert s["RunEvaluation"]["Next"] == "FindBaseline"
    assert s["FindBaseline"]["Resource"].endswith(":states:::aws-sdk:dynamodb:query")
    assert s["FindBaseline"]["Next"] == "Gate" and s["Gate"]["Next"] == "RecordResult"
    assert s["Gate"]["Parameters"]["thresholds"] == THRESHOLDS and s["Gate"]["Parameters"]["maxRegression"] == 0.02
    assert s["RecordResult"]["Resource"].endswith(":states:::aws-sdk:dynamodb:putItem")
    assert s["EmitPassed"]["Resource"].endswith(":states:::events:putEvents")
    assert s["EmitPassed"]["Parameters"]["Entries"][0]["DetailType"] == PASSED_DETAIL_TYPE
    assert s["EmitFailed"]["Parameters"]["Entries"][0]["DetailType"] == FAILED_DETAIL_TYPE
    assert s["GateFailed"]["Type"] == "Fail"


def test_pipeline_machine_is_encrypted_logged_and_traced(prod):
    key_id, _ = prod.one("AWS::KMS::Key")
    _, machine, _ = definition(prod, "EvalPipelineEvaluation")
    props = machine["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["EncryptionConfiguration"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_machines_are_named_so_their_key_grant_matches(prod):
    """CDK conditions a CMK-encrypted state machine's key grant on its ARN; an unnamed machine's ARN ends in
    "stateMachine:" at synth, so the grant never matched and the machine could not use its key."""
    names = {}
    for prefix, purpose in (("EvalPipelineEvaluation", "evaluation"), ("EvalPipelineCanary", "canary")):
        _, machine, _ = definition(prod, prefix)
        names[purpose] = machine["Properties"]["StateMachineName"]
        assert names[purpose] == naming.tenant_state_machine("claims", "prod", purpose)
    conditions = [
        s["Condition"]["StringEquals"]["kms:EncryptionContext:aws:states:stateMachineArn"]
        for policy in prod.resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "kms:EncryptionContext:aws:states:stateMachineArn" in json.dumps(s.get("Condition", {}))
    ]
    assert sorted(conditions) == sorted(
        f"arn:aws:states:eu-west-1:111111111111:stateMachine:{n}" for n in names.values()
    )


def test_evaluation_job_is_created_against_the_judge_model(bedrock):
    """CreateEvaluationJob authorizes against the models the job uses, not an evaluation-job ARN."""
    statements = [
        s
        for policy in bedrock.resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "bedrock:createEvaluationJob" in s["Action"]
    ]
    assert [s["Resource"] for s in statements] == [f"arn:aws:bedrock:eu-west-1::foundation-model/{JUDGE}"]


def test_bedrock_variant_starts_and_polls_an_evaluation_job(bedrock):
    s = states(bedrock, "EvalPipelineEvaluation")
    start = s["StartEvaluationJob"]
    assert start["Resource"].endswith(":states:::aws-sdk:bedrock:createEvaluationJob")
    automated = start["Parameters"]["EvaluationConfig"]["Automated"]
    assert automated["DatasetMetricConfigs"][0]["MetricNames"] == ["Builtin.Correctness", "Builtin.Helpfulness"]
    assert automated["EvaluatorModelConfig"] == {"BedrockEvaluatorModels": [{"ModelIdentifier": JUDGE}]}
    assert s["GetEvaluationJob"]["Resource"].endswith(":states:::aws-sdk:bedrock:getEvaluationJob")
    assert s["EvaluationJobDone"]["Default"] == "EvaluationFailed"
    assert not bedrock.resources("AWS::CodeBuild::Project")
    assert not bedrock.resources("AWS::Scheduler::Schedule")  # dev is not a canary environment
    assert not bedrock.resources("AWS::BedrockAgentCore::OnlineEvaluationConfig")
    (role,) = [
        r for k, r in bedrock.resources("AWS::IAM::Role").items() if k.startswith("EvalPipelineEvaluationJobRole")
    ]
    assert role["Properties"]["RoleName"] == "agentzone-eval-claims-dev"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert trust["Condition"]["ArnLike"] == {"aws:SourceArn": "arn:aws:bedrock:eu-west-1:111111111111:evaluation-job/*"}


def test_canary_schedule_replays_against_the_live_endpoint(prod):
    canary_id, _, _ = definition(prod, "EvalPipelineCanary")
    _, schedule = prod.one("AWS::Scheduler::Schedule")
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(1 hour)"
    assert props["Target"]["Arn"] == {"Ref": canary_id}
    target_input = props["Target"]["Input"]["Fn::Join"][1]
    assert '{"agent":"triage","version":"7","endpoint":"' in target_input[0]
    s = states(prod, "EvalPipelineCanary")
    assert s["RunCanary"]["Parameters"]["EnvironmentVariablesOverride"][3] == {
        "Name": "AGENTZONE_MODE",
        "Type": "PLAINTEXT",
        "Value": "canary",
    }
    assert s["RecordSignal"]["Resource"].endswith(":states:::aws-sdk:s3:putObject")
    assert s["PublishMetrics"]["Parameters"]["Namespace"] == eval_gate.NAMESPACE


def test_drift_alarm_watches_the_canary_metric_and_notifies(prod):
    _, alarm = prod.one("AWS::CloudWatch::Alarm", "EvalPipelineDriftTriage")
    props = alarm["Properties"]
    assert (props["Namespace"], props["MetricName"]) == ("AgentZone/Evaluation", "GateFailed")
    assert props["Dimensions"] == [{"Name": "Agent", "Value": "triage"}, {"Name": "Mode", "Value": "canary"}]
    assert props["Threshold"] == 1 and props["AlarmActions"]


def test_online_evaluation_samples_prod_with_the_configured_percent(prod):
    _, config = prod.one("AWS::BedrockAgentCore::OnlineEvaluationConfig")
    props = config["Properties"]
    assert props["OnlineEvaluationConfigName"] == "claims_triage_prod"
    assert props["Evaluators"] == [{"EvaluatorId": "Builtin.Correctness"}, {"EvaluatorId": "Builtin.Helpfulness"}]
    assert props["DataSourceConfig"]["CloudWatchLogs"]["ServiceNames"] == ["claims_triage_prod.PROD"]
    assert props["Rule"]["SamplingConfig"]["SamplingPercentage"] == 5


def test_online_evaluation_runs_as_a_fixed_name_role_without_model_access(prod):
    """Built-in evaluators judge with service-side models: the role calls none. The L2's default role instead
    granted InvokeModel on foundation-model/* and every inference profile, unguarded, which the tenant SCP denies."""
    _, config = prod.one("AWS::BedrockAgentCore::OnlineEvaluationConfig")
    role_id = config["Properties"]["EvaluationExecutionRoleArn"]["Fn::GetAtt"][0]
    role = prod.raw["Resources"][role_id]["Properties"]
    assert role["RoleName"] == naming.online_evaluation_role("triage")
    assert role["RoleName"].startswith(f"{naming.EVALUATION_ROLE_PREFIX}-")  # the SCP's judge rule covers it
    principal = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert principal["Principal"] == {"Service": "bedrock-agentcore.amazonaws.com"}
    assert principal["Condition"]["StringEquals"] == {
        "aws:SourceAccount": "111111111111",
        "aws:ResourceAccount": "111111111111",
    }
    attached = {
        k: v
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for k, v in prod.resources(kind).items()
        if {"Ref": role_id} in v["Properties"].get("Roles", [])
    }
    statements = [s for policy in attached.values() for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"logs:StartQuery", "logs:GetQueryResults", "logs:PutLogEvents", "logs:PutIndexPolicy"} <= actions
    assert not [a for a in actions if a.startswith("bedrock")]
    assert "foundation-model" not in json.dumps(statements) and "inference-profile" not in json.dumps(statements)
    # The configuration is created only once its role can read the spans.
    assert set(attached) | {role_id} <= set(config["DependsOn"])
    # Only the online evaluation gets a fixed name under the evaluation prefix (no job role without a Bedrock job).
    named = [r["Properties"].get("RoleName", "") for r in prod.resources("AWS::IAM::Role").values()]
    assert [n for n in named if n.startswith(naming.EVALUATION_ROLE_PREFIX)] == [
        naming.online_evaluation_role("triage")
    ]


@pytest.mark.parametrize(
    "tenant, agent, message",
    [
        ("online", "prod", "is the evaluation job role's"),  # agentzone-eval-online-prod twice in the prod account
        ("claims", "a" + "b" * 42, "longer than 64 characters"),
    ],
)
def test_online_evaluation_role_name_must_be_unique_and_fit(tenant, agent, message):
    stack = cdk.Stack(new_app(), "Online", env=ENV)
    key = cdk.aws_kms.Key(stack, "Key")
    pipeline = EvaluationPipeline(
        stack,
        "EvalPipeline",
        props=EvaluationPipelineProps(
            tenant=tenant,
            environment="prod",
            encryption_key=key,
            thresholds=THRESHOLDS,
            evaluator_model=JUDGE,
            online_evaluation=True,
        ),
    )
    runtime = AgentRuntime(
        stack,
        "Agent",
        props=AgentRuntimeProps(
            runtime_name=f"{tenant}_agent_prod",
            endpoints={"PROD": 1},
            image=RuntimeImage.from_uri("111111111111.dkr.ecr.eu-west-1.amazonaws.com/claims/triage:1.0.0"),
        ),
    )
    with pytest.raises(ValueError, match=message):
        pipeline.monitor_agent(runtime, name=agent, endpoint="PROD", version=1)


def test_grants_are_the_stores_and_the_pipelines():
    app = new_app()
    stack = cdk.Stack(app, "Grants", env=ENV)
    key = BaselineKey(stack, "BaselineKey", alias="alias/agentzone/usecase", description="k").key
    pipeline = EvaluationPipeline(
        stack,
        "EvalPipeline",
        props=EvaluationPipelineProps(
            tenant="claims", environment="dev", encryption_key=key, thresholds=THRESHOLDS, command="make eval"
        ),
    )
    ci = cdk.aws_iam.Role(stack, "Ci", assumed_by=cdk.aws_iam.AccountRootPrincipal())
    pipeline.grant_start_evaluation(ci)
    pipeline.grant_approve(ci)
    text = json.dumps(cdk.assertions.Template.from_stack(stack).to_json())
    for action in ("states:StartExecution", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:GetItem"):
        assert action in text
    assert pipeline.canary_state_machine is None and pipeline.project is not None
    metric = pipeline.metric_gate_failed("triage")
    assert (metric.namespace, metric.metric_name) == ("AgentZone/Evaluation", "GateFailed")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"thresholds": {}}, "at least one threshold"),
        ({"thresholds": {"correctness": 2}}, "from 0 to 1"),
        ({"command": None}, "set evaluator_model"),
        (
            {"command": None, "evaluator_model": JUDGE, "thresholds": {"tool_accuracy": 0.5}},
            "no built-in metric tool_accuracy",
        ),
        ({"command": None, "evaluator_model": JUDGE, "canary": True}, "canary replays"),
        ({"canary_schedule": "every hour"}, "rate"),
    ],
)
def test_bad_props_are_refused(overrides, message):
    stack = cdk.Stack(new_app(), "Bad", env=ENV)
    key = cdk.aws_kms.Key(stack, "Key")
    props = {
        "tenant": "claims",
        "environment": "dev",
        "encryption_key": key,
        "thresholds": THRESHOLDS,
        "command": "make eval",
        **overrides,
    }
    with pytest.raises(ValueError, match=message):
        EvaluationPipeline(stack, "EvalPipeline", props=EvaluationPipelineProps(**props))


def test_evaluator_model_must_be_a_tenant_model():
    stack = cdk.Stack(new_app(), "Judge", env=ENV)
    context = BlueprintContext(
        tenant="claims",
        environment="dev",
        encryption_key=cdk.aws_kms.Key(stack, "Key"),
        models=("amazon.nova-lite-v1:0",),
    )
    with pytest.raises(ValueError, match="not in the tenant's models"):
        EvaluationPipeline.from_config(
            stack,
            "EvalPipeline",
            context=context,
            config=EvalPipelineBlueprint(thresholds=THRESHOLDS, evaluator_model=JUDGE),
        )


def test_nag_passes_with_narrow_reasoned_acknowledgements(prod, bedrock):
    for synth in (prod, bedrock):
        acks = [a for a in synth.acknowledgements() if "/EvalPipeline/" in a.path]
        assert acks
        for ack in acks:
            assert len(ack.reason) >= 30
            assert not ack.path.endswith(f"/{synth.stack}")  # never on the stack


def test_cfn_lint_has_no_errors(prod, bedrock):
    for synth in (prod, bedrock):
        result = run_cfn_lint([synth.path])
        assert result.errors == [], result.render()
        assert {w["Rule"]["Id"] for w in result.warnings} <= {"W3005"}, result.render()


# ============================================================================ gate Lambda (in-process, moto S3)


def test_gate_lambda_reads_build_metrics_and_returns_what_the_pipeline_writes(aws):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="results", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(
        Bucket="results",
        Key="runs/triage/7/run-1/metrics.json",
        Body=json.dumps({"metrics": {"correctness": 0.95, "helpfulness": 0.7}}),
    )
    baseline = record.to_item(
        agent="triage",
        version="6",
        passed=True,
        metrics={"correctness": 0.96, "helpfulness": 0.9},
        thresholds=THRESHOLDS,
        max_regression=0.02,
        report="",
        evaluated_at="x",
        run="y",
    )
    out = eval_gate.decide(
        {
            "agent": "triage",
            "version": "7",
            "mode": "canary",
            "run": "arn:run-1",
            "thresholds": THRESHOLDS,
            "maxRegression": 0.02,
            "metrics": {"bucket": "results", "key": "runs/triage/7/run-1/metrics.json"},
            "baseline": {"Items": [baseline]},
        },
        now=NOW,
    )
    assert out["passed"] is False
    assert out["item"]["baseline_version"] == {"S": "6"} and out["item"]["passed"] == {"BOOL": False}
    assert out["detail"]["checks"][1]["status"] == gate.BELOW_THRESHOLD
    assert out["signalKey"] == "feedback/agent=triage/date=2026-11-05/2026-11-05T120000Z-7.json"
    assert {m["MetricName"] for m in out["metricData"]} == {"GateFailed", "WorstDrop", "Score"}
    assert json.loads(json.dumps(out)) == out  # all of it is JSON for Step Functions


def test_gate_lambda_averages_bedrock_job_output(aws):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="results", CreateBucketConfiguration={"LocationConstraint": REGION})
    line = {
        "automatedEvaluationResult": {
            "scores": [
                {"metricName": "Builtin.Correctness", "result": 0.92},
                {"metricName": "Builtin.Helpfulness", "result": 0.85},
            ]
        }
    }
    s3.put_object(
        Bucket="results",
        Key="bedrock/triage/7/x/az-1/id/models/m/taskTypes/General/datasets/golden/abc_output.jsonl",
        Body=json.dumps(line) + "\n",
    )
    out = eval_gate.decide(
        {
            "agent": "triage",
            "version": "7",
            "thresholds": THRESHOLDS,
            "maxRegression": 0.02,
            "metrics": {"bucket": "results", "prefix": "bedrock/triage/7/x/"},
            "baseline": {"Items": []},
        },
        now=NOW,
    )
    assert out["passed"] is True and out["detail"]["baseline_version"] is None


# ============================================================================ store and CLI (moto DynamoDB)


def gate_cli(capsys, *extra: str) -> tuple[int, str, str]:
    code = cli.run(["gate", "--tenant", "claims", "--environment", "prod", "--agent", "triage", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_gate_passes_fails_and_regresses(aws, prod, capsys):
    store = create_store(_table_from_template(prod.raw))
    put_result(store, "6", {"correctness": 0.95, "helpfulness": 0.9}, approve_at="2026-11-01T10:00:00+00:00")
    put_result(store, "7", {"correctness": 0.94, "helpfulness": 0.89})  # within 0.02 of the baseline
    put_result(store, "8", {"correctness": 0.85, "helpfulness": 0.9})  # below the correctness threshold
    put_result(store, "9", {"correctness": 0.91, "helpfulness": 0.9})  # 0.04 below the baseline

    code, out, _ = gate_cli(capsys, "--version", "7")
    assert code == 0 and "triage version 7: PASSED (baseline 6" in out

    code, out, _ = gate_cli(capsys, "--version", "8")
    assert code == 1 and "FAIL correctness: 0.850 (threshold 0.900, baseline 0.950) below the threshold" in out

    code, out, _ = gate_cli(capsys, "--version", "9", "--json")
    assert code == 1
    payload = json.loads(out)
    assert payload["passed"] is False and payload["baseline_version"] == "6"
    assert [c["status"] for c in payload["checks"]] == [gate.REGRESSED, gate.PASS]


def test_cli_gate_uses_the_latest_approved_baseline_other_than_itself(aws, prod, capsys):
    store = create_store(_table_from_template(prod.raw))
    put_result(store, "5", {"correctness": 0.91, "helpfulness": 0.81}, approve_at="2026-10-01T00:00:00+00:00")
    put_result(store, "6", {"correctness": 0.99, "helpfulness": 0.99}, approve_at="2026-11-01T00:00:00+00:00")
    assert store.baseline("triage")["version"] == "6"
    assert store.baseline("triage", exclude_version="6")["version"] == "5"
    code, out, _ = gate_cli(capsys, "--version", "6")  # an approved version gates against the one before it
    assert code == 0 and "baseline 5" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--version", "404"], "no evaluation result for triage version 404"),
        (["--version", "bad version!"], "version 'bad version!' must match"),
    ],
)
def test_cli_gate_exits_2_on_bad_input_or_missing_result(aws, prod, capsys, argv, message):
    create_store(_table_from_template(prod.raw))
    code, _, err = gate_cli(capsys, *argv)
    assert code == 2 and message in err


def test_cli_gate_exits_2_when_the_table_does_not_exist(aws, capsys):
    code, _, err = gate_cli(capsys, "--version", "7", "--table", "missing-table")
    assert code == 2 and "evaluation table not found" in err


def test_cli_usage_errors_exit_2(capsys):
    assert cli.run(["gate", "--tenant", "claims"]) == 2


def test_approve_only_passing_versions_and_results_of_approved_versions_are_final(aws, prod, capsys):
    store = create_store(_table_from_template(prod.raw))
    put_result(store, "7", {"correctness": 0.5, "helpfulness": 0.5})
    assert (
        cli.run(
            [
                "approve",
                "--tenant",
                "claims",
                "--environment",
                "prod",
                "--agent",
                "triage",
                "--version",
                "7",
                "--by",
                "me",
            ]
        )
        == 1
    )
    assert "failed its evaluation" in capsys.readouterr().err
    put_result(store, "8", {"correctness": 0.95, "helpfulness": 0.9})
    assert (
        cli.run(
            [
                "approve",
                "--tenant",
                "claims",
                "--environment",
                "prod",
                "--agent",
                "triage",
                "--version",
                "8",
                "--by",
                "me",
            ]
        )
        == 0
    )
    with pytest.raises(EvaluationError, match="approved; its result is final"):
        put_result(store, "8", {"correctness": 0.1, "helpfulness": 0.1})


# ============================================================================ the definitions, executed in moto


@dataclass
class MotoAccount:
    store: EvaluationStore
    table_arn: str
    refs: dict
    queue_url: str


@pytest.fixture
def moto_account(aws, prod) -> MotoAccount:
    """The template's store table, both buckets and an EventBridge rule capturing the pipeline's events in SQS."""
    table = _table_from_template(prod.raw)
    store = create_store(table)
    table_arn = boto3.client("dynamodb").describe_table(TableName=table["TableName"])["Table"]["TableArn"]
    s3 = boto3.client("s3")
    for name in ("claims-datasets", "claims-results"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events")
    events.put_rule(Name="evaluations", EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
    events.put_targets(Rule="evaluations", Targets=[{"Id": "q", "Arn": queue_arn}])
    table_id, _ = prod.one("AWS::DynamoDB::GlobalTable")
    datasets, _ = prod.one("AWS::S3::Bucket", "EvalPipelineDatasets")
    results, _ = prod.one("AWS::S3::Bucket", "EvalPipelineResults")
    gate_fn, _ = prod.one("AWS::Lambda::Function", "EvalPipelineGateFunction")
    project, _ = prod.one("AWS::CodeBuild::Project")
    refs = _Placeholders(
        {
            "AWS::Partition": "aws",
            "AWS::Region": REGION,
            "AWS::AccountId": MOTO_ACCOUNT,
            table_id: table["TableName"],
            (table_id, "Arn"): table_arn,
            datasets: "claims-datasets",
            results: "claims-results",
            (results, "Arn"): "arn:aws:s3:::claims-results",
            (gate_fn, "Arn"): f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:gate",
            project: "runner",
            (project, "Arn"): f"arn:aws:codebuild:{REGION}:{MOTO_ACCOUNT}:project/runner",
        }
    )
    return MotoAccount(store, table_arn, refs, queue_url)


def run_in_moto(
    prod: Synth, account: MotoAccount, prefix: str, *, start_at: str, gate_state: str, gate_output: dict, payload: dict
) -> dict:
    """Execute the synthesized definition from ``start_at``, the gate Lambda's state replaced by its in-process result.

    moto runs Step Functions ASL but cannot invoke Lambda (no Docker) or run CodeBuild builds; every other state
    runs as written.
    """
    _, _, parts = definition(prod, prefix)
    asl = render(parts, account.refs)
    assert gate_state in asl["States"] and asl["States"][gate_state]["Type"] == "Task"
    original = asl["States"][gate_state]
    asl["States"][gate_state] = {
        "Type": "Pass",
        "Result": gate_output,
        "ResultPath": original["ResultPath"],
        "Next": original["Next"],
    }
    asl["StartAt"] = start_at
    sfn = boto3.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"{prefix}-{len(json.dumps(payload))}-{time.time_ns()}",
        definition=json.dumps(asl),
        roleArn=f"arn:aws:iam::{MOTO_ACCOUNT}:role/sfn",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]
    for _ in range(200):
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.05)
    history = sfn.get_execution_history(executionArn=execution)["events"]
    described["entered"] = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    return described


def release_gate(account: MotoAccount, version: str, metrics: dict) -> dict:
    """What the gate Lambda returns for this run: run in-process over the baseline the pipeline's query returns."""
    boto3.client("s3").put_object(
        Bucket="claims-results", Key=f"runs/triage/{version}/run/metrics.json", Body=json.dumps({"metrics": metrics})
    )
    items = boto3.client("dynamodb").query(
        TableName=account.store.table,
        IndexName=record.BASELINE_INDEX,
        KeyConditionExpression="approved_agent = :a",
        ExpressionAttributeValues={":a": {"S": "triage"}},
        ScanIndexForward=False,
        Limit=2,
    )["Items"]
    return eval_gate.decide(
        {
            "agent": "triage",
            "version": version,
            "mode": "release",
            "run": "run",
            "thresholds": THRESHOLDS,
            "maxRegression": 0.02,
            "metrics": {"bucket": "claims-results", "key": f"runs/triage/{version}/run/metrics.json"},
            "baseline": {"Items": items},
        },
        now=NOW,
    )


def received_events(account: MotoAccount) -> list[dict]:
    messages = (
        boto3.client("sqs").receive_message(QueueUrl=account.queue_url, MaxNumberOfMessages=10).get("Messages", [])
    )
    return [json.loads(m["Body"]) for m in messages]


def test_pipeline_in_moto_records_a_pass_and_emits_the_passed_event(prod, moto_account, capsys):
    put_result(
        moto_account.store, "6", {"correctness": 0.95, "helpfulness": 0.9}, approve_at="2026-11-01T10:00:00+00:00"
    )
    out = release_gate(moto_account, "7", {"correctness": 0.94, "helpfulness": 0.9})
    run = run_in_moto(
        prod,
        moto_account,
        "EvalPipelineEvaluation",
        start_at="FindBaseline",
        gate_state="Gate",
        gate_output=out,
        payload={"agent": "triage", "version": "7"},
    )
    assert run["status"] == "SUCCEEDED", run
    assert run["entered"] == ["FindBaseline", "Gate", "RecordResult", "Passed", "EmitPassed", "EvaluationPassed"]
    stored = moto_account.store.get("triage", "7")
    assert (
        stored["passed"] is True
        and stored["baseline_version"] == "6"
        and stored["metrics"] == {"correctness": 0.94, "helpfulness": 0.9}
    )
    (event,) = received_events(moto_account)
    assert (
        event["source"] == EVENT_SOURCE
        and event["detail-type"] == PASSED_DETAIL_TYPE
        and event["detail"]["version"] == "7"
    )
    # CI's gate agrees with the pipeline.
    assert gate_cli(capsys, "--version", "7")[0] == 0


def test_pipeline_in_moto_records_a_regression_emits_failed_and_fails(prod, moto_account, capsys):
    put_result(
        moto_account.store, "6", {"correctness": 0.99, "helpfulness": 0.9}, approve_at="2026-11-01T10:00:00+00:00"
    )
    out = release_gate(moto_account, "7", {"correctness": 0.95, "helpfulness": 0.9})
    run = run_in_moto(
        prod,
        moto_account,
        "EvalPipelineEvaluation",
        start_at="FindBaseline",
        gate_state="Gate",
        gate_output=out,
        payload={"agent": "triage", "version": "7"},
    )
    assert run["status"] == "FAILED"
    assert run["entered"] == ["FindBaseline", "Gate", "RecordResult", "Passed", "EmitFailed", "GateFailed"]
    assert moto_account.store.get("triage", "7")["passed"] is False
    (event,) = received_events(moto_account)
    assert event["detail-type"] == FAILED_DETAIL_TYPE and event["detail"]["checks"][0]["status"] == gate.REGRESSED
    code, report, _ = gate_cli(capsys, "--version", "7")
    assert code == 1 and "dropped 0.040 against the baseline" in report


def test_pipeline_in_moto_never_overwrites_an_approved_result(prod, moto_account):
    put_result(
        moto_account.store, "7", {"correctness": 0.95, "helpfulness": 0.9}, approve_at="2026-11-01T10:00:00+00:00"
    )
    out = release_gate(moto_account, "7", {"correctness": 0.1, "helpfulness": 0.1})
    run = run_in_moto(
        prod,
        moto_account,
        "EvalPipelineEvaluation",
        start_at="FindBaseline",
        gate_state="Gate",
        gate_output=out,
        payload={"agent": "triage", "version": "7"},
    )
    assert run["status"] == "FAILED" and run["entered"][-1] == "VersionAlreadyApproved"
    assert moto_account.store.get("triage", "7")["metrics"]["correctness"] == 0.95


def canary_gate(account: MotoAccount) -> dict:
    """What the gate Lambda returns for a canary run of the live, approved version 7 that scores below it."""
    put_result(account.store, "7", {"correctness": 0.95, "helpfulness": 0.9}, approve_at="2026-11-01T10:00:00+00:00")
    boto3.client("s3").put_object(
        Bucket="claims-results",
        Key="canary/triage/7/c/metrics.json",
        Body=json.dumps({"metrics": {"correctness": 0.9, "helpfulness": 0.9}}),
    )
    items = boto3.client("dynamodb").query(
        TableName=account.store.table,
        IndexName=record.BASELINE_INDEX,
        KeyConditionExpression="approved_agent = :a",
        ExpressionAttributeValues={":a": {"S": "triage"}},
        ScanIndexForward=False,
    )["Items"]
    # The live version is the approved one: the canary compares today's run with its own approved scores.
    return eval_gate.decide(
        {
            "agent": "triage",
            "version": "7",
            "mode": "canary",
            "run": "c",
            "thresholds": THRESHOLDS,
            "maxRegression": 0.02,
            "metrics": {"bucket": "claims-results", "key": "canary/triage/7/c/metrics.json"},
            "baseline": {"Items": [{**i, "version": {"S": "approved-7"}} for i in items]},
        },
        now=NOW,
    )


def signal_queue() -> str:
    """What the data lake's feedback connector forwards: every canary run as an event on the default bus, here
    captured in an SQS queue (its URL)."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue = sqs.create_queue(QueueName="signals")["QueueUrl"]
    events.put_rule(Name="signals", EventPattern=json.dumps({"source": ["agentzone.evaluation"]}))
    events.put_targets(
        Rule="signals",
        Targets=[
            {
                "Id": "q",
                "Arn": sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"],
            }
        ],
    )
    return queue


def test_canary_in_moto_writes_feedback_and_publishes_drift_metrics(prod, moto_account):
    out = canary_gate(moto_account)
    queue = signal_queue()
    run = run_in_moto(
        prod,
        moto_account,
        "EvalPipelineCanary",
        start_at="CanaryFindBaseline",
        gate_state="CanaryGate",
        gate_output=out,
        payload={
            "agent": "triage",
            "version": "7",
            "endpoint": "arn:aws:bedrock-agentcore:eu-west-1:1:runtime/x/runtime-endpoint/PROD",
        },
    )
    assert run["status"] == "FAILED", run
    assert run["entered"] == [
        "CanaryFindBaseline",
        "CanaryGate",
        "RecordSignal",
        "EmitCanarySignal",
        "PublishMetrics",
        "CanaryPassed",
        "DriftDetected",
    ]
    (message,) = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    event = json.loads(message["Body"])
    assert (
        event["detail-type"] == "AgentZone Canary Signal" and event["detail"]["type"] == "agentzone.evaluation.canary"
    )
    assert event["detail"]["passed"] is False
    (obj,) = boto3.client("s3").list_objects_v2(Bucket="claims-results", Prefix="feedback/")["Contents"]
    signal = json.loads(boto3.client("s3").get_object(Bucket="claims-results", Key=obj["Key"])["Body"].read())
    assert obj["Key"].startswith("feedback/agent=triage/date=2026-11-05/")
    assert (
        signal["type"] == "agentzone.evaluation.canary"
        and signal["passed"] is False
        and signal["worst_drop"] == pytest.approx(0.05)
    )
    metrics = boto3.client("cloudwatch").list_metrics(Namespace="AgentZone/Evaluation")["Metrics"]
    assert {"GateFailed", "WorstDrop", "Score"} <= {m["MetricName"] for m in metrics}
    gate_failed = [m for m in metrics if m["MetricName"] == "GateFailed"]
    assert gate_failed[0]["Dimensions"] == [{"Name": "Agent", "Value": "triage"}, {"Name": "Mode", "Value": "canary"}]


@pytest.mark.parametrize("status, entered_last", [("Failed", "EvaluationFailed"), ("Completed", "EvaluationPassed")])
def test_bedrock_job_status_choice_in_moto(bedrock, aws, status, entered_last):
    table = _table_from_template(bedrock.raw)
    store = create_store(table)
    table_id, _ = bedrock.one("AWS::DynamoDB::GlobalTable")
    table_arn = boto3.client("dynamodb").describe_table(TableName=table["TableName"])["Table"]["TableArn"]
    refs = _Placeholders(
        {
            "AWS::Partition": "aws",
            "AWS::Region": REGION,
            "AWS::AccountId": MOTO_ACCOUNT,
            table_id: table["TableName"],
            (table_id, "Arn"): table_arn,
        }
    )
    account = MotoAccount(store, table_arn, refs, queue_url="")
    out = {
        "passed": True,
        "report": "ok",
        "detail": {"version": "7"},
        "item": record.to_item(
            agent="triage",
            version="7",
            passed=True,
            metrics={"correctness": 0.95},
            thresholds=THRESHOLDS,
            max_regression=0.02,
            report="ok",
            evaluated_at="x",
            run="y",
        ),
    }
    run = run_in_moto(
        bedrock,
        account,
        "EvalPipelineEvaluation",
        start_at="EvaluationJobDone",
        gate_state="Gate",
        gate_output=out,
        payload={"agent": "triage", "version": "7", "job": {"status": status}},
    )
    assert run["entered"][-1] == entered_last
