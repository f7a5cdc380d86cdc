"""The FmGateway construct: composes the parts (network, data stores, config, service, edge, alarms)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ..secure_bucket import AccessLogsBucket, SecureBucket
from .alarms import AlarmProps, build_alarm_topic, build_alarms
from .base import GatewayPartProps
from .config_deployment import ConfigDeploymentProps, build_config_deployment
from .data_stores import CacheProps, DataStoreProps, build_cache, build_database, build_secrets
from .edge import EdgeProps, build_edge
from .network import build_network
from .props import FmGatewayProps
from .service import ServiceProps, build_service, scale_service
from .service_roles import BedrockResources


class FmGateway(Construct):
    """LiteLLM on Fargate behind an internal ALB with WAF, Aurora, Redis, PrivateLink and alarms.

    Attributes for the team-provisioning function and other stacks: ``vpc``,
    ``admin_security_group`` (may reach the ALB on 443 and the VPC endpoints),
    ``gateway_url`` (resolves to the ALB inside the gateway VPC through a
    private hosted zone), ``master_key_secret``, ``encryption_key``,
    ``endpoint_service`` / ``endpoint_service_name``, ``alarm_topic``,
    ``alarms``, ``service``, ``load_balancer``, ``database``, ``cache``.

    ``encryption_key`` must let CloudWatch Logs in this account use it (as
    :class:`~agentzone.constructs.encryption_key.BaselineKey` does); the
    construct adds the CloudWatch alarm grant when it creates the alarm topic.

    The parts build their resources in this construct itself (no scope of
    their own), in a fixed order: the construct paths, and so the logical
    ids, do not depend on how the code is split.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: FmGatewayProps,
        encryption_key: kms.IKey,
        proxy_config: Mapping[str, Any],
        alarm_topic: sns.ITopic | None = None,
        access_logs: AccessLogsBucket | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        if cdk.Token.is_unresolved(stack.region) or cdk.Token.is_unresolved(stack.account):
            raise ValueError(
                "FmGateway needs a stack with an explicit env (account and region): zones are named, not looked up"
            )
        self.props = props
        self.encryption_key = encryption_key
        self.gateway_url = f"https://{props.domain_name}"
        access_logs = access_logs or AccessLogsBucket(self, "AccessLogs")
        part = GatewayPartProps(gateway=props, encryption_key=encryption_key)
        self._build(part, proxy_config, access_logs)
        self.alarm_topic: sns.ITopic = alarm_topic or build_alarm_topic(self, part)
        self.alarms: dict[str, cloudwatch.Alarm] = build_alarms(
            self,
            AlarmProps(
                gateway=props,
                encryption_key=encryption_key,
                topic=self.alarm_topic,
                load_balancer=self.load_balancer,
                target_group=self.target_group,
                service=self.service,
                database=self.database,
                cache_nodes=self._cache.nodes,
            ),
        )

    def _build(self, part: GatewayPartProps, proxy_config: Mapping[str, Any], access_logs: AccessLogsBucket) -> None:
        """Every part but the alarms, in the order their resources appear in the template."""
        gateway, key = part.gateway, part.encryption_key
        self._network = network = build_network(self, part)
        self._secrets = secrets = build_secrets(self, part)
        self._database = build_database(self, DataStoreProps(gateway=gateway, encryption_key=key, network=network))
        self._cache = build_cache(
            self, CacheProps(gateway=gateway, encryption_key=key, network=network, auth_token=secrets.redis_auth)
        )
        self._config = build_config_deployment(
            self,
            ConfigDeploymentProps(
                gateway=gateway,
                encryption_key=key,
                network=network,
                access_logs=access_logs,
                proxy_config=proxy_config,
            ),
        )
        self._service = build_service(
            self,
            ServiceProps(
                gateway=gateway,
                encryption_key=key,
                network=network,
                secrets=secrets,
                database=self._database,
                cache=self._cache,
                config=self._config,
            ),
        )
        self._edge = build_edge(
            self,
            EdgeProps(
                gateway=gateway, encryption_key=key, network=network, service=self.service, access_logs=access_logs
            ),
        )
        scale_service(self.service, gateway, self.target_group)

    # --------------------------------------------------------------- network

    @property
    def vpc(self) -> ec2.Vpc:
        return self._network.vpc

    @property
    def admin_security_group(self) -> ec2.SecurityGroup:
        """Attach to functions that administer the gateway: may reach the ALB and the VPC endpoints on 443."""
        return self._network.admin_security_group

    # ------------------------------------------------------------ data stores

    @property
    def master_key_secret(self) -> secretsmanager.Secret:
        """The LiteLLM master key (admin API): a plain string starting with ``sk-``."""
        return self._secrets.master_key

    @property
    def salt_key_secret(self) -> secretsmanager.Secret:
        return self._secrets.salt_key

    @property
    def redis_auth_secret(self) -> secretsmanager.Secret:
        return self._secrets.redis_auth

    @property
    def database(self) -> rds.DatabaseCluster:
        return self._database.cluster

    @property
    def database_secret(self) -> secretsmanager.ISecret:
        return self._database.secret

    @property
    def cache(self) -> elasticache.CfnReplicationGroup:
        return self._cache.replication_group

    # ----------------------------------------------------------------- config

    @property
    def config_bucket(self) -> SecureBucket:
        return self._config.bucket

    @property
    def config_object_key(self) -> str:
        """``config/<sha256>.yaml``: the object the running task definition reads."""
        return self._config.object_key

    # ---------------------------------------------------------------- service

    @property
    def cluster(self) -> ecs.Cluster:
        return self._service.cluster

    @property
    def service(self) -> ecs.FargateService:
        return self._service.service

    @property
    def container(self) -> ecs.ContainerDefinition:
        return self._service.container

    @property
    def task_role(self) -> iam.Role:
        return self._service.task_role

    @property
    def bedrock(self) -> BedrockResources:
        """The model and inference-profile ARNs the task role may invoke."""
        return self._service.bedrock

    @property
    def pull_through_cache_credential(self) -> secretsmanager.Secret | None:
        """The upstream registry login to fill in, when the pull-through cache needs one."""
        return self._service.pull_through_cache_credential

    # ------------------------------------------------------------------- edge

    @property
    def load_balancer(self) -> elbv2.ApplicationLoadBalancer:
        return self._edge.load_balancer

    @property
    def listener(self) -> elbv2.ApplicationListener:
        return self._edge.listener

    @property
    def target_group(self) -> elbv2.ApplicationTargetGroup:
        return self._edge.target_group

    @property
    def hosted_zone(self) -> route53.PrivateHostedZone:
        return self._edge.hosted_zone

    @property
    def web_acl(self) -> wafv2.CfnWebACL:
        return self._edge.web_acl

    @property
    def network_load_balancer(self) -> elbv2.NetworkLoadBalancer:
        return self._edge.network_load_balancer

    @property
    def endpoint_service(self) -> ec2.VpcEndpointService:
        return self._edge.endpoint_service

    @property
    def endpoint_service_name(self) -> str:
        return self.endpoint_service.vpc_endpoint_service_name

    # ----------------------------------------------------------------- grants

    def grant_admin(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let an admin function read the master key (it also needs ``admin_security_group``)."""
        return self.master_key_secret.grant_read(grantee)
