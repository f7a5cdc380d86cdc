"""The gateway's state: its secrets, Aurora PostgreSQL (keys, teams, budgets, spend) and Redis (shared limits, cache).

All of it is retained on delete and encrypted with the gateway's key; the
database and the cache admit only the gateway tasks.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ...nag import acknowledge, acknowledge_compliance
from .base import GatewayPartProps, no_rotation
from .network import GatewayNetwork, security_group
from .props import DATABASE_NAME, POSTGRES_PORT, REDIS_PORT

DATABASE_USER = "litellm"
AURORA_VERSION = rds.AuroraPostgresEngineVersion.VER_16_9
REDIS_ENGINE_VERSION = "7.1"  # redis-py (LiteLLM's client) speaks it; non-cluster mode
REDIS_PARAMETER_GROUP = "default.redis7"
# Kept out of the generated password: LiteLLM joins it into a connection URL (DATABASE_URL from DATABASE_*).
_DATABASE_PASSWORD_EXCLUDES = " %+~`#$&*()|[]{}:;<>?!'/@\"\\"

# ------------------------------------------------------------------ secrets


@dataclass(frozen=True)
class GatewaySecrets:
    """The LiteLLM master key (admin API), its salt key, and the Redis AUTH token."""

    master_key: secretsmanager.Secret
    salt_key: secretsmanager.Secret
    redis_auth: secretsmanager.Secret


def build_secrets(scope: Construct, props: GatewayPartProps) -> GatewaySecrets:
    """Retained secrets under the gateway's key; none of them may rotate unattended (reasons acknowledged)."""

    def secret(
        construct_id: str,
        description: str,
        generate: secretsmanager.SecretStringGenerator | None = None,
        value: cdk.SecretValue | None = None,
    ) -> secretsmanager.Secret:
        return secretsmanager.Secret(
            scope,
            construct_id,
            description=description,
            encryption_key=props.encryption_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            generate_secret_string=generate,
            secret_string_value=value,
        )

    def generated(length: int) -> secretsmanager.SecretStringGenerator:
        return secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=length)

    # LiteLLM wants the master key to start with sk-; Secrets Manager cannot prefix a generated value,
    # so the key is "sk-" + a generated seed, joined by CloudFormation through a dynamic reference.
    seed = secret(
        "MasterKeySeed", "FM gateway: random part of the LiteLLM master key (the key is sk-<this>)", generated(48)
    )
    master_key = secret(
        "MasterKey",
        "FM gateway: LiteLLM master key (admin API); plain string starting with sk-",
        value=cdk.SecretValue.unsafe_plain_text("sk-" + seed.secret_value.unsafe_unwrap()),
    )
    salt_key = secret(
        "SaltKey",
        "FM gateway: LITELLM_SALT_KEY, encrypts credentials stored in the database; never change it",
        generated(64),
    )
    # ElastiCache AUTH tokens: 16-128 printable characters without spaces, '/', '"' or '@'.
    redis_auth = secret("RedisAuthToken", "FM gateway: Redis AUTH token", generated(64))
    reasons = {
        seed: "The seed only exists to build the master key; rotating it alone would desynchronize the two.",
        master_key: "LiteLLM rotates its master key through its own API (re-encrypting stored "
        "credentials); a Secrets Manager rotation would lock the gateway out of its database records.",
        salt_key: "LITELLM_SALT_KEY encrypts credentials stored in Postgres; changing it makes "
        "them unreadable, so it must never rotate.",
        redis_auth: "ElastiCache AUTH rotation needs a coordinated ROTATE/SET on the replication "
        "group and a task restart; it is an operator runbook step, not an unattended rotation.",
    }
    for kept, reason in reasons.items():
        no_rotation(kept, reason)
    return GatewaySecrets(master_key=master_key, salt_key=salt_key, redis_auth=redis_auth)


# ------------------------------------------------------------------ stores


@dataclass(frozen=True)
class DataStoreProps(GatewayPartProps):
    """A data store lives in the gateway's isolated subnets and admits its tasks."""

    network: GatewayNetwork


def _store_security_group(
    scope: Construct, network: GatewayNetwork, construct_id: str, description: str, port: int, store: str
) -> ec2.SecurityGroup:
    """A store's group, admitting ``port`` from the gateway tasks only."""
    group = security_group(scope, network.vpc, construct_id, description)
    group.add_ingress_rule(network.task_security_group, ec2.Port.tcp(port), f"{store} from the gateway tasks")
    return group


# ----------------------------------------------------------------- database


