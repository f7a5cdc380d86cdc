"""One tenant's share of an environment's security account: its OAuth2 resource server, client and the secret
that hands the client to the tenant's account.

A stack per tenant keeps the Security stack from growing with tenants and lets a tenant's change leave the
platform's stacks alone. It imports the user pool and the credentials key by export (same account and region).
"""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .. import naming
from ..config.model import LandingZone, Tenant
from ..nag import acknowledge, acknowledge_compliance
from .base import AgentZoneStack, StackTarget
from .security import CREDENTIALS_KEY_EXPORT, USER_POOL_EXPORT


class TenantIdentityStack(AgentZoneStack):
    """Resource server ``agentzone/<tenant>`` with the tenant's scopes, one client-credentials app client limited
    to them (and the shared tools' scope), and a secret only the tenant's account of this environment may read."""

    ROLE = "TenantIdentity"
    PER_TENANT_IN_SHARED_ACCOUNT = True
    OWNS_BASELINE_KEY = False

    def __init__(
        self, scope: Construct, construct_id: str, *, target: StackTarget, tenant: Tenant, lz: LandingZone
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            target=target,
            description=f"AgentZone identity of tenant {tenant.tenant} ({target.environment}): OAuth2 client",
            tenant=tenant.tenant,
        )
        org, env = lz.organization, target.environment
        self.tenant = tenant
        user_pool_id = cdk.Fn.import_value(naming.identity_export(USER_POOL_EXPORT))
        self.user_pool = cognito.UserPool.from_user_pool_id(self, "AgentUserPool", user_pool_id)
        self.credentials_key = kms.Key.from_key_arn(
            self, "ClientCredentialsKey", cdk.Fn.import_value(naming.identity_export(CREDENTIALS_KEY_EXPORT))
        )
        # Sorted: reordering a config list must not change a template.
        self.scopes = [
            cognito.ResourceServerScope(scope_name=s, scope_description=f"{tenant.tenant}: {s}")
            for s in sorted(tenant.auth_scopes)
        ]
        self.resource_server = cognito.UserPoolResourceServer(
            self,
            "ResourceServer",
            user_pool=self.user_pool,
            identifier=f"agentzone/{tenant.tenant}",
            user_pool_resource_server_name=f"agentzone-{tenant.tenant}",
            scopes=self.scopes,
        )
        self.client = self._client(org.security.access_token_minutes)
        domain = naming.identity_domain_prefix(org.organization, env, self.account)
        self.client_credentials = self._secret(
            token_endpoint=naming.cognito_token_endpoint(domain, self.region),
            discovery_url=naming.cognito_discovery_url(self.region, user_pool_id),
        )

    def _client(self, token_minutes: int) -> cognito.UserPoolClient:
        return cognito.UserPoolClient(
            self,
            "Client",
            user_pool=self.user_pool,
            user_pool_client_name=f"{self.tenant.tenant}-agents",
            generate_secret=True,
            # Machine to machine only: no user sign-in flows, only the tenant's own scopes.
            auth_flows=cognito.AuthFlow(user_srp=False, user_password=False, admin_user_password=False, custom=False),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=[cognito.OAuthScope.resource_server(self.resource_server, s) for s in self.scopes]
                # The security stack's resource server, deployed first (units.platform_dependencies).
                + [cognito.OAuthScope.custom(naming.shared_tools_scope())],
            ),
            access_token_validity=cdk.Duration.minutes(token_minutes),
            enable_token_revocation=True,
            prevent_user_existence_errors=True,
        )

    def _secret(self, *, token_endpoint: str, discovery_url: str) -> secretsmanager.Secret:
        """The client's id and secret, readable (and decryptable) by the tenant's account of this environment."""
        name = self.tenant.tenant
        # The L2 client exposes no secret attribute; its CloudFormation resource does.
        cfn_client = cast(cognito.CfnUserPoolClient, self.client.node.default_child)
        secret = secretsmanager.Secret(
            self,
            "ClientCredentials",
            secret_name=naming.tenant_client_secret(name),
            description=f"OAuth2 client credentials of tenant {name} at the central agent identity "
            f"({self.target.environment})",
            encryption_key=self.credentials_key,
            # Tenants read it by name; a replacement would leave their credential providers pointing at nothing.
            removal_policy=cdk.RemovalPolicy.RETAIN,
            secret_object_value={
                "client_id": cdk.SecretValue.unsafe_plain_text(self.client.user_pool_client_id),
                "client_secret": cdk.SecretValue.resource_attribute(cfn_client.attr_client_secret),
                "token_endpoint": cdk.SecretValue.unsafe_plain_text(token_endpoint),
                "discovery_url": cdk.SecretValue.unsafe_plain_text(discovery_url),
                "scopes": cdk.SecretValue.unsafe_plain_text(
                    " ".join([f"agentzone/{name}/{s.scope_name}" for s in self.scopes] + [naming.shared_tools_scope()])
                ),
            },
        )
        # The key policy (security stack) lets tenant accounts decrypt through Secrets Manager; this policy decides
        # which tenant account reads this secret.
        secret.add_to_resource_policy(
            iam.PolicyStatement(
                sid="TenantAccountReads",
                principals=[iam.AccountPrincipal(self.tenant.environments[self.target.environment].account)],
                actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                resources=["*"],
            )
        )
        reason = (
            "Mirrors a Cognito app client secret, which Cognito issues and only replaces with the client; rotating "
            "this copy alone would break the tenant's token requests."
        )
        acknowledge(secret, "AwsSolutions-SMG4", reason)
        acknowledge_compliance(secret, "SecretsManagerRotationEnabled", reason)
        return secret
