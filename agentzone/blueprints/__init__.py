"""Blueprints a use-case team vends into its accounts, by registry name.

Two ways to use them (docs/blueprints.md):

- select them in a tenant YAML file under ``blueprints:``; ``UseCaseStack``
  builds a :class:`BlueprintContext` for the account and calls
  :func:`vend_blueprints`;
- import them into your own CDK app (``from agentzone.blueprints import
  AgentRuntime, AgentMemory``) and pass props yourself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from constructs import Construct

from .. import naming
from ..config.model import Blueprints
from .context import AgentAttachment, BlueprintContext, CentralIdentity, ImageRegistry
from .eval_pipeline import EvaluationPipeline, EvaluationPipelineProps
from .guardrail import AgentGuardrail, AgentGuardrailProps
from .hitl import HitlWorkflow, HitlWorkflowProps
from .knowledge_base import AgentKnowledgeBase, KnowledgeBaseProps
from .memory import AgentMemory, AgentMemoryProps, MemoryAttachment, memory_attachments
from .prompt_store import PromptStore, PromptStoreProps
from .runtime import AgentRuntime, AgentRuntimeProps, RuntimeImage, RuntimeVpcProps
from .tool_gateway import TenantToolGateway, TenantToolGatewayProps

REGISTRY: dict[str, type[Construct]] = {
    cls.REGISTRY_NAME: cls
    for cls in (
        AgentGuardrail,
        AgentMemory,
        PromptStore,
        AgentKnowledgeBase,
        TenantToolGateway,
        HitlWorkflow,
        AgentRuntime,
        EvaluationPipeline,
    )
}

assert set(REGISTRY) == set(Blueprints.model_fields), "every config blueprint needs a registered construct"


def construct_id(prefix: str, name: str) -> str:
    """``Runtime`` + ``claims-intake`` -> ``RuntimeClaimsIntake``: stable ids, so logical ids never move."""
    return prefix + naming.pascal_title(name)


@dataclass
class VendedBlueprints:
    """What :func:`vend_blueprints` created in one account, by blueprint."""

    guardrail: AgentGuardrail | None = None
    memories: dict[str, AgentMemory] = field(default_factory=dict)
    prompt_store: PromptStore | None = None
    knowledge_base: AgentKnowledgeBase | None = None
    tool_gateway: TenantToolGateway | None = None
    hitl: HitlWorkflow | None = None
    runtimes: dict[str, AgentRuntime] = field(default_factory=dict)
    eval_pipeline: EvaluationPipeline | None = None

    def selected(self) -> list[str]:
        return [
            name for name in REGISTRY if getattr(self, {"memory": "memories", "runtime": "runtimes"}.get(name, name))
        ]


def vend_blueprints(
    scope: Construct, *, context: BlueprintContext, blueprints: Blueprints, attachments: Sequence[AgentAttachment] = ()
) -> VendedBlueprints:
    """Create the blueprints a tenant selected, then its agents with what they use.

    Every agent gets ``attachments`` (the account's safety controls), the
    tenant-level blueprints (guardrail, prompts, knowledge base, tool
    gateway, HITL workflow) and the memories its own ``memory:`` names with the access it
    asks for. Dictionaries are walked in sorted order so
    YAML order never changes a template.
    """
    vended = VendedBlueprints()
    if blueprints.guardrail is not None:
        vended.guardrail = AgentGuardrail.from_config(scope, "Guardrail", context=context, config=blueprints.guardrail)
    for name in sorted(blueprints.memory):
        vended.memories[name] = AgentMemory.from_config(
            scope, construct_id("Memory", name), context=context, name=name, config=blueprints.memory[name]
        )
    if blueprints.prompt_store:
        vended.prompt_store = PromptStore.from_config(
            scope, "PromptStore", context=context, config=blueprints.prompt_store
        )
    if blueprints.knowledge_base is not None:
        vended.knowledge_base = AgentKnowledgeBase.from_config(
            scope, "KnowledgeBase", context=context, config=blueprints.knowledge_base
        )
    if blueprints.tool_gateway is not None:
        vended.tool_gateway = TenantToolGateway.from_config(
            scope, "ToolGateway", context=context, config=blueprints.tool_gateway
        )
    if blueprints.hitl is not None:
        vended.hitl = HitlWorkflow.from_config(scope, "Hitl", context=context, config=blueprints.hitl)
    shared: list[AgentAttachment] = [*attachments] + [
        attachment
        for attachment in (
            vended.guardrail,
            vended.prompt_store,
            vended.knowledge_base,
            vended.tool_gateway,
            vended.hitl,
        )
        if attachment is not None
    ]
    for name in sorted(blueprints.runtime):
        config = blueprints.runtime[name]
        vended.runtimes[name] = AgentRuntime.from_config(
            scope,
            construct_id("Runtime", name),
            context=context,
            name=name,
            config=config,
            attachments=[*shared, *memory_attachments(vended.memories, dict(config.memory))],
        )
    if blueprints.eval_pipeline is not None:
        vended.eval_pipeline = EvaluationPipeline.from_config(
            scope, "EvalPipeline", context=context, config=blueprints.eval_pipeline
        )
        for name in sorted(vended.runtimes):
            endpoint, version = monitored_endpoint(blueprints.runtime[name].releases[context.environment].endpoints)
            vended.eval_pipeline.monitor_agent(vended.runtimes[name], name=name, endpoint=endpoint, version=version)
    return vended


def monitored_endpoint(endpoints: dict[str, int]) -> tuple[str, int]:
    """The endpoint canaries and online evaluation watch: the one on the oldest version, i.e. the
    established one when a newer version is being tried next to it (PROD: 3, CANARY: 4 -> PROD)."""
    name = min(endpoints, key=lambda e: (endpoints[e], e))
    return name, endpoints[name]


__all__ = [
    "REGISTRY",
    "AgentAttachment",
    "AgentGuardrail",
    "AgentGuardrailProps",
    "AgentKnowledgeBase",
    "AgentMemory",
    "AgentMemoryProps",
    "AgentRuntime",
    "AgentRuntimeProps",
    "BlueprintContext",
    "CentralIdentity",
    "EvaluationPipeline",
    "EvaluationPipelineProps",
    "HitlWorkflow",
    "HitlWorkflowProps",
    "ImageRegistry",
    "KnowledgeBaseProps",
    "MemoryAttachment",
    "PromptStore",
    "PromptStoreProps",
    "RuntimeImage",
    "RuntimeVpcProps",
    "TenantToolGateway",
    "TenantToolGatewayProps",
    "VendedBlueprints",
    "vend_blueprints",
]
