"""Prompt store blueprint: Bedrock Prompt Management, one immutable version per served label.

Each prompt's text versions are files under the config directory, named by a
label; each environment names the label it serves::

    prompt_store:
      triage:
        model: anthropic.claude-sonnet-4-5-v1:0
        versions: {"2": prompts/triage-v2.txt, "3": prompts/triage-v3.txt}
        environments: {dev: "3", staging: "3", prod: "2"}

Promotion is a one-line change (``prod: "3"``): the prompt's draft takes the
new text and a new ``CfnPromptVersion`` (its construct id derives from the
label) is published; the previous version resource is retained, so a rollback
target stays readable. Agents get the version ARN in ``AGENTZONE_PROMPT_<NAME>``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..config.model import PromptBlueprint, tenant_model_problem
from ..naming import pascal
from .context import BlueprintContext, retain, tag_map
from .registry import Attach, BlueprintSpec, not_offered

VARIANT = "default"
MAX_VARIABLES = 20  # Bedrock: input variables per text template
_VARIABLE = re.compile(r"\{\{([^{}]*)\}\}")
_VARIABLE_NAME = re.compile(r"^([0-9a-zA-Z][_-]?){1,100}$")
_PROMPT_NAME = re.compile(r"^([0-9a-zA-Z][_-]?){1,100}$")


def template_variables(text: str, *, source: str = "prompt") -> tuple[str, ...]:
    """Input variable names marked ``{{name}}`` in a template, in order of first use."""
    names = [match.group(1) for match in _VARIABLE.finditer(text)]
    bad = sorted({name for name in names if not _VARIABLE_NAME.match(name)})
    if bad:
        raise ValueError(
            f"{source}: variables {bad} are not valid names; write {{{{name}}}} with letters, digits, _ or -"
        )
    variables = tuple(dict.fromkeys(names))
    if len(variables) > MAX_VARIABLES:
        raise ValueError(f"{source}: {len(variables)} variables; Bedrock allows at most {MAX_VARIABLES}")
    return variables


def env_var_name(name: str) -> str:
    """``AGENTZONE_PROMPT_<NAME>`` in upper snake case (``claim-triage`` -> ``AGENTZONE_PROMPT_CLAIM_TRIAGE``)."""
    return "AGENTZONE_PROMPT_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


@dataclass(frozen=True)
class PromptDefinition:
    """One prompt as served in this environment: its text is the file behind ``label``."""

    name: str  # the config key; decides the construct id and the environment variable
    prompt_name: str  # the Bedrock prompt name
    label: str
    text: str
    model: str
    temperature: float = 0.2
    max_tokens: int = 1024
    description: str | None = None

    @property
    def content_hash(self) -> str:
        """Hash of everything the published version snapshots (text, model, inference settings)."""
        content = {
            "text": self.text,
            "model": self.model,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class PromptStoreProps:
    encryption_key: kms.IKey
    prompts: tuple[PromptDefinition, ...]
    tags: dict[str, str] = field(default_factory=dict)


def _variant(definition: PromptDefinition, variables: tuple[str, ...]) -> bedrock.CfnPrompt.PromptVariantProperty:
    """The prompt's one text variant: its template, model and inference settings."""
    return bedrock.CfnPrompt.PromptVariantProperty(
        name=VARIANT,
        template_type="TEXT",
        model_id=definition.model,
        inference_configuration=bedrock.CfnPrompt.PromptInferenceConfigurationProperty(
            text=bedrock.CfnPrompt.PromptModelInferenceConfigurationProperty(
                temperature=definition.temperature, max_tokens=definition.max_tokens
            )
        ),
        template_configuration=bedrock.CfnPrompt.PromptTemplateConfigurationProperty(
            text=bedrock.CfnPrompt.TextPromptTemplateConfigurationProperty(
                text=definition.text,
                input_variables=[bedrock.CfnPrompt.PromptInputVariableProperty(name=v) for v in variables] or None,
            )
        ),
    )


