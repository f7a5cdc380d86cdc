"""The LiteLLM proxy configuration and the per-tenant team payloads, derived from config.

Everything here is a pure function of the typed config, so the generated
``config.yaml`` and the admin-API payloads are stable across synths (same
input, same bytes) and testable without CDK.

How tenant traffic is attributed (see docs/fm-gateway.md):

* every gateway model is served once from the shared ``model_list`` (the
  platform's own deployment, billed to the platform);
* each tenant gets one *deployment* per gateway model it may call, named
  ``<tenant>/<model>``, which invokes the tenant's own Bedrock application
  inference profile (tagged with the tenant's cost center and use-case id);
* the tenant's team maps the public name to its deployment with a team
  ``model_aliases`` entry, so a call from tenant X to ``claude-sonnet`` is
  served by ``X/claude-sonnet`` and billed, in Cost Explorer, to X.

Team-scoped deployments (``model_info.team_id`` on ``/model/new``) would do
the same, but LiteLLM gates them behind an Enterprise licence even for the
proxy admin; aliases to ordinary deployments need none.

Secrets never appear here: the config only names environment variables
(``os.environ/NAME``) that the ECS task receives from Secrets Manager.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import yaml

from ..config.model import TIER_RANK, FmGatewaySettings, GatewaySizing, Tenant, tenant_gateway_models

# Environment variables the proxy container must receive (the infrastructure construct sets them).
ENV_MASTER_KEY = "LITELLM_MASTER_KEY"
ENV_REDIS = ("REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD")
# LiteLLM reads DATABASE_URL, or builds it from these when DATABASE_URL is unset
# (proxy_cli: construct_database_url_from_env_vars); so the config names no database URL at all.
ENV_DATABASE = ("DATABASE_HOST", "DATABASE_USERNAME", "DATABASE_PASSWORD", "DATABASE_NAME")

INPUT_GUARDRAIL = "agentzone-input"
OUTPUT_GUARDRAIL = "agentzone-output"
# LiteLLM duration syntax: "<n>mo" is calendar months (recent releases reset at the start of the month,
# like AWS Budgets).
TEAM_BUDGET_DURATION = "1mo"
# Application inference profiles can copy a system-defined (cross-region) profile; these are
# the geography prefixes Bedrock gives those profile ids ("eu.anthropic...", "global.anthropic...").
SYSTEM_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.", "global.")
MANAGED_BY = "agentzone"


def _env(name: str) -> str:
    return f"os.environ/{name}"


def is_system_inference_profile(model_id: str) -> bool:
    """True for a system-defined cross-region inference profile id, False for a foundation model id."""
    return model_id.startswith(SYSTEM_PROFILE_PREFIXES)


def _litellm_model(model_id: str) -> str:
    return f"bedrock/{model_id}"


def _check_fallbacks(settings: FmGatewaySettings) -> None:
    """The config checks report these with file and line; this guards programmatic callers."""
    tiers = {model.name: model.tier for model in settings.models}
    for model in settings.models:
        for fallback in model.fallbacks:
            if fallback not in tiers:
                raise ValueError(f"gateway model {model.name!r}: unknown fallback {fallback!r}")
            if TIER_RANK[tiers[fallback]] >= TIER_RANK[model.tier]:
                raise ValueError(
                    f"gateway model {model.name!r} ({model.tier}): fallback {fallback!r} is not a lower tier"
                )


# ------------------------------------------------------------------ tenants


def gateway_model_ids(tenant: Tenant, settings: FmGatewaySettings) -> dict[str, str]:
    """The tenant's gateway model name -> Bedrock model (or system inference profile) id."""
    by_name = {model.name: model.model for model in settings.models}
    return {name: by_name[name] for name in tenant_gateway_models(tenant, settings)}


