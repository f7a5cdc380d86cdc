"""Per-tenant access to the FM gateway, and the admin function that provisions it.

``FmGatewayAdmin``: one Lambda function in the gateway VPC backing the
``Custom::LiteLLMTeam`` resources (``agentzone/handlers/fm_gateway_admin.py``).

``TenantGatewayAccess``: one Bedrock application inference profile per gateway
model the tenant may call, tagged with the tenant's cost center and use-case
id, and the tenant's LiteLLM team whose deployments invoke those profiles; so
gateway spend shows in Cost Explorer per tenant, not as one platform line.

Both live in the shared-services stack next to the gateway: the gateway's task
role invokes the profiles, so they must be in its account and region
(:meth:`TenantGatewayAccess.grant_invoke`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ..config.model import FmGatewaySettings, Tenant
from ..fm_gateway import (
    deployment_name,
    deployment_request,
    gateway_model_ids,
    is_system_inference_profile,
    team_payload,
    tenant_cost_tags,
)
from ..nag import acknowledge
from .platform_resource import custom_resource_function
from .retention import retained_log_group

RESOURCE_TYPE = "Custom::LiteLLMTeam"
MODEL_INVOKE_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
# The handler retries for at most this long; the function gets a little more to answer CloudFormation.
ADMIN_RETRY_SECONDS = 600
ADMIN_TIMEOUT = cdk.Duration.minutes(12)
# CloudFormation gives up on a silent custom resource after this (default: one hour).
TEAM_SERVICE_TIMEOUT = cdk.Duration.minutes(20)
_VPC_ACCESS_ACTIONS = [
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:UnassignPrivateIpAddresses",
]
# AWS::Bedrock::ApplicationInferenceProfile InferenceProfileName: ^([0-9a-zA-Z:.][ _-]?)+$, 1-64 characters.
_PROFILE_NAME_MAX = 64


def inference_profile_name(tenant: str, model: str) -> str:
    """``agentzone-<tenant>-<model>``; shortened with a hash suffix to Bedrock's 64 characters."""
    name = re.sub(r"[-_ ]{2,}", "-", f"agentzone-{tenant}-{model}")
    if len(name) <= _PROFILE_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _PROFILE_NAME_MAX - 9].rstrip('-_. ')}-{digest}"


def _geo_base(model_id: str) -> str:
    """``eu.anthropic.x`` -> ``anthropic.x``: the foundation model behind a system inference profile."""
    return model_id.split(".", 1)[1]


