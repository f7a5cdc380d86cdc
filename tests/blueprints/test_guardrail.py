"""Guardrail blueprint: every policy part from config, a re-published version, and model access only through it."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from agentzone.blueprints.context import BlueprintContext
from agentzone.blueprints.guardrail import (
    ENV_GUARDRAIL_ID,
    ENV_GUARDRAIL_VERSION,
    AgentGuardrail,
    AgentGuardrailProps,
    policy_from_config,
)
from agentzone.cfn_lint import run_cfn_lint
from agentzone.config.model import GuardrailBlueprint
from agentzone.constructs import BaselineKey
from agentzone.constructs.guardrail import CONTENT_CATEGORIES, GuardrailPolicy, GuardrailTopic, ModelGuardrail
from agentzone.nag import acknowledge_compliance
from agentzone.organization_policies import MODEL_INVOKE_ACTIONS

from ..conftest import ROOT
from ..support import Synth, new_app, synthesize

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
STACK = "GuardrailBlueprintTest"
MODELS = ("amazon.nova-lite-v1:0", "eu.anthropic.claude-sonnet-4-5-v1:0")
TOPIC = {
    "name": "Investment advice",
    "definition": "Recommendations on buying or selling securities",
    "examples": ["Should I buy ACME shares?", "Which fund beats inflation?"],
}
CONFIG = GuardrailBlueprint.model_validate(
    {
        "content_filter_strength": "MEDIUM",
        "prompt_attack_strength": "LOW",
        "denied_topics": [TOPIC, {"name": "Legal advice", "definition": "Opinions on how a court would decide"}],
        "pii": {"anonymize": ["EMAIL", "NAME"], "block": ["US_SOCIAL_SECURITY_NUMBER", "PASSWORD"]},
        "words": ["competitorco", "project falcon"],
        "grounding": {"grounding": 0.8, "relevance": 0.6},
        "blocked_message": "Not something I can help with.",
    }
)
# The FM gateway's guardrail with today's defaults (committed in the sample snapshots): must never change.
FM_GATEWAY_DEFAULT_FINGERPRINT = "68232956236b"


def context(stack: cdk.Stack, **overrides) -> BlueprintContext:
    key = BaselineKey(stack, "Key", alias="alias/agentzone/claims", description="claims").key
    props = dict(
        tenant="claims",
        environment="dev",
        encryption_key=key,
        models=MODELS,
        tags={"owner": "claims-ai@example.com", "cost-center": "CC-1234"},
    )
    return BlueprintContext(**{**props, **overrides})


def agent_role(stack: cdk.Stack) -> iam.Role:
    return iam.Role(stack, "AgentRole", assumed_by=iam.ServicePrincipal("bedrock-agentcore.amazonaws.com"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Synth, dict]:
    """The blueprint from config, attached to an agent role, through every nag pack, and the variables it returned.

    Synth raises on an unacknowledged nag error.
    """
    app = new_app(tmp_path_factory.mktemp("guardrail") / "cdk.out")
    stack = cdk.Stack(app, STACK, env=ENV)
    guardrail = AgentGuardrail.from_config(stack, "Guardrail", context=context(stack), config=CONFIG)
    role = agent_role(stack)
    env = guardrail.attach_to_agent(role)
    # The role stands in for an agent runtime's execution role; its owner decides on inline policies.
    acknowledge_compliance(
        role.node.find_child("DefaultPolicy"),
        "IAMNoInlinePolicy",
        "Test stand-in for the agent runtime's execution role, whose blueprint owns this decision.",
    )
    return synthesize(app, STACK), {k: stack.resolve(v) for k, v in env.items()}


@pytest.fixture(scope="module")
def synth(built) -> Synth:
    return built[0]


def resources(raw: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in raw["Resources"].items() if v["Type"] == kind}


def the(raw: dict, kind: str) -> tuple[str, dict]:
    (found,) = resources(raw, kind).items()
    return found


def guardrail_props(raw: dict) -> dict:
    return the(raw, "AWS::Bedrock::Guardrail")[1]["Properties"]


def synth_template(policy: GuardrailPolicy | None = None, config: GuardrailBlueprint | None = None) -> dict:
    """A quick synth without nag, for template details of other policies."""
    stack = cdk.Stack(new_app(), "Quick", env=ENV)
    if config is not None:
        AgentGuardrail.from_config(stack, "Guardrail", context=context(stack), config=config)
    else:
        assert policy is not None, "pass a policy or a config"
        AgentGuardrail(
            stack,
            "Guardrail",
            props=AgentGuardrailProps(
                guardrail_name="claims-guardrail-dev",
                encryption_key=context(stack).encryption_key,
                models=MODELS,
                policy=policy,
            ),
        )
    return dict(Template.from_stack(stack).to_json())


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------ the policy


def test_name_description_message_and_tags_come_from_the_context(synth):
    props = guardrail_props(synth.raw)
    assert props["Name"] == "claims-guardrail-dev"
    assert props["BlockedInputMessaging"] == props["BlockedOutputsMessaging"] == "Not something I can help with."
    assert {"Key": "owner", "Value": "claims-ai@example.com"} in props["Tags"]


def test_built_from_props_it_is_tagged_exactly_as_from_config():
    """Tags travel in the props, so a team that builds the guardrail itself gets the template YAML gives."""
    app = new_app()
    yaml_stack = cdk.Stack(app, "FromConfig", env=ENV)
    AgentGuardrail.from_config(yaml_stack, "Guardrail", context=context(yaml_stack), config=CONFIG)
    props_stack = cdk.Stack(app, "FromProps", env=ENV)
    tenant = context(props_stack)
    AgentGuardrail(
        props_stack,
        "Guardrail",
        props=AgentGuardrailProps(
            guardrail_name="claims-guardrail-dev",
            encryption_key=tenant.encryption_key,
            models=MODELS,
            policy=policy_from_config(CONFIG),
            description="Guardrail of claims agents (dev); model calls must name it",
            tags=tenant.tags,
        ),
    )
    from_props = Template.from_stack(props_stack)
    assert from_props.to_json() == Template.from_stack(yaml_stack).to_json()
    tags = [{"Key": k, "Value": v} for k, v in sorted(tenant.tags.items())]
    from_props.has_resource_properties("AWS::Bedrock::Guardrail", {"Tags": tags})


def test_every_content_category_filters_both_sides_at_the_config_strength(synth):
    filters = guardrail_props(synth.raw)["ContentPolicyConfig"]["FiltersConfig"]
    by_type = {f["Type"]: f for f in filters}
    assert set(by_type) == {*CONTENT_CATEGORIES, "PROMPT_ATTACK"}
    for category in CONTENT_CATEGORIES:
        assert by_type[category] == {"Type": category, "InputStrength": "MEDIUM", "OutputStrength": "MEDIUM"}
    # Prompt attacks are an input-side filter only.
    assert by_type["PROMPT_ATTACK"] == {"Type": "PROMPT_ATTACK", "InputStrength": "LOW", "OutputStrength": "NONE"}


def test_strength_none_leaves_those_filters_out():
    props = guardrail_props(synth_template(config=CONFIG.model_copy(update={"content_filter_strength": "NONE"})))
    assert [f["Type"] for f in props["ContentPolicyConfig"]["FiltersConfig"]] == ["PROMPT_ATTACK"]
    props = guardrail_props(
        synth_template(
            config=CONFIG.model_copy(update={"content_filter_strength": "NONE", "prompt_attack_strength": "NONE"})
        )
    )
    assert "ContentPolicyConfig" not in props


def test_denied_topics_are_deny_topics_with_their_examples(synth):
    topics = guardrail_props(synth.raw)["TopicPolicyConfig"]["TopicsConfig"]
    assert topics == [  # sorted by name: YAML order never re-publishes
        {"Name": "Investment advice", "Definition": TOPIC["definition"], "Type": "DENY", "Examples": TOPIC["examples"]},
        {"Name": "Legal advice", "Definition": "Opinions on how a court would decide", "Type": "DENY"},
    ]


def test_words_and_the_managed_profanity_list_are_blocked(synth):
    words = guardrail_props(synth.raw)["WordPolicyConfig"]
    assert words == {
        "WordsConfig": [{"Text": "competitorco"}, {"Text": "project falcon"}],
        "ManagedWordListsConfig": [{"Type": "PROFANITY"}],
    }
    props = guardrail_props(synth_template(config=CONFIG.model_copy(update={"profanity": False})))
    assert props["WordPolicyConfig"] == {"WordsConfig": [{"Text": "competitorco"}, {"Text": "project falcon"}]}
    props = guardrail_props(synth_template(config=CONFIG.model_copy(update={"profanity": False, "words": []})))
    assert "WordPolicyConfig" not in props


def test_pii_is_anonymized_or_blocked_per_type(synth):
    entities = guardrail_props(synth.raw)["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]
    assert {e["Type"]: e["Action"] for e in entities} == {
        "EMAIL": "ANONYMIZE",
        "NAME": "ANONYMIZE",
        "PASSWORD": "BLOCK",
        "US_SOCIAL_SECURITY_NUMBER": "BLOCK",
    }


def test_contextual_grounding_checks_grounding_and_relevance(synth):
    assert guardrail_props(synth.raw)["ContextualGroundingPolicyConfig"] == {
        "FiltersConfig": [
            {"Type": "GROUNDING", "Threshold": 0.8},
            {"Type": "RELEVANCE", "Threshold": 0.6},
        ]
    }
    assert "ContextualGroundingPolicyConfig" not in guardrail_props(
        synth_template(config=CONFIG.model_copy(update={"grounding": None}))
    )


def test_config_defaults_are_strict():
    props = guardrail_props(synth_template(config=GuardrailBlueprint()))
    assert {f["InputStrength"] for f in props["ContentPolicyConfig"]["FiltersConfig"]} == {"HIGH"}
    assert props["WordPolicyConfig"] == {"ManagedWordListsConfig": [{"Type": "PROFANITY"}]}
    assert {e["Action"] for e in props["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]} == {
        "ANONYMIZE",
        "BLOCK",
    }
    assert "TopicPolicyConfig" not in props and "ContextualGroundingPolicyConfig" not in props


def test_guardrail_is_encrypted_with_the_tenant_key(synth):
    synth.template.has_resource_properties(
        "AWS::Bedrock::Guardrail",
        {
            "KmsKeyArn": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
        },
    )


def test_a_version_is_published_with_the_policy_fingerprint(synth):
    guardrail_id, _ = the(synth.raw, "AWS::Bedrock::Guardrail")
    _, version = the(synth.raw, "AWS::Bedrock::GuardrailVersion")
    assert version["Properties"]["GuardrailIdentifier"] == {"Fn::GetAtt": [guardrail_id, "GuardrailId"]}
    assert re.fullmatch(r"claims-guardrail-dev policy [0-9a-f]{12}", version["Properties"]["Description"])


# ------------------------------------------------------------------ re-publishing


def fingerprint(policy: GuardrailPolicy) -> str:
    stack = cdk.Stack(new_app(), "Fingerprint", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/x", description="x").key
    return ModelGuardrail(stack, "G", name="g", policy=policy, encryption_key=key, description="d").fingerprint


BASE = policy_from_config(CONFIG)


@pytest.mark.parametrize(
    "change",
    [
        {
            "denied_topics": (
                replace(BASE.denied_topics[0], definition="Any opinion on securities"),
                *BASE.denied_topics[1:],
            )
        },
        {"denied_topics": (replace(BASE.denied_topics[0], examples=("Buy ACME?",)), *BASE.denied_topics[1:])},
        {"denied_topics": BASE.denied_topics[:1]},
        {"blocked_words": ("competitorco",)},
        {"profanity": False},
        {"grounding_threshold": 0.9},
        {"relevance_threshold": None},
        {"content_filter_strength": "NONE"},
        {"block_pii": ("PASSWORD",)},
    ],
)
def test_any_policy_change_republishes_the_version(change):
    assert fingerprint(replace(BASE, **change)) != fingerprint(BASE)


def test_reordering_config_lists_does_not_republish():
    reordered = replace(
        BASE,
        denied_topics=tuple(reversed(BASE.denied_topics)),
        blocked_words=tuple(reversed(BASE.blocked_words)),
        anonymize_pii=tuple(reversed(BASE.anonymize_pii)),
    )
    assert fingerprint(reordered) == fingerprint(BASE)


def test_fm_gateway_guardrail_fingerprint_is_unchanged():
    assert fingerprint(GuardrailPolicy()) == FM_GATEWAY_DEFAULT_FINGERPRINT
    snapshots = "".join(p.read_text() for p in (ROOT / "tests" / "__snapshots__").rglob("*SharedServices*"))
    assert f"fm-gateway-dev policy {FM_GATEWAY_DEFAULT_FINGERPRINT}" in snapshots


# ------------------------------------------------------------------ model access


def invoke_statements(raw: dict) -> list[dict]:
    out = []
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in resources(raw, kind).values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if any(
                    a.startswith("bedrock:InvokeModel") or a in ("bedrock:*", "*") for a in _list(statement["Action"])
                ):
                    out.append(statement)
    for role in resources(raw, "AWS::IAM::Role").values():
        assert "Policies" not in role["Properties"]
    return out


def test_models_are_invocable_only_with_this_guardrail_at_its_version(synth):
    guardrail_id, _ = the(synth.raw, "AWS::Bedrock::Guardrail")
    version_id, _ = the(synth.raw, "AWS::Bedrock::GuardrailVersion")
    versioned = {
        "Fn::Join": [":", [{"Fn::GetAtt": [guardrail_id, "GuardrailArn"]}, {"Fn::GetAtt": [version_id, "Version"]}]]
    }
    statements = invoke_statements(synth.raw)
    assert len(statements) == 2
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert sorted(_list(statement["Action"])) == sorted(MODEL_INVOKE_ACTIONS)
        assert statement["Condition"]["StringEquals"] == {"bedrock:GuardrailIdentifier": versioned}
    direct, behind = sorted(statements, key=lambda s: "StringLike" in s["Condition"])
    # Direct models and the profile: exactly the guardrail condition, nothing else.
    assert direct["Condition"] == {"StringEquals": {"bedrock:GuardrailIdentifier": versioned}}
    # The partition is a literal under cdk.json's enablePartitionLiterals; minimizePolicies sorts the resources.
    assert direct["Resource"] == [
        "arn:aws:bedrock:eu-west-1:111111111111:inference-profile/eu.anthropic.claude-sonnet-4-5-v1:0",
        "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-lite-v1:0",
    ]
    # The model behind the cross-region profile: any region, but only through the profile.
    assert "foundation-model/anthropic.claude-sonnet-4-5-v1:0" in json.dumps(behind["Resource"])
    assert set(behind["Condition"]) == {"StringEquals", "StringLike"}
    assert "inference-profile/eu.anthropic" in json.dumps(
        behind["Condition"]["StringLike"]["bedrock:InferenceProfileArn"]
    )


def test_agent_may_apply_and_read_the_guardrail_and_decrypt_through_bedrock(synth):
    guardrail_id, _ = the(synth.raw, "AWS::Bedrock::Guardrail")
    (policy,) = resources(synth.raw, "AWS::IAM::Policy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (apply,) = [s for s in statements if "bedrock:ApplyGuardrail" in _list(s["Action"])]
    assert sorted(apply["Action"]) == ["bedrock:ApplyGuardrail", "bedrock:GetGuardrail"]
    assert apply["Resource"] == {"Fn::GetAtt": [guardrail_id, "GuardrailArn"]} and "Condition" not in apply
    (decrypt,) = [s for s in statements if s["Action"] == "kms:Decrypt"]
    assert decrypt["Resource"]["Fn::GetAtt"][0].startswith("Key")
    assert "bedrock.eu-west-1." in json.dumps(decrypt["Condition"]["StringEquals"]["kms:ViaService"])
    assert {a for s in statements for a in _list(s["Action"])} == {
        *MODEL_INVOKE_ACTIONS,
        "bedrock:ApplyGuardrail",
        "bedrock:GetGuardrail",
        "kms:Decrypt",
    }


def test_attach_returns_the_guardrail_id_and_version(built):
    synth, env = built
    guardrail_id, _ = the(synth.raw, "AWS::Bedrock::Guardrail")
    version_id, _ = the(synth.raw, "AWS::Bedrock::GuardrailVersion")
    assert env == {
        ENV_GUARDRAIL_ID: {"Fn::GetAtt": [guardrail_id, "GuardrailId"]},
        ENV_GUARDRAIL_VERSION: {"Fn::GetAtt": [version_id, "Version"]},
    }
    assert (ENV_GUARDRAIL_ID, ENV_GUARDRAIL_VERSION) == ("AGENTZONE_GUARDRAIL_ID", "AGENTZONE_GUARDRAIL_VERSION")


def test_metrics_are_for_the_published_version():
    stack = cdk.Stack(new_app(), "Metrics", env=ENV)
    guardrail = AgentGuardrail.from_config(stack, "Guardrail", context=context(stack), config=CONFIG)
    metric = guardrail.metric_invocations_intervened()
    assert (metric.namespace, metric.metric_name, metric.statistic) == (
        "AWS/Bedrock/Guardrails",
        "InvocationsIntervened",
        "Sum",
    )
    assert set(stack.resolve(metric.dimensions)) == {"GuardrailArn", "GuardrailVersion"}
    assert stack.resolve(metric.dimensions)["GuardrailVersion"] == stack.resolve(guardrail.version)
    assert guardrail.metric_invocation_latency().metric_name == "InvocationLatency"
    assert guardrail.metric_text_units(period=cdk.Duration.hours(1)).period.to_seconds() == 3600


# ------------------------------------------------------------------ gates


def test_nag_passed_with_narrow_acknowledgements(synth):
    acks = synth.acknowledgements()
    assert {a.path for a in acks} == {f"/{STACK}/AgentRole/DefaultPolicy"}
    mine = {a.finding for a in acks if a.pack == "AwsSolutions"}
    # Only the model behind the cross-region profile is a wildcard (its regions).
    assert mine == {"AwsSolutions-IAM5[Resource::arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-v1:0]"}


def test_cfn_lint_is_clean(synth):
    result = run_cfn_lint([synth.path])
    assert result.errors == [], result.render()


@pytest.mark.parametrize(
    "policy, message",
    [
        (GuardrailPolicy(anonymize_pii=("EMAIL",), block_pii=("EMAIL",)), "both anonymized and blocked"),
        (GuardrailPolicy(content_filter_strength="EXTREME"), "content_filter_strength 'EXTREME'"),
        (GuardrailPolicy(grounding_threshold=1.0), "grounding_threshold 1.0"),
        (GuardrailPolicy(denied_topics=(GuardrailTopic("a", "b"), GuardrailTopic("a", "c"))), "more than once"),
        (
            GuardrailPolicy(content_filter_strength="NONE", prompt_attack_strength="NONE", anonymize_pii=()),
            "would filter nothing",
        ),
    ],
)
def test_bad_policies_fail_synth(policy, message):
    with pytest.raises(ValueError, match=message):
        synth_template(policy=policy)


def test_granting_models_needs_models():
    stack = cdk.Stack(new_app(), "NoModels", env=ENV)
    guardrail = AgentGuardrail.from_config(stack, "Guardrail", context=context(stack, models=()), config=CONFIG)
    with pytest.raises(ValueError, match="no models"):
        guardrail.attach_to_agent(agent_role(stack))
