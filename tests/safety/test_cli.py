"""`agentzone killswitch` against moto: flips the parameter, attaches the deny policy to the tagged roles."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from agentzone.blueprints.safety import DENIED_ACTIONS
from agentzone.safety import cli as safety_cli
from agentzone.safety.killswitch import PROTECTED_ROLE_TAG, kill_switch_policy_name

from ..conftest import SAMPLE_CONFIG

ACCOUNT, REGION = "111111111111", "eu-west-1"
PARAMETER = "/agentzone/claims/dev/kill-switch"


@pytest.fixture
def tenant_account(monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        ssm, iam_client = boto3.client("ssm", region_name=REGION), boto3.client("iam")
        ssm.put_parameter(Name=PARAMETER, Value="off", Type="String")
        policy_arn = iam_client.create_policy(
            PolicyName=kill_switch_policy_name("claims", "dev"),
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Deny", "Action": list(DENIED_ACTIONS), "Resource": "*"}],
                }
            ),
        )["Policy"]["Arn"]
        trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "bedrock-agentcore.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
        iam_client.create_role(
            RoleName="claims-agent",
            AssumeRolePolicyDocument=trust,
            Tags=[{"Key": PROTECTED_ROLE_TAG, "Value": "claims/dev"}],
        )
        iam_client.create_role(
            RoleName="claims-agent-staging",
            AssumeRolePolicyDocument=trust,
            Tags=[{"Key": PROTECTED_ROLE_TAG, "Value": "claims/staging"}],
        )
        iam_client.create_role(RoleName="unrelated", AssumeRolePolicyDocument=trust)
        yield ssm, iam_client, policy_arn


def cli(*argv: str) -> int:
    return safety_cli.run([*argv, "--tenant", "claims", "--environment", "dev", "--config-dir", str(SAMPLE_CONFIG)])


def attached(iam_client, role: str) -> list[str]:
    return [p["PolicyArn"] for p in iam_client.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]


def test_killswitch_on_sets_the_parameter_and_denies_the_tagged_roles(tenant_account, capsys):
    ssm, iam_client, policy_arn = tenant_account
    assert cli("on") == 0
    assert ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"] == "on"
    assert attached(iam_client, "claims-agent") == [policy_arn]
    assert attached(iam_client, "claims-agent-staging") == [] and attached(iam_client, "unrelated") == []
    assert "is on; deny policy attached to: claims-agent" in capsys.readouterr().out

    assert cli("status", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "parameter": PARAMETER,
        "value": "on",
        "deny_policy": policy_arn,
        "denied_roles": ["claims-agent"],
    }

    # Attached by hand (e.g. by a playbook) to another role: off releases every role it is attached to.
    iam_client.attach_role_policy(RoleName="unrelated", PolicyArn=policy_arn)
    assert cli("off") == 0
    assert ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"] == "off"
    assert attached(iam_client, "claims-agent") == [] and attached(iam_client, "unrelated") == []


def test_killswitch_on_without_deny_only_sets_the_parameter(tenant_account):
    ssm, iam_client, _ = tenant_account
    assert cli("on", "--no-deny") == 0
    assert ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"] == "on"
    assert attached(iam_client, "claims-agent") == []


def test_killswitch_refuses_a_missing_stack_with_exit_1(tenant_account, capsys):
    ssm, _, _ = tenant_account
    ssm.delete_parameter(Name=PARAMETER)
    assert cli("on") == 1
    assert "is the claims dev stack deployed" in capsys.readouterr().err


def test_killswitch_refuses_the_wrong_account_with_exit_2(tenant_account, monkeypatch, capsys):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "999999999999")
    assert cli("status") == 2
    assert "account 999999999999" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["status", "--tenant", "nobody", "--environment", "dev"], "unknown tenant 'nobody'"),
        (["status", "--tenant", "claims", "--environment", "qa"], "no environment 'qa'"),
    ],
)
def test_killswitch_refuses_unknown_targets_with_exit_2(tenant_account, argv, message, capsys):
    assert safety_cli.run([*argv, "--config-dir", str(SAMPLE_CONFIG)]) == 2
    assert message in capsys.readouterr().err


def test_killswitch_usage_errors_exit_2():
    assert safety_cli.run(["flip", "--tenant", "claims", "--environment", "dev"]) == 2
    assert safety_cli.run(["on"]) == 2
