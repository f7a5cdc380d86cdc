"""Prompt store blueprint: the label each environment serves, immutable retained versions, agent access."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from agentzone.blueprints.context import BlueprintContext
from agentzone.blueprints.prompt_store import (
    PromptDefinition,
    PromptStore,
    PromptStoreProps,
    env_var_name,
    template_variables,
)
from agentzone.cfn_lint import run_cfn_lint
from agentzone.config.model import PromptBlueprint
from agentzone.constructs import BaselineKey
from agentzone.nag import acknowledge_compliance

from ..support import EVERY_PACK, Synth, new_app, synthesize

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
STACK = "PromptStoreTest"
MODEL = "amazon.nova-lite-v1:0"
TEXTS = {
    "prompts/triage-v2.txt": "Triage the claim {{claim}}.\n",
    "prompts/triage-v3.txt": (
        "You triage insurance claims.\nClaim: {{claim}}\nCustomer: {{customer_name}}\nRepeat {{claim}} back.\n"
    ),
    "prompts/summary-v1.txt": "Summarize {{document}} in {{words}} words.\n",
}


def prompt_config(**overrides) -> dict[str, PromptBlueprint]:
    triage = {
        "model": MODEL,
        "description": "Claim triage",
        "temperature": 0.1,
        "max_tokens": 800,
        "versions": {"2": "prompts/triage-v2.txt", "3": "prompts/triage-v3.txt"},
        "environments": {"dev": "3", "staging": "3", "prod": "2"},
    }
    summary = {
        "model": MODEL,
        "versions": {"1": "prompts/summary-v1.txt"},
        "environments": {"dev": "1", "staging": "1", "prod": "1"},
    }
    return {
        "triage": PromptBlueprint.model_validate({**triage, **overrides}),
        "claim-summary": PromptBlueprint.model_validate(summary),
    }


@pytest.fixture
def config_dir(tmp_path) -> Path:
    for name, text in TEXTS.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def context(stack: cdk.Stack, config_dir: Path, environment: str = "dev", **overrides) -> BlueprintContext:
    key = BaselineKey(stack, "Key", alias="alias/agentzone/claims", description="claims").key
    props = dict(
        tenant="claims",
        environment=environment,
        encryption_key=key,
        models=(MODEL, "eu.anthropic.claude-sonnet-4-5-v1:0"),
        tags={"owner": "claims-ai@example.com"},
        config_dir=config_dir,
    )
    return BlueprintContext(**{**props, **overrides})


@dataclass(frozen=True)
class Built:
    synth: Synth
    env: dict  # attach_to_agent's variables, resolved
    store: PromptStore


def build(
    config_dir: Path, environment: str, config: dict[str, PromptBlueprint] | None = None, *, nag: bool = True
) -> Built:
    """The store from config with an agent attached, synthesized (through every nag pack unless ``nag`` is off)."""
    app = new_app(config_dir / f"cdk.out-{environment}")
    stack = cdk.Stack(app, STACK, env=ENV)
    store = PromptStore.from_config(
        stack, "Prompts", context=context(stack, config_dir, environment), config=config or prompt_config()
    )
    role = iam.Role(stack, "AgentRole", assumed_by=iam.ServicePrincipal("bedrock-agentcore.amazonaws.com"))
    env = store.attach_to_agent(role)
    # The role stands in for an agent runtime's execution role; its owner decides on inline policies.
    acknowledge_compliance(
        role.node.find_child("DefaultPolicy"),
        "IAMNoInlinePolicy",
        "Test stand-in for the agent runtime's execution role, whose blueprint owns this decision.",
    )
    synth = synthesize(app, STACK, nag=EVERY_PACK if nag else None)  # raises on an unacknowledged nag error
    return Built(synth, {k: stack.resolve(v) for k, v in env.items()}, store)


def resources(raw: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in raw["Resources"].items() if v["Type"] == kind}


def prompt_named(raw: dict, name: str) -> tuple[str, dict]:
    (found,) = [(k, v) for k, v in resources(raw, "AWS::Bedrock::Prompt").items() if v["Properties"]["Name"] == name]
    return found


def version_of(raw: dict, prompt_id: str) -> tuple[str, dict]:
    (found,) = [
        (k, v)
        for k, v in resources(raw, "AWS::Bedrock::PromptVersion").items()
        if v["Properties"]["PromptArn"] == {"Fn::GetAtt": [prompt_id, "Arn"]}
    ]
    return found


# ------------------------------------------------------------------ what each environment serves


@pytest.mark.parametrize(
    "environment, label, file",
    [
        ("dev", "3", "prompts/triage-v3.txt"),
        ("staging", "3", "prompts/triage-v3.txt"),
        ("prod", "2", "prompts/triage-v2.txt"),
    ],
)
def test_each_environment_serves_its_label(config_dir, environment, label, file):
    result = build(config_dir, environment, nag=environment == "prod")
    prompt_id, prompt = prompt_named(result.synth.raw, f"claims-triage-{environment}")
    (variant,) = prompt["Properties"]["Variants"]
    assert variant["TemplateConfiguration"]["Text"]["Text"] == TEXTS[file]
    assert (variant["TemplateType"], variant["ModelId"]) == ("TEXT", MODEL)
    assert variant["InferenceConfiguration"] == {"Text": {"Temperature": 0.1, "MaxTokens": 800}}
    assert prompt["Properties"]["DefaultVariant"] == variant["Name"]
    assert prompt["Properties"]["Description"] == "Claim triage"
    version_id, version = version_of(result.synth.raw, prompt_id)
    # Stable logical ids: the prompt's follows its config name, the version's its label.
    assert prompt_id.startswith("PromptsTriagePrompt") and version_id.startswith(f"PromptsTriageVersion{label}")
    assert version["Properties"]["Description"].startswith(f"label {label} sha256:")
    assert result.store.prompt("triage").label == label


def test_input_variables_are_detected_in_order_of_first_use(config_dir):
    result = build(config_dir, "dev", nag=False)
    _, prompt = prompt_named(result.synth.raw, "claims-triage-dev")
    assert prompt["Properties"]["Variants"][0]["TemplateConfiguration"]["Text"]["InputVariables"] == [
        {"Name": "claim"},
        {"Name": "customer_name"},
    ]
    assert result.store.prompt("claim-summary").variables == ("document", "words")
    assert template_variables("no variables here, only {single} braces") == ()


def test_prompts_are_encrypted_with_the_tenant_key_which_lets_bedrock_use_it_for_prompts_only(config_dir):
    result = build(config_dir, "dev", nag=False)
    (key_id,) = resources(result.synth.raw, "AWS::KMS::Key")
    for prompt in resources(result.synth.raw, "AWS::Bedrock::Prompt").values():
        assert prompt["Properties"]["CustomerEncryptionKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}
    statements = result.synth.raw["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    (bedrock,) = [s for s in statements if s.get("Principal") == {"Service": "bedrock.amazonaws.com"}]
    assert sorted(bedrock["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert bedrock["Condition"]["StringEquals"] == {"aws:SourceAccount": "111111111111"}
    assert ":bedrock:eu-west-1:111111111111:prompt/*" in json.dumps(
        bedrock["Condition"]["StringLike"]["kms:EncryptionContext:aws:bedrock-prompts:arn"]
    )


def test_prompts_and_versions_are_retained(config_dir):
    result = build(config_dir, "dev", nag=False)
    for kind in ("AWS::Bedrock::Prompt", "AWS::Bedrock::PromptVersion"):
        found = resources(result.synth.raw, kind)
        assert len(found) == 2
        for resource in found.values():
            assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_promotion_publishes_a_new_version_and_keeps_the_prompt(config_dir):
    before = build(config_dir, "prod", nag=False)
    after = build(config_dir, "prod", prompt_config(environments={"dev": "3", "staging": "3", "prod": "3"}), nag=False)
    prompt_before, _ = prompt_named(before.synth.raw, "claims-triage-prod")
    prompt_after, prompt = prompt_named(after.synth.raw, "claims-triage-prod")
    assert prompt_before == prompt_after  # the prompt (draft) is updated in place
    assert (
        prompt["Properties"]["Variants"][0]["TemplateConfiguration"]["Text"]["Text"] == TEXTS["prompts/triage-v3.txt"]
    )
    old_version, _ = version_of(before.synth.raw, prompt_before)
    new_version, _ = version_of(after.synth.raw, prompt_after)
    # A new logical id: CloudFormation creates version "3" and, the old one being retained, leaves version "2" in place.
    assert old_version != new_version and old_version not in after.synth.raw["Resources"]
    # The other prompt does not move.
    assert resources(before.synth.raw, "AWS::Bedrock::PromptVersion").keys() - {old_version} == resources(
        after.synth.raw, "AWS::Bedrock::PromptVersion"
    ).keys() - {new_version}


def test_new_text_under_the_same_label_republishes(config_dir):
    before = build(config_dir, "dev", nag=False)
    (config_dir / "prompts/triage-v3.txt").write_text("Edited {{claim}}\n")
    after = build(config_dir, "dev", nag=False)
    prompt_id, _ = prompt_named(before.synth.raw, "claims-triage-dev")
    old_id, old = version_of(before.synth.raw, prompt_id)
    new_id, new = version_of(after.synth.raw, prompt_id)
    # Same logical id; Description is create-only, so the changed hash replaces it (old one retained).
    assert old_id == new_id and old["Properties"]["Description"] != new["Properties"]["Description"]


# ------------------------------------------------------------------ agent access


def test_attach_returns_each_prompts_version_arn(config_dir):
    result = build(config_dir, "dev", nag=False)
    triage_version, _ = version_of(result.synth.raw, prompt_named(result.synth.raw, "claims-triage-dev")[0])
    summary_version, _ = version_of(result.synth.raw, prompt_named(result.synth.raw, "claims-claim-summary-dev")[0])
    assert result.env == {
        "AGENTZONE_PROMPT_TRIAGE": {"Fn::GetAtt": [triage_version, "Arn"]},
        "AGENTZONE_PROMPT_CLAIM_SUMMARY": {"Fn::GetAtt": [summary_version, "Arn"]},
    }
    assert (
        env_var_name("claim-summary")
        == result.store.prompt("claim-summary").env_var
        == "AGENTZONE_PROMPT_CLAIM_SUMMARY"
    )


def test_grant_read_is_get_prompt_on_these_prompts_and_versions_only(config_dir):
    raw = build(config_dir, "dev", nag=False).synth.raw
    (policy,) = resources(raw, "AWS::IAM::Policy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (get,) = [s for s in statements if s["Action"] == "bedrock:GetPrompt"]
    expected = []
    for name in ("claims-claim-summary-dev", "claims-triage-dev"):
        prompt_id, _ = prompt_named(raw, name)
        expected += [{"Fn::GetAtt": [prompt_id, "Arn"]}, {"Fn::GetAtt": [version_of(raw, prompt_id)[0], "Arn"]}]
    assert sorted(map(json.dumps, get["Resource"])) == sorted(map(json.dumps, expected))
    (decrypt,) = [s for s in statements if s["Action"] == "kms:Decrypt"]
    assert "bedrock.eu-west-1." in json.dumps(decrypt["Condition"]["StringEquals"]["kms:ViaService"])
    assert [s["Action"] for s in statements] == ["bedrock:GetPrompt", "kms:Decrypt"]
    assert "*" not in json.dumps([s["Resource"] for s in statements])


# ------------------------------------------------------------------ gates


def test_nag_and_cfn_lint_pass(config_dir):
    result = build(config_dir, "dev")
    acks = result.synth.acknowledgements()
    # Nothing of the store needs acknowledging; only the test role's own inline-policy decision is there.
    assert {a.path for a in acks} == {f"/{STACK}/AgentRole/DefaultPolicy"}
    assert sorted(a.finding for a in acks) == [
        f"{pack}-IAMNoInlinePolicy" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
    ]
    lint = run_cfn_lint([result.synth.path])
    assert lint.errors == [], lint.render()


@pytest.mark.parametrize(
    "config, environment, message",
    [
        (prompt_config(environments={"dev": "3"}), "prod", "no version for environment 'prod'"),
        (prompt_config(environments={"dev": "9"}), "dev", "version '9' is not under versions"),
        (prompt_config(model="amazon.titan-text-express-v1"), "dev", "not in the tenant's models"),
        (
            prompt_config(versions={"2": "prompts/triage-v2.txt", "3": "prompts/missing.txt"}),
            "dev",
            "no file prompts/missing.txt",
        ),
    ],
)
def test_bad_config_fails_with_the_reason(config_dir, config, environment, message):
    stack = cdk.Stack(new_app(), "Bad", env=ENV)
    with pytest.raises(ValueError, match=message):
        PromptStore.from_config(stack, "Prompts", context=context(stack, config_dir, environment), config=config)


@pytest.mark.parametrize(
    "text, message",
    [
        ("Hello {{customer name}}", r"variables \['customer name'\] are not valid"),
        (" ".join(f"{{{{v{i}}}}}" for i in range(21)), "21 variables"),
        ("   \n", "empty"),
    ],
)
def test_bad_templates_fail_with_the_prompt_and_label(text, message):
    stack = cdk.Stack(new_app(), "Bad", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/x", description="x").key
    definition = PromptDefinition(name="triage", prompt_name="claims-triage-dev", label="4", text=text, model=MODEL)
    with pytest.raises(ValueError, match=message):
        PromptStore(stack, "Prompts", props=PromptStoreProps(encryption_key=key, prompts=(definition,)))


def test_prompt_lookup_names_what_exists(config_dir):
    result = build(config_dir, "dev", nag=False)
    assert result.store.names == ("claim-summary", "triage")
    with pytest.raises(KeyError, match="has: claim-summary, triage"):
        result.store.prompt("intake")
