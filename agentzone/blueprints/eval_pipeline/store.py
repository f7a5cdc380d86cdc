"""The evaluation data: golden sets in, results out, one store item per agent version.

All three stay in the team's account under the tenant CMK, versioned and retained on delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from ...constructs.secure_bucket import AccessLogsBucket, SecureBucket
from ...evaluation import record
from ...nag import acknowledge


@dataclass(frozen=True)
class StoreProps:
    """Whose store it is; ``access_logs`` is the account's server access log bucket (created when omitted)."""

    tenant: str
    environment: str
    encryption_key: kms.IKey
    access_logs: AccessLogsBucket | None = None


@dataclass(frozen=True)
class StoreResources:
    """The buckets and the table every other part of the pipeline reads or writes."""

    dataset_bucket: s3.Bucket
    results_bucket: s3.Bucket
    table: dynamodb.TableV2


def evaluation_store(scope: Construct, props: StoreProps) -> StoreResources:
    """Datasets and Results buckets and the Store table, created in ``scope`` (their ids are the contract)."""
    access_logs = props.access_logs or AccessLogsBucket(scope, "AccessLogs")
    dataset_bucket = SecureBucket(
        scope, "Datasets", encryption_key=props.encryption_key, access_logs=access_logs
    ).bucket
    results_bucket = SecureBucket(scope, "Results", encryption_key=props.encryption_key, access_logs=access_logs).bucket
    return StoreResources(dataset_bucket, results_bucket, _table(scope, props))


def _table(scope: Construct, props: StoreProps) -> dynamodb.TableV2:
    """One item per agent version; a sparse index holds the approved versions (the baselines)."""
    return dynamodb.TableV2(
        scope,
        "Store",
        table_name=record.table_name(props.tenant, props.environment),
        partition_key=dynamodb.Attribute(name=record.PARTITION_KEY, type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=record.SORT_KEY, type=dynamodb.AttributeType.STRING),
        global_secondary_indexes=[
            dynamodb.GlobalSecondaryIndexPropsV2(
                index_name=record.BASELINE_INDEX,
                partition_key=dynamodb.Attribute(
                    name=record.BASELINE_INDEX_PARTITION_KEY, type=dynamodb.AttributeType.STRING
                ),
                sort_key=dynamodb.Attribute(name=record.BASELINE_INDEX_SORT_KEY, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        ],
        billing=dynamodb.Billing.on_demand(),
        encryption=dynamodb.TableEncryptionV2.customer_managed_key(props.encryption_key),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


def logical_id(resource: IConstruct) -> str:
    """The logical id of an L2's CloudFormation resource, as cdk-nag names it in finding ids."""
    child = resource.node.default_child
    if not isinstance(child, cdk.CfnElement):
        raise TypeError(f"{resource.node.path} has no CloudFormation resource")
    return cdk.Stack.of(resource).get_logical_id(child)


def acknowledge_prefixes(policy: IConstruct, bucket: s3.IBucket, prefixes: Sequence[str], reason: str) -> None:
    """Acknowledge a policy's object wildcards, one finding per bucket prefix it is confined to."""
    ref = f"<{logical_id(bucket)}.Arn>"
    for prefix in prefixes:
        acknowledge(policy, f"AwsSolutions-IAM5[Resource::{ref}/{prefix}/*]", f"{reason}; nothing outside {prefix}/.")
