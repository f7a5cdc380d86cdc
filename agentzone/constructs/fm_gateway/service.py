"""LiteLLM on ECS Fargate: the cluster, the task definition and its one container, the service and its scaling.

The image comes from ECR in the same account (a repository, or a
pull-through-cache path that ECR fills from its upstream on first pull).
LiteLLM reads its configuration at start from the S3 object of
:mod:`.config_deployment` (``LITELLM_CONFIG_BUCKET_NAME`` /
``LITELLM_CONFIG_BUCKET_OBJECT_KEY``, LiteLLM's documented mechanism for
Fargate); secrets come from Secrets Manager through the container's secrets.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ...nag import acknowledge
from .base import GatewayPartProps
from .config_deployment import GatewayConfig
from .data_stores import GatewayCache, GatewayDatabase, GatewaySecrets
from .network import GatewayNetwork
from .props import CONTAINER_PORT, DATABASE_NAME, HEALTH_PATH, POSTGRES_PORT, REDIS_PORT, FmGatewayProps
from .service_roles import BedrockResources, build_execution_role, build_pull_through_cache, build_task_role

CONTAINER_NAME = "litellm"

# What the container sees; the LiteLLM config generator refers to these names.
CONTAINER_ENVIRONMENT = {
    "LITELLM_CONFIG_BUCKET_NAME": "bucket holding the proxy config (LiteLLM loads it at start)",
    "LITELLM_CONFIG_BUCKET_OBJECT_KEY": "object key of the proxy config (config/<sha256>.yaml)",
    "LITELLM_MASTER_KEY": "secret: admin key, starts with sk-",
    "LITELLM_SALT_KEY": "secret: encrypts credentials LiteLLM stores in Postgres; never changes",
    "DATABASE_HOST": "Aurora writer endpoint host:port (LiteLLM builds DATABASE_URL from DATABASE_*)",
    "DATABASE_NAME": "database name",
    "DATABASE_USERNAME": "secret: database user",
    "DATABASE_PASSWORD": "secret: database password",
    "REDIS_HOST": "primary endpoint of the Redis replication group",
    "REDIS_PORT": "Redis port",
    "REDIS_PASSWORD": "secret: Redis AUTH token",
    "REDIS_SSL": "True: ElastiCache requires TLS",
    "AWS_REGION_NAME": "region LiteLLM calls Bedrock in",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True: use the bundled price map, there is no internet egress",
}


@dataclass(frozen=True)
class ServiceProps(GatewayPartProps):
    """What the tasks connect to: the network, the secrets, both data stores and the config object."""

    network: GatewayNetwork
    secrets: GatewaySecrets
    database: GatewayDatabase
    cache: GatewayCache
    config: GatewayConfig


@dataclass(frozen=True)
class GatewayService:
    """The running gateway and who its tasks act as."""

    cluster: ecs.Cluster
    service: ecs.FargateService
    container: ecs.ContainerDefinition
    task_role: iam.Role
    bedrock: BedrockResources
    pull_through_cache_credential: secretsmanager.Secret | None


def build_service(scope: Construct, props: ServiceProps) -> GatewayService:
    """A rolling Fargate service with a circuit breaker; it starts only after its config and policies exist."""
    gateway, secrets = props.gateway, props.secrets
    cluster = ecs.Cluster(scope, "Cluster", vpc=props.network.vpc, container_insights_v2=ecs.ContainerInsights.ENHANCED)
    repository = ecr.Repository.from_repository_name(scope, "Repository", gateway.image_repository)
    ptc = gateway.pull_through_cache
    credential = build_pull_through_cache(scope, ptc) if ptc else None
    container_logs = props.log_group(scope, "ContainerLogs")
    execution = build_execution_role(
        scope,
        repository=repository,
        container_logs=container_logs,
        secrets=[secrets.master_key, secrets.salt_key, secrets.redis_auth, props.database.secret],
        encryption_key=props.encryption_key,
        pull_through_cache=ptc is not None,
    )
    task = build_task_role(scope, props=gateway, encryption_key=props.encryption_key, config_bucket=props.config.bucket)
    task_definition = _task_definition(scope, gateway, execution.role, task.role)
    container = _add_container(task_definition, props, repository, container_logs)
    service = ecs.FargateService(
        scope,
        "Service",
        cluster=cluster,
        task_definition=task_definition,
        desired_count=gateway.min_tasks,
        min_healthy_percent=100,
        max_healthy_percent=200,
        assign_public_ip=False,
        vpc_subnets=props.network.subnets,
        security_groups=[props.network.task_security_group],
        circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
        health_check_grace_period=cdk.Duration.minutes(5),  # first start runs database migrations
        propagate_tags=ecs.PropagatedTagSource.SERVICE,
        enable_ecs_managed_tags=True,
    )
    # Tasks read the config object at start with the task role's policy, after pulling with the execution
    # role's: all three must exist first.
    service.node.add_dependency(props.config.deployment, execution.policy, task.policy)
    acknowledge(
        task_definition,
        "AwsSolutions-ECS2",
        "The plain environment holds only endpoints, names and flags LiteLLM reads at start; the master key, salt "
        "key, database credentials and Redis token come from Secrets Manager through the container's secrets.",
    )
    return GatewayService(
        cluster=cluster,
        service=service,
        container=container,
        task_role=task.role,
        bedrock=task.bedrock,
        pull_through_cache_credential=credential,
    )


def scale_service(
    service: ecs.FargateService, props: FmGatewayProps, target_group: elbv2.ApplicationTargetGroup
) -> None:
    """Between ``min_tasks`` and ``max_tasks`` on CPU and on requests per task (out fast, in slowly)."""
    scaling = service.auto_scale_task_count(min_capacity=props.min_tasks, max_capacity=props.max_tasks)
    scaling.scale_on_cpu_utilization(
        "Cpu",
        target_utilization_percent=props.target_cpu_percent,
        scale_in_cooldown=cdk.Duration.minutes(5),
        scale_out_cooldown=cdk.Duration.minutes(1),
    )
    scaling.scale_on_request_count(
        "Requests",
        requests_per_target=props.target_requests_per_task,
        target_group=target_group,
        scale_in_cooldown=cdk.Duration.minutes(5),
        scale_out_cooldown=cdk.Duration.minutes(1),
    )


def _task_definition(
    scope: Construct, props: FmGatewayProps, execution_role: iam.Role, task_role: iam.Role
) -> ecs.FargateTaskDefinition:
    return ecs.FargateTaskDefinition(
        scope,
        "TaskDefinition",
        cpu=props.cpu,
        memory_limit_mib=props.memory_mib,
        runtime_platform=ecs.RuntimePlatform(
            cpu_architecture=getattr(ecs.CpuArchitecture, props.cpu_architecture),
            operating_system_family=ecs.OperatingSystemFamily.LINUX,
        ),
        # Immutable: every permission is in the managed policies, nothing is added behind them.
        execution_role=execution_role.without_policy_updates(),
        task_role=task_role.without_policy_updates(),
    )


def _add_container(
    task_definition: ecs.FargateTaskDefinition,
    props: ServiceProps,
    repository: ecr.IRepository,
    container_logs: logs.ILogGroup,
) -> ecs.ContainerDefinition:
    probe = f"import urllib.request; urllib.request.urlopen('http://localhost:{CONTAINER_PORT}{HEALTH_PATH}')"
    return task_definition.add_container(
        CONTAINER_NAME,
        image=ecs.ContainerImage.from_ecr_repository(repository, tag=props.gateway.image_tag),
        essential=True,
        port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT, protocol=ecs.Protocol.TCP)],
        environment=_container_environment(props, region=cdk.Stack.of(task_definition).region),
        secrets=_container_secrets(props),
        logging=ecs.LogDrivers.aws_logs(
            stream_prefix=CONTAINER_NAME,
            log_group=container_logs,
            mode=ecs.AwsLogDriverMode.NON_BLOCKING,
            max_buffer_size=cdk.Size.mebibytes(25),
        ),
        health_check=ecs.HealthCheck(
            command=["CMD-SHELL", f'python3 -c "{probe}"'],
            interval=cdk.Duration.seconds(30),
            timeout=cdk.Duration.seconds(5),
            retries=3,
            start_period=cdk.Duration.seconds(120),
        ),
        stop_timeout=cdk.Duration.seconds(120),
    )


def _container_environment(props: ServiceProps, *, region: str) -> dict[str, str]:
    """The plain environment: endpoints, names and flags only (:data:`CONTAINER_ENVIRONMENT`)."""
    return {
        "LITELLM_CONFIG_BUCKET_NAME": props.config.bucket.bucket_name,
        "LITELLM_CONFIG_BUCKET_OBJECT_KEY": props.config.object_key,
        "DATABASE_HOST": f"{props.database.cluster.cluster_endpoint.hostname}:{POSTGRES_PORT}",
        "DATABASE_NAME": DATABASE_NAME,
        "REDIS_HOST": props.cache.replication_group.attr_primary_end_point_address,
        "REDIS_PORT": str(REDIS_PORT),
        "REDIS_SSL": "True",
        "AWS_REGION_NAME": region,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }


def _container_secrets(props: ServiceProps) -> dict[str, ecs.Secret]:
    secrets, database_secret = props.secrets, props.database.secret
    return {
        "LITELLM_MASTER_KEY": ecs.Secret.from_secrets_manager(secrets.master_key),
        "LITELLM_SALT_KEY": ecs.Secret.from_secrets_manager(secrets.salt_key),
        "DATABASE_USERNAME": ecs.Secret.from_secrets_manager(database_secret, "username"),
        "DATABASE_PASSWORD": ecs.Secret.from_secrets_manager(database_secret, "password"),
        "REDIS_PASSWORD": ecs.Secret.from_secrets_manager(secrets.redis_auth),
    }
