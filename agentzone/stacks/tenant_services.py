"""One tenant's share of an environment's shared-services account.

A stack per tenant keeps the SharedServices stack from growing with tenants
(CloudFormation's 500-resource limit) and lets one team roll out on its own.
It refers to the platform's resources by physical name only, so a tenant
shard synthesizes without the platform stacks.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .. import naming
from ..blueprints.products import TenantCatalog
from ..config.model import LandingZone, Tenant
from ..constructs.agent_images import AgentImageRepository, AgentImageRepositoryProps
from ..constructs.experiment_tracking import (
    ExperimentTracking,
    ExperimentTrackingProps,
    TenantMlflowAccess,
    TenantMlflowAccessProps,
    TrackingServer,
)
from ..constructs.fm_gateway_tenant import TenantGatewayAccess
from ..fm_gateway.litellm_config import tenant_gateway_models
from ..nag import nag_imported_bucket_arn
from ..naming import pascal
from .base import AgentZoneStack, StackTarget
from .platform import KEY_EXPORT, MLFLOW_BUCKET_EXPORT, gateway_deployment


class TenantServicesStack(AgentZoneStack):
    """The tenant's agent image repositories, its team on the FM gateway, its role on the MLflow server and its
    Service Catalog portfolio of self-service blueprints, in the shared-services account."""

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
        # A tenant with a gateway of its own has its team there (UseCaseStack), not on the shared one.
        dedicated = tenant.dedicated_gateway(env) is not None
        if gateway is not None and not dedicated and tenant_gateway_models(tenant, gateway.settings):
            # The team, its budget and limits, and per-tenant inference profiles for cost attribution.
            self.fm_gateway = TenantGatewayAccess.for_tenant(
                self,
                "FmGateway",
                tenant=tenant,
                settings=gateway.settings,
                admin_service_token=naming.fm_gateway_admin_token(self.account, self.region, self.partition),
            )
        self.mlflow = None
        if org.shared_services.experiment_tracking is not None and tenant.experiment_tracking:
            self.mlflow = self._mlflow(tenant, tenant_account, lz)
        self.catalog = self._catalog(lz, tenant, tenant_account)

    def _catalog(self, lz: LandingZone, tenant: Tenant, tenant_account: str) -> TenantCatalog:
        """Self-service: blueprints the team launches from its own account with the launch role UseCaseStack
        creates there (agentzone.constructs.service_catalog); that account imports the portfolio by the id
        published here, so nobody accepts the share by hand."""
        env = self.target.environment
        catalog = TenantCatalog(
            self,
            "Catalog",
            tenant=tenant,
            environment=env,
            tenant_account=tenant_account,
            tags=dict(self.target.tags),
            support_email=lz.organization.platform.owner,
        )
        self.publish_to_organization(
            lz,
            "CatalogPortfolioId",
            naming.tenant_portfolio_parameter(tenant.tenant, env),
            catalog.portfolio.portfolio_id,
            f"Self-service portfolio of {tenant.tenant} ({env}), imported by its account",
        )
        return catalog

    def _mlflow(self, tenant: Tenant, account: str, lz: LandingZone) -> TenantMlflowAccess:
        """The tenant's role on the environment's shared MLflow server or, ``isolated``, on a server of its own; both
        on the shared artifact bucket (imported with its key), under the tenant's prefix only. The role keeps its
        construct path in both modes, so switching changes its policy in place (its name is fixed)."""
        org = lz.organization
        key = kms.Key.from_key_arn(
            self, "SharedServicesKey", cdk.Fn.import_value(naming.shared_services_export(KEY_EXPORT))
        )
        bucket_export = naming.shared_services_export(MLFLOW_BUCKET_EXPORT)
        bucket = s3.Bucket.from_bucket_attributes(
            self, "MlflowArtifacts", bucket_name=cdk.Fn.import_value(bucket_export), encryption_key=key
        )
        server_arn = naming.mlflow_tracking_server_arn(self.account, self.region, self.partition)
        server_name = naming.MLFLOW_TRACKING_SERVER
        if tenant.experiment_tracking == "isolated":
            server = self._isolated_server(tenant, account, lz, key, bucket, bucket_export)
            server_arn, server_name = server.arn, server.name
        return TenantMlflowAccess(
            self,
            "Mlflow",
            props=TenantMlflowAccessProps(
                tenant=tenant.tenant,
                accounts=[account],
                organization_id=org.organization_id,
                server_arn=server_arn,
                server_name=server_name,
                artifact_bucket=bucket,
                encryption_key=key,
                bucket_nag_arn=nag_imported_bucket_arn(self, bucket_export),
            ),
        )

    def _isolated_server(
        self, tenant: Tenant, account: str, lz: LandingZone, key: kms.IKey, bucket: s3.IBucket, bucket_export: str
    ) -> TrackingServer:
        """``experiment_tracking: isolated``: a tracking server of the tenant's own (its artifact prefix only)."""
        org = lz.organization
        settings = org.shared_services.experiment_tracking
        if settings is None:  # _mlflow is only called with MLflow configured
            raise ValueError("isolated experiment tracking needs shared_services.experiment_tracking")
        tracking = ExperimentTracking(
            self,
            "IsolatedMlflow",
            props=ExperimentTrackingProps(
                encryption_key=key,
                tenant_accounts={tenant.tenant: [account]},
                organization_id=org.organization_id,
                size=settings.size,
                mlflow_version=settings.mlflow_version,
                maintenance_window=settings.maintenance_window,
                artifact_bucket=bucket,
                dedicated_server_per_tenant=True,
                artifact_bucket_nag_arn=nag_imported_bucket_arn(self, bucket_export),
                tenant_roles=False,
            ),
        )
        return tracking.server_for(tenant.tenant)
