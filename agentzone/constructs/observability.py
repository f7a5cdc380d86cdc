"""What every member account contributes to central observability and audit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_oam as oam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_xray as xray
from aws_cdk.interfaces import aws_kms as kms_refs
from constructs import Construct

from .. import naming
from ..nag import acknowledge, acknowledge_compliance
from .platform_resource import PlatformResourceProvider
from .retention import retained_log_group
from .secure_bucket import AccessLogsBucket, SecureBucket

OAM_RESOURCE_TYPES = ["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup", "AWS::XRay::Trace"]
BEDROCK_INVOCATION_LOG_GROUP = "/agentzone/bedrock/model-invocations"
SPANS_LOG_GROUP = "aws/spans"


class ObservabilityLink(Construct):
    """Share this account's logs, metrics and traces with its environment's logging account.

    ``transaction_search_percent`` turns on X-Ray transaction search: spans
    land in the ``aws/spans`` log group (so they travel over the same OAM
    link and are scoped like any log group) and that share is indexed.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        sink_arn: str | None,
        transaction_search_percent: float | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.link = None
        if sink_arn:
            self.link = oam.CfnLink(
                self, "Link", label_template="$AccountName", resource_types=OAM_RESOURCE_TYPES, sink_identifier=sink_arn
            )
        self.transaction_search = None
        if transaction_search_percent is not None:
            policy = logs.CfnResourcePolicy(
                self,
                "XRaySpansPolicy",
                policy_name=f"{naming.PREFIX}-xray-transaction-search",
                policy_document=stack.to_json_string(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "XRayWritesSpans",
                                "Effect": "Allow",
                                "Principal": {"Service": "xray.amazonaws.com"},
                                "Action": "logs:PutLogEvents",
                                "Resource": [
                                    f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{SPANS_LOG_GROUP}:*",
                                    f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:/aws/application-signals/data:*",
                                ],
                                "Condition": {
                                    "ArnLike": {
                                        "aws:SourceArn": f"arn:{stack.partition}:xray:{stack.region}:{stack.account}:*"
                                    },
                                    "StringEquals": {"aws:SourceAccount": stack.account},
                                },
                            }
                        ],
                    }
                ),
            )
            self.transaction_search = xray.CfnTransactionSearchConfig(
                self, "TransactionSearch", indexing_percentage=transaction_search_percent
            )
            self.transaction_search.node.add_dependency(policy)


