"""The workflow's records: the requests table (one item per request, tokens of waiting requests) and the
Object Lock bucket of immutable decision records, ``decisions/<request id>.json``.

Both are retained on delete under stable construct ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ...constructs.secure_bucket import AccessLogsBucket, SecureBucket
from ...nag import acknowledge_compliance
from ._nag import acknowledge_on_grantee, nag_text
from .contract import RECORD_PREFIX, STATUS_INDEX

# What the status index shows of a request: never its payload or task token.
_STATUS_INDEX_ATTRIBUTES = [
    "category",
    "action",
    "requested_by",
    "payload_sha256",
    "decided_by",
    "decided_at",
    "reason",
]


@dataclass(frozen=True)
class RecordsProps:
    """``access_logs``: the account's server access log bucket; one is created for the records bucket when omitted."""

    encryption_key: kms.IKey
    record_retention_days: int = 365
    access_logs: AccessLogsBucket | None = None


@dataclass(frozen=True)
class HitlRecords:
    table: dynamodb.Table
    bucket: s3.IBucket
    encryption_key: kms.IKey


def hitl_records(scope: Construct, props: RecordsProps) -> HitlRecords:
    """``Requests`` (table), ``RecordsAccessLogs`` (unless given) and ``Records`` (bucket), in ``scope``."""
    table = _requests_table(scope, props.encryption_key)
    access_logs = props.access_logs or AccessLogsBucket(scope, "RecordsAccessLogs")
    records = SecureBucket(
        scope,
        "Records",
        encryption_key=props.encryption_key,
        access_logs=access_logs,
        object_lock_retention=s3.ObjectLockRetention.compliance(cdk.Duration.days(props.record_retention_days)),
    )
    return HitlRecords(table, records.bucket, props.encryption_key)


def _requests_table(scope: Construct, key: kms.IKey) -> dynamodb.Table:
    table = dynamodb.Table(
        scope,
        "Requests",
        partition_key=dynamodb.Attribute(name="request_id", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    # "Pending (or approved, rejected) requests, oldest first"; tokens are not projected.
    table.add_global_secondary_index(
        index_name=STATUS_INDEX,
        partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="requested_at", type=dynamodb.AttributeType.STRING),
        projection_type=dynamodb.ProjectionType.INCLUDE,
        non_key_attributes=_STATUS_INDEX_ATTRIBUTES,
    )
    acknowledge_compliance(
        table,
        "DynamoDBInBackupPlan",
        "Point-in-time recovery keeps 35 days of the requests table; the decisions themselves are kept immutably "
        "in the Object Lock records bucket, so no separate AWS Backup plan is attached.",
    )
    return table


def write_record_steps(
    scope: Construct, bucket: s3.IBucket, name: str, *, outcome: str, reason: str, decided_by: str
) -> sfn.Chain:
    """``Describe<name>Record`` -> ``Write<name>Record``: the record the workflow itself decides.

    Same fields as ``hitl_decision.decision_record``; the bucket's default COMPLIANCE retention applies.
    """
    build = sfn.Pass(
        scope,
        f"Describe{name}Record",
        parameters={
            "request_id": sfn.JsonPath.string_at("$.request_id"),
            "category": sfn.JsonPath.string_at("$.category"),
            "action": sfn.JsonPath.string_at("$.action"),
            "requested_by": sfn.JsonPath.string_at("$.requested_by"),
            "requested_at": sfn.JsonPath.string_at("$.meta.requested_at"),
            "payload_sha256": sfn.JsonPath.string_at("$.meta.payload_sha256"),
            "outcome": outcome,
            "reason": reason,
            "decided_by": decided_by,
            "decided_at": sfn.JsonPath.string_at("$$.State.EnteredTime"),
            "execution": sfn.JsonPath.string_at("$.meta.execution"),
        },
        result_path="$.record",
    )
    write = tasks.CallAwsService(
        scope,
        f"Write{name}Record",
        service="s3",
        action="putObject",
        iam_action="s3:PutObject",
        iam_resources=[bucket.arn_for_objects(f"{RECORD_PREFIX}*")],
        parameters={
            "Bucket": bucket.bucket_name,
            "Key": sfn.JsonPath.format(f"{RECORD_PREFIX}{{}}.json", sfn.JsonPath.string_at("$.request_id")),
            "Body": sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.record")),
            "ContentType": "application/json",
            # Object Lock buckets require an integrity checksum on every PutObject.
            "ChecksumAlgorithm": "SHA256",
        },
        result_path=sfn.JsonPath.DISCARD,
    )
    return build.next(write)


def grant_read_decisions(records: HitlRecords, grantee: iam.IGrantable) -> iam.Grant:
    """Requests (items and the status index), the decision records and the key through those services only."""
    table, bucket = records.table, records.bucket
    region = cdk.Stack.of(table).region
    objects = bucket.arn_for_objects(f"{RECORD_PREFIX}*")
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["dynamodb:GetItem", "dynamodb:Query"],
        resource_arns=[table.table_arn, f"{table.table_arn}/index/{STATUS_INDEX}"],
    )
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["s3:ListBucket"],
        resource_arns=[bucket.bucket_arn],
        conditions={"StringLike": {"s3:prefix": [f"{RECORD_PREFIX}*"]}},
    )
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["kms:Decrypt"],
        resource_arns=[records.encryption_key.key_arn],
        conditions={
            "StringEquals": {"kms:ViaService": [f"dynamodb.{region}.amazonaws.com", f"s3.{region}.amazonaws.com"]}
        },
    )
    grant = iam.Grant.add_to_principal(
        grantee=grantee, actions=["s3:GetObject", "s3:GetObjectRetention"], resource_arns=[objects]
    )
    acknowledge_on_grantee(
        grantee,
        f"AwsSolutions-IAM5[Resource::{nag_text(table, objects)}]",
        "Auditors read every decision record: decisions/<request id>.json under this bucket's decisions/ prefix; "
        "request ids are chosen per request.",
    )
    return grant
