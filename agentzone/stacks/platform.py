"""The shared-services account of one platform environment: catalogs, agent registry, image scanning,
experiment tracking, the FM gateway and the shared tool gateway.

The other platform accounts (logging, security, data lake) have their own modules; ``roles`` lists them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from constructs import Construct

from .. import naming
from ..config.model import FmGatewaySettings, LandingZone, Tenant
from ..constructs.agent_images import RegistryScanning
from ..constructs.agent_registry import AgentRegistry, AgentRegistryProps
from ..constructs.catalog import Catalogs, CatalogsProps
from ..constructs.experiment_tracking import ExperimentTracking, ExperimentTrackingProps
from ..constructs.fm_gateway import FmGateway
from ..constructs.tool_gateway import McpServerRuntime, McpServerRuntimeProps, ToolGateway, ToolGatewayProps
from ..tools.cedar import load_policy_files
from .base import AgentZoneStack, StackTarget
from .fm_gateway import GatewayBuild, build_gateway

# What per-tenant services stacks import from this stack (same account and region).
MLFLOW_BUCKET_EXPORT = "mlflow-artifact-bucket"
KEY_EXPORT = "key-arn"


class GatewayDeployment(NamedTuple):
    """What an environment's FM gateway is built from."""

    settings: FmGatewaySettings
    certificate_arn: str


def gateway_deployment(lz: LandingZone, environment: str) -> GatewayDeployment | None:
    """The FM gateway serves HTTPS only, so an environment gets it once its certificate is configured, and only
    while some tenant there uses it (none yet, or all with a gateway of their own: it would admit nobody)."""
    org = lz.organization
    settings = org.shared_services.fm_gateway
    certificate_arn = org.environments[environment].fm_gateway_certificate_arn
    if settings is None or certificate_arn is None or not gateway_tenants(lz, environment):
        return None
    return GatewayDeployment(settings, certificate_arn)


def gateway_tenants(lz: LandingZone, environment: str) -> list[Tenant]:
    """The environment's tenants with a team on its shared gateway: all but those running their own here
    (``fm_gateway.dedicated``), whose agents never call the shared one."""
    return [t for t in lz.tenants if environment in t.environments and t.dedicated_gateway(environment) is None]


def gateway_deployed(lz: LandingZone, environment: str) -> bool:
    """Whether the environment gets the FM gateway (see ``gateway_deployment``)."""
    return gateway_deployment(lz, environment) is not None


