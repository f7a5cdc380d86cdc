"""Who the gateway tasks act as: the execution role (image, secrets, logs), the task role (Bedrock, config),
and the ECR pull-through cache the image may come through.

Both roles get their permissions from customer-managed policies and are
handed to the task definition immutable, so nothing is added behind them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ...nag import acknowledge, acknowledge_compliance
from ...naming import split_profile
from ..secure_bucket import SecureBucket
from .base import finding_arn
from .config_deployment import bucket_logical_id
from .props import CONFIG_PREFIX, PULL_THROUGH_UPSTREAMS, FmGatewayProps, PullThroughCacheProps

INVOKE_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]

# ------------------------------------------------------------ model ARNs


@dataclass(frozen=True)
class BedrockResources:
    """The ARNs the gateway may invoke, grouped by how IAM must name them."""

    foundation_models: tuple[str, ...]  # in this region, invoked directly
    inference_profiles: tuple[str, ...]  # system-defined cross-region profiles, in this account and region
    profile_models: tuple[str, ...]  # the models behind those profiles, in any region the profile routes to
    application_profiles: str  # per-tenant application inference profiles in this account


def bedrock_resources(model_ids: Sequence[str], *, partition: str, region: str, account: str) -> BedrockResources:
    direct, profiles, behind = [], [], []
    for model_id in dict.fromkeys(model_ids):
        geography, model = split_profile(model_id)
        if geography is None:
            direct.append(f"arn:{partition}:bedrock:{region}::foundation-model/{model}")
        else:
            profiles.append(f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{model_id}")
            behind.append(f"arn:{partition}:bedrock:*::foundation-model/{model}")
    return BedrockResources(
        foundation_models=tuple(direct),
        inference_profiles=tuple(profiles),
        profile_models=tuple(dict.fromkeys(behind)),
        application_profiles=f"arn:{partition}:bedrock:{region}:{account}:application-inference-profile/*",
    )


def ecs_tasks_principal(scope: Construct) -> iam.IPrincipal:
    """ECS tasks of this account only."""
    return iam.ServicePrincipal("ecs-tasks.amazonaws.com").with_conditions(
        {"StringEquals": {"aws:SourceAccount": cdk.Stack.of(scope).account}}
    )


def _decrypt_via(stack: cdk.Stack, key: kms.IKey, service: str, sid: str | None = None) -> iam.PolicyStatement:
    """kms:Decrypt on the gateway's key, only when ``service`` asks for it."""
    return iam.PolicyStatement(
        sid=sid,
        actions=["kms:Decrypt"],
        resources=[key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"{service}.{stack.region}.{stack.url_suffix}"}},
    )


# ----------------------------------------------------------- execution role


@dataclass(frozen=True)
class ExecutionRole:
    role: iam.Role
    policy: iam.ManagedPolicy


def build_execution_role(
    scope: Construct,
    *,
    repository: ecr.IRepository,
    container_logs: logs.ILogGroup,
    secrets: Sequence[secretsmanager.ISecret],
    encryption_key: kms.IKey,
    pull_through_cache: bool,
) -> ExecutionRole:
    """Pulls the image (importing it through the cache on first pull), reads the container secrets, writes logs."""
    role = iam.Role(
        scope,
        "ExecutionRole",
        assumed_by=ecs_tasks_principal(scope),
        description="FM gateway: pulls the image, reads the container secrets, writes container logs",
    )
    statements = [
        iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
        iam.PolicyStatement(
            actions=["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            resources=[repository.repository_arn],
        ),
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[container_logs.log_group_arn]
        ),
        iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[s.secret_arn for s in secrets]),
        _decrypt_via(cdk.Stack.of(scope), encryption_key, "secretsmanager"),
    ]
    if pull_through_cache:
        # The first pull through the cache creates the repository and imports the image as the puller.
        statements.append(
            iam.PolicyStatement(
                actions=["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                resources=[repository.repository_arn],
            )
        )
    policy = iam.ManagedPolicy(scope, "ExecutionPolicy", roles=[role], statements=statements)
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "ecr:GetAuthorizationToken has no resource-level permissions; image pulls are limited to the gateway's "
        "repository.",
    )
    return ExecutionRole(role=role, policy=policy)


# ---------------------------------------------------------------- task role


@dataclass(frozen=True)
class TaskRole:
    role: iam.Role
    policy: iam.ManagedPolicy
    bedrock: BedrockResources