@dataclass(frozen=True)
class GatewayDatabase:
    """Aurora PostgreSQL Serverless v2 and its generated credentials (user and password)."""

    cluster: rds.DatabaseCluster
    secret: secretsmanager.ISecret
    security_group: ec2.SecurityGroup


def build_database(scope: Construct, props: DataStoreProps) -> GatewayDatabase:
    """A writer and a reader in two zones, TLS only, IAM auth, logs and Performance Insights under the CMK."""
    description = "FM gateway Aurora: Postgres from the tasks only"
    group = _store_security_group(scope, props.network, "DatabaseSecurityGroup", description, POSTGRES_PORT, "Postgres")
    props.network.task_security_group.add_egress_rule(group, ec2.Port.tcp(POSTGRES_PORT), "to Aurora")
    engine = rds.DatabaseClusterEngine.aurora_postgres(version=AURORA_VERSION)
    # RDS publishes the postgresql log here; created first so it carries the CMK and a retention.
    db_logs = props.log_group(
        scope, "DatabaseLogs", log_group_name=f"/aws/rds/cluster/{props.gateway.resource_name}/postgresql"
    )
    cluster = _cluster(scope, props, engine, group)
    cluster.node.add_dependency(db_logs)
    secret = cluster.secret
    assert secret is not None, "a cluster with generated credentials has a secret"
    _retain_generated_secret(cluster)
    _acknowledge_database(cluster)
    return GatewayDatabase(cluster=cluster, secret=secret, security_group=group)


def _serverless_instance(
    instance_id: str, zone: str, key: kms.IKey, *, scale_with_writer: bool | None = None
) -> rds.IClusterInstance:
    return rds.ClusterInstance.serverless_v2(
        instance_id,
        availability_zone=zone,
        scale_with_writer=scale_with_writer,
        publicly_accessible=False,
        auto_minor_version_upgrade=True,
        enable_performance_insights=True,
        performance_insight_encryption_key=key,
    )


def _cluster(
    scope: Construct, props: DataStoreProps, engine: rds.IClusterEngine, group: ec2.ISecurityGroup
) -> rds.DatabaseCluster:
    gateway, key, vpc = props.gateway, props.encryption_key, props.network.vpc
    zones = vpc.availability_zones
    parameters = rds.ParameterGroup(
        scope,
        "DatabaseParameters",
        engine=engine,
        description="FM gateway Aurora: TLS only",
        parameters={"rds.force_ssl": "1"},
    )
    return rds.DatabaseCluster(
        scope,
        "Database",
        engine=engine,
        cluster_identifier=gateway.resource_name,
        credentials=rds.Credentials.from_generated_secret(
            DATABASE_USER, encryption_key=key, exclude_characters=_DATABASE_PASSWORD_EXCLUDES
        ),
        default_database_name=DATABASE_NAME,
        writer=_serverless_instance("Writer", zones[0], key),
        readers=[_serverless_instance("Reader", zones[1], key, scale_with_writer=True)],
        serverless_v2_min_capacity=gateway.database.min_capacity_acu,
        serverless_v2_max_capacity=gateway.database.max_capacity_acu,
        vpc=vpc,
        vpc_subnets=props.network.subnets,
        security_groups=[group],
        port=POSTGRES_PORT,
        storage_encrypted=True,
        storage_encryption_key=key,
        deletion_protection=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        backup=rds.BackupProps(
            retention=cdk.Duration.days(gateway.database.backup_retention_days), preferred_window="02:00-03:00"
        ),
        preferred_maintenance_window="sun:04:00-sun:05:00",
        iam_authentication=True,
        cloudwatch_logs_exports=["postgresql"],
        monitoring_interval=cdk.Duration.seconds(60),
        copy_tags_to_snapshot=True,
        parameter_group=parameters,
    )


def _retain_generated_secret(cluster: rds.DatabaseCluster) -> None:
    """A retained database keeps its credentials; they rotate with a redeploy, not unattended."""
    generated_secret = cluster.node.find_child("Secret")  # cluster.secret is its attachment
    assert isinstance(generated_secret, cdk.Resource), generated_secret
    generated_secret.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    no_rotation(
        generated_secret,
        "LiteLLM reads DATABASE_PASSWORD once at task start for its connection pool; an unattended rotation "
        "would break new connections until every task restarts. Rotate with a redeploy (runbook).",
    )


