"""The security account of one platform environment: agent identity and threat detection."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_accessanalyzer as accessanalyzer
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_securityhub as securityhub
from constructs import Construct

from .. import naming
from ..config.model import LandingZone
from ..constructs import BaselineKey, PlatformResourceProvider
from ..constructs.inventory_dashboard import InventoryDashboard, InventoryDashboardProps
from ..nag import acknowledge
from ..safety.killswitch import PROTECTED_ROLE_TAG
from .base import AgentZoneStack, StackTarget

# Security Hub CSPM standard ARNs by config name. PCI DSS v3.2.1 is retired by the PCI SSC; v4.0.1 is its successor.
SECURITYHUB_STANDARDS = {
    "aws-foundational": "standards/aws-foundational-security-best-practices/v/1.0.0",
    "cis-3.0": "standards/cis-aws-foundations-benchmark/v/3.0.0",
    "nist-800-53": "standards/nist-800-53/v/5.0.0",
    "pci-dss": "standards/pci-dss/v/4.0.1",
}

# Agent inventory: every agent resource must say whom it belongs to.
INVENTORY_TAGS = ("owner", "cost-center", "use-case-id")
# AgentCore types AWS Config records (the ResourceType enum of the Config API, botocore 1.44).
# Gateway and Memory are not recordable yet; tests fail once the SDK lists them, so they get added then.
INVENTORY_RESOURCE_TYPES = ("AWS::BedrockAgentCore::Runtime", "AWS::BedrockAgentCore::BrowserCustom")
GUARD_RUNTIME = "guard-2.x.x"
# The agent inventory (saved advanced queries, run against the organization aggregator): every agent resource
# type Config records, and the agents' execution roles (the kill switch's tag marks them).
AGENT_RESOURCE_TYPES = (
    *INVENTORY_RESOURCE_TYPES,
    "AWS::Bedrock::Guardrail",
    "AWS::Bedrock::KnowledgeBase",
    "AWS::Bedrock::Prompt",
    "AWS::SageMaker::MlflowTrackingServer",
)
# Organization managed rules on every AgentZone resource (tag use-case-id): agent data is neither public nor
# unencrypted, and reaches S3 over TLS only. AWS managed rule identifiers (aws_config.ManagedRuleIdentifiers).
AGENT_DATA_RULES = (
    config.ManagedRuleIdentifiers.S3_BUCKET_PUBLIC_READ_PROHIBITED,
    config.ManagedRuleIdentifiers.S3_BUCKET_PUBLIC_WRITE_PROHIBITED,
    config.ManagedRuleIdentifiers.S3_BUCKET_SSL_REQUESTS_ONLY,
    config.ManagedRuleIdentifiers.S3_DEFAULT_ENCRYPTION_KMS,
    config.ManagedRuleIdentifiers.DYNAMODB_TABLE_ENCRYPTED_KMS,
    config.ManagedRuleIdentifiers.SNS_ENCRYPTED_KMS,
    config.ManagedRuleIdentifiers.SECRETSMANAGER_USING_CMK,
)
INVENTORY_QUERIES = {
    "agentzone-agent-inventory": (
        "Every agent resource of the organization, with its owner and use case (tags)",
        "SELECT resourceId, resourceName, resourceType, accountId, awsRegion, tags WHERE resourceType IN ("
        + ", ".join(f"'{t}'" for t in AGENT_RESOURCE_TYPES)
        + ")",
    ),
    "agentzone-agent-roles": (
        "The agents' execution roles (under the kill switch), with their owner and use case (tags)",
        f"SELECT resourceName, accountId, awsRegion, tags WHERE resourceType = 'AWS::IAM::Role' "
        f"AND tags.key = '{PROTECTED_ROLE_TAG}'",
    ),
}

# What per-tenant identity stacks import from this stack (same account and region).
USER_POOL_EXPORT = "user-pool-id"
CREDENTIALS_KEY_EXPORT = "client-credentials-key-arn"

# Cognito rejects hosted-domain prefixes containing these words.
RESERVED_DOMAIN_WORDS = ("aws", "amazon", "cognito")


def inventory_tag_policy(resource_types=INVENTORY_RESOURCE_TYPES, tag_keys=INVENTORY_TAGS) -> str:
    """AWS Config custom policy (Guard) evaluated on each configuration item: every tag present and non-blank."""
    types = ", ".join(f"'{t}'" for t in resource_types)
    checks = "\n".join(f"    tags.'{key}' == /\\S/ <<tag {key} is missing or empty>>" for key in tag_keys)
    return f"rule agent_inventory_tags when resourceType IN [{types}] {{\n    tags exists <<no tags>>\n{checks}\n}}\n"


def _agent_user_pool(scope: Construct, env: str) -> cognito.UserPool:
    """The OAuth2 authorization server of agents, tools and MCP servers in one environment."""
    return cognito.UserPool(
        scope,
        "AgentUserPool",
        user_pool_name=f"agentzone-agents-{env}",
        # Clients are created by the platform; humans (platform admins) are invited, never self-registered.
        self_sign_up_enabled=False,
        sign_in_aliases=cognito.SignInAliases(email=True),
        auto_verify=cognito.AutoVerifiedAttrs(email=True),
        password_policy=cognito.PasswordPolicy(
            min_length=14,
            require_lowercase=True,
            require_uppercase=True,
            require_digits=True,
            require_symbols=True,
            temp_password_validity=cdk.Duration.days(3),
        ),
        mfa=cognito.Mfa.REQUIRED,
        mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
        # Plus tier for threat protection; machine clients are not billed as monthly active users.
        feature_plan=cognito.FeaturePlan.PLUS,
        standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
        deletion_protection=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


class SecurityStack(AgentZoneStack):
    """Agent identity in every environment; organization-wide detection in the central one.

    Identity (every environment): a Cognito user pool is the OAuth2
    authorization server for agents, tools and MCP servers, with the shared
    tools' resource server and the key client credentials are encrypted with.
    Each tenant's resource server, client-credentials app client and the
    secret that shares it with the tenant's account are in the tenant's own
    stack in this account (``tenant_identity``), which imports the pool and
    the key by export. AgentCore workload identities and credential providers
    are account-scoped, so they live in tenant stacks.

    Detection (central environment only, as the organization's delegated
    administrator): GuardDuty auto-enabled for every member, Security Hub CSPM
    central configuration applying the configured standards from the root,
    an organization IAM Access Analyzer, an organization Config aggregator,
    and an organization Config rule keeping the agent inventory tagged.
    Other environments' security accounts are members: they get an
    account-level analyzer.

    The central stack relies on the management account (Organization stack) having:
    trusted access and this account as delegated administrator for
    ``guardduty.amazonaws.com`` (GuardDuty EnableOrganizationAdminAccount),
    ``securityhub.amazonaws.com`` (Security Hub EnableOrganizationAdminAccount, home region),
    ``access-analyzer.amazonaws.com``, ``config.amazonaws.com`` and
    ``config-multiaccountsetup.amazonaws.com`` (organization Config rules).
    Deploy it after the Organization stack: the delegation may itself turn
    GuardDuty and Security Hub on here, so custom resources adopt (or create)
    the detector and hub instead of CloudFormation types that fail on "exists".
    Organization Config rules evaluate only in accounts with a configuration recorder.
    """

    ROLE = "Security"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone) -> None:
        super().__init__(
            scope, construct_id, target=target, description="AgentZone security: identity and threat detection"
        )
        org = lz.organization
        self.is_central = target.environment == org.central_environment
        self._identity(lz)
        if self.is_central:
            self._guardduty()
            self._security_hub(lz)
            self._organization_config(lz)
        self.access_analyzer = accessanalyzer.CfnAnalyzer(
            self,
            "AccessAnalyzer",
            type="ORGANIZATION" if self.is_central else "ACCOUNT",
            analyzer_name="agentzone-organization" if self.is_central else "agentzone-account",
        )
        self.observability = self.link_observability(lz, transaction_search=False)

    # ------------------------------------------------------------------ identity

    def _identity(self, lz: LandingZone) -> None:
        org, env = lz.organization, self.target.environment
        self.user_pool = _agent_user_pool(self, env)
        self.user_pool_domain = self._token_domain(naming.identity_domain_prefix(org.organization, env, self.account))
        self.credentials_key = BaselineKey(
            self,
            "ClientCredentialsKey",
            alias="alias/agentzone/agent-client-credentials",
            description=f"AgentZone agent client credentials shared with tenant accounts ({env})",
        ).key
        # Every tenant's client may also call the organization's shared tool gateway, which accepts only this scope.
        self.shared_tools_scope = cognito.ResourceServerScope(
            scope_name=naming.SHARED_TOOLS_SCOPE, scope_description="Call the organization's shared tool gateway"
        )
        self.shared_tools_server = self.user_pool.add_resource_server(
            "SharedToolsResourceServer",
            identifier=naming.SHARED_TOOLS_RESOURCE_SERVER,
            user_pool_resource_server_name=naming.SHARED_TOOL_GATEWAY,
            scopes=[self.shared_tools_scope],
        )
        tenant_accounts = lz.tenant_accounts(env)
        if tenant_accounts:
            self._tenants_decrypt_client_credentials(tenant_accounts)
        self._identity_outputs(lz)

    def _tenants_decrypt_client_credentials(self, accounts: list[str]) -> None:
        """Tenant accounts decrypt client-credential secrets through Secrets Manager only.

        Each tenant's client and secret live in its identity stack (``tenant_identity``), whose secret policy admits
        only that tenant's account: Secrets Manager decrypts for a caller only after the secret policy let it read.
        """
        self.credentials_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="TenantAccountsDecryptClientCredentials",
                principals=[iam.AccountPrincipal(account) for account in accounts],
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=["*"],
                conditions={
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{self.region}.amazonaws.com"},
                    "StringLike": {
                        "kms:EncryptionContext:SecretARN": self._arn(
                            "secretsmanager", f"secret:{naming.tenant_client_secret('*')}-??????"
                        )
                    },
                },
            )
        )

    def _token_domain(self, prefix: str) -> cognito.UserPoolDomain:
        """The Cognito hosted domain that serves the OAuth2 token endpoint."""
        reserved = [word for word in RESERVED_DOMAIN_WORDS if word in prefix]
        if reserved:
            raise ValueError(
                f"Cognito domain prefix {prefix!r} may not contain {', '.join(reserved)}: rename organization"
            )
        return self.user_pool.add_domain(
            "TokenDomain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix)
        )

    def _identity_outputs(self, lz: LandingZone) -> None:
        cdk.CfnOutput(
            self,
            "AgentIdentityUserPoolId",
            value=self.user_pool.user_pool_id,
            description="Agent identity user pool; gateways and JWT authorizers read it from Parameter Store",
            export_name=naming.identity_export(USER_POOL_EXPORT),
        )
        env = self.target.environment
        self.publish_to_organization(
            lz,
            "AgentIdentityUserPoolIdParameter",
            naming.identity_user_pool_parameter(env),
            self.user_pool.user_pool_id,
            f"Agent identity user pool of the {env} environment, which gateways and JWT authorizers trust",
        )
        cdk.CfnOutput(
            self,
            "AgentIdentityDiscoveryUrl",
            value=self.discovery_url,
            description="OIDC discovery URL for JWT authorizers",
        )
        cdk.CfnOutput(
            self, "AgentIdentityTokenEndpoint", value=self.token_endpoint, description="OAuth2 token endpoint"
        )
        # Per-tenant identity stacks in this account encrypt their client credentials under this key.
        cdk.CfnOutput(
            self,
            "ClientCredentialsKeyArn",
            value=self.credentials_key.key_arn,
            export_name=naming.identity_export(CREDENTIALS_KEY_EXPORT),
        )

    @property
    def issuer_url(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool.user_pool_id}"

    @property
    def discovery_url(self) -> str:
        """What AgentCore Runtime/Gateway JWT authorizers and credential providers are configured with."""
        return f"{self.issuer_url}/.well-known/openid-configuration"

    @property
    def token_endpoint(self) -> str:
        return f"{self.user_pool_domain.base_url()}/oauth2/token"

    # ---------------------------------------------------------------- detection

    def _provider(self) -> PlatformResourceProvider:
        # Named like every member account's provider role: the SCPs exempt it, and it calls guardduty:UpdateDetector.
        provider = PlatformResourceProvider.of(
            self, encryption_key=self.key, role_name=f"{naming.PLATFORM_RESOURCES_ROLE}-{self.region}"
        )
        return provider

    def _guardduty(self) -> None:
        provider, arn = self._provider(), self._arn
        detector = provider.resource(
            self,
            "GuardDutyDetector",
            resource_type="Custom::GuardDutyDetector",
            properties={"FindingPublishingFrequency": "FIFTEEN_MINUTES"},
            statements=[
                iam.PolicyStatement(actions=["guardduty:ListDetectors", "guardduty:CreateDetector"], resources=["*"]),
                iam.PolicyStatement(actions=["guardduty:UpdateDetector"], resources=[arn("guardduty", "detector/*")]),
                iam.PolicyStatement(
                    actions=["organizations:DescribeOrganization", "organizations:ListAccounts"], resources=["*"]
                ),
                self.service_linked_role("guardduty.amazonaws.com", "AWSServiceRoleForAmazonGuardDuty"),
            ],
            wildcard_reason="GuardDuty ListDetectors/CreateDetector and Organizations "
            "DescribeOrganization/ListAccounts have no resource-level permissions.",
        )
        self.guardduty_detector_id = detector.get_att_string("DetectorId")
        provider.resource(
            self,
            "GuardDutyAutoEnable",
            resource_type="Custom::GuardDutyAutoEnable",
            properties={"DetectorId": self.guardduty_detector_id},
            # The action supports only Resource "*": a statement naming detectors would grant nothing.
            statements=[iam.PolicyStatement(actions=["guardduty:UpdateOrganizationConfiguration"], resources=["*"])],
            wildcard_reason="guardduty:UpdateOrganizationConfiguration has no resource-level permissions; only the "
            "delegated administrator (this account) can call it, on its own detector.",
        )
        acknowledge(
            provider.policy,
            f"AwsSolutions-IAM5[Resource::{self._arn('guardduty', 'detector/*')}]",
            "The detector id is only known after the GuardDutyDetector resource runs, and that resource runs this "
            "very policy.",
        )

    def _security_hub(self, lz: LandingZone) -> None:
        org = lz.organization
        provider = self._provider()
        account = provider.resource(
            self,
            "SecurityHubAccount",
            resource_type="Custom::SecurityHubAccount",
            properties={},
            statements=[
                iam.PolicyStatement(
                    actions=["securityhub:DescribeHub", "securityhub:EnableSecurityHub"],
                    resources=[self._arn("securityhub", "hub/default")],
                ),
                self.service_linked_role("securityhub.amazonaws.com", "AWSServiceRoleForSecurityHub"),
            ],
        )
        # Central configuration needs a home region aggregating the other allowed regions.
        linked = sorted(r for r in org.allowed_regions if r != self.region)
        aggregator = securityhub.CfnFindingAggregator(
            self, "SecurityHubFindingAggregator", region_linking_mode="SPECIFIED_REGIONS", regions=linked or None
        )
        aggregator.node.add_dependency(account)
        organization = securityhub.CfnOrganizationConfiguration(
            self,
            "SecurityHubOrganizationConfiguration",
            configuration_type="CENTRAL",
            auto_enable=False,
            auto_enable_standards="NONE",
        )
        organization.node.add_dependency(aggregator)
        self.securityhub_standards = sorted(
            f"arn:{self.partition}:securityhub:{self.region}::{SECURITYHUB_STANDARDS[s]}"
            for s in set(org.security.securityhub_standards)
        )
        policy = securityhub.CfnConfigurationPolicy(
            self,
            "SecurityHubPolicy",
            name="agentzone-standards",
            description="AgentZone: Security Hub CSPM on in every account with the configured standards and all "
            "their controls",
            configuration_policy=securityhub.CfnConfigurationPolicy.PolicyProperty(
                security_hub=securityhub.CfnConfigurationPolicy.SecurityHubPolicyProperty(
                    service_enabled=True,
                    enabled_standard_identifiers=self.securityhub_standards,
                    security_controls_configuration=securityhub.CfnConfigurationPolicy.SecurityControlsConfigurationProperty(
                        disabled_security_control_identifiers=[]
                    ),
                )
            ),
        )
        policy.node.add_dependency(organization)
        securityhub.CfnPolicyAssociation(
            self,
            "SecurityHubPolicyRoot",
            configuration_policy_id=policy.attr_id,
            target_type="ROOT",
            target_id=org.root_id,
        )

    def _organization_config(self, lz: LandingZone) -> None:
        org = lz.organization
        role = iam.Role(
            self,
            "ConfigAggregatorRole",
            assumed_by=iam.ServicePrincipal("config.amazonaws.com"),
            description="Lets AWS Config list the organization's accounts for the organization aggregator",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSConfigRoleForOrganizations")
            ],
        )
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSConfigRoleForOrganizations]",
            "AWS maintains this service-role policy for organization aggregators; it grants only the read-only "
            "Organizations calls AWS Config makes and follows new ones.",
        )
        self.config_aggregator = config.CfnConfigurationAggregator(
            self,
            "ConfigAggregator",
            configuration_aggregator_name="agentzone-organization",
            organization_aggregation_source=config.CfnConfigurationAggregator.OrganizationAggregationSourceProperty(
                role_arn=role.role_arn, all_aws_regions=False, aws_regions=sorted(org.allowed_regions)
            ),
        )
        self.inventory_rule = config.CfnOrganizationConfigRule(
            self,
            "AgentInventoryTags",
            organization_config_rule_name="agentzone-agent-inventory-tags",
            # The management account has no configuration recorder in a landing zone; the rule would fail there.
            excluded_accounts=[org.management_account],
            organization_custom_policy_rule_metadata=config.CfnOrganizationConfigRule.OrganizationCustomPolicyRuleMetadataProperty(
                description=f"AgentCore resources carry the tags {', '.join(INVENTORY_TAGS)}",
                policy_text=inventory_tag_policy(),
                runtime=GUARD_RUNTIME,
                organization_config_rule_trigger_types=["ConfigurationItemChangeNotification"],
                resource_types_scope=list(INVENTORY_RESOURCE_TYPES),
            ),
        )
        self.agent_data_rules = [
            _agent_data_rule(self, identifier, org.management_account) for identifier in AGENT_DATA_RULES
        ]
        self.inventory_queries = [
            config.CfnStoredQuery(
                self, f"StoredQuery-{name}", query_name=name, query_description=description, query_expression=query
            )
            for name, (description, query) in INVENTORY_QUERIES.items()
        ]
        self.inventory_dashboard = InventoryDashboard(
            self,
            "InventoryDashboard",
            props=InventoryDashboardProps(
                dashboard_name="agentzone-agent-inventory",
                aggregator=self.config_aggregator,
                queries=tuple(self.inventory_queries),
                encryption_key=self.key,
                log_retention_days=org.observability.log_retention_days,
            ),
        )

    # ------------------------------------------------------------------ helpers

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"


def _agent_data_rule(scope: Construct, identifier: str, management_account: str) -> config.CfnOrganizationConfigRule:
    """One AWS managed rule in every member account, on the resources AgentZone tags (``use-case-id``)."""
    return config.CfnOrganizationConfigRule(
        scope,
        f"AgentData-{identifier}",
        organization_config_rule_name=f"{naming.PREFIX}-agent-data-{identifier.lower().replace('_', '-')}"[:64],
        excluded_accounts=[management_account],  # it records nothing in a landing zone
        organization_managed_rule_metadata=config.CfnOrganizationConfigRule.OrganizationManagedRuleMetadataProperty(
            rule_identifier=identifier,
            description=f"AgentZone agent data: {identifier} on every resource tagged use-case-id",
            tag_key_scope="use-case-id",
        ),
    )