@jsii.implements(kms.IKey)
class ArchiveKeyByAlias(cdk.Resource):
    """The log archive's key in another (the logging) account, known only by its alias.

    S3 replication takes the alias ARN as ``ReplicaKmsKeyID``, so :attr:`key_arn`
    is the alias ARN. IAM, though, authorizes key operations against the key
    ARN, never the alias ARN: a grant on the alias ARN grants nothing. Grants
    therefore name ``key/*`` in that account and region, bounded to the key the
    alias points at (``kms:ResourceAliases``) and to calls S3 makes
    (``kms:ViaService``). The archive's key policy must allow the grantee's
    account too (LoggingStack ``ReplicasEncryptViaS3``).

    Only encryption is granted: replication writes replicas, it never reads
    them back or re-encrypts them.
    """

    ENCRYPT_ACTIONS = ("kms:Encrypt", "kms:GenerateDataKey")

    def __init__(self, scope: Construct, construct_id: str, *, account: str, region: str) -> None:
        super().__init__(scope, construct_id, account=account, region=region)
        partition = cdk.Stack.of(self).partition
        self._alias_arn = naming.archive_key_alias_arn(account, region, partition)
        self.keys_arn = f"arn:{partition}:kms:{region}:{account}:key/*"
        self._region = region

    @property
    def key_arn(self) -> str:
        return self._alias_arn

    @property
    def key_id(self) -> str:
        return self._alias_arn

    @property
    def key_ref(self) -> kms_refs.KeyReference:
        return kms_refs.KeyReference(key_arn=self._alias_arn, key_id=self._alias_arn)

    def add_alias(self, alias_name: str) -> kms.Alias:
        raise ValueError("the archive key belongs to the logging account; it cannot be given an alias here")

    def add_to_resource_policy(
        self, statement: iam.PolicyStatement, allow_no_op: bool | None = None
    ) -> iam.AddToResourcePolicyResult:
        if allow_no_op is False:
            raise ValueError(
                "the archive key's policy is the logging account's (LoggingStack); it cannot be changed here"
            )
        return iam.AddToResourcePolicyResult(statement_added=False)

    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(actions),
            resource_arns=[self.keys_arn],
            conditions={
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": naming.ARCHIVE_KEY_ALIAS},
                "StringEquals": {"kms:ViaService": f"s3.{self._region}.amazonaws.com"},
            },
        )

    def grant_encrypt(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.grant(grantee, *self.ENCRYPT_ACTIONS)

    def _refuse(self, grantee: iam.IGrantable) -> iam.Grant:
        raise ValueError("only encryption (replica writes) is granted on the log archive's key from member accounts")

    grant_decrypt = grant_encrypt_decrypt = grant_sign = grant_verify = grant_sign_verify = _refuse
    grant_generate_mac = grant_verify_mac = _refuse


@dataclass(frozen=True)
class BedrockInvocationLoggingProps:
    """``archive_account``/``archive_region``: the logging account whose Object Lock archive receives the
    S3 copy; ``log_retention_days``: the CloudWatch copy's retention."""

    encryption_key: kms.Key
    access_logs: AccessLogsBucket
    archive_account: str
    archive_region: str
    log_retention_days: int


class BedrockInvocationLogging(Construct):
    """Every model call in this account and region is logged, and the S3 copy replicated to the central archive.

    Bedrock only writes to destinations in its own account and region, so the
    account keeps a CloudWatch copy (shared over OAM, scoped per tenant) and
    an S3 copy that replicates into the logging account's Object Lock archive.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: BedrockInvocationLoggingProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self._bedrock = iam.ServicePrincipal("bedrock.amazonaws.com")
        self._source_conditions = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:*"},
        }
        self.log_group = retained_log_group(
            self,
            "Logs",
            log_group_name=BEDROCK_INVOCATION_LOG_GROUP,
            encryption_key=props.encryption_key,
            retention_days=props.log_retention_days,
        )
        self.role = self._delivery_role()
        self.bucket = self._bucket(props)
        self._allow_bedrock(props.encryption_key)
        self.setting = self._setting(props.encryption_key)

    def _delivery_role(self) -> iam.Role:
        """Bedrock assumes it (for this account's calls only) to write the CloudWatch copy."""
        role = iam.Role(
            self,
            "DeliveryRole",
            assumed_by=self._bedrock.with_conditions(self._source_conditions),
            description="Bedrock writes model invocation logs",
        )
        iam.ManagedPolicy(
            self,
            "DeliveryPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[f"{self.log_group.log_group_arn}"]
                )
            ],
        )
        return role

    def _bucket(self, props: BedrockInvocationLoggingProps) -> SecureBucket:
        """The S3 copy: kept 90 days here, replicated under Bedrock's prefix into the central archive."""
        archive_name = naming.archive_bucket_name(props.archive_account, props.archive_region)
        archive = s3.Bucket.from_bucket_attributes(
            self,
            "Archive",
            bucket_name=archive_name,
            account=props.archive_account,
            region=props.archive_region,
        )
        archive_key = ArchiveKeyByAlias(self, "ArchiveKey", account=props.archive_account, region=props.archive_region)
        bucket = SecureBucket(
            self,
            "Bucket",
            encryption_key=props.encryption_key,
            access_logs=props.access_logs,
            noncurrent_version_days=30,
            expire_after_days=90,  # the archive keeps the replica under Object Lock
            replication_rules=[
                s3.ReplicationRule(
                    id="ToCentralArchive",
                    destination=archive,
                    kms_key=archive_key,
                    sse_kms_encrypted_objects=True,
                    access_control_transition=True,
                    delete_marker_replication=False,
                    filter=s3.Filter(prefix=f"{naming.BEDROCK_LOG_PREFIX}/"),
                    priority=0,
                )
            ],
        )
        _acknowledge_replication(bucket.bucket, archive_name, archive_key)
        return bucket

    def _allow_bedrock(self, encryption_key: kms.Key) -> None:
        """Bedrock writes this account's log objects into the bucket, encrypted with the account's key."""
        stack = cdk.Stack.of(self)
        bucket = self.bucket.bucket
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BedrockWritesInvocationLogs",
                principals=[self._bedrock],
                actions=["s3:PutObject"],
                resources=[
                    bucket.arn_for_objects(
                        f"{naming.BEDROCK_LOG_PREFIX}/AWSLogs/{stack.account}/BedrockModelInvocationLogs/*"
                    )
                ],
                conditions=self._source_conditions,
            )
        )
        encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BedrockEncryptsInvocationLogs",
                principals=[self._bedrock],
                actions=["kms:GenerateDataKey"],
                resources=["*"],
                conditions=self._source_conditions,
            )
        )

    def _setting(self, encryption_key: kms.Key) -> cdk.CustomResource:
        """The account's model invocation logging setting, which has no CloudFormation type: a custom resource."""
        stack = cdk.Stack.of(self)
        bucket = self.bucket.bucket
        provider = PlatformResourceProvider.of(
            self, encryption_key=encryption_key, role_name=f"{naming.PLATFORM_RESOURCES_ROLE}-{stack.region}"
        )
        setting = provider.resource(
            self,
            "Setting",
            resource_type="Custom::BedrockInvocationLogging",
            properties={
                "LogGroupName": self.log_group.log_group_name,
                "RoleArn": self.role.role_arn,
                "BucketName": bucket.bucket_name,
                "KeyPrefix": naming.BEDROCK_LOG_PREFIX,
            },
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "bedrock:PutModelInvocationLoggingConfiguration",
                        "bedrock:DeleteModelInvocationLoggingConfiguration",
                    ],
                    resources=["*"],
                ),
                iam.PolicyStatement(actions=["iam:PassRole"], resources=[self.role.role_arn]),
            ],
            wildcard_reason="Bedrock's model invocation logging setting is per account and region and has no "
            "resource type.",
        )
        setting.node.add_dependency(bucket.policy, self.log_group, self.role)
        return setting