def _acknowledge_database(cluster: rds.DatabaseCluster) -> None:
    for instance_id in ("Writer", "Reader"):
        acknowledge_compliance(
            cluster.node.find_child(instance_id),
            "RDSInBackupPlan",
            "Aurora's continuous backup gives point-in-time recovery over the configured retention window; "
            "the database holds keys, budgets and spend that LiteLLM can rebuild from config and usage logs.",
        )
    monitoring_role = cluster.node.try_find_child("MonitoringRole")
    if monitoring_role is not None:
        acknowledge(
            monitoring_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonRDSEnhancedMonitoringRole]",
            "RDS enhanced monitoring publishes OS metrics with this AWS-maintained service policy; it grants "
            "only log writes to the RDSOSMetrics log group.",
        )


# -------------------------------------------------------------------- cache


@dataclass(frozen=True)
class CacheProps(DataStoreProps):
    """The cache also needs its AUTH token."""

    auth_token: secretsmanager.ISecret


@dataclass(frozen=True)
class GatewayCache:
    """The Redis replication group and the ids of its nodes (their metrics are per node)."""

    replication_group: elasticache.CfnReplicationGroup
    security_group: ec2.SecurityGroup
    nodes: tuple[str, ...]


def build_cache(scope: Construct, props: CacheProps) -> GatewayCache:
    """Non-cluster Redis with automatic failover across zones, TLS required, AUTH token, CMK at rest."""
    group = _store_security_group(
        scope, props.network, "CacheSecurityGroup", "FM gateway Redis: from the tasks only", REDIS_PORT, "Redis"
    )
    props.network.task_security_group.add_egress_rule(group, ec2.Port.tcp(REDIS_PORT), "to Redis")
    subnet_group = elasticache.CfnSubnetGroup(
        scope,
        "CacheSubnets",
        description="FM gateway Redis: isolated subnets",
        subnet_ids=props.network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
    )
    slow_log = props.log_group(scope, "CacheSlowLog")
    cache = _replication_group(scope, props, subnet_group, group, slow_log)
    for resource in (cache, subnet_group):
        resource.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    acknowledge(
        cache,
        "AwsSolutions-AEC5",
        "A non-default port hides nothing from a scanner; the cache sits in isolated subnets, its security group "
        "admits only the gateway tasks, and it requires TLS and an AUTH token.",
    )
    cache_id = props.gateway.cache_id
    nodes = tuple(f"{cache_id}-{i:03d}" for i in range(1, _node_count(props) + 1))
    return GatewayCache(replication_group=cache, security_group=group, nodes=nodes)


def _node_count(props: CacheProps) -> int:
    return 1 + props.gateway.cache.replicas


def _replication_group(
    scope: Construct,
    props: CacheProps,
    subnet_group: elasticache.CfnSubnetGroup,
    group: ec2.ISecurityGroup,
    slow_log: logs.ILogGroup,
) -> elasticache.CfnReplicationGroup:
    gateway, nodes = props.gateway, _node_count(props)
    zones = props.network.vpc.availability_zones
    return elasticache.CfnReplicationGroup(
        scope,
        "Cache",
        replication_group_id=gateway.cache_id,
        replication_group_description=f"FM gateway {gateway.name}: LiteLLM rate limits and response cache",
        engine="redis",
        engine_version=REDIS_ENGINE_VERSION,
        cache_parameter_group_name=REDIS_PARAMETER_GROUP,
        cache_node_type=gateway.cache.node_type,
        num_cache_clusters=nodes,
        preferred_cache_cluster_a_zs=[zones[i % len(zones)] for i in range(nodes)],
        automatic_failover_enabled=True,
        multi_az_enabled=True,
        port=REDIS_PORT,
        cache_subnet_group_name=subnet_group.ref,
        security_group_ids=[group.security_group_id],
        transit_encryption_enabled=True,
        transit_encryption_mode="required",
        auth_token=props.auth_token.secret_value.unsafe_unwrap(),  # {{resolve:secretsmanager:...}}
        at_rest_encryption_enabled=True,
        kms_key_id=props.encryption_key.key_arn,
        snapshot_retention_limit=gateway.cache.snapshot_retention_days,
        snapshot_window="02:00-03:00",
        preferred_maintenance_window="sun:04:00-sun:05:00",
        auto_minor_version_upgrade=True,
        log_delivery_configurations=[_slow_log_delivery(slow_log)],
    )


def _slow_log_delivery(
    slow_log: logs.ILogGroup,
) -> elasticache.CfnReplicationGroup.LogDeliveryConfigurationRequestProperty:
    group = elasticache.CfnReplicationGroup
    return group.LogDeliveryConfigurationRequestProperty(
        destination_type="cloudwatch-logs",
        log_format="json",
        log_type="slow-log",
        destination_details=group.DestinationDetailsProperty(
            cloud_watch_logs_details=group.CloudWatchLogsDestinationDetailsProperty(log_group=slow_log.log_group_name)
        ),
    )
