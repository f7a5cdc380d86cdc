"""The FM gateway: a LiteLLM proxy on ECS Fargate that tenants reach only over PrivateLink.

::

    tenant VPC endpoint ──PrivateLink──▶ NLB (TCP 443) ──▶ internal ALB (HTTPS, WAF)
        ──▶ Fargate tasks (LiteLLM :4000)
              ├─▶ Aurora PostgreSQL Serverless v2 (keys, teams, budgets, spend)
              ├─▶ ElastiCache Redis (TLS + AUTH: shared rpm/tpm, cache)
              └─▶ Bedrock, S3, Secrets Manager, ECR, Logs, STS via VPC endpoints

Everything runs in PRIVATE_ISOLATED subnets: no internet gateway, no NAT. The
image comes from ECR in the same account (a repository, or a pull-through-cache
path that ECR fills from its upstream on first pull). LiteLLM reads its
configuration at start from an S3 object (``LITELLM_CONFIG_BUCKET_NAME`` /
``LITELLM_CONFIG_BUCKET_OBJECT_KEY``, LiteLLM's documented mechanism for
Fargate); the object key is the SHA-256 of the configuration, so a change
rolls the service and a rollback finds the old object still there.

The construct takes :class:`FmGatewayProps`, never the landing-zone config,
so a heavy tenant can vend a dedicated copy from its own CDK app::

    gateway = FmGateway(self, "FmGateway", props=FmGatewayProps(
        name="claims", certificate_arn=cert_arn, domain_name="llm.claims.example.internal",
        image_repository="ghcr/berriai/litellm", image_tag="v1.77.7-stable",
        model_ids=("eu.anthropic.claude-sonnet-4-5-v1:0",), allowed_principal_accounts=("111111111111",),
    ), encryption_key=key, proxy_config=config)

Environment the container gets (the LiteLLM config refers to these with
``os.environ/NAME``): see :data:`CONTAINER_ENVIRONMENT`.

Modules, one per part (each a ``build_<part>(scope, props)`` function, see
:mod:`.base`): :mod:`.props`, :mod:`.network`, :mod:`.data_stores` (secrets,
Aurora, Redis), :mod:`.config_deployment`, :mod:`.service` and
:mod:`.service_roles` (ECS and its IAM), :mod:`.edge` (ALB, WAF, PrivateLink),
:mod:`.alarms`, and :mod:`.gateway`, the construct that composes them.
Per-tenant access (inference profiles, teams, the admin function) is in
:mod:`agentzone.constructs.fm_gateway_tenant`.
"""

from .data_stores import AURORA_VERSION, DATABASE_USER, REDIS_ENGINE_VERSION, REDIS_PARAMETER_GROUP
from .edge import WAF_COUNT_ONLY_RULES
from .gateway import FmGateway
from .network import INTERFACE_ENDPOINTS
from .props import (
    CONFIG_PREFIX,
    CONTAINER_PORT,
    DATABASE_NAME,
    HEALTH_PATH,
    HTTPS_PORT,
    POSTGRES_PORT,
    PULL_THROUGH_UPSTREAMS,
    REDIS_PORT,
    FmGatewayCacheProps,
    FmGatewayDatabaseProps,
    FmGatewayProps,
    PullThroughCacheProps,
)
from .service import CONTAINER_ENVIRONMENT
from .service_roles import BedrockResources, bedrock_resources

__all__ = [
    "AURORA_VERSION",
    "CONFIG_PREFIX",
    "CONTAINER_ENVIRONMENT",
    "CONTAINER_PORT",
    "DATABASE_NAME",
    "DATABASE_USER",
    "HEALTH_PATH",
    "HTTPS_PORT",
    "INTERFACE_ENDPOINTS",
    "POSTGRES_PORT",
    "PULL_THROUGH_UPSTREAMS",
    "REDIS_ENGINE_VERSION",
    "REDIS_PARAMETER_GROUP",
    "REDIS_PORT",
    "WAF_COUNT_ONLY_RULES",
    "BedrockResources",
    "FmGateway",
    "FmGatewayCacheProps",
    "FmGatewayDatabaseProps",
    "FmGatewayProps",
    "PullThroughCacheProps",
    "bedrock_resources",
]
