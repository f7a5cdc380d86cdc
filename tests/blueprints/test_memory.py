"""Memory blueprint: custom extraction runs as a fixed-name role the tenant SCP exempts, granted only its models."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from agentzone import naming
from agentzone.blueprints.memory import AgentMemory, AgentMemoryProps, CustomStrategyProps

from ..support import new_app

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
# Released logical id of fraud's signals memory: a new id would replace the memory and lose what it holds.
SIGNALS_MEMORY_ID = "MemorySignalsMemory36591E9A"


def _statements_of(template: dict, role_id: str) -> list[dict]:
    return [
        s
        for policy in template["Resources"].values()
        if policy["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        and {"Ref": role_id} in policy["Properties"].get("Roles", [])
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]


def _memories(template: dict) -> dict[str, tuple[str, dict]]:
    """AgentCore memory name -> (its execution role's logical id, that role's properties)."""
    out = {}
    for memory in template["Resources"].values():
        if memory["Type"] == "AWS::BedrockAgentCore::Memory":
            role_id = memory["Properties"]["MemoryExecutionRoleArn"]["Fn::GetAtt"][0]
            out[memory["Properties"]["Name"]] = (role_id, template["Resources"][role_id]["Properties"])
    return out


@pytest.mark.parametrize(
    "environment, region", [("dev", "eu-west-1"), ("staging", "eu-west-1"), ("prod", "eu-central-1")]
)
def test_custom_extraction_runs_as_a_fixed_name_role_with_only_its_model(sample_assembly, environment, region):
    template = sample_assembly.template(f"AgentZone-fraud-{environment}")
    memory_name = f"fraud_signals_{environment}"
    role_id, role = _memories(template)[memory_name]
    assert role["RoleName"] == naming.memory_service_role(memory_name)
    account = sample_assembly.environments[f"AgentZone-fraud-{environment}"].split("/")[2]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "bedrock-agentcore.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:aws:bedrock-agentcore:{region}:{account}:memory/{memory_name}*"},
    }
    statements = _statements_of(template, role_id)
    model_calls = [s for s in statements if any(a.startswith("bedrock") for a in _actions(s))]
    # nova-pro runs the risk_patterns extraction (config/tenants/fraud.yaml); nothing else is callable.
    assert model_calls == [
        {
            "Action": "bedrock:InvokeModel*",
            "Effect": "Allow",
            "Resource": f"arn:aws:bedrock:{region}::foundation-model/amazon.nova-pro-v1:0",
        }
    ]
    assert {a for s in statements for a in _actions(s)} - {"bedrock:InvokeModel*"} == {
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncrypt*",
    }
    # The memory itself is the released resource (same logical id), now pointing at the new role.
    memory = template["Resources"][SIGNALS_MEMORY_ID]
    assert memory["Type"] == "AWS::BedrockAgentCore::Memory" and memory["Properties"]["Name"] == memory_name


def test_memories_with_built_in_extraction_keep_a_generated_role_and_call_no_model(sample_assembly):
    memories = _memories(sample_assembly.template("AgentZone-claims-prod"))
    assert sorted(memories) == ["claims_claims_prod", "claims_customers_prod"]
    for role_id, role in memories.values():
        assert "RoleName" not in role
        assert not [
            a
            for s in _statements_of(sample_assembly.template("AgentZone-claims-prod"), role_id)
            for a in _actions(s)
            if a.startswith("bedrock")
        ]


def _memory(memory_name: str, *strategies: CustomStrategyProps) -> tuple[AgentMemory, dict]:
    stack = cdk.Stack(new_app(), "Memory", env=ENV)
    memory = AgentMemory(
        stack,
        "Notes",
        props=AgentMemoryProps(
            memory_name=memory_name,
            encryption_key=cdk.aws_kms.Key(stack, "Key"),
            strategies=(),
            custom_strategies=strategies,
        ),
    )
    return memory, dict(cdk.assertions.Template.from_stack(stack).to_json())


def test_only_custom_strategies_with_a_model_get_the_fixed_name_role():
    facts = CustomStrategyProps(name="facts", type="semantic", namespaces=("/facts/{actorId}",))
    memory, template = _memory("claims_notes_dev", facts)
    assert memory.extraction_role is None
    assert "agentzone-memory" not in json.dumps(template) and "bedrock:InvokeModel" not in json.dumps(template)

    tuned = CustomStrategyProps(
        name="tuned",
        type="summary",
        namespaces=("/s/{sessionId}",),
        instructions="Be brief.",
        model="amazon.nova-lite-v1:0",
    )
    memory, template = _memory("claims_notes_dev", facts, tuned)
    assert memory.extraction_role is not None
    (role_id,) = [
        k
        for k, v in template["Resources"].items()
        if v["Properties"].get("RoleName") == naming.memory_service_role("claims_notes_dev")
    ]
    calls = [s for s in _statements_of(template, role_id) if "bedrock:InvokeModel*" in _actions(s)]
    assert [s["Resource"] for s in calls] == ["arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-lite-v1:0"]


def test_an_extraction_role_name_longer_than_iam_allows_is_refused():
    tuned = CustomStrategyProps(
        name="tuned",
        type="summary",
        namespaces=("/s/{sessionId}",),
        instructions="Be brief.",
        model="amazon.nova-lite-v1:0",
    )
    name = "m" * 48  # AgentCore allows 48; agentzone-memory-<48> is 65
    with pytest.raises(ValueError, match="longer than 64 characters"):
        _memory(name, tuned)


def test_an_unknown_custom_strategy_type_is_refused():
    notes = CustomStrategyProps(name="notes", type="diary", namespaces=("/n/{actorId}",))
    with pytest.raises(ValueError, match=r"unknown memory strategies \['diary'\]"):
        _memory("claims_notes_dev", notes)
