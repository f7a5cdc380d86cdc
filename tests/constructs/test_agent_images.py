"""Agent image repositories: immutable, scanned, CMK-encrypted ECR repositories each tenant pulls from.

One module-scoped synth of a shared-services stack with two repositories and the registry scanning setting,
through every cdk-nag pack like the real app (synth raises on an unacknowledged error), and cfn-lint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from agentzone.constructs import BaselineKey
from agentzone.constructs.agent_images import (
    PULL_ACTIONS,
    PUSH_ACTIONS,
    AgentImageRepository,
    AgentImageRepositoryProps,
    RegistryScanning,
)
from agentzone.naming import tenant_repository

from ..support import Synth, new_app, synthesize
from .shared_components import (
    CI_ACCOUNT,
    ENV,
    ORG,
    TENANTS,
    as_list,
    assert_cfn_lint_clean,
    base_stack,
    only,
    principals,
    resource_star_acknowledgements,
    statements,
)

STACK = "SharedComponents"


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Synth:
    app = new_app(tmp_path_factory.mktemp("images") / "cdk.out")
    stack, key = base_stack(app, STACK)
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
    return synthesize(app, STACK)  # raises on any unacknowledged nag error


@pytest.fixture(scope="module")
def shared(synth) -> Template:
    return synth.template


# ------------------------------------------------------------------- gates


def test_cfn_lint_clean(synth):
    assert_cfn_lint_clean([synth])


def test_acknowledgements_are_specific(synth):
    # No Action:: wildcard; every resource wildcard is named, and none is a bare "*".
    assert resource_star_acknowledgements([synth]) == []


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
    stack = cdk.Stack(new_app(), "Bad", env=ENV)
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
