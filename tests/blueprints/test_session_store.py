"""Session store blueprint: the table's protection (CMK, PITR, TTL, retained) and the agents that get it.

The sample config does not select it (its templates stay as they are), so these tests add it to a copy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from agentzone.blueprints import REGISTRY, SessionStore, SessionStoreProps
from agentzone.composition import stack_name, tenant_target
from agentzone.config import ConfigError, load_landing_zone
from agentzone.nag import acknowledge_compliance
from agentzone.stacks import UseCaseStack

from ..conftest import SAMPLE_CONFIG
from ..support import Synth, new_app, synthesize

CLAIMS = Path("tenants") / "claims.yaml"
STACK = "AgentZone-claims-dev"
TABLE = "AWS::DynamoDB::GlobalTable"
TABLE_NAME = "claims-session-store-dev"


def with_session_store(root: Path, block: str) -> Path:
    """A copy of the sample config whose claims tenant selects the session store (``block`` under blueprints)."""
    target = root / "config"
    shutil.copytree(SAMPLE_CONFIG, target)
    path = target / CLAIMS
    text = path.read_text()
    assert "\nblueprints:\n" in text
    path.write_text(text.replace("\nblueprints:\n", f"\nblueprints:\n  session_store: {block}\n", 1))
    return target


def session_table(synth: Synth) -> tuple[str, dict]:
    """The session store's table (the account has others: the evaluation store, the HITL requests)."""
    ((logical_id, table),) = [
        (k, v) for k, v in synth.resources(TABLE).items() if v["Properties"].get("TableName") == TABLE_NAME
    ]
    return logical_id, table


def runtime(synth: Synth, agent: str) -> dict:
    (found,) = [
        r
        for r in synth.resources("AWS::BedrockAgentCore::Runtime").values()
        if r["Properties"]["AgentRuntimeName"] == f"claims_{agent}_dev"
    ]
    return found


def role_statements(synth: Synth, role_id: str) -> list[dict]:
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def agent_statements(synth: Synth, agent: str) -> list[dict]:
    return role_statements(synth, runtime(synth, agent)["Properties"]["RoleArn"]["Fn::GetAtt"][0])


@pytest.fixture(scope="module")
def claims_dev(tmp_path_factory) -> Synth:
    """The claims dev account with ``session_store`` for the intake agent, under every nag pack of the sample."""
    root = with_session_store(tmp_path_factory.mktemp("session-store"), "{ttl_days: 3, agents: [intake]}")
    lz = load_landing_zone(root)
    tenant = lz.tenant("claims")
    env = tenant.environments["dev"]
    app = new_app(root.parent / "cdk.out")
    target = tenant_target(lz, tenant, "dev", env.account, lz.region_of(env))
    UseCaseStack(app, stack_name("UseCase", "dev", "claims"), target=target, tenant=tenant, lz=lz)
    return synthesize(app, STACK, nag=lz.organization.nag)  # raises on an unacknowledged nag error


