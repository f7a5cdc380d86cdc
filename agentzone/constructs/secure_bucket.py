"""S3 buckets with the platform's non-negotiables baked in."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..nag import acknowledge, acknowledge_compliance

NO_REPLICATION = (
    "Single-region landing zone: S3 keeps objects across at least three AZs and versioning (plus Object Lock "
    "on the log archive) guards against deletion; cross-region replication is a disaster-recovery choice this "
    "version does not configure."
)


def _baseline(**overrides) -> dict:
    props = dict(
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    props.update(overrides)
    return props


class AccessLogsBucket(Construct):
    """Target for S3 server access logs.

    S3 server access logging only delivers to SSE-S3 buckets, so this one
    cannot use the CMK; it is otherwise locked down like every other bucket.
    """

    def __init__(self, scope: Construct, construct_id: str, *, transition_after_days: int = 90) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            **_baseline(
                encryption=s3.BucketEncryption.S3_MANAGED,
                lifecycle_rules=[
                    s3.LifecycleRule(
                        id="ArchiveAccessLogs",
                        transitions=[
                            s3.Transition(
                                storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                                transition_after=cdk.Duration.days(transition_after_days),
                            )
                        ],
                        noncurrent_version_expiration=cdk.Duration.days(30),
                    )
                ],
            ),
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "This bucket is the server access log destination; logging it into itself would recurse.",
        )
        acknowledge_compliance(
            self.bucket,
            "S3DefaultEncryptionKMS",
            "S3 server access log delivery only supports SSE-S3 target buckets; SSE-KMS would drop the logs.",
        )
        acknowledge_compliance(self.bucket, "S3BucketReplicationEnabled", NO_REPLICATION)


class SecureBucket(Construct):
    """A CMK-encrypted, versioned, TLS-only, private bucket whose access is logged.

    Retained on delete with a stable logical id: data outlives stacks.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        access_logs: AccessLogsBucket,
        object_lock: bool = False,
        object_lock_retention: s3.ObjectLockRetention | None = None,
        noncurrent_version_days: int = 90,
        transitions: list[s3.Transition] | None = None,
        expire_after_days: int | None = None,
        bucket_name: str | None = None,
        replication_rules: list[s3.ReplicationRule] | None = None,
    ) -> None:
        """``bucket_name`` only for buckets other accounts address by name (see naming.py)."""
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            **_baseline(
                bucket_name=bucket_name,
                encryption=s3.BucketEncryption.KMS,
                encryption_key=encryption_key,
                bucket_key_enabled=True,
                server_access_logs_bucket=access_logs.bucket,
                server_access_logs_prefix=f"{construct_id}/",
                object_lock_enabled=(object_lock or object_lock_retention is not None) or None,
                object_lock_default_retention=object_lock_retention,
                replication_rules=replication_rules,
                lifecycle_rules=[
                    s3.LifecycleRule(
                        id="ExpireOldVersions",
                        noncurrent_version_expiration=cdk.Duration.days(noncurrent_version_days),
                        abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                        transitions=transitions or None,
                        expiration=cdk.Duration.days(expire_after_days) if expire_after_days else None,
                    )
                ],
            ),
        )
        if not replication_rules:
            acknowledge_compliance(self.bucket, "S3BucketReplicationEnabled", NO_REPLICATION)

    @property
    def bucket_name(self) -> str:
        return self.bucket.bucket_name

    @property
    def bucket_arn(self) -> str:
        return self.bucket.bucket_arn

    def grant_read(self, grantee: iam.IGrantable, objects_key_pattern: str = "*") -> iam.Grant:
        return self.bucket.grant_read(grantee, objects_key_pattern)

    def grant_read_write(self, grantee: iam.IGrantable, objects_key_pattern: str = "*") -> iam.Grant:
        return self.bucket.grant_read_write(grantee, objects_key_pattern)
