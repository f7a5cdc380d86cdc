"""Blueprints a use-case team vends into its accounts, by registry name.

Import them into your own CDK app (``from agentzone.blueprints import AgentMemory``)
or select them in a tenant YAML file under ``blueprints:``.
"""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from constructs import Construct

from ..config.model import Blueprints, Tenant
from .memory import AgentMemory, AgentMemoryProps

REGISTRY = {cls.REGISTRY_NAME: cls for cls in (AgentMemory,)}

assert set(REGISTRY) == set(Blueprints.model_fields), "every config blueprint needs a registered construct"


def vend_blueprints(scope: Construct, *, tenant: Tenant, environment: str, encryption_key: kms.IKey) -> dict[str, Construct]:
    """Create the blueprints the tenant selected, in registry order (not YAML order)."""
    vended: dict[str, Construct] = {}
    for name in sorted(REGISTRY):
        config = getattr(tenant.blueprints, name)
        if config is not None:
            vended[name] = REGISTRY[name].from_config(
                scope, tenant=tenant.tenant, environment=environment, encryption_key=encryption_key, config=config
            )
    return vended


__all__ = ["REGISTRY", "AgentMemory", "AgentMemoryProps", "vend_blueprints"]
