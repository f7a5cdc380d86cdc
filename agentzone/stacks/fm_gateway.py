"""One FM gateway as the landing zone deploys it: its guardrail, the gateway, and the admin function.

The platform deploys one per environment in the shared-services account (every tenant's team);
a tenant with ``fm_gateway.dedicated`` gets one in its own account of each environment it names (its team only). Both
are built here, so the two can never drift apart in how the guardrail, the proxy config and the
admin function are wired. The parts are created in ``scope`` itself under fixed ids
(``GatewayGuardrail``, ``FmGateway``, ``FmGatewayAdmin``): their logical ids never depend on who calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..config.model import FmGatewaySettings, Tenant
from ..constructs.fm_gateway import FmGateway, FmGatewayProps
from ..constructs.fm_gateway_tenant import FmGatewayAdmin
from ..constructs.guardrail import GuardrailPolicy, ModelGuardrail
from ..constructs.secure_bucket import AccessLogsBucket
from ..fm_gateway.litellm_config import proxy_config


@dataclass(frozen=True)
class GatewayBuild:
    """What one gateway is built from.

    ``name``: the gateway's stable name (FmGatewayProps.name: the environment for the shared gateway, the
    tenant for a dedicated one); ``label`` goes into descriptions; ``tenants`` are those with a team on it
    (their fallbacks join the proxy config).
    """

    settings: FmGatewaySettings
    name: str
    label: str
    guardrail_name: str
    certificate_arn: str
    allowed_principal_accounts: Sequence[str]
    tenants: Sequence[Tenant]
    encryption_key: kms.IKey
    log_retention_days: int
    registry_credential_arn: str | None = None
    access_logs: AccessLogsBucket | None = None
    alarm_topic: sns.ITopic | None = None
    admin_function_name: str | None = None


@dataclass(frozen=True)
class GatewayParts:
    guardrail: ModelGuardrail
    gateway: FmGateway
    admin: FmGatewayAdmin


def build_gateway(scope: Construct, build: GatewayBuild, *, region: str) -> GatewayParts:
    """LiteLLM behind PrivateLink with ``build.settings.guardrail`` applied to every call, and its admin function."""
    settings = build.settings
    guardrail = ModelGuardrail(
        scope,
        "GatewayGuardrail",
        name=build.guardrail_name,
        policy=GuardrailPolicy(
            content_filter_strength=settings.guardrail.content_filter_strength,
            prompt_attack_strength=settings.guardrail.prompt_attack_strength,
            anonymize_pii=tuple(settings.guardrail.anonymize_pii),
        ),
        encryption_key=build.encryption_key,
        description=f"Applied by the FM gateway to every call ({build.label})",
    )
    config = proxy_config(
        settings,
        region=region,
        guardrail_id=guardrail.guardrail_id,
        guardrail_version=guardrail.version,
        tenants=build.tenants,
    )
    props = FmGatewayProps.from_settings(
        settings,
        name=build.name,
        certificate_arn=build.certificate_arn,
        allowed_principal_accounts=build.allowed_principal_accounts,
        guardrail_arn=guardrail.guardrail_arn,
        log_retention_days=build.log_retention_days,
        registry_credential_arn=build.registry_credential_arn,
    )
    gateway = FmGateway(
        scope,
        "FmGateway",
        props=props,
        encryption_key=build.encryption_key,
        proxy_config=config,
        alarm_topic=build.alarm_topic,
        access_logs=build.access_logs,
    )
    admin = FmGatewayAdmin(
        scope,
        "FmGatewayAdmin",
        vpc=gateway.vpc,
        security_group=gateway.admin_security_group,
        gateway_url=gateway.gateway_url,
        master_key_secret=gateway.master_key_secret,
        encryption_key=build.encryption_key,
        log_retention_days=build.log_retention_days,
        function_name=build.admin_function_name,
    )
    return GatewayParts(guardrail, gateway, admin)
