"""Guardrail blueprint: the tenant's Bedrock guardrail, and model access that only works with it.

The organization's SCP denies model calls that name no guardrail; this
blueprint goes further for the agent: its role may invoke the tenant's models
only when the call names *this* guardrail at its published version (IAM
condition ``bedrock:GuardrailIdentifier`` = ``<guardrail ARN>:<version>``).
Any policy change re-publishes the version and moves the condition with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct

from ..config.model import GuardrailBlueprint
from ..constructs.fm_gateway import bedrock_resources
from ..constructs.guardrail import GuardrailPolicy, GuardrailTopic, ModelGuardrail
from ..nag import acknowledge
from ..organization_policies import MODEL_INVOKE_ACTIONS
from .context import BlueprintContext
from .registry import OFFERED, Attach, BlueprintSpec

METRIC_NAMESPACE = "AWS/Bedrock/Guardrails"
ENV_GUARDRAIL_ID = "AGENTZONE_GUARDRAIL_ID"
ENV_GUARDRAIL_VERSION = "AGENTZONE_GUARDRAIL_VERSION"


def policy_from_config(config: GuardrailBlueprint, tags: dict[str, str] | None = None) -> GuardrailPolicy:
    """The construct-level policy for a tenant's ``blueprints.guardrail`` block."""
    return GuardrailPolicy(
        content_filter_strength=config.content_filter_strength,
        prompt_attack_strength=config.prompt_attack_strength,
        anonymize_pii=tuple(config.pii.anonymize),
        block_pii=tuple(config.pii.block),
        blocked_message=config.blocked_message,
        tags=dict(tags or {}),
        denied_topics=tuple(
            GuardrailTopic(t.name, t.definition, tuple(sorted(t.examples))) for t in config.denied_topics
        ),
        blocked_words=tuple(config.words),
        profanity=config.profanity,
        grounding_threshold=config.grounding.grounding if config.grounding else None,
        relevance_threshold=config.grounding.relevance if config.grounding else None,
    )


@dataclass(frozen=True)
class AgentGuardrailProps:
    """``models`` are the Bedrock model or cross-region inference profile ids agents may call through the guardrail.

    ``tags`` go on the guardrail, with the policy's own ``tags``.
    """

    guardrail_name: str
    encryption_key: kms.IKey
    models: tuple[str, ...] = ()
    policy: GuardrailPolicy = field(default_factory=lambda: policy_from_config(GuardrailBlueprint()))
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


