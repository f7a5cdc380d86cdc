"""The proxy configuration object LiteLLM reads at start, and its upload.

The object key is the SHA-256 of the configuration, so a change rolls the
service and a rollback finds the old object still there (the upload never
prunes). The upload runs in aws-cdk-lib's BucketDeployment singleton; its
findings are acknowledged on that singleton only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct, IConstruct

from ...nag import acknowledge, acknowledge_compliance
from ..secure_bucket import AccessLogsBucket, SecureBucket
from .base import GatewayPartProps
from .network import GatewayNetwork
from .props import CONFIG_PREFIX, HTTPS_PORT


@dataclass(frozen=True)
class ConfigDeploymentProps(GatewayPartProps):
    """The proxy config (a LiteLLM ``config.yaml`` as a mapping) and where its bucket logs access."""

    network: GatewayNetwork
    access_logs: AccessLogsBucket
    proxy_config: Mapping[str, Any]


@dataclass(frozen=True)
class GatewayConfig:
    """The config bucket, the object the tasks read, and the upload they must wait for."""

    bucket: SecureBucket
    object_key: str
    deployment: s3_deployment.BucketDeployment


def build_config_deployment(scope: Construct, props: ConfigDeploymentProps) -> GatewayConfig:
    """Upload ``config/<sha256>.yaml`` from inside the VPC (S3 through the gateway endpoint)."""
    config = dict(props.proxy_config)
    object_key = config_object_key(cdk.Stack.of(scope), config)
    bucket = SecureBucket(scope, "ConfigBucket", encryption_key=props.encryption_key, access_logs=props.access_logs)
    deployment_logs = props.log_group(scope, "ConfigDeploymentLogs")
    deployment_sg = ec2.SecurityGroup(
        scope,
        "ConfigDeploymentSecurityGroup",
        vpc=props.network.vpc,
        allow_all_outbound=False,
        description="FM gateway config upload: HTTPS to S3 through the gateway endpoint",
    )
    deployment_sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS_PORT), "S3 through the gateway endpoint")
    deployment = s3_deployment.BucketDeployment(
        scope,
        "ConfigDeployment",
        destination_bucket=bucket.bucket,
        sources=[s3_deployment.Source.yaml_data(object_key, config)],
        prune=False,  # earlier configs stay for rollbacks and tasks still starting
        retain_on_delete=True,
        vpc=props.network.vpc,
        vpc_subnets=props.network.subnets,
        security_groups=[deployment_sg],
        log_group=deployment_logs,
        memory_limit=256,
    )
    _acknowledge_handler_role(deployment.handler_role)
    _acknowledge_handler_policy(deployment.handler_role, bucket)
    _acknowledge_handler_function(deployment.handler_role)
    return GatewayConfig(bucket=bucket, object_key=object_key, deployment=deployment)


def config_object_key(stack: cdk.Stack, proxy_config: Mapping[str, Any]) -> str:
    """``config/<sha256>.yaml`` of the resolved config: tokens (a guardrail id) hash as their expressions."""
    resolved = stack.resolve(dict(proxy_config))
    digest = hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()
    return f"{CONFIG_PREFIX}{digest}.yaml"


def bucket_logical_id(bucket: SecureBucket) -> str:
    """How cdk-nag names the config bucket in resource findings (``<LogicalId.Arn>``)."""
    resource = bucket.bucket.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    return cdk.Stack.of(bucket).get_logical_id(resource)


def _acknowledge_handler_role(role: iam.IRole) -> None:
    managed = "arn:<AWS::Partition>:iam::aws:policy/service-role"
    acknowledge(
        role,
        f"AwsSolutions-IAM4[Policy::{managed}/AWSLambdaBasicExecutionRole]",
        "aws-cdk-lib's BucketDeployment handler role writes its own logs with this AWS-maintained policy.",
    )
    acknowledge(
        role,
        f"AwsSolutions-IAM4[Policy::{managed}/AWSLambdaVPCAccessExecutionRole]",
        "The BucketDeployment handler runs in the isolated subnets (S3 through the gateway endpoint) "
        "and needs ENI management.",
    )


# What BucketDeployment's grants need each wildcard action for.
_WILDCARD_ACTIONS = {
    "s3:GetObject*": "read the deployment's source asset and the destination object",
    "s3:GetBucket*": "read bucket location and settings of the asset and config buckets",
    "s3:List*": "list the asset and config buckets during the copy",
    "s3:Abort*": "abort its own multipart uploads to the config bucket",
    "s3:DeleteObject*": "granted by BucketDeployment's read/write grant; prune is off so nothing is deleted",
    "kms:GenerateDataKey*": "encrypt the config object with the gateway's CMK",
    "kms:ReEncrypt*": "part of BucketDeployment's grant on the gateway's CMK only",
}


def _acknowledge_handler_policy(role: iam.IRole, bucket: SecureBucket) -> None:
    policy = role.node.try_find_child("DefaultPolicy")
    assert isinstance(policy, iam.Policy), policy
    for action, why in _WILDCARD_ACTIONS.items():
        acknowledge(policy, f"AwsSolutions-IAM5[Action::{action}]", f"aws-cdk-lib's BucketDeployment grant: {why}.")
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::<{bucket_logical_id(bucket)}.Arn>/*]",
        "BucketDeployment writes the proxy config into the gateway's own config bucket; no other bucket.",
    )
    for resource in _asset_bucket_wildcards(policy):
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{resource}]",
            "The CDK bootstrap asset bucket holds the zipped config this deployment copies; "
            "asset keys are content hashes.",
        )
    acknowledge_compliance(
        policy,
        "IAMNoInlinePolicy",
        "aws-cdk-lib's BucketDeployment writes its handler's grants as a policy attached only to that role.",
    )


def _acknowledge_handler_function(role: iam.IRole) -> None:
    function = _singleton_function(role)
    acknowledge(
        function,
        "AwsSolutions-L1",
        "aws-cdk-lib pins the BucketDeployment handler's runtime (with its AWS CLI layer); it moves with CDK upgrades.",
    )
    acknowledge_compliance(
        function,
        "LambdaConcurrency",
        "Invoked only by CloudFormation when the gateway config changes; "
        "reserving concurrency would take it from the account.",
    )
    acknowledge_compliance(
        function,
        "LambdaDLQ",
        "CloudFormation invokes it synchronously and receives every failure as a FAILED response; "
        "nothing to dead-letter.",
    )


def _singleton_function(role: iam.IRole) -> IConstruct:
    """The stack-level BucketDeployment handler whose role is ``role``."""
    stack = cdk.Stack.of(role)
    function = next(
        (
            c
            for c in stack.node.children
            if c.node.id.startswith("Custom::CDKBucketDeployment") and role.node.path.startswith(c.node.path + "/")
        ),
        None,
    )
    assert function is not None, "BucketDeployment handler not found"
    return function


def _asset_bucket_wildcards(policy: iam.Policy) -> list[str]:
    """Literal CDK-asset-bucket object wildcards in a policy, as cdk-nag names them."""
    found = []
    for statement in cdk.Stack.of(policy).resolve(policy.document).get("Statement", []):
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            if isinstance(resource, str) and "-assets-" in resource and resource.endswith("/*"):
                found.append(resource)
    return sorted(set(found))
