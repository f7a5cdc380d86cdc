"""A Bedrock guardrail with a published version, so callers pin an immutable snapshot."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# Harmful-content categories Bedrock filters; PROMPT_ATTACK is configured separately (input only).
CONTENT_CATEGORIES = ("HATE", "INSULTS", "MISCONDUCT", "SEXUAL", "VIOLENCE")
FILTER_STRENGTHS = ("NONE", "LOW", "MEDIUM", "HIGH")
MAX_GROUNDING_THRESHOLD = 0.99  # Bedrock rejects 1.0: nothing could pass


@dataclass(frozen=True)
class GuardrailTopic:
    """A denied topic: prompts and answers about it are blocked. ``examples`` are sample prompts (up to 5)."""

    name: str
    definition: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuardrailPolicy:
    """What the guardrail filters. Defaults are the strictest settings that still let agents work.

    A strength of ``NONE`` leaves those categories out of the content policy
    (no filter). ``denied_topics``, ``blocked_words``, ``profanity`` and the
    grounding thresholds are off unless set.
    """

    content_filter_strength: str = "HIGH"
    prompt_attack_strength: str = "HIGH"
    anonymize_pii: tuple[str, ...] = ("EMAIL", "PHONE", "CREDIT_DEBIT_CARD_NUMBER", "AWS_SECRET_KEY")
    block_pii: tuple[str, ...] = ()
    blocked_message: str = "This request was blocked by the organization's AI usage policy."
    tags: dict[str, str] = field(default_factory=dict)
    denied_topics: tuple[GuardrailTopic, ...] = ()
    blocked_words: tuple[str, ...] = ()
    profanity: bool = False
    grounding_threshold: float | None = None
    relevance_threshold: float | None = None

    def problems(self) -> list[str]:
        """Everything Bedrock would reject (or that would make the guardrail a no-op), all at once."""
        problems = []
        for label, strength in (
            ("content_filter_strength", self.content_filter_strength),
            ("prompt_attack_strength", self.prompt_attack_strength),
        ):
            if strength not in FILTER_STRENGTHS:
                problems.append(f"{label} {strength!r}: one of {', '.join(FILTER_STRENGTHS)}")
        both = sorted(set(self.anonymize_pii) & set(self.block_pii))
        if both:
            problems.append(f"PII types {both} are both anonymized and blocked; choose one action per type")
        names = [topic.name for topic in self.denied_topics]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            problems.append(f"denied topics {repeated} appear more than once")
        for topic in self.denied_topics:
            if len(topic.examples) > 5:
                problems.append(f"denied topic {topic.name!r}: at most 5 examples (got {len(topic.examples)})")
        for label, threshold in (
            ("grounding_threshold", self.grounding_threshold),
            ("relevance_threshold", self.relevance_threshold),
        ):
            if threshold is not None and not 0 <= threshold <= MAX_GROUNDING_THRESHOLD:
                problems.append(f"{label} {threshold}: between 0 and {MAX_GROUNDING_THRESHOLD}")
        if not problems and not any(
            (
                self.content_filter_strength != "NONE",
                self.prompt_attack_strength != "NONE",
                self.anonymize_pii,
                self.block_pii,
                self.denied_topics,
                self.blocked_words,
                self.profanity,
                self.grounding_threshold is not None,
                self.relevance_threshold is not None,
            )
        ):
            problems.append(
                "the guardrail would filter nothing: set a filter strength, PII, topics, words or grounding"
            )
        return problems


def _content_filters(policy: GuardrailPolicy) -> list[bedrock.CfnGuardrail.ContentFilterConfigProperty]:
    filters = []
    if policy.content_filter_strength != "NONE":
        filters += [
            bedrock.CfnGuardrail.ContentFilterConfigProperty(
                type=category,
                input_strength=policy.content_filter_strength,
                output_strength=policy.content_filter_strength,
            )
            for category in CONTENT_CATEGORIES
        ]
    # Prompt attacks only exist on the input side; Bedrock requires NONE for output.
    if policy.prompt_attack_strength != "NONE":
        filters.append(
            bedrock.CfnGuardrail.ContentFilterConfigProperty(
                type="PROMPT_ATTACK", input_strength=policy.prompt_attack_strength, output_strength="NONE"
            )
        )
    return filters


def _pii_entities(policy: GuardrailPolicy) -> list[dict[str, str]]:
    pii = [{"type": t, "action": "ANONYMIZE"} for t in sorted(policy.anonymize_pii)]
    return pii + [{"type": t, "action": "BLOCK"} for t in sorted(policy.block_pii)]


def _grounding(policy: GuardrailPolicy) -> list[tuple[str, float]]:
    return [
        (kind, threshold)
        for kind, threshold in (("GROUNDING", policy.grounding_threshold), ("RELEVANCE", policy.relevance_threshold))
        if threshold is not None
    ]


def _pii_policy(
    pii: list[dict[str, str]],
) -> bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty | None:
    if not pii:
        return None
    return bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty(
        pii_entities_config=[
            bedrock.CfnGuardrail.PiiEntityConfigProperty(type=p["type"], action=p["action"]) for p in pii
        ]
    )


def _topic_policy(topics: list[GuardrailTopic]) -> bedrock.CfnGuardrail.TopicPolicyConfigProperty | None:
    if not topics:
        return None
    return bedrock.CfnGuardrail.TopicPolicyConfigProperty(
        topics_config=[
            bedrock.CfnGuardrail.TopicConfigProperty(
                name=topic.name, definition=topic.definition, type="DENY", examples=list(topic.examples) or None
            )
            for topic in topics
        ]
    )


def _word_policy(words: list[str], profanity: bool) -> bedrock.CfnGuardrail.WordPolicyConfigProperty | None:
    if not (words or profanity):
        return None
    return bedrock.CfnGuardrail.WordPolicyConfigProperty(
        words_config=[bedrock.CfnGuardrail.WordConfigProperty(text=word) for word in words] or None,
        managed_word_lists_config=(
            [bedrock.CfnGuardrail.ManagedWordsConfigProperty(type="PROFANITY")] if profanity else None
        ),
    )


def _grounding_policy(
    grounding: list[tuple[str, float]],
) -> bedrock.CfnGuardrail.ContextualGroundingPolicyConfigProperty | None:
    if not grounding:
        return None
    return bedrock.CfnGuardrail.ContextualGroundingPolicyConfigProperty(
        filters_config=[
            bedrock.CfnGuardrail.ContextualGroundingFilterConfigProperty(type=kind, threshold=threshold)
            for kind, threshold in grounding
        ]
    )


def _fingerprint(policy: GuardrailPolicy) -> str:
    """Hash of what the published version snapshots (tags are not part of it)."""
    fingerprinted: dict = {
        "filters": [(f.type, f.input_strength, f.output_strength) for f in _content_filters(policy)],
        "pii": _pii_entities(policy),
        "message": policy.blocked_message,
    }
    # Newer policy parts join the hash only when set: existing guardrails keep their fingerprint.
    topics = sorted(policy.denied_topics, key=lambda topic: topic.name)
    if topics:
        fingerprinted["topics"] = [(t.name, t.definition, list(t.examples)) for t in topics]
    words = sorted(set(policy.blocked_words))
    if words:
        fingerprinted["words"] = words
    if policy.profanity:
        fingerprinted["profanity"] = True
    grounding = _grounding(policy)
    if grounding:
        fingerprinted["grounding"] = grounding
    return hashlib.sha256(json.dumps(fingerprinted, sort_keys=True).encode()).hexdigest()[:12]


class ModelGuardrail(Construct):
    """``CfnGuardrail`` plus a ``CfnGuardrailVersion`` that is re-published whenever the policy changes.

    The version's description carries a hash of the policy, so any change
    replaces the version resource and callers pinned to :attr:`version` move
    to the new snapshot in the same deployment. Policy parts that are not set
    stay out of the hash, so adding a feature never re-publishes a guardrail
    that does not use it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        policy: GuardrailPolicy,
        encryption_key: kms.IKey,
        description: str,
    ) -> None:
        super().__init__(scope, construct_id)
        problems = policy.problems()
        if problems:
            raise ValueError(f"guardrail {name}: " + "; ".join(problems))
        filters = _content_filters(policy)
        # Lists are sorted, so reordering them in config never changes the template or re-publishes the version.
        self.guardrail = bedrock.CfnGuardrail(
            self,
            "Guardrail",
            name=name,
            description=description,
            blocked_input_messaging=policy.blocked_message,
            blocked_outputs_messaging=policy.blocked_message,
            content_policy_config=(
                bedrock.CfnGuardrail.ContentPolicyConfigProperty(filters_config=filters) if filters else None
            ),
            sensitive_information_policy_config=_pii_policy(_pii_entities(policy)),
            topic_policy_config=_topic_policy(sorted(policy.denied_topics, key=lambda topic: topic.name)),
            word_policy_config=_word_policy(sorted(set(policy.blocked_words)), policy.profanity),
            contextual_grounding_policy_config=_grounding_policy(_grounding(policy)),
            kms_key_arn=encryption_key.key_arn,
            tags=[cdk.CfnTag(key=k, value=v) for k, v in sorted(policy.tags.items())] or None,
        )
        self.fingerprint = _fingerprint(policy)
        self.published = bedrock.CfnGuardrailVersion(
            self,
            "Version",
            guardrail_identifier=self.guardrail.attr_guardrail_id,
            description=f"{name} policy {self.fingerprint}",
        )
        self.encryption_key = encryption_key

    @property
    def guardrail_id(self) -> str:
        return self.guardrail.attr_guardrail_id

    @property
    def guardrail_arn(self) -> str:
        return self.guardrail.attr_guardrail_arn

    @property
    def version(self) -> str:
        return self.published.attr_version

    @property
    def versioned_arn(self) -> str:
        """``<guardrail ARN>:<version>``: the value of the ``bedrock:GuardrailIdentifier`` condition key."""
        return cdk.Fn.join(":", [self.guardrail_arn, self.version])

    def grant_apply(self, grantee: iam.IGrantable) -> iam.Grant:
        """Apply the guardrail (ApplyGuardrail, or InvokeModel with it), decrypting its configuration with the key.

        The key grant holds only for calls Bedrock makes on the caller's behalf (``kms:ViaService``).
        """
        stack = cdk.Stack.of(self)
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["bedrock:ApplyGuardrail", "bedrock:GetGuardrail"],
            resource_arns=[self.guardrail_arn],
        )
        return grant.combine(
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["kms:Decrypt"],
                resource_arns=[self.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"bedrock.{stack.region}.{stack.url_suffix}"}},
            )
        )