class SharedServicesStack(AgentZoneStack):
    """FM gateway, catalogs, shared tool gateway, ECR and experiment tracking live here."""

    ROLE = "SharedServices"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone) -> None:
        super().__init__(
            scope,
            construct_id,
            target=target,
            description="AgentZone shared services: tooling shared by all use-case teams",
        )
        org, env = lz.organization, self.target.environment
        tenant_accounts = lz.tenant_accounts(env)
        self.artifacts = self.secure_bucket("Artifacts")
        self.catalogs = Catalogs(
            self,
            "Catalogs",
            props=CatalogsProps(
                encryption_key=self.key, reader_accounts=tenant_accounts, organization_id=org.organization_id
            ),
        )
        # Tenants' repositories live in their own stacks (TenantServicesStack); scanning is per account.
        self.image_scanning = RegistryScanning(self, "ImageScanning")
        self.agent_registry = AgentRegistry(
            self,
            "AgentRegistry",
            props=AgentRegistryProps(
                name=f"{naming.PREFIX}-{env}",
                description=f"Agents, MCP servers and tools approved for use in {env}",
                encryption_key=self.key,
                approval_emails=[org.platform.owner],
            ),
        )
        shared = org.shared_services
        self.experiment_tracking = None
        if shared.experiment_tracking is not None:
            tracking = shared.experiment_tracking
            self.experiment_tracking = ExperimentTracking(
                self,
                "ExperimentTracking",
                props=ExperimentTrackingProps(
                    encryption_key=self.key,
                    # Each tenant's role is in its own services stack (TenantMlflowAccess), which imports these.
                    tenant_accounts={},
                    organization_id=org.organization_id,
                    size=tracking.size,
                    mlflow_version=tracking.mlflow_version,
                    maintenance_window=tracking.maintenance_window,
                    access_logs=self.access_logs,
                ),
            )
            self._export_experiment_tracking(self.experiment_tracking)
        platform_env = org.environments[env]
        self.fm_gateway = None
        gateway = gateway_deployment(lz, env)
        if gateway is not None:
            self.fm_gateway = self._fm_gateway(lz, gateway)
        # The user pool config adopts, or the one this environment's Security stack publishes (same region).
        user_pool_id = platform_env.identity_user_pool_id or self.read_shared(
            "AgentIdentityUserPoolId", naming.identity_user_pool_parameter(env), platform_env.security, self.region
        )
        self.tool_gateway = self._tool_gateway(lz, user_pool_id)
        self.observability = self.link_observability(lz, transaction_search=True)

    def _export_experiment_tracking(self, tracking: ExperimentTracking) -> None:
        """What tenants' services stacks import for their MLflow roles (the server they find by name)."""
        cdk.CfnOutput(
            self,
            "MlflowArtifactBucketExport",
            value=tracking.artifact_bucket.bucket_name,
            export_name=naming.shared_services_export(MLFLOW_BUCKET_EXPORT),
        )
        cdk.CfnOutput(self, "KeyArn", value=self.key.key_arn, export_name=naming.shared_services_export(KEY_EXPORT))

    def _fm_gateway(self, lz: LandingZone, deployment: GatewayDeployment) -> FmGateway:
        """LiteLLM for the environment's tenants (all but those with a gateway of their own), behind PrivateLink,
        the platform guardrail on every call."""
        org, env = lz.organization, self.target.environment
        tenants = gateway_tenants(lz, env)
        parts = build_gateway(
            self,
            GatewayBuild(
                settings=deployment.settings,
                name=env,
                label=env,
                guardrail_name=naming.fm_gateway_guardrail(env),
                certificate_arn=deployment.certificate_arn,
                allowed_principal_accounts=sorted({t.environments[env].account for t in tenants}),
                tenants=tenants,
                encryption_key=self.key,
                log_retention_days=org.observability.log_retention_days,
                registry_credential_arn=org.environments[env].registry_credential_arn,
                access_logs=self.access_logs,
                admin_function_name=naming.FM_GATEWAY_ADMIN_FUNCTION,
            ),
            region=self.region,
        )
        self.gateway_guardrail, self.fm_gateway_admin = parts.guardrail, parts.admin
        self._share_endpoint_service(lz, parts.gateway)
        return parts.gateway

    def _share_endpoint_service(self, lz: LandingZone, gateway: FmGateway) -> None:
        """Tenant VPCs read the endpoint service's (generated) name at deploy time (nobody copies it)."""
        env = self.target.environment
        self.publish_to_organization(
            lz,
            "FmGatewayEndpointServiceName",
            naming.fm_gateway_endpoint_service_parameter(env),
            gateway.endpoint_service_name,
            f"PrivateLink endpoint service of the {env} FM gateway, read by tenant VPCs",
        )

    def _tool_gateway(self, lz: LandingZone, user_pool_id: str) -> ToolGateway:
        """The organization's shared tool gateway; tenants call it with their central-identity tokens."""
        settings = lz.organization.shared_services.tool_gateway
        root = Path(lz.source_dir)
        policies, problems = load_policy_files([root / rel for rel in settings.policies])
        if problems:  # `agentzone validate` reports these with lines; synth must never get here with them
            raise ValueError("; ".join(p.render() for p in problems))
        gateway = ToolGateway(
            self,
            "ToolGateway",
            props=ToolGatewayProps(
                gateway_name=naming.SHARED_TOOL_GATEWAY,
                discovery_url=naming.cognito_discovery_url(self.region, user_pool_id),
                allowed_scopes=[naming.shared_tools_scope()],
                policies=policies,
                encryption_key=self.key,
                enforce=settings.enforce,
                description=f"AgentZone shared tools ({self.target.environment})",
            ),
        )
        # Each hosted MCP server is its own runtime (scales on its own), callable only by the gateway's role.
        self.mcp_servers: dict[str, McpServerRuntime] = {}
        for server in sorted(settings.mcp_servers, key=lambda s: s.name):
            repository = ecr.Repository.from_repository_name(self, f"McpImage-{server.name}", server.image.repository)
            self.mcp_servers[server.name] = McpServerRuntime(
                self,
                f"Mcp-{server.name}",
                props=McpServerRuntimeProps(
                    name=server.name,
                    gateway=gateway,
                    repository=repository,
                    tag=server.image.tag,
                    environment_variables=server.environment,
                    description=f"{server.description} (owner {server.owner}, version {server.version})",
                ),
            )
        return gateway
