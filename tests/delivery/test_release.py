"""`agentzone release watch`: canary endpoints watched against their alarms, rolled back in moto."""

from __future__ import annotations

import boto3
import pytest

from agentzone import cli
from agentzone.config import load_landing_zone
from agentzone.delivery import release

from ..conftest import SAMPLE_CONFIG

REGION = "eu-central-1"  # fraud's prod region


def test_canaries_come_from_config():
    lz = load_landing_zone(SAMPLE_CONFIG)
    (canary,) = release.canaries(lz, "fraud", "prod")
    assert (canary.agent, canary.runtime_name, canary.endpoint, canary.version) == (
        "investigator",
        "fraud_investigator_prod",
        "CANARY",
        4,
    )
    assert (canary.stable_endpoint, canary.stable_version) == ("PROD", 3)
    assert release.canaries(lz, "claims", "prod") == []  # one version per environment: nothing at risk
    with pytest.raises(release.ReleaseError, match="unknown tenant 'nope'; valid: claims, fraud"):
        release.canaries(lz, "nope", "prod")
    with pytest.raises(release.ReleaseError, match="tenant fraud has no 'qa' environment"):
        release.canaries(lz, "fraud", "qa")


@pytest.fixture
def deployed(aws):
    control = boto3.client("bedrock-agentcore-control", region_name=REGION)
    runtime = control.create_agent_runtime(
        agentRuntimeName="fraud_investigator_prod",
        agentRuntimeArtifact={
            "containerConfiguration": {"containerUri": "1.dkr.ecr.eu-west-1.amazonaws.com/agentzone/fraud/agent:2.0.1"}
        },
        roleArn="arn:aws:iam::666666666666:role/agent",
        networkConfiguration={"networkMode": "PUBLIC"},
    )
    control.create_agent_runtime_endpoint(
        agentRuntimeId=runtime["agentRuntimeId"], name="CANARY", agentRuntimeVersion="4"
    )
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    for endpoint in ("PROD", "CANARY"):
        cloudwatch.put_metric_alarm(
            AlarmName=f"{endpoint}-errors",
            AlarmDescription=f"AgentCore runtime fraud_investigator_prod, endpoint {endpoint}: server-side errors",
            MetricName="SystemErrors",
            Namespace="AWS/Bedrock-AgentCore",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
    return control, cloudwatch, runtime["agentRuntimeId"]


def run_watch(capsys) -> tuple[int, str, str]:
    code = cli.main(
        [
            "release",
            "watch",
            "--config-dir",
            str(SAMPLE_CONFIG),
            "--tenant",
            "fraud",
            "--environment",
            "prod",
            "--region",
            REGION,
            "--minutes",
            "0",
            "--poll-seconds",
            "0",
        ]
    )
    printed = capsys.readouterr()
    return code, printed.out, printed.err


def test_healthy_canary_passes_and_says_how_to_promote(deployed, capsys):
    control, cloudwatch, runtime_id = deployed
    # The stable endpoint's alarm is not the canary's business.
    cloudwatch.set_alarm_state(AlarmName="PROD-errors", StateValue="ALARM", StateReason="test")
    code, out, _ = run_watch(capsys)
    assert code == 0
    assert "investigator CANARY healthy for 0 minutes; promote with PROD: 4 in config" in out
    assert control.get_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="CANARY")["targetVersion"] == "4"


def test_alarm_rolls_the_canary_back_and_fails(deployed, capsys):
    control, cloudwatch, runtime_id = deployed
    cloudwatch.set_alarm_state(AlarmName="CANARY-errors", StateValue="ALARM", StateReason="test")
    code, out, _ = run_watch(capsys)
    assert code == 1
    assert "ROLLED BACK investigator CANARY to version 3: CANARY-errors in ALARM" in out
    assert control.get_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="CANARY")["targetVersion"] == "3"


def test_alarm_seen_on_a_later_poll(deployed, capsys):
    _, cloudwatch, _ = deployed
    lz = load_landing_zone(SAMPLE_CONFIG)
    ticks = iter([0, 0, 30, 61])
    polls = []

    def sleep(_):
        polls.append(1)
        cloudwatch.set_alarm_state(AlarmName="CANARY-errors", StateValue="ALARM", StateReason="second poll")

    code = release.watch(
        release.canaries(lz, "fraud", "prod"),
        session=boto3.Session(),
        region=REGION,
        minutes=1,
        poll_seconds=30,
        log=lambda _: None,
        clock=lambda: next(ticks),
        sleep=sleep,
    )
    assert code == 1 and polls == [1]


def test_missing_runtime_and_bad_input_are_clear(aws, capsys):
    boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(
        AlarmName="x",
        AlarmDescription="AgentCore runtime fraud_investigator_prod, endpoint CANARY: errors",
        MetricName="E",
        Namespace="N",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    boto3.client("cloudwatch", region_name=REGION).set_alarm_state(AlarmName="x", StateValue="ALARM", StateReason="t")
    code, _, err = run_watch(capsys)
    assert code == 2 and "no AgentCore runtime named fraud_investigator_prod" in err
    assert (
        cli.main(["release", "watch", "--config-dir", str(SAMPLE_CONFIG), "--tenant", "claims", "--environment", "qa"])
        == 2
    )
    assert "tenant claims has no 'qa' environment" in capsys.readouterr().err
    assert (
        cli.main(
            ["release", "watch", "--config-dir", str(SAMPLE_CONFIG), "--tenant", "claims", "--environment", "prod"]
        )
        == 0
    )
    assert "nothing to watch" in capsys.readouterr().out
