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


@dataclass(frozen=True)
class GuardrailPolicy:
    """What the guardrail filters. Defaults are the strictest settings that still let agents work."""

    content_filter_strength: str = "HIGH"
    prompt_attack_strength: str = "HIGH"
    anonymize_pii: tuple[str, ...] = ("EMAIL", "PHONE", "CREDIT_DEBIT_CARD_NUMBER", "AWS_SECRET_KEY")
    block_pii: tuple[str, ...] = ()
    blocked_message: str = "This request was blocked by the organization's AI usage policy."
    tags: dict[str, str] = field(default_factory=dict)


class ModelGuardrail(Construct):
    """``CfnGuardrail`` plus a ``CfnGuardrailVersion`` that is re-published whenever the policy changes.

    The version's description carries a hash of the policy, so any change
    replaces the version resource and callers pinned to :attr:`version` move
    to the new snapshot in the same deployment.
    """

    def __init__(self, scope: Construct, construct_id: str, *, name: str, policy: GuardrailPolicy, encryption_key: kms.IKey, description: str) -> None:
        super().__init__(scope, construct_id)
        pii = [{"type": t, "action": "ANONYMIZE"} for t in sorted(policy.anonymize_pii)]
        pii += [{"type": t, "action": "BLOCK"} for t in sorted(policy.block_pii)]
        filters = [
            bedrock.CfnGuardrail.ContentFilterConfigProperty(
                type=category, input_strength=policy.content_filter_strength, output_strength=policy.content_filter_strength
            )
            for category in CONTENT_CATEGORIES
        ]
        # Prompt attacks only exist on the input side; Bedrock requires NONE for output.
        filters.append(
            bedrock.CfnGuardrail.ContentFilterConfigProperty(
                type="PROMPT_ATTACK", input_strength=policy.prompt_attack_strength, output_strength="NONE"
            )
        )
        self.guardrail = bedrock.CfnGuardrail(
            self,
            "Guardrail",
            name=name,
            description=description,
            blocked_input_messaging=policy.blocked_message,
            blocked_outputs_messaging=policy.blocked_message,
            content_policy_config=bedrock.CfnGuardrail.ContentPolicyConfigProperty(filters_config=filters),
            sensitive_information_policy_config=(
                bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty(
                    pii_entities_config=[bedrock.CfnGuardrail.PiiEntityConfigProperty(type=p["type"], action=p["action"]) for p in pii]
                )
                if pii
                else None
            ),
            kms_key_arn=encryption_key.key_arn,
            tags=[cdk.CfnTag(key=k, value=v) for k, v in sorted(policy.tags.items())] or None,
        )
        fingerprint = hashlib.sha256(
            json.dumps({"filters": [(f.type, f.input_strength, f.output_strength) for f in filters], "pii": pii,
                        "message": policy.blocked_message}, sort_keys=True).encode()
        ).hexdigest()[:12]
        self.published = bedrock.CfnGuardrailVersion(
            self, "Version", guardrail_identifier=self.guardrail.attr_guardrail_id, description=f"{name} policy {fingerprint}"
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

    def grant_apply(self, grantee: iam.IGrantable) -> None:
        """Apply the guardrail (ApplyGuardrail, or InvokeModel with it), decrypting its configuration with the key."""
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["bedrock:ApplyGuardrail", "bedrock:GetGuardrail"], resource_arns=[self.guardrail_arn]
        )
        self.encryption_key.grant_decrypt(grantee)