def test_the_table_is_encrypted_with_the_accounts_key(claims_dev):
    _, table = session_table(claims_dev)
    (key_id,) = [k for k in claims_dev.resources("AWS::KMS::Key") if k.startswith("BaselineKey")]
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    (replica,) = table["Properties"]["Replicas"]
    assert replica["SSESpecification"] == {"KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}


def test_the_table_has_pitr_ttl_and_is_retained_under_a_stable_id(claims_dev):
    logical_id, table = session_table(claims_dev)
    assert logical_id.startswith("SessionStoreTable")
    props = table["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    (replica,) = props["Replicas"]
    assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert replica["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["session_id", "snapshot_at"]
    tags = {t["Key"]: t["Value"] for t in replica["Tags"]}
    assert tags["owner"] == "claims-ai@example.com" and tags["environment"] == "dev"


def test_only_the_agents_config_names_get_read_write_and_the_table_name(claims_dev):
    table_id, _ = session_table(claims_dev)
    table_arn = {"Fn::GetAtt": [table_id, "Arn"]}

    def granted(agent: str) -> set[str]:
        out: set[str] = set()
        for statement in agent_statements(claims_dev, agent):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if table_arn in resources:
                out |= set(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        return out

    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"} <= granted("intake")
    assert not any(action.startswith("dynamodb:") and "Table" in action for action in granted("intake"))
    assert granted("settlement") == set()
    variables = runtime(claims_dev, "intake")["Properties"]["EnvironmentVariables"]
    assert variables["AGENTZONE_SESSION_STORE_TABLE"] == {"Ref": table_id}
    assert variables["AGENTZONE_SESSION_STORE_TTL_ATTRIBUTE"] == "expires_at"
    assert variables["AGENTZONE_SESSION_STORE_TTL_DAYS"] == "3"
    assert not any(
        name.startswith("AGENTZONE_SESSION_STORE")
        for name in runtime(claims_dev, "settlement")["Properties"]["EnvironmentVariables"]
    )


def test_the_agent_uses_the_key_only_through_dynamodb(claims_dev):
    kms = [s for s in agent_statements(claims_dev, "intake") if "kms:Encrypt" in json.dumps(s["Action"])]
    assert kms, "the intake agent writes snapshots, so it encrypts with the table's key"
    (condition,) = {json.dumps(s["Condition"]) for s in kms}
    assert json.loads(condition) == {"StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}}


@pytest.mark.parametrize(
    "block,fragment",
    [
        ("{agents: [nobody]}", "agents[0]: unknown agent 'nobody'; blueprints.runtime defines: intake, settlement"),
        ("{agents: [intake, intake]}", "session_store.agents[1]"),
        ("{ttl_attribute: session_id}", "session_store.ttl_attribute: 'session_id' is a key attribute"),
        ("{ttl_days: 0}", "session_store.ttl_days"),
    ],
)
def test_validate_names_what_is_wrong(tmp_path, block, fragment):
    root = with_session_store(tmp_path, block)
    with pytest.raises(ConfigError) as info:
        load_landing_zone(root)
    problems = [p.render() for p in info.value.problems]
    assert any(fragment in p and str(root / CLAIMS) in p for p in problems), "\n".join(problems)


def test_built_from_props_without_a_key_it_creates_its_own_and_grants_read_only_when_asked(tmp_path):
    app = new_app(tmp_path / "cdk.out")
    stack = cdk.Stack(app, "SessionStoreTest", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    store = SessionStore(
        stack, "Sessions", props=SessionStoreProps(table_name="team-sessions-dev", tags={"owner": "team@example.com"})
    )
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    store.grant_read(reader)
    acknowledge_compliance(
        reader.node.find_child("DefaultPolicy"),
        "IAMNoInlinePolicy",
        "Test stand-in for a team's reporting role, whose owner decides on inline policies.",
    )
    template = synthesize(app, "SessionStoreTest").raw  # every nag pack
    ((key_id, key),) = [(k, v) for k, v in template["Resources"].items() if v["Type"] == "AWS::KMS::Key"]
    assert key["Properties"]["EnableKeyRotation"] is True and key["DeletionPolicy"] == "Retain"
    ((_, table),) = [(k, v) for k, v in template["Resources"].items() if v["Type"] == TABLE]
    assert table["Properties"]["Replicas"][0]["SSESpecification"] == {"KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    actions = {
        action
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    }
    assert actions == {
        "dynamodb:BatchGetItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "kms:Decrypt",
    }


@pytest.mark.parametrize(
    "props,fragment",
    [
        ({"ttl_attribute": "snapshot_at"}, "is a key attribute"),
        ({"ttl_days": 400}, "ttl_days must be 1-365"),
        ({"table_name": "no spaces"}, "table_name 'no spaces'"),
    ],
)
def test_props_refuse_what_cannot_work(props, fragment):
    with pytest.raises(ValueError, match=fragment):
        SessionStoreProps(**{"table_name": "team-sessions-dev", **props})


def test_it_is_registered_for_selected_agents_and_says_why_it_is_not_in_the_catalog():
    spec = REGISTRY["session_store"]
    assert spec.construct is SessionStore and callable(spec.to_agents)
    assert not spec.catalog.offered and len(spec.catalog.reason) > 40