def dedicated_settings(tenant: Tenant, settings: FmGatewaySettings) -> FmGatewaySettings:
    """The gateway a tenant runs in its own accounts (``fm_gateway.dedicated``): the platform's gateway, sized
    by the tenant, under the tenant's domain name, serving only the tenant's gateway models (fallbacks limited
    to those), so its task role may invoke only models the tenant's SCP allows."""
    dedicated = tenant.fm_gateway.dedicated
    if dedicated is None:
        raise ValueError(f"tenant {tenant.tenant} has no dedicated gateway (fm_gateway.dedicated)")
    mine = set(tenant_gateway_models(tenant, settings))
    if not mine:
        raise ValueError(f"tenant {tenant.tenant} may call no gateway model; a dedicated gateway would serve nothing")
    models = [
        model.model_copy(update={"fallbacks": [name for name in model.fallbacks if name in mine]})
        for model in settings.models
        if model.name in mine
    ]
    sizing = {name: getattr(dedicated, name) for name in GatewaySizing.model_fields}
    return settings.model_copy(update={**sizing, "domain_name": dedicated.domain_name, "models": models})


def deployment_name(tenant: str, model: str) -> str:
    """The LiteLLM model group serving ``model`` for ``tenant``.

    ``/`` appears in neither tenant slugs nor gateway model names, so these
    never collide with a shared model or with another tenant's deployment.
    """
    return f"{tenant}/{model}"


def deployment_id(tenant: str, model: str) -> str:
    """Stable ``model_info.id`` of a tenant deployment: the admin handler upserts and deletes by it."""
    return f"{MANAGED_BY}:{tenant}:{model}"


def _shared_id(model: str) -> str:
    return f"{MANAGED_BY}:{model}"


def deployment_request(tenant: str, model: str, bedrock_model: str, *, region: str, profile_arn: str) -> dict:
    """The ``/model/new`` body for one tenant deployment.

    ``model`` keeps the Bedrock model id, so LiteLLM still knows the provider,
    the prices and the capabilities; ``model_id`` is what it actually invokes:
    the tenant's application inference profile (LiteLLM's documented form for
    application inference profiles). Credentials come from the task role.
    """
    return {
        "model_name": deployment_name(tenant, model),
        "litellm_params": {
            "model": _litellm_model(bedrock_model),
            "model_id": profile_arn,
            "aws_region_name": region,
        },
        "model_info": {"id": deployment_id(tenant, model)},
    }


def tenant_fallbacks(tenant: Tenant, settings: FmGatewaySettings) -> list[dict[str, list[str]]]:
    """Router fallbacks for the tenant's deployments: the gateway model's fallbacks, in order,
    limited to models this tenant may call, pointing at the tenant's own deployments."""
    _check_fallbacks(settings)
    mine = set(tenant_gateway_models(tenant, settings))
    result = []
    for model in settings.models:
        if model.name not in mine:
            continue
        chain = [deployment_name(tenant.tenant, name) for name in model.fallbacks if name in mine]
        if chain:
            result.append({deployment_name(tenant.tenant, model.name): chain})
    return result


def tenant_cost_tags(tenant: Tenant) -> dict[str, str]:
    """Tags on the tenant's inference profiles: Bedrock bills profile calls with them, so Cost
    Explorer splits gateway spend by the activated cost-allocation tags (cost-center, use-case-id)."""
    return {
        "owner": tenant.owner,
        "cost-center": tenant.cost_center,
        "use-case-id": tenant.use_case_id,
        "tenant": tenant.tenant,
    }