class AgentGuardrail(Construct):
    """A CMK-encrypted Bedrock guardrail with a published version, and the grants that make agents use it.

    Usable from a tenant YAML file (``blueprints: {guardrail: {...}}``) or directly::

        guardrail = AgentGuardrail(stack, "Guardrail", props=AgentGuardrailProps(
            guardrail_name="claims-guardrail-dev", encryption_key=key, models=("amazon.nova-lite-v1:0",)))
        env = guardrail.attach_to_agent(runtime_role)  # AGENTZONE_GUARDRAIL_ID / _VERSION

    The grantee may invoke ``models`` only when the call names this guardrail
    (``guardrailIdentifier``) at :attr:`version` (``guardrailVersion``); IAM
    denies any other call. Converse and ConverseStream are authorized as
    InvokeModel and InvokeModelWithResponseStream, so they are covered too.
    """

    REGISTRY_NAME = "guardrail"

    def __init__(self, scope: Construct, construct_id: str, *, props: AgentGuardrailProps) -> None:
        super().__init__(scope, construct_id)
        self.models = tuple(dict.fromkeys(props.models))
        self.encryption_key = props.encryption_key
        self.model_guardrail = ModelGuardrail(
            self,
            "Guardrail",
            name=props.guardrail_name,
            policy=replace(props.policy, tags={**props.policy.tags, **props.tags}),
            encryption_key=props.encryption_key,
            description=props.description
            or f"Guardrail {props.guardrail_name}: every model call of its agents names it",
        )

    @classmethod
    def from_config(
        cls, scope: Construct, construct_id: str, *, context: BlueprintContext, config: GuardrailBlueprint
    ) -> AgentGuardrail:
        return cls(
            scope,
            construct_id,
            props=AgentGuardrailProps(
                guardrail_name=context.resource_name("guardrail"),
                encryption_key=context.encryption_key,
                models=tuple(context.models),
                policy=policy_from_config(config),
                description=f"Guardrail of {context.tenant} agents ({context.environment}); model calls must name it",
                tags=context.tags,
            ),
        )

    # ------------------------------------------------------------ attributes

    @property
    def guardrail_id(self) -> str:
        return self.model_guardrail.guardrail_id

    @property
    def guardrail_arn(self) -> str:
        """The guardrail's ARN without a version (the IAM resource for ApplyGuardrail / GetGuardrail)."""
        return self.model_guardrail.guardrail_arn

    @property
    def version(self) -> str:
        """The published version number agents must pass as ``guardrailVersion``."""
        return self.model_guardrail.version

    @property
    def versioned_arn(self) -> str:
        """``<guardrail ARN>:<version>``, the value IAM sees in ``bedrock:GuardrailIdentifier``."""
        return self.model_guardrail.versioned_arn

    @property
    def fingerprint(self) -> str:
        """Hash of the policy; it changes (and the version is re-published) whenever the policy does."""
        return self.model_guardrail.fingerprint

    # ---------------------------------------------------------------- grants

    def grant_apply(self, grantee: iam.IGrantable) -> iam.Grant:
        """ApplyGuardrail / GetGuardrail on this guardrail, and kms:Decrypt of its key through Bedrock."""
        return self.model_guardrail.grant_apply(grantee)

    def grant_invoke_models(self, grantee: iam.IGrantable) -> iam.Grant:
        """Invoke (and Converse with) the models, only with this guardrail at its published version.

        Direct model ids are granted in this region; a cross-region profile id
        grants the profile in this account and region, and its model in any
        region only through that profile. Every statement carries the
        ``bedrock:GuardrailIdentifier`` condition; nothing is granted without it.
        """
        if not self.models:
            raise ValueError(f"guardrail {self.node.path}: no models to grant; set AgentGuardrailProps.models")
        stack = cdk.Stack.of(self)
        arns = bedrock_resources(self.models, partition=stack.partition, region=stack.region, account=stack.account)
        with_guardrail = {"bedrock:GuardrailIdentifier": self.versioned_arn}
        grant = self.grant_apply(grantee)
        direct = [*arns.foundation_models, *arns.inference_profiles]
        if direct:
            grant = grant.combine(
                iam.Grant.add_to_principal(
                    grantee=grantee,
                    actions=MODEL_INVOKE_ACTIONS,
                    resource_arns=direct,
                    conditions={"StringEquals": with_guardrail},
                )
            )
        if arns.profile_models:
            grant = grant.combine(
                iam.Grant.add_to_principal(
                    grantee=grantee,
                    actions=MODEL_INVOKE_ACTIONS,
                    resource_arns=list(arns.profile_models),
                    conditions={
                        "StringEquals": with_guardrail,
                        "StringLike": {"bedrock:InferenceProfileArn": list(arns.inference_profiles)},
                    },
                )
            )
            self._acknowledge_profile_models(grantee, arns.profile_models)
        return grant

    def attach_to_agent(self, grantee: iam.IGrantable) -> dict[str, str]:
        """Grant :meth:`grant_invoke_models` and return ``AGENTZONE_GUARDRAIL_ID`` / ``AGENTZONE_GUARDRAIL_VERSION``."""
        self.grant_invoke_models(grantee)
        return {ENV_GUARDRAIL_ID: self.guardrail_id, ENV_GUARDRAIL_VERSION: self.version}

    def _acknowledge_profile_models(self, grantee: iam.IGrantable, models: tuple[str, ...]) -> None:
        policy = _principal_policy(grantee)
        if policy is None:
            return
        for arn in models:
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::{_nag(arn)}]",
                "A cross-region inference profile may route to this model in any region of its geography; the "
                "statement applies only through this account's profile (bedrock:InferenceProfileArn) and only with "
                "the tenant guardrail at its published version (bedrock:GuardrailIdentifier).",
            )

    # --------------------------------------------------------------- metrics

    def metric(self, metric_name: str, **kwargs) -> cloudwatch.Metric:
        """A metric of this guardrail's published version in ``AWS/Bedrock/Guardrails`` (default: 5-minute Sum)."""
        props = {"statistic": "Sum", "period": cdk.Duration.minutes(5), **kwargs}
        return cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"GuardrailArn": self.guardrail_arn, "GuardrailVersion": self.version},
            **props,
        )

    def metric_invocations(self, **kwargs) -> cloudwatch.Metric:
        return self.metric("Invocations", **kwargs)

    def metric_invocations_intervened(self, **kwargs) -> cloudwatch.Metric:
        """Calls the guardrail blocked or masked."""
        return self.metric("InvocationsIntervened", **kwargs)

    def metric_invocation_latency(self, **kwargs) -> cloudwatch.Metric:
        return self.metric("InvocationLatency", **{"statistic": "p90", **kwargs})

    def metric_client_errors(self, **kwargs) -> cloudwatch.Metric:
        return self.metric("InvocationClientErrors", **kwargs)

    def metric_server_errors(self, **kwargs) -> cloudwatch.Metric:
        return self.metric("InvocationServerErrors", **kwargs)

    def metric_throttles(self, **kwargs) -> cloudwatch.Metric:
        return self.metric("InvocationThrottles", **kwargs)

    def metric_text_units(self, **kwargs) -> cloudwatch.Metric:
        """Text units the guardrail's policies consumed (what guardrails are billed by)."""
        return self.metric("TextUnitCount", **kwargs)


def _principal_policy(grantee: iam.IGrantable) -> IConstruct | None:
    """The policy construct a grant to ``grantee`` lands in (a role's DefaultPolicy), for acknowledgements."""
    principal = grantee.grant_principal
    if not isinstance(principal, Construct):
        return None
    for child in ("DefaultPolicy", "Policy"):
        found = principal.node.try_find_child(child)
        if found is not None:
            return found
    return principal


def _nag(arn: str) -> str:
    """An ARN as cdk-nag prints it in finding ids (an unresolved partition as <AWS::Partition>)."""
    return re.sub(r"\$\{Token\[AWS\.Partition\.\d+\]\}", "<AWS::Partition>", arn)


# ------------------------------------------------------------------ registry

SPEC = BlueprintSpec(
    construct=AgentGuardrail,
    config=GuardrailBlueprint,
    construct_id="Guardrail",
    title="Bedrock guardrail, enforced in IAM",
    summary="Bedrock guardrail + published version; model calls allowed only with it",
    docs="blueprint-guardrail.md",
    to_agents=Attach.EVERY_AGENT,
    catalog=OFFERED,
)