class ManagedPrompt(Construct):
    """One prompt: its ``CfnPrompt`` (draft) and the ``CfnPromptVersion`` of the label this environment serves."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        definition: PromptDefinition,
        encryption_key: kms.IKey,
        tags: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        if not _PROMPT_NAME.match(definition.prompt_name):
            raise ValueError(
                f"prompt name {definition.prompt_name!r}: letters and digits, single _ or - between them, at most 100"
            )
        if not definition.text.strip():
            raise ValueError(f"prompt {definition.name} version {definition.label}: the template text is empty")
        self.name = definition.name
        self.label = definition.label
        self.content_hash = definition.content_hash
        self.variables = template_variables(
            definition.text, source=f"prompt {definition.name} version {definition.label}"
        )
        self.prompt = bedrock.CfnPrompt(
            self,
            "Prompt",
            name=definition.prompt_name,
            description=definition.description,
            customer_encryption_key_arn=encryption_key.key_arn,
            default_variant=VARIANT,
            variants=[_variant(definition, self.variables)],
            tags=tag_map(tags) or None,
        )
        # Deleting a prompt deletes all its versions: keep it, or the retained versions would go with it.
        retain(self.prompt)
        # The id follows the label: promoting another label publishes a new version resource. The
        # description (create-only) carries the content hash, so new text under the same label
        # re-publishes too. Either way the previous version is retained, never deleted.
        self.published = bedrock.CfnPromptVersion(
            self,
            f"Version-{definition.label}",
            prompt_arn=self.prompt.attr_arn,
            description=f"label {definition.label} sha256:{self.content_hash}",
        )
        retain(self.published)

    @property
    def prompt_arn(self) -> str:
        return self.prompt.attr_arn

    @property
    def prompt_id(self) -> str:
        return self.prompt.attr_id

    @property
    def version_arn(self) -> str:
        """``arn:...:prompt/<id>:<version>``: what agents pass to GetPrompt (or as a Converse model id)."""
        return self.published.attr_arn

    @property
    def version(self) -> str:
        return self.published.attr_version

    @property
    def env_var(self) -> str:
        return env_var_name(self.name)


class PromptStore(Construct):
    """CMK-encrypted Bedrock managed prompts, each serving one immutable version per environment.

    Usable from a tenant YAML file (``blueprints: {prompt_store: {...}}``) or directly::

        store = PromptStore(stack, "Prompts", props=PromptStoreProps(encryption_key=key, prompts=(
            PromptDefinition(name="triage", prompt_name="claims-triage-dev", label="3", text=text, model=model),)))
        store.prompt("triage").version_arn
        env = store.attach_to_agent(runtime_role)  # AGENTZONE_PROMPT_TRIAGE
    """

    REGISTRY_NAME = "prompt_store"

    def __init__(self, scope: Construct, construct_id: str, *, props: PromptStoreProps) -> None:
        super().__init__(scope, construct_id)
        if not props.prompts:
            raise ValueError("a prompt store needs at least one prompt")
        names = [p.name for p in props.prompts]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"prompts {repeated} are defined more than once")
        variables = [env_var_name(n) for n in names]
        clashing = sorted({n for n, v in zip(names, variables, strict=True) if variables.count(v) > 1})
        if clashing:
            raise ValueError(f"prompts {clashing} map to the same environment variable; rename one")
        self.encryption_key = props.encryption_key
        self._allow_bedrock_to_use_key()
        # Sorted so reordering the YAML mapping never changes the template.
        self._prompts = {
            p.name: ManagedPrompt(
                self, pascal(p.name), definition=p, encryption_key=props.encryption_key, tags=props.tags
            )
            for p in sorted(props.prompts, key=lambda p: p.name)
        }

    @classmethod
    def from_config(
        cls, scope: Construct, construct_id: str, *, context: BlueprintContext, config: Mapping[str, PromptBlueprint]
    ) -> PromptStore:
        definitions = []
        for name, prompt in sorted(config.items()):
            label = prompt.environments.get(context.environment)
            if label is None:
                raise ValueError(
                    f"prompt_store.{name}: no version for environment {context.environment!r}; "
                    f"add it under environments (has: {', '.join(sorted(prompt.environments)) or 'none'})"
                )
            if label not in prompt.versions:
                raise ValueError(
                    f"prompt_store.{name}.environments.{context.environment}: version {label!r} is not under versions "
                    f"(has: {', '.join(sorted(prompt.versions))})"
                )
            if context.models and (problem := tenant_model_problem(prompt.model, context.models)):
                raise ValueError(f"prompt_store.{name}.model: {problem}")
            definitions.append(
                PromptDefinition(
                    name=name,
                    prompt_name=context.resource_name(name),
                    label=label,
                    text=context.read_file(prompt.versions[label]),
                    model=prompt.model,
                    temperature=prompt.temperature,
                    max_tokens=prompt.max_tokens,
                    description=prompt.description or f"{name} prompt of {context.tenant} ({context.environment})",
                )
            )
        return cls(
            scope,
            construct_id,
            props=PromptStoreProps(
                encryption_key=context.encryption_key, prompts=tuple(definitions), tags=context.tags
            ),
        )

    def _allow_bedrock_to_use_key(self) -> None:
        """Bedrock encrypts prompts with the CMK as itself: the key policy allows that, for this account's prompts.

        A no-op for an imported key: its own policy must then carry this statement.
        """
        stack = cdk.Stack.of(self)
        prompts = f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:prompt/*"
        self.encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBedrockPromptsInThisAccount",
                principals=[iam.ServicePrincipal("bedrock.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "StringLike": {"kms:EncryptionContext:aws:bedrock-prompts:arn": prompts},
                },
            )
        )

    # ------------------------------------------------------------ attributes

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._prompts)

    def prompt(self, name: str) -> ManagedPrompt:
        try:
            return self._prompts[name]
        except KeyError:
            raise KeyError(f"no prompt {name!r} in this store (has: {', '.join(self._prompts)})") from None

    # ---------------------------------------------------------------- grants

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """bedrock:GetPrompt on each prompt and its served version, and kms:Decrypt of the key through Bedrock."""
        stack = cdk.Stack.of(self)
        resources = [arn for p in self._prompts.values() for arn in (p.prompt_arn, p.version_arn)]
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=["bedrock:GetPrompt"], resource_arns=resources)
        return grant.combine(
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["kms:Decrypt"],
                resource_arns=[self.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"bedrock.{stack.region}.{stack.url_suffix}"}},
            )
        )

    def attach_to_agent(self, grantee: iam.IGrantable) -> dict[str, str]:
        """:meth:`grant_read`, and ``AGENTZONE_PROMPT_<NAME>`` = the served version ARN for each prompt."""
        self.grant_read(grantee)
        return {p.env_var: p.version_arn for p in self._prompts.values()}


# ------------------------------------------------------------------ registry

SPEC = BlueprintSpec(
    construct=PromptStore,
    config=PromptBlueprint,
    construct_id="PromptStore",
    title="versioned prompts",
    summary="Bedrock prompt management: one prompt per name, a retained version per label",
    docs="blueprint-prompt-store.md",
    to_agents=Attach.EVERY_AGENT,
    catalog=not_offered(
        "Prompt texts are files in the tenant's config with a version label per environment, and promotion is the "
        "reviewed config change; PromptStore also validates prompt names at synth, so a launch-unique name cannot be "
        "a parameter and a launch would collide with the prompts the account already has."
    ),
)
