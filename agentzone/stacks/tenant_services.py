"""One tenant's share of an environment's shared-services account.

A stack per tenant keeps the SharedServices stack from growing with tenants
(CloudFormation's 500-resource limit) and lets one team roll out on its own.
It refers to the platform's resources by physical name only, so a tenant
shard synthesizes without the platform stacks.
"""

from __future__ import annotations

from constructs import Construct

from .. import naming
from ..blueprints.products import TenantCatalog
from ..config.model import LandingZone, Tenant
from ..constructs.agent_images import AgentImageRepository, AgentImageRepositoryProps
from ..constructs.fm_gateway_tenant import TenantGatewayAccess
from ..fm_gateway.litellm_config import tenant_gateway_models
from ..naming import pascal
from .base import AgentZoneStack, StackTarget
from .platform import gateway_deployment


class TenantServicesStack(AgentZoneStack):
    """The tenant's agent image repositories, its team on the FM gateway and its Service Catalog
    portfolio of self-service blueprints, in the shared-services account."""

    ROLE = "TenantServices"
    PER_TENANT_IN_SHARED_ACCOUNT = True

    def __init__(
        self, scope: Construct, construct_id: str, *, target: StackTarget, tenant: Tenant, lz: LandingZone
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            target=target,
            description=f"AgentZone shared services for tenant {tenant.tenant} ({target.environment}): "
            "images, FM gateway team, blueprint portfolio",
            tenant=tenant.tenant,
        )
        org, env = lz.organization, target.environment
        tenant_account = tenant.environments[env].account
        images = org.shared_services.agent_images
        self.repositories: dict[str, AgentImageRepository] = {}
        for name in sorted(tenant.images):
            # The tenant's own pipeline in this environment builds and pushes; its runtimes pull.
            self.repositories[name] = AgentImageRepository(
                self,
                f"Images{pascal(name)}",
                props=AgentImageRepositoryProps(
                    repository_name=naming.tenant_repository(tenant.tenant, name),
                    encryption_key=self.key,
                    pull_accounts=[tenant_account],
                    push_accounts=[tenant_account],
                    organization_id=org.organization_id,
                    keep_tagged=images.keep_tagged,
                    untagged_expire_days=images.untagged_expire_days,
                ),
            )
        self.fm_gateway = None
        gateway = gateway_deployment(lz, env)
        if gateway is not None and tenant_gateway_models(tenant, gateway.settings):
            # The team, its budget and limits, and per-tenant inference profiles for cost attribution.
            self.fm_gateway = TenantGatewayAccess.for_tenant(
                self,
                "FmGateway",
                tenant=tenant,
                settings=gateway.settings,
                admin_service_token=naming.fm_gateway_admin_token(self.account, self.region, self.partition),
            )
        # Self-service: blueprints the team launches from its own account with the launch role
        # UseCaseStack creates there (agentzone.constructs.service_catalog).
        self.catalog = TenantCatalog(
            self,
            "Catalog",
            tenant=tenant,
            environment=env,
            tenant_account=tenant_account,
            tags=dict(target.tags),
            support_email=org.platform.owner,
        )
