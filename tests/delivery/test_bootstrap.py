"""`agentzone bootstrap-policy`: least-privilege CloudFormation execution policies from the sample assembly."""

from __future__ import annotations

import json

import pytest

from agentzone import cli
from agentzone.delivery.execution_policy import MANAGED_POLICY_LIMIT, BootstrapError, execution_policy


def policy_for(sample_assembly, account: str, capsys) -> dict:
    assert cli.main(["bootstrap-policy", "--account", account, "--assembly", str(sample_assembly.outdir)]) == 0
    return json.loads(capsys.readouterr().out)


def allowed(policy: dict) -> set[str]:
    return {a for s in policy["Statement"] if s["Effect"] == "Allow" for a in s["Action"]}


def test_tenant_account_gets_only_the_services_its_stacks_use(sample_assembly, capsys):
    policy = policy_for(sample_assembly, "333333333333", capsys)  # claims prod
    actions = allowed(policy)
    assert {"bedrock-agentcore:*", "bedrock:*", "kms:*", "s3:*", "lakeformation:*", "glue:*", "states:*"} <= actions
    assert (
        not {"rds:*", "ecs:*", "elasticache:*", "organizations:*", "iam:*", "*"} & actions
    )  # the gateway lives elsewhere
    deny = next(s for s in policy["Statement"] if s["Effect"] == "Deny")
    assert {"iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"} <= set(deny["Action"])
    assert len(json.dumps(policy, separators=(",", ":"))) <= MANAGED_POLICY_LIMIT


def test_shared_services_and_management_accounts(sample_assembly, capsys):
    shared = allowed(policy_for(sample_assembly, "100000000031", capsys))
    assert {"rds:*", "ecs:*", "elasticache:*", "elasticloadbalancing:*", "wafv2:*", "ec2:*", "ecr:*"} <= shared
    management = allowed(policy_for(sample_assembly, "100000000000", capsys))
    assert {"organizations:*", "cloudtrail:*", "budgets:*"} <= management and "bedrock-agentcore:*" not in management


def test_unknown_account_and_types_are_clear_errors(sample_assembly, capsys):
    assert cli.main(["bootstrap-policy", "--account", "999999999999", "--assembly", str(sample_assembly.outdir)]) == 2
    assert "no stack of account 999999999999" in capsys.readouterr().err
    with pytest.raises(BootstrapError, match="unknown resource type 'Contoso::Thing'"):
        execution_policy(["Contoso::Thing"])
