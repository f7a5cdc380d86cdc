"""FM gateway (LiteLLM) configuration and per-tenant provisioning, generated from config.

Pure functions only: the CDK constructs live in ``agentzone.constructs``
(``fm_gateway`` for the infrastructure, ``fm_gateway_tenant`` for the
per-tenant inference profiles and team).
"""

from .litellm_config import (
    ENV_DATABASE,
    ENV_MASTER_KEY,
    ENV_REDIS,
    INPUT_GUARDRAIL,
    OUTPUT_GUARDRAIL,
    TEAM_BUDGET_DURATION,
    dedicated_settings,
    deployment_id,
    deployment_name,
    deployment_request,
    gateway_model_ids,
    is_system_inference_profile,
    proxy_config,
    referenced_environment,
    render_yaml,
    team_payload,
    team_request,
    tenant_cost_tags,
    tenant_fallbacks,
    tenant_gateway_models,
)

__all__ = [
    "ENV_DATABASE",
    "ENV_MASTER_KEY",
    "ENV_REDIS",
    "INPUT_GUARDRAIL",
    "OUTPUT_GUARDRAIL",
    "TEAM_BUDGET_DURATION",
    "dedicated_settings",
    "deployment_id",
    "deployment_name",
    "deployment_request",
    "gateway_model_ids",
    "is_system_inference_profile",
    "proxy_config",
    "referenced_environment",
    "render_yaml",
    "team_payload",
    "team_request",
    "tenant_cost_tags",
    "tenant_fallbacks",
    "tenant_gateway_models",
]