def team_payload(tenant: Tenant, settings: FmGatewaySettings) -> dict:
    """The ``/team/new`` (and ``/team/update``) body for the tenant's team.

    ``models`` lists the public names (reachable only through the aliases)
    and the tenant's deployments; ``model_aliases`` sends each public name to
    the tenant's deployment. Budget and limits default as documented on
    ``TenantGateway``. ``blocked: false`` re-opens a team a stack deletion
    blocked.
    """
    names = tenant_gateway_models(tenant, settings)
    if not names:
        # LiteLLM reads an empty team model list as "every model on the proxy".
        raise ValueError(
            f"tenant {tenant.tenant} may call no gateway model (its models and fm_gateway.models select none); "
            "give it no team"
        )
    gateway = tenant.fm_gateway
    budget = gateway.monthly_budget_usd if gateway.monthly_budget_usd is not None else tenant.budget.monthly_usd
    return {
        "team_id": tenant.tenant,
        "team_alias": tenant.tenant,
        "models": names + [deployment_name(tenant.tenant, name) for name in names],
        "model_aliases": {name: deployment_name(tenant.tenant, name) for name in names},
        "max_budget": float(budget),
        "budget_duration": TEAM_BUDGET_DURATION,
        "rpm_limit": gateway.rpm if gateway.rpm is not None else settings.default_tenant_rpm,
        "tpm_limit": gateway.tpm if gateway.tpm is not None else settings.default_tenant_tpm,
        "metadata": {
            "cost_center": tenant.cost_center,
            "use_case_id": tenant.use_case_id,
            "owner": tenant.owner,
            "managed_by": MANAGED_BY,
        },
        "blocked": False,
    }


def team_request(
    tenant: Tenant, settings: FmGatewaySettings, *, region: str, inference_profile_arns: Mapping[str, str]
) -> dict:
    """Everything the gateway must hold for one tenant.

    ``team``: the ``/team/new`` body; ``deployments``: one ``/model/new`` body
    per gateway model the tenant may call, invoking the tenant's application
    inference profile (``inference_profile_arns``: gateway model name -> ARN;
    CDK tokens are fine); ``fallbacks``: the router fallbacks for those
    deployments, which live in the proxy config (:func:`proxy_config` with
    ``tenants=``) because LiteLLM reads router fallbacks from its config.
    """
    ids = gateway_model_ids(tenant, settings)
    missing = sorted(set(ids) - set(inference_profile_arns))
    if missing:
        raise ValueError(f"tenant {tenant.tenant}: no inference profile ARN for gateway model(s) {', '.join(missing)}")
    return {
        "team": team_payload(tenant, settings),
        "deployments": [
            deployment_request(tenant.tenant, name, model_id, region=region, profile_arn=inference_profile_arns[name])
            for name, model_id in ids.items()
        ],
        "fallbacks": tenant_fallbacks(tenant, settings),
    }


# ------------------------------------------------------------------ the proxy config


def proxy_config(
    settings: FmGatewaySettings,
    *,
    region: str,
    guardrail_id: str,
    guardrail_version: str,
    tenants: Iterable[Tenant] = (),
) -> dict:
    """LiteLLM proxy ``config.yaml`` as a dict (dump it with :func:`render_yaml`).

    ``tenants``: the tenants with a team on this gateway; their deployments'
    fallbacks join the router's (the deployments themselves are added through
    the admin API once their inference profiles exist).
    """
    _check_fallbacks(settings)
    fallbacks: list[dict[str, list[str]]] = [
        {model.name: list(model.fallbacks)} for model in settings.models if model.fallbacks
    ]
    for tenant in sorted(tenants, key=lambda t: t.tenant):
        fallbacks += tenant_fallbacks(tenant, settings)
    return {
        "model_list": [
            {
                "model_name": model.name,
                "litellm_params": {"model": _litellm_model(model.model), "aws_region_name": region},
                "model_info": {"id": _shared_id(model.name)},
            }
            for model in settings.models
        ],
        "router_settings": _router_settings(settings, fallbacks),
        "litellm_settings": _litellm_settings(settings),
        "general_settings": _general_settings(settings),
        "guardrails": _guardrails(region=region, guardrail_id=guardrail_id, guardrail_version=guardrail_version),
    }


