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

from constructs import Construct

from ..config.model import Blueprints
from . import eval_pipeline, guardrail, hitl, knowledge_base, memory, prompt_store, runtime, session_store, tool_gateway
from .context import AgentAttachment, BlueprintContext, CentralIdentity, ImageRegistry
from .eval_pipeline import EvaluationPipeline, EvaluationPipelineProps
from .guardrail import AgentGuardrail, AgentGuardrailProps
from .hitl import HitlWorkflow, HitlWorkflowProps
from .knowledge_base import AgentKnowledgeBase, KnowledgeBaseProps
from .memory import AgentMemory, AgentMemoryProps, MemoryAttachment
from .prompt_store import PromptStore, PromptStoreProps
from .registry import BlueprintSpec, VendedBlueprints, construct_id, registry_of, vend
from .runtime import AgentRuntime, AgentRuntimeProps, RuntimeImage, RuntimeVpcProps
from .session_store import SessionStore, SessionStoreProps
from .tool_gateway import TenantToolGateway, TenantToolGatewayProps

# Every blueprint, in the order an account creates them: agents (runtime) after everything
# they attach, the evaluation pipeline after the agents it watches. One line per blueprint;
# registry_of refuses a list that does not match config.model.Blueprints.
REGISTRY: dict[str, BlueprintSpec] = registry_of(
    (
        guardrail.SPEC,
        memory.SPEC,
        prompt_store.SPEC,
        knowledge_base.SPEC,
        tool_gateway.SPEC,
        hitl.SPEC,
        session_store.SPEC,
        runtime.SPEC,
        eval_pipeline.SPEC,
    )
)


def vend_blueprints(
    scope: Construct, *, context: BlueprintContext, blueprints: Blueprints, attachments: Sequence[AgentAttachment] = ()
) -> VendedBlueprints:
    """Create the blueprints a tenant selected, then its agents with what they use.

    Every agent gets ``attachments`` (the account's safety controls), each blueprint that
    attaches to every agent (guardrail, prompts, knowledge base, tool gateway, HITL
    workflow), then what it chose itself (e.g. the memories its ``memory:`` names).
    Dictionaries are walked in sorted order so YAML order never changes a template.
    """
    return vend(REGISTRY, scope, context=context, blueprints=blueprints, attachments=attachments)


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
    "BlueprintSpec",
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
    "SessionStore",
    "SessionStoreProps",
    "TenantToolGateway",
    "TenantToolGatewayProps",
    "VendedBlueprints",
    "construct_id",
    "vend_blueprints",
]