def _acknowledge_replication(bucket: s3.Bucket, archive_name: str, archive_key: ArchiveKeyByAlias) -> None:
    stack = cdk.Stack.of(bucket)
    replication_policy = bucket.node.find_child("ReplicationRole").node.find_child("DefaultPolicy")
    source_logical = stack.get_logical_id(cast(cdk.CfnElement, bucket.node.default_child))
    for finding, reason in (
        (
            f"Resource::<{source_logical}.Arn>/*",
            "Replication reads every object version of this invocation-log bucket; nothing else.",
        ),
        (
            f"Resource::arn:{stack.partition}:s3:::{archive_name}/*",
            "Replicas are written to the central archive, whose own policy limits this account to its prefix.",
        ),
        (
            f"Resource::{archive_key.keys_arn}",
            "KMS authorizes against key ARNs, not aliases; the archive key's id is the logging account's. The grant "
            f"is bounded to the key aliased {naming.ARCHIVE_KEY_ALIAS} (kms:ResourceAliases), used through S3, for "
            "encryption only.",
        ),
    ):
        acknowledge(replication_policy, f"AwsSolutions-IAM5[{finding}]", reason)
    acknowledge_compliance(
        replication_policy,
        "IAMNoInlinePolicy",
        "The S3 L2 attaches its replication grants to its own replication role only; they name this bucket, "
        "the archive bucket and the two keys.",
    )