def _router_settings(settings: FmGatewaySettings, fallbacks: list[dict[str, list[str]]]) -> dict:
    """Routing, retries by error class, and the rpm/tpm counters and cooldowns every task shares in Redis."""
    redis_host, redis_port, redis_password = (_env(name) for name in ENV_REDIS)
    retries = settings.num_retries
    return {
        "routing_strategy": "simple-shuffle",
        "num_retries": retries,
        "timeout": settings.request_timeout_seconds,
        # Throttling (and other errors) after the retries: the next, cheaper tier, in order.
        "fallbacks": fallbacks,
        # Retrying a request Bedrock rejected as invalid, unauthorized or unsafe cannot succeed.
        "retry_policy": {
            "AuthenticationErrorRetries": 0,
            "BadRequestErrorRetries": 0,
            "ContentPolicyViolationErrorRetries": 0,
            "InternalServerErrorRetries": retries,
            "RateLimitErrorRetries": retries,
            "TimeoutErrorRetries": retries,
        },
        # rpm/tpm counters and cooldowns shared by every task.
        "redis_host": redis_host,
        "redis_port": redis_port,
        "redis_password": redis_password,
        "cache_kwargs": {"ssl": True},
    }


def _litellm_settings(settings: FmGatewaySettings) -> dict:
    """No prompt or completion in logs or callbacks; a Redis response cache callers must opt into."""
    redis_host, redis_port, redis_password = (_env(name) for name in ENV_REDIS)
    return {
        "drop_params": True,
        "num_retries": settings.num_retries,
        "request_timeout": settings.request_timeout_seconds,
        # Prompts and completions never reach logs or callbacks; spend metadata still does.
        "turn_off_message_logging": True,
        "redact_user_api_key_info": True,
        "json_logs": True,
        "cache": True,
        "cache_params": {
            "type": "redis",
            "host": redis_host,
            "port": redis_port,
            "password": redis_password,
            "ssl": True,
            "namespace": MANAGED_BY,
            # Responses are cached only when a caller asks (cache: {use-cache: true}): an identical
            # prompt from another tenant must not be answered from this one's spend.
            "mode": "default_off",
            "ttl": 600,
        },
    }


def _general_settings(settings: FmGatewaySettings) -> dict:
    """The master key from the environment, keys only within teams, spend logs without prompts and capped."""
    return {
        "master_key": _env(ENV_MASTER_KEY),
        "disable_master_key_return": True,
        # Keys must belong to a team: no spend without a tenant to attribute it to.
        "default_team_disabled": True,
        # Tenant deployments are added with /model/new (custom resource), which needs the DB.
        "store_model_in_db": True,
        "store_prompts_in_spend_logs": False,
        # Error rows can carry guardrail assessments quoting the offending text.
        "disable_error_logs": True,
        "maximum_spend_logs_retention_period": f"{settings.spend_log_retention_days}d",
        "maximum_spend_logs_retention_interval": "1d",
        "proxy_batch_write_at": 60,
        "database_connection_pool_limit": 10,
    }


def _guardrails(*, region: str, guardrail_id: str, guardrail_version: str) -> list[dict]:
    """Both default_on: every call is checked on the way in (PII masked before the model sees it)
    and on the way out. Names are stable: keys and teams must never opt out of them."""
    params = {
        "guardrail": "bedrock",
        "guardrailIdentifier": guardrail_id,
        "guardrailVersion": guardrail_version,
        "aws_region_name": region,
        "default_on": True,
    }
    return [
        {
            "guardrail_name": INPUT_GUARDRAIL,
            "litellm_params": {**params, "mode": "pre_call", "mask_request_content": True},
        },
        {
            "guardrail_name": OUTPUT_GUARDRAIL,
            "litellm_params": {**params, "mode": "post_call", "mask_response_content": True},
        },
    ]


def render_yaml(config: Mapping) -> str:
    """Deterministic YAML (insertion order kept, no anchors) for the container's config file."""

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data) -> bool:
            return True

    return yaml.dump(dict(config), Dumper=_NoAliases, sort_keys=False, default_flow_style=False, width=120)


def referenced_environment(config: object) -> list[str]:
    """Every ``os.environ/NAME`` the config reads, sorted: what the container must be given."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, Sequence) and not isinstance(value, str):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value.startswith("os.environ/"):
            found.add(value.removeprefix("os.environ/"))

    walk(config)
    return sorted(found)
