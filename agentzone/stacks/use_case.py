"""One tenant's account in one environment: the baseline plus the blueprints it selected,
and what launching the tenant's Service Catalog products there takes."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_sns as sns
from constructs import Construct

from .. import naming
from ..blueprints import AgentGuardrail, AgentRuntime, vend_blueprints
from ..blueprints.audit import AgentAudit, AgentAuditProps
from ..blueprints.context import (
    BlueprintContext,
    CentralIdentity,
    ImageRegistry,
    LocalEndpointService,
    SharedEndpointService,
)
from ..blueprints.safety import SafetyControls
from ..config.model import DedicatedGateway, FmGatewaySettings, LandingZone, Tenant
from ..constructs import AccountBudget, AccountBudgetProps, BedrockInvocationLogging, BedrockInvocationLoggingProps
from ..constructs.agent_config_rule import AgentConfigRule, AgentConfigRuleProps
from ..constructs.alarm_topic import encrypted_alarm_topic
from ..constructs.data_lake_link import DataLakeLink, DataLakeLinkProps
from ..constructs.delivery_role import DeliveryRole, DeliveryRoleProps
from ..constructs.fm_gateway_tenant import TenantGatewayAccess
from ..constructs.service_catalog import CatalogLaunchAccess, ImportedPortfolio
from ..data_lake.from_config import feeds_back
from ..fm_gateway import dedicated_settings
from .base import AgentZoneStack, StackTarget
from .fm_gateway import GatewayBuild, GatewayParts, build_gateway
from .platform import gateway_deployment


class UseCaseStack(AgentZoneStack):
    ROLE = "UseCase"

    def __init__(
        self, scope: Construct, construct_id: str, *, target: StackTarget, tenant: Tenant, lz: LandingZone
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            target=target,
            description=f"AgentZone use case {tenant.tenant} ({target.environment}): baseline and blueprints",
            tenant=tenant.tenant,
        )
        self.tenant = tenant
        self.agent_data = self.secure_bucket("AgentData")
        self.budget = AccountBudget(
            self,
            "Budget",
            props=AccountBudgetProps(
                name=f"agentzone-{tenant.tenant}-{target.environment}",
                limit_usd=tenant.budget.monthly_usd,
                alert_at_percent=tenant.budget.alert_at_percent,
                notify=[tenant.owner],
            ),
        )
        self.observability = self.link_observability(lz, transaction_search=True)
        self.invocation_logging = self._invocation_logging(lz)
        context = self.blueprint_context(lz)
        self.safety = self._safety(context)
        self.audit = self._audit(context)
        self.blueprints = vend_blueprints(
            self, context=context, blueprints=tenant.blueprints, attachments=[self.safety]
        )
        guardrail = self.blueprints.created("guardrail")
        if guardrail is not None:
            self.audit.watch_guardrail(guardrail.metric_invocations_intervened())
        self.audit.watch_invocation_logs(self.invocation_logging.log_group)
        self.agent_config_rule = self._agent_config_rule(lz)
        # Self-service: the launch role, product boundary and catalog key for the tenant's portfolio
        # (TenantServicesStack shares it with this account), which this account imports.
        self.catalog = CatalogLaunchAccess(self, "Catalog", tenant=tenant.tenant)
        self.portfolio = self._import_portfolio(lz)
        self.delivery = self._delivery_role(lz)
        self.data_lake = None
        if tenant.data.namespaces:
            # The central environment's lake serves every environment (masked data outside unmasked_environments).
            central = lz.organization.environments[lz.organization.central_environment]
            self.data_lake = DataLakeLink(
                self,
                "DataLake",
                props=DataLakeLinkProps(
                    tenant=tenant.tenant,
                    namespaces=tuple(ns.name for ns in tenant.data.namespaces),
                    lake_account=central.data_lake,
                    lake_region=lz.region_of(central),
                    bootstrap_qualifier=lz.organization.guardrails.bootstrap_qualifier,
                    forward_feedback=feeds_back(tenant, target.environment),
                ),
            )

    def _safety(self, context: BlueprintContext) -> SafetyControls:
        """Every tenant environment, whatever blueprints it picked: circuit breaker (with each agent's own stops),
        kill switch, cost stops."""
        tenant = self.tenant
        return SafetyControls.from_config(
            self,
            "Safety",
            context=context,
            config=tenant.safety,
            budget_monthly_usd=tenant.budget.monthly_usd,
            session_usd=tenant.budget.session_usd,
            notify=[tenant.owner],
            agent_limits={
                name: limits
                for name, runtime in sorted(tenant.blueprints.runtime.items())
                if runtime.safety is not None and (limits := runtime.safety.model_dump(exclude_none=True))
            },
        )

    def _audit(self, context: BlueprintContext) -> AgentAudit:
        """Saved queries over the agents' audit records, and the runaway-loop alarm: a minute with as many tool calls
        as one session may make, two minutes out of three."""
        props = AgentAuditProps(
            tenant=self.tenant.tenant,
            environment=self.target.environment,
            runaway_tool_calls_per_minute=self.tenant.safety.max_tool_calls,
            encryption_key=self.key,
            alarm_topic=context.alarm_topic,
        )
        return AgentAudit(self, "Audit", props=props)

    def _agent_config_rule(self, lz: LandingZone) -> AgentConfigRule | None:
        """Drift from what config decides about the account's agents (the guardrail, VPC mode) as a Config rule the
        security team sees in the organization's aggregator; none when config decides neither."""
        tenant, env = self.tenant.tenant, self.target.environment
        guardrail = self.blueprints.get(AgentGuardrail)
        vpc_runtimes = [r.runtime_name for r in self.blueprints.each(AgentRuntime).values() if r.props.vpc is not None]
        if guardrail is None and not vpc_runtimes:
            return None
        props = AgentConfigRuleProps(
            rule_name=f"{naming.PREFIX}-{tenant}-{env}-agent-configuration",
            encryption_key=self.key,
            guardrail_id=guardrail.guardrail_id if guardrail is not None else None,
            vpc_runtimes=vpc_runtimes,
            log_retention_days=lz.organization.observability.log_retention_days,
        )
        return AgentConfigRule(self, "AgentConfigRule", props=props)

    def _invocation_logging(self, lz: LandingZone) -> BedrockInvocationLogging:
        """Model invocation logs, written here and replicated to the environment's log archive."""
        logging_env = lz.organization.environments[self.target.environment]
        return BedrockInvocationLogging(
            self,
            "BedrockInvocationLogging",
            props=BedrockInvocationLoggingProps(
                encryption_key=self.key,
                access_logs=self.access_logs,
                archive_account=logging_env.logging,
                archive_region=lz.region_of(logging_env),
                log_retention_days=lz.organization.observability.log_retention_days,
            ),
        )

    def _delivery_role(self, lz: LandingZone) -> DeliveryRole | None:
        """What the tenant's pipeline checks do here (the evaluation gate and the canary watch), if it has one."""
        delivery_account = lz.organization.delivery_account
        if delivery_account is None:
            return None
        return DeliveryRole(
            self,
            "Delivery",
            props=DeliveryRoleProps(
                tenant=self.tenant.tenant,
                environment=self.target.environment,
                delivery_account=delivery_account,
                encryption_key=self.key,
            ),
        )

    def blueprint_context(self, lz: LandingZone) -> BlueprintContext:
        """What this account offers the tenant's blueprints; platform endpoints only once they are deployed."""
        tenant, environment = self.tenant, self.target.environment
        platform = lz.organization.environments[environment]
        platform_region = lz.region_of(platform)
        identity = CentralIdentity.for_tenant(
            region=platform_region, user_pool_id=self._user_pool_id(lz), tenant=tenant.tenant, scopes=tenant.auth_scopes
        )
        # Every account has one: the safety controls' cost alarms go here even before an agent exists.
        alarm_topic = encrypted_alarm_topic(
            self,
            "AlarmTopic",
            encryption_key=self.key,
            display_name=f"{tenant.tenant} agents ({environment})",
            emails=[tenant.owner],
        )
        gateway_url, gateway_endpoint = self._fm_gateway(lz, alarm_topic)
        return BlueprintContext(
            tenant=tenant.tenant,
            environment=environment,
            encryption_key=self.key,
            tags=dict(self.target.tags),
            models=tuple(tenant.models),
            config_dir=Path(lz.source_dir),
            data_bucket=self.agent_data.bucket,
            alarm_topic=alarm_topic,
            identity=identity,
            image_registry=ImageRegistry(account=platform.shared_services, region=platform_region),
            fm_gateway_url=gateway_url,
            access_logs=self.access_logs,
            fm_gateway_endpoint=gateway_endpoint,
        )

    def _fm_gateway(
        self, lz: LandingZone, alarm_topic: sns.ITopic
    ) -> tuple[str | None, SharedEndpointService | LocalEndpointService | None]:
        """The URL and endpoint service agents reach the FM gateway by: the tenant's own gateway, built here, or the
        environment's shared one once the platform has deployed it."""
        shared = lz.organization.shared_services.fm_gateway
        dedicated = self.tenant.dedicated_gateway(self.target.environment)
        if dedicated is not None and shared is not None:
            parts = self._dedicated_gateway(lz, shared, dedicated, alarm_topic)
            gateway = parts.gateway
            return gateway.gateway_url, LocalEndpointService(gateway.endpoint_service_name, gateway.props.domain_name)
        deployment = gateway_deployment(lz, self.target.environment)
        url = f"https://{deployment.settings.domain_name}" if deployment is not None else None
        return url, self._fm_gateway_endpoint(lz, deployment is not None)

    def _dedicated_gateway(
        self, lz: LandingZone, shared: FmGatewaySettings, dedicated: DedicatedGateway, alarm_topic: sns.ITopic
    ) -> GatewayParts:
        """``fm_gateway.dedicated``: the platform's gateway in this account, serving only this tenant's team, whose
        inference profiles carry the tenant's cost tags; alarms go to the tenant's topic."""
        tenant, env = self.tenant, self.target.environment
        settings = dedicated_settings(tenant, shared)
        parts = build_gateway(
            self,
            GatewayBuild(
                settings=settings,
                name=tenant.tenant,
                label=f"{tenant.tenant} {env}",
                guardrail_name=naming.fm_gateway_guardrail(tenant.tenant, env),
                certificate_arn=dedicated.certificates[env],
                allowed_principal_accounts=[self.account],
                tenants=[tenant],
                encryption_key=self.key,
                log_retention_days=lz.organization.observability.log_retention_days,
                registry_credential_arn=dedicated.registry_credentials.get(env),
                access_logs=self.access_logs,
                alarm_topic=alarm_topic,
            ),
            region=self.region,
        )
        self.fm_gateway_team = TenantGatewayAccess.for_tenant(
            self, "FmGatewayTeam", tenant=tenant, settings=settings, admin_service_token=parts.admin.service_token
        )
        # Created once the service runs; deleted (the team blocked) before the gateway goes.
        self.fm_gateway_team.node.add_dependency(parts.gateway.service)
        self.fm_gateway_parts = parts
        return parts

    def _import_portfolio(self, lz: LandingZone) -> ImportedPortfolio:
        """The tenant's portfolio in the environment's shared-services account, found by the id it publishes."""
        tenant, environment = self.tenant, self.target.environment
        platform = lz.organization.environments[environment]
        region = lz.region_of(platform)
        name = naming.tenant_portfolio_parameter(tenant.tenant, environment)
        return ImportedPortfolio(
            self,
            "Portfolio",
            portfolio_id=self.read_shared("CatalogPortfolioId", name, platform.shared_services, region),
            portfolio_account=platform.shared_services,
            portfolio_region=region,
            launchers=[f"arn:{self.partition}:iam::{self.account}:role/{r}" for r in tenant.catalog_launchers],
            provider=self.platform_resources,
        )

    def _user_pool_id(self, lz: LandingZone) -> str:
        """The user pool config adopts, or the one the environment's Security stack publishes."""
        environment = self.target.environment
        platform = lz.organization.environments[environment]
        if platform.identity_user_pool_id:
            return platform.identity_user_pool_id
        name = naming.identity_user_pool_parameter(environment)
        return self.read_shared("AgentIdentityUserPoolId", name, platform.security, lz.region_of(platform))

    def _fm_gateway_endpoint(self, lz: LandingZone, deployed: bool) -> SharedEndpointService | None:
        """The environment's gateway publishes its endpoint service's name to the organization (SharedServices);
        PrivateLink is regional, so only an account in the gateway's region connects to it."""
        platform = lz.organization.environments[self.target.environment]
        region = lz.region_of(platform)
        settings = lz.organization.shared_services.fm_gateway
        if not deployed or settings is None or region != self.region:
            return None
        name = naming.fm_gateway_endpoint_service_parameter(self.target.environment)
        arn = naming.shared_parameter_arn(name, platform.shared_services, region)
        return SharedEndpointService(arn, settings.domain_name)