class FmGatewayAdmin(Construct):
    """The function behind ``Custom::LiteLLMTeam``: calls the gateway's admin API with the master key.

    It runs in the gateway VPC (``vpc_subnets``, isolated subnets by default)
    with ``security_group``, which the gateway's ALB must admit on 443; it
    reaches Secrets Manager through the VPC's interface endpoint. Its role can
    read the master key secret and decrypt it with ``encryption_key`` through
    Secrets Manager, write its own log group and manage its network
    interfaces, and nothing else.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        gateway_url: str,
        master_key_secret: secretsmanager.ISecret,
        encryption_key: kms.IKey,
        log_retention_days: int = 365,
        vpc_subnets: ec2.SubnetSelection | None = None,
        master_key_field: str = "master_key",
        ca_bundle: str | None = None,
        function_name: str | None = None,
    ) -> None:
        """``function_name``: name it when stacks that cannot reference this one (per-tenant stacks
        synthesized on their own) build the service token from the name."""
        super().__init__(scope, construct_id)
        if not cdk.Token.is_unresolved(gateway_url) and not gateway_url.startswith("https://"):
            raise ValueError(f"gateway_url must be https:// (got {gateway_url!r}): the function sends the master key")
        self.log_group = retained_log_group(
            self, "Logs", encryption_key=encryption_key, retention_days=log_retention_days
        )
        self.policy = _admin_policy(
            self, log_group=self.log_group, master_key_secret=master_key_secret, encryption_key=encryption_key
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Runs the AgentZone FM gateway admin custom resources",
            managed_policies=[self.policy],
        )
        environment = {
            "GATEWAY_URL": gateway_url,
            "MASTER_KEY_SECRET_ARN": master_key_secret.secret_arn,
            "MASTER_KEY_SECRET_FIELD": master_key_field,
            "GATEWAY_RETRY_SECONDS": str(ADMIN_RETRY_SECONDS),
        }
        if ca_bundle:
            environment["GATEWAY_CA_BUNDLE"] = ca_bundle
        self.function = custom_resource_function(
            self,
            "Function",
            handler="fm_gateway_admin.handler",
            role=self.role,
            timeout=ADMIN_TIMEOUT,
            log_group=self.log_group,
            environment=environment,
            vpc=vpc,
            vpc_subnets=vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[security_group],
            description="AgentZone FM gateway admin: tenant teams and deployments",
            function_name=function_name,
        )

    @property
    def service_token(self) -> str:
        """``ServiceToken`` of ``Custom::LiteLLMTeam`` resources (:class:`TenantGatewayAccess`)."""
        return self.function.function_arn


def _admin_policy(
    scope: Construct, *, log_group: logs.ILogGroup, master_key_secret: secretsmanager.ISecret, encryption_key: kms.IKey
) -> iam.ManagedPolicy:
    """Read the master key (decrypting it only through Secrets Manager), write logs, attach to the gateway VPC."""
    region = cdk.Stack.of(scope).region
    secret_arn = master_key_secret.secret_full_arn or f"{master_key_secret.secret_arn}-??????"
    policy = iam.ManagedPolicy(
        scope,
        "Policy",
        description="AgentZone FM gateway admin: read the master key, write logs, attach to the gateway VPC",
        statements=[
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            ),
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[secret_arn]),
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
            ),
            # What AWSLambdaVPCAccessExecutionRole grants; Lambda checks these on the execution role.
            iam.PolicyStatement(actions=_VPC_ACCESS_ACTIONS, resources=["*"]),
        ],
    )
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "Lambda creates and deletes the function's network interfaces in the gateway VPC with these EC2 actions; "
        "they are the AWSLambdaVPCAccessExecutionRole set, whose Describe actions have no resource-level "
        "permissions.",
    )
    return policy


class TenantGatewayAccess(Construct):
    """One tenant on the FM gateway: tagged application inference profiles and its LiteLLM team.

    ``models``: gateway model name -> Bedrock foundation model id or system
    (cross-region) inference profile id; one application inference profile
    ``agentzone-<tenant>-<model>`` copies each. ``tags`` go on every profile
    (Bedrock bills calls through a profile with its tags), overriding the
    stack's own cost-center and use-case-id. ``team``: the ``/team/new`` body
    (:func:`agentzone.fm_gateway.team_payload`). The team resource sends it
    with one deployment per profile to the admin function behind
    ``admin_service_token``.

    Deleting the construct blocks the team (keys stop working, spend history
    stays) and removes its deployments. Make the gateway service a dependency
    of this construct so a stack deletion blocks the team before the gateway
    goes.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tenant: str,
        models: Mapping[str, str],
        tags: Mapping[str, str],
        team: Mapping,
        admin_service_token: str,
    ) -> None:
        super().__init__(scope, construct_id)
        if not models:
            raise ValueError(
                f"tenant {tenant}: no gateway models; LiteLLM would read an empty team model list as all models"
            )
        if team.get("team_id", tenant) != tenant:
            raise ValueError(f"team payload is for {team.get('team_id')!r}, not tenant {tenant!r}")
        stack = cdk.Stack.of(self)
        self.tenant = tenant
        self.models = dict(models)
        self.profiles: dict[str, bedrock.CfnApplicationInferenceProfile] = {}
        self._model_arns: list[str] = []
        deployments = [self._add_model(name, model_id, tags) for name, model_id in self.models.items()]
        self.resource = cdk.CustomResource(
            self,
            "Team",
            service_token=admin_service_token,
            resource_type=RESOURCE_TYPE,
            properties={
                "TeamId": tenant,
                "Team": stack.to_json_string(dict(team)),
                "Deployments": stack.to_json_string(deployments),
            },
            service_timeout=TEAM_SERVICE_TIMEOUT,
        )

    def _add_model(self, name: str, model_id: str, tags: Mapping[str, str]) -> dict:
        """The tenant's tagged application inference profile copying ``model_id``, and its deployment request."""
        stack = cdk.Stack.of(self)
        source = self._model_source(name, model_id)
        profile = bedrock.CfnApplicationInferenceProfile(
            self,
            f"Profile-{name}",
            inference_profile_name=inference_profile_name(self.tenant, name),
            description=f"AgentZone FM gateway: {name} for tenant {self.tenant}",
            model_source=bedrock.CfnApplicationInferenceProfile.InferenceProfileModelSourceProperty(copy_from=source),
            tags=[cdk.CfnTag(key=key, value=value) for key, value in sorted(tags.items())],
        )
        # Stack-wide tags (the platform's cost center) would otherwise replace the tenant's.
        for key, value in sorted(tags.items()):
            cdk.Tags.of(profile).add(key, value, priority=200)
        self.profiles[name] = profile
        return deployment_request(
            self.tenant, name, model_id, region=stack.region, profile_arn=profile.attr_inference_profile_arn
        )

    def _model_source(self, name: str, model_id: str) -> str:
        """The ARN a profile copies; records the ARNs a call through it is authorized on."""
        stack = cdk.Stack.of(self)
        if not is_system_inference_profile(model_id):
            source = bedrock.FoundationModel.from_foundation_model_id(
                self, f"Model-{name}", bedrock.FoundationModelIdentifier(model_id)
            ).model_arn
            self._model_arns.append(source)
            return source
        source = stack.format_arn(service="bedrock", resource="inference-profile", resource_name=model_id)
        # A cross-region profile may route to any of its regions: allow its model there.
        model_anywhere = stack.format_arn(
            service="bedrock", region="*", account="", resource="foundation-model", resource_name=_geo_base(model_id)
        )
        self._model_arns += [source, model_anywhere]
        return source

    @classmethod
    def for_tenant(
        cls,
        scope: Construct,
        construct_id: str,
        *,
        tenant: Tenant,
        settings: FmGatewaySettings,
        admin_service_token: str,
    ) -> TenantGatewayAccess:
        """Everything from config: the tenant's gateway models, cost tags and team payload."""
        return cls(
            scope,
            construct_id,
            tenant=tenant.tenant,
            models=gateway_model_ids(tenant, settings),
            tags=tenant_cost_tags(tenant),
            team=team_payload(tenant, settings),
            admin_service_token=admin_service_token,
        )

    @property
    def profile_arns(self) -> dict[str, str]:
        """Gateway model name -> application inference profile ARN."""
        return {name: profile.attr_inference_profile_arn for name, profile in self.profiles.items()}

    @property
    def deployment_names(self) -> dict[str, str]:
        """Gateway model name -> the tenant's LiteLLM model group (``<tenant>/<model>``)."""
        return {name: deployment_name(self.tenant, name) for name in self.profiles}

    @property
    def invoke_resources(self) -> list[str]:
        """The tenant's profiles and the models behind them: a call through a profile is authorized on both.

        A profile copied from a system (cross-region) profile may route to any
        of that profile's regions, so its model ARN has region ``*``.
        """
        return [*self.profile_arns.values(), *self._model_arns]

    def invoke_policy_statement(self) -> iam.PolicyStatement:
        """For a customer-managed policy (the compliance packs refuse inline ones on roles)."""
        return iam.PolicyStatement(actions=MODEL_INVOKE_ACTIONS, resources=self.invoke_resources)

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (the gateway's task role) call the tenant's profiles and the models behind them."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=MODEL_INVOKE_ACTIONS, resource_arns=self.invoke_resources
        )
