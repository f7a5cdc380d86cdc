"""How data enters a namespace's raw zone: Firehose streams, the producers' ingest role, the feedback rule.

Each function builds its resources in the scope of the :class:`~.lake_scope.NamespaceScope` it is given,
so their construct ids (and logical ids) are the namespace's own.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose

from .. import naming
from ..data_lake.layout import PARTITION_KEY, Dataset, Feedback
from ..nag import acknowledge, acknowledge_compliance
from .lake_scope import BUCKET_GRANT_WILDCARDS, NamespaceScope
from .retention import retained_log_group

FEEDBACK_SOURCES = ["agentzone.evaluation", "aws.cloudwatch"]


def delivery_stream(ns: NamespaceScope, dataset: Dataset) -> firehose.DeliveryStream:
    """Firehose into the raw zone, one JSON object per line, partitioned by delivery date."""
    services = ns.services
    prefix = ns.layout.prefix(dataset)
    log_group = retained_log_group(
        ns,
        f"StreamLogs-{dataset.name}",
        encryption_key=services.key,
        retention_days=services.log_retention_days,
    )
    stream = firehose.DeliveryStream(
        ns,
        f"Stream-{dataset.name}",
        delivery_stream_name=naming.dataset_stream(ns.layout.tenant, ns.layout.namespace.name, dataset.name),
        encryption=firehose.StreamEncryption.customer_managed_key(services.key),
        destination=firehose.S3Bucket(
            services.zones["raw"],
            data_output_prefix=f"{prefix}{PARTITION_KEY}=!{{timestamp:yyyy-MM-dd}}/",
            error_output_prefix=f"_errors/{prefix}!{{firehose:error-output-type}}/"
            f"{PARTITION_KEY}=!{{timestamp:yyyy-MM-dd}}/",
            buffering_interval=cdk.Duration.seconds(services.stream_buffer_seconds),
            compression=firehose.Compression.GZIP,
            encryption_key=services.key,
            logging_config=firehose.EnableLogging(log_group),
            processors=[firehose.AppendDelimiterToRecordProcessor()],
        ),
    )
    _acknowledge_stream(ns, stream, prefix)
    return stream


def _acknowledge_stream(ns: NamespaceScope, stream: firehose.DeliveryStream, prefix: str) -> None:
    policy = stream.node.find_child("S3 Destination Role").node.find_child("DefaultPolicy")
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{ns.nag_objects('raw')}/*]",
        "The Firehose L2 grants its destination role the raw zone's objects; what it writes is fixed by the "
        f"stream's prefix ({prefix}) and error prefix.",
    )
    for action in BUCKET_GRANT_WILDCARDS:
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Action::{action}]",
            "The Firehose L2's S3 destination grant (bucket read/write and its CMK) on the raw zone only.",
        )
    acknowledge_compliance(
        policy,
        "IAMNoInlinePolicy",
        "The Firehose L2 writes its destination grant as a policy attached only to this stream's role.",
    )
    service_policy = stream.node.find_child("Service Role").node.find_child("DefaultPolicy")
    for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
        acknowledge(
            service_policy,
            f"AwsSolutions-IAM5[Action::{action}]",
            "Firehose encrypts the stream's buffered records with the data lake's CMK, and only that key.",
        )
    acknowledge_compliance(
        service_policy,
        "IAMNoInlinePolicy",
        "The Firehose L2 writes the stream-encryption key grant as a policy "
        "attached only to this stream's service role.",
    )


def ingest_role(ns: NamespaceScope) -> iam.Role:
    """Producers outside the lake write raw data through this role, and nowhere else."""
    namespace, layout = ns.layout.namespace, ns.layout
    role = iam.Role(
        ns,
        "IngestRole",
        role_name=naming.namespace_ingest_role(layout.tenant, namespace.name),
        description=f"Producers write raw data of {ns.database_name} (batch files and streams) and nothing else",
        assumed_by=iam.CompositePrincipal(*[iam.AccountPrincipal(account) for account in sorted(namespace.producers)]),
        max_session_duration=cdk.Duration.hours(1),
    )
    batches = [d for d in layout.datasets if d.ingestion == "batch"]
    for dataset in batches:
        ns.services.zones["raw"].grant_put(role, f"{layout.prefix(dataset)}*")
    for stream in ns.streams.values():
        stream.grant_put_records(role)
    policy = role.node.find_child("DefaultPolicy")
    raw_objects = ns.nag_objects("raw")
    for dataset in batches:
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{raw_objects}/{layout.prefix(dataset)}*]",
            "Batch producers name their own files under this dataset's prefix (dt=YYYY-MM-DD/<file>).",
        )
    for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*", "s3:Abort*"):
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Action::{action}]",
            "S3 PutObject with SSE-KMS needs data keys from the zone's CMK; "
            "multipart uploads may be aborted by their writer.",
        )
    acknowledge_compliance(
        policy,
        "IAMNoInlinePolicy",
        "The producers' grants are a policy attached only to this namespace's ingest role.",
    )
    return role


def feedback_rule(ns: NamespaceScope, feedback: Feedback) -> events.Rule:
    """The feedback connector: tenant monitoring signals on the lake's feedback bus land in this namespace's raw
    zone, through the feedback dataset's stream."""
    stream = ns.streams[feedback.dataset]
    accounts = sorted(feedback.accounts)
    rule = events.Rule(
        ns,
        "FeedbackRule",
        description=f"Agent monitoring signals from {', '.join(accounts)} into "
        f"{ns.database_name}.raw_{feedback.dataset}",
        event_bus=ns.services.feedback_bus,
        event_pattern=events.EventPattern(account=accounts, source=FEEDBACK_SOURCES),
        targets=[
            targets.FirehoseDeliveryStream(
                stream,
                message=events.RuleTargetInput.from_object(
                    {
                        "id": events.EventField.event_id,
                        "time": events.EventField.time,
                        "account": events.EventField.account,
                        "source": events.EventField.source,
                        "detail_type": events.EventField.detail_type,
                        "detail": events.EventField.from_path("$.detail"),
                    }
                ),
            )
        ],
    )
    acknowledge_compliance(
        stream.node.find_child("EventsRole").node.find_child("DefaultPolicy"),
        "IAMNoInlinePolicy",
        "The events-target L2 writes PutRecord(Batch) on this one stream as a policy attached only to its role.",
    )
    return rule