def build_task_role(
    scope: Construct, *, props: FmGatewayProps, encryption_key: kms.IKey, config_bucket: SecureBucket
) -> TaskRole:
    """Invokes the gateway's models (directly or through this account's profiles), applies its guardrail, reads
    its config objects."""
    stack = cdk.Stack.of(scope)
    role = iam.Role(
        scope,
        "TaskRole",
        role_name=props.role_name,
        assumed_by=ecs_tasks_principal(scope),
        description="FM gateway tasks: invoke the gateway's Bedrock models, apply its guardrail, read its config",
    )
    arns = bedrock_resources(props.model_ids, partition=stack.partition, region=stack.region, account=stack.account)
    statements = [
        *_invoke_statements(arns, props.guardrail_arn),
        iam.PolicyStatement(
            sid="ReadProxyConfig",
            actions=["s3:GetObject"],
            resources=[config_bucket.bucket.arn_for_objects(f"{CONFIG_PREFIX}*")],
        ),
        _decrypt_via(stack, encryption_key, "s3", sid="DecryptProxyConfig"),
    ]
    policy = iam.ManagedPolicy(scope, "TaskPolicy", roles=[role], statements=statements)
    _acknowledge_task_policy(policy, arns, config_bucket)
    return TaskRole(role=role, policy=policy, bedrock=arns)


def _invoke_statements(arns: BedrockResources, guardrail_arn: str | None) -> list[iam.PolicyStatement]:
    statements = [
        iam.PolicyStatement(
            sid="InvokeGatewayModels",
            actions=INVOKE_ACTIONS,
            resources=[*arns.foundation_models, *arns.inference_profiles, arns.application_profiles],
        ),
    ]
    if arns.profile_models:
        # A cross-region profile routes to the model in any region of its geography; allow that only
        # through an inference profile of this account (system profile or a tenant's application profile).
        statements.append(
            iam.PolicyStatement(
                sid="InvokeModelsBehindProfiles",
                actions=INVOKE_ACTIONS,
                resources=list(arns.profile_models),
                conditions={
                    "StringLike": {"bedrock:InferenceProfileArn": [*arns.inference_profiles, arns.application_profiles]}
                },
            )
        )
    if guardrail_arn:
        statements.append(
            iam.PolicyStatement(
                sid="ApplyGatewayGuardrail",
                actions=["bedrock:ApplyGuardrail", "bedrock:GetGuardrail"],
                resources=[guardrail_arn],
            )
        )
    return statements


def _acknowledge_task_policy(policy: iam.ManagedPolicy, arns: BedrockResources, config_bucket: SecureBucket) -> None:
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{finding_arn(arns.application_profiles)}]",
        "Tenants' application inference profiles are created in this account by their own stacks, after this "
        "one; the wildcard is limited to application profiles in this account and region.",
    )
    for arn in arns.profile_models:
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{finding_arn(arn)}]",
            "A cross-region inference profile may route to this model in any region of its geography; the "
            "statement only applies through this account's inference profiles (bedrock:InferenceProfileArn).",
        )
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::<{bucket_logical_id(config_bucket)}.Arn>/{CONFIG_PREFIX}*]",
        "Config objects are named by their hash; tasks of the previous task definition must still read theirs "
        "during a rolling deployment or rollback. Read-only, one prefix of the gateway's own bucket.",
    )


# ------------------------------------------------------- pull-through cache

_PTC_NO_ROTATION = (
    "The registry token is issued by the upstream registry (GitHub, Docker Hub), not by AWS; the operator "
    "replaces it there and in this secret before it expires."
)


def build_pull_through_cache(scope: Construct, ptc: PullThroughCacheProps) -> secretsmanager.Secret | None:
    """The ECR rule that fills ``<prefix>/...`` from the upstream; returns the login secret it created, if any
    (none when the upstream needs no login or ``credential_arn`` names an existing one)."""
    created = _pull_through_credential(scope, ptc) if ptc.needs_credentials and not ptc.credential_arn else None
    ecr.CfnPullThroughCacheRule(
        scope,
        "PullThroughCache",
        ecr_repository_prefix=ptc.prefix,
        upstream_registry=PULL_THROUGH_UPSTREAMS[ptc.upstream][0],
        upstream_registry_url=ptc.upstream,
        credential_arn=created.secret_arn if created else (ptc.credential_arn if ptc.needs_credentials else None),
    )
    return created


def _pull_through_credential(scope: Construct, ptc: PullThroughCacheProps) -> secretsmanager.Secret:
    # Encrypted with aws/secretsmanager on purpose: ECR reads it as its pull-through-cache service-linked
    # role, whose policy has no kms:Decrypt and which a key policy cannot name before it exists.
    credential = secretsmanager.Secret(
        scope,
        "PullThroughCacheCredential",
        secret_name=ptc.credential_secret_name,
        description=f"Registry login for the ECR pull-through cache of {ptc.upstream}: "
        'replace with {"username": ..., "accessToken": ...} (a read-only token)',
        generate_secret_string=secretsmanager.SecretStringGenerator(
            secret_string_template=json.dumps({"username": "REPLACE_ME"}),
            generate_string_key="accessToken",
        ),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    acknowledge_compliance(
        credential,
        "SecretsManagerUsingKMSKey",
        "ECR reads pull-through-cache credentials with its service-linked role, which has no kms:Decrypt and "
        "cannot be named in a key policy before it exists; the secret holds a read-only registry token.",
    )
    acknowledge(credential, "AwsSolutions-SMG4", _PTC_NO_ROTATION)
    acknowledge_compliance(credential, "SecretsManagerRotationEnabled", _PTC_NO_ROTATION)
    return credential
