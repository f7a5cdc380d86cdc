"""Knowledge base blueprint: a Bedrock knowledge base over the team's own data, vectors in S3 Vectors.

Why it looks like this:

* The knowledge base and its vector store live in the use-case account: the
  team owns its vector store, and documents and their embeddings never leave
  the team's account. So the source is the tenant's agent-data bucket
  (``BlueprintContext.data_bucket``), the vectors live in an S3 vector bucket
  in the same account, and everything at rest is under the tenant's CMK.
* Amazon S3 Vectors rather than OpenSearch Serverless: nothing runs while
  nobody queries, which suits per-team, per-environment stores.
* The organization's SCP requires a guardrail on model calls but exempts roles
  named ``agentzone-kb-*`` (``naming.KNOWLEDGE_BASE_ROLE_PREFIX``) and limits
  them to embedding models: embedding documents has no prompt to guard. The
  knowledge base's service role therefore is named
  ``agentzone-kb-<tenant>-<environment>`` and may invoke the configured
  embedding model only.

Ingestion runs on ``sync_schedule`` (EventBridge Scheduler calling
``bedrock-agent:StartIngestionJob`` directly: no function in between). It can
also be started on demand, e.g. after uploading documents::

    aws bedrock-agent start-ingestion-job --knowledge-base-id <id> --data-source-id <id>

(``grant_start_ingestion`` gives a CI role that right; watching the job with
``get-ingestion-job`` needs ``bedrock:GetIngestionJob``.)

One-way doors: the embedding model and dimensions are fixed when the index and
knowledge base are created. Changing either creates a new index and knowledge
base (their names carry a digest of both, so the new ones never collide with
the old); the old index is retained, not deleted, and needs a re-ingestion into
the new one. Changing the chunking settings replaces the data source; with the
RETAIN deletion policy the old data source's vectors stay in the index.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3vectors as s3vectors
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from .. import naming
from ..config.model import KnowledgeBaseBlueprint, tenant_model_problem
from ..nag import acknowledge, acknowledge_compliance
from ..patterns import S3_PREFIX_PATTERN
from .context import BlueprintContext, retain
from .registry import Attach, BlueprintSpec, not_offered

ENV_KNOWLEDGE_BASE_ID = "AGENTZONE_KNOWLEDGE_BASE_ID"
# Bedrock stores each chunk's text and its metadata under these keys; S3 Vectors caps
# filterable metadata at 2 KB, so Bedrock requires both to be non-filterable.
BEDROCK_NON_FILTERABLE_KEYS = ("AMAZON_BEDROCK_TEXT", "AMAZON_BEDROCK_METADATA")
# What the knowledge base role does on its index (Bedrock's documented S3 Vectors permissions).
INDEX_ACTIONS = (
    "s3vectors:DeleteVectors",
    "s3vectors:GetIndex",
    "s3vectors:GetVectors",
    "s3vectors:PutVectors",
    "s3vectors:QueryVectors",
)
RETRIEVE = "bedrock:Retrieve"
# RetrieveAndGenerate has no resource-level permissions (Resource "*" only); which knowledge base it may
# query is bounded by Retrieve on that knowledge base's ARN, and which model it generates with by the
# caller's own InvokeModel grants (and the organization's guardrail SCP).
RETRIEVE_AND_GENERATE = "bedrock:RetrieveAndGenerate"
RETRIEVE_ACTIONS = (RETRIEVE, RETRIEVE_AND_GENERATE)
START_INGESTION = "bedrock:StartIngestionJob"
_MAX_ROLE_NAME = 64
_PREFIX_PATTERN = re.compile(S3_PREFIX_PATTERN)


@dataclass(frozen=True)
class KnowledgeBaseProps:
    """What a knowledge base needs; defaults match ``KnowledgeBaseBlueprint``.

    ``data_bucket`` must be encrypted with ``encryption_key`` (the tenant's
    agent-data bucket is); the key also encrypts the vector bucket, the
    ingestion's transient data and the schedule. ``tags`` go on every
    resource of the construct.
    """

    tenant: str
    environment: str
    data_bucket: s3.IBucket
    encryption_key: kms.IKey
    embedding_model: str = "amazon.titan-embed-text-v2:0"
    dimensions: int = 1024
    source_prefix: str = "knowledge/"
    chunk_max_tokens: int = 300
    chunk_overlap_percent: int = 20
    sync_schedule: str = "rate(1 day)"
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:8]


def _role_name(props: KnowledgeBaseProps) -> str:
    return f"{naming.KNOWLEDGE_BASE_ROLE_PREFIX}-{props.tenant}-{props.environment}"


def _validate(props: KnowledgeBaseProps) -> None:
    role_name = _role_name(props)
    if len(role_name) > _MAX_ROLE_NAME:
        raise ValueError(
            f"knowledge base role name {role_name!r} is longer than {_MAX_ROLE_NAME} characters; "
            "shorten the tenant slug"
        )
    if re.match(r"^[a-z]{2}\.", props.embedding_model):
        raise ValueError(
            f"embedding model {props.embedding_model!r} is a cross-region inference profile id; "
            "a knowledge base embeds with an in-region foundation model (e.g. amazon.titan-embed-text-v2:0)"
        )
    if "embed" not in props.embedding_model:
        raise ValueError(
            f"embedding model {props.embedding_model!r} is not an embedding model; the organization's SCP lets "
            f"{naming.KNOWLEDGE_BASE_ROLE_PREFIX}-* roles invoke foundation-model/*embed* only"
        )
    if not 1 <= props.dimensions <= 4096:
        raise ValueError(f"dimensions {props.dimensions} outside 1..4096 (S3 Vectors index limit)")
    if not _PREFIX_PATTERN.match(props.source_prefix):
        raise ValueError(f"source_prefix {props.source_prefix!r} must be an S3 key prefix ending in '/'")
    if not 20 <= props.chunk_max_tokens <= 8192 or not 1 <= props.chunk_overlap_percent <= 99:
        raise ValueError("chunk_max_tokens must be 20..8192 and chunk_overlap_percent 1..99")


def _service_statements(
    props: KnowledgeBaseProps, *, model_arn: str, index_arn: str, region: str
) -> list[iam.PolicyStatement]:
    """The service role's rights: embed, read the source prefix, write the index, use the key via S3 and Bedrock."""
    key_arn = props.encryption_key.key_arn
    return [
        iam.PolicyStatement(sid="EmbedWithTheConfiguredModel", actions=["bedrock:InvokeModel"], resources=[model_arn]),
        iam.PolicyStatement(
            sid="ListTheSourcePrefix",
            actions=["s3:ListBucket"],
            resources=[props.data_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{props.source_prefix}*"]}},
        ),
        iam.PolicyStatement(
            sid="ReadTheSourcePrefix",
            actions=["s3:GetObject"],
            resources=[props.data_bucket.arn_for_objects(f"{props.source_prefix}*")],
        ),
        iam.PolicyStatement(sid="ReadWriteTheIndex", actions=list(INDEX_ACTIONS), resources=[index_arn]),
        # The key encrypts the source objects (read through S3) and the vectors (through S3 Vectors).
        iam.PolicyStatement(
            sid="DecryptSourcesAndVectors",
            actions=["kms:Decrypt"],
            resources=[key_arn],
            conditions={
                "StringEquals": {"kms:ViaService": [f"s3.{region}.amazonaws.com", f"s3vectors.{region}.amazonaws.com"]}
            },
        ),
        # Ingestion's transient data (server_side_encryption_configuration of the data source).
        iam.PolicyStatement(
            sid="EncryptIngestionTransientData",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"bedrock.{region}.amazonaws.com"}},
        ),
    ]


class AgentKnowledgeBase(Construct):
    """A Bedrock knowledge base (S3 Vectors) over a prefix of the tenant's data bucket, synced on a schedule.

    Usable from a tenant YAML file (``blueprints: {knowledge_base: {...}}``) or directly::

        kb = AgentKnowledgeBase(stack, "KnowledgeBase", props=KnowledgeBaseProps(
            tenant="claims", environment="dev", data_bucket=bucket, encryption_key=key))
        kb.grant_retrieve(agent_role)

    Retained on delete: the vector bucket and index (they are data). The
    construct ids below are part of the contract: renaming them replaces them.
    """

    REGISTRY_NAME = "knowledge_base"

    def __init__(self, scope: Construct, construct_id: str, *, props: KnowledgeBaseProps) -> None:
        super().__init__(scope, construct_id)
        _validate(props)
        stack = cdk.Stack.of(self)
        self._props = props
        name = re.sub(r"-+", "-", f"{props.tenant}-{props.environment}")
        self.role_name = _role_name(props)
        self.embedding_model_arn = (
            f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{props.embedding_model}"
        )
        # Both are fixed at creation; a change must create new resources under new names.
        model_digest = _digest(props.embedding_model, props.dimensions)
        self.vector_bucket_name = self.role_name  # same account-unique slug; vector bucket names allow it
        self.vector_bucket, self.index = self._vector_store(model_digest)
        self._allow_vector_indexing(stack)
        self._role, self.service_policy = self._service_role(stack, name)
        self._acknowledge_service_policy()
        self.knowledge_base = self._knowledge_base(name, model_digest)
        # Bedrock checks the role's access when it creates the knowledge base.
        self.knowledge_base.node.add_dependency(self.service_policy)
        self.data_source = self._data_source(stack)
        self._scheduled_ingestion(stack, name)
        for key, value in sorted(props.tags.items()):
            cdk.Tags.of(self).add(key, value)

    # ------------------------------------------------------------------ construction helpers

    def _vector_store(self, model_digest: str) -> tuple[s3vectors.CfnVectorBucket, s3vectors.CfnIndex]:
        """The vector bucket and its index: retained, CMK-encrypted."""
        props = self._props
        bucket = s3vectors.CfnVectorBucket(
            self,
            "VectorBucket",
            vector_bucket_name=self.vector_bucket_name,
            encryption_configuration=s3vectors.CfnVectorBucket.EncryptionConfigurationProperty(
                sse_type="aws:kms", kms_key_arn=props.encryption_key.key_arn
            ),
        )
        retain(bucket)
        index = s3vectors.CfnIndex(
            self,
            "VectorIndex",
            index_name=f"kb-{props.dimensions}-{model_digest}",
            vector_bucket_arn=bucket.attr_vector_bucket_arn,
            data_type="float32",
            dimension=props.dimensions,
            distance_metric="cosine",
            metadata_configuration=s3vectors.CfnIndex.MetadataConfigurationProperty(
                non_filterable_metadata_keys=list(BEDROCK_NON_FILTERABLE_KEYS)
            ),
        )
        retain(index)
        return bucket, index

    def _allow_vector_indexing(self, stack: cdk.Stack) -> None:
        """S3 Vectors maintains indexes in the background as indexing.s3vectors.amazonaws.com, which needs the key.

        That principal can only be allowed in the key policy (not through IAM).
        """
        bucket_arn = f"arn:{stack.partition}:s3vectors:{stack.region}:{stack.account}:bucket/{self.vector_bucket_name}"
        result = self._props.encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowS3VectorsIndexing" + naming.pascal(self.vector_bucket_name),
                principals=[iam.ServicePrincipal("indexing.s3vectors.amazonaws.com")],
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": [bucket_arn, f"{bucket_arn}/*"]},
                    "ForAnyValue:StringEquals": {
                        "kms:EncryptionContextKeys": ["aws:s3vectors:arn", "aws:s3vectors:resource-id"]
                    },
                },
            ),
            True,  # allow_no_op: an imported key's policy cannot be changed here
        )
        if not result.statement_added:
            cdk.Annotations.of(self).add_warning_v2(
                "agentzone:knowledgeBaseKeyPolicy",
                "The encryption key is imported: add a key policy statement allowing indexing.s3vectors.amazonaws.com "
                f"kms:Decrypt for {bucket_arn}, or index creation fails "
                "(see S3 Vectors 'Data protection and encryption').",
            )

    def _service_role(self, stack: cdk.Stack, name: str) -> tuple[iam.Role, iam.ManagedPolicy]:
        """The service role and its policy: the SCP's embedding-only exemption applies to the role's name."""
        props = self._props
        role = iam.Role(
            self,
            "ServiceRole",
            role_name=self.role_name,
            description=f"Bedrock knowledge base {name}: embeds {props.source_prefix} of the agent-data bucket",
            assumed_by=iam.ServicePrincipal(
                "bedrock.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    # The knowledge base's own ARN would be circular (it needs the role first).
                    "ArnLike": {
                        "aws:SourceArn": (
                            f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:knowledge-base/*"
                        )
                    },
                },
            ),
        )
        policy = iam.ManagedPolicy(
            self,
            "ServicePolicy",
            description=f"What the {name} knowledge base reads, embeds with and writes",
            roles=[role],
            statements=_service_statements(
                props, model_arn=self.embedding_model_arn, index_arn=self.index.attr_index_arn, region=stack.region
            ),
        )
        return role, policy

    def _knowledge_base(self, name: str, model_digest: str) -> bedrock.CfnKnowledgeBase:
        props = self._props
        kb = bedrock.CfnKnowledgeBase
        embedding = kb.EmbeddingModelConfigurationProperty(
            bedrock_embedding_model_configuration=kb.BedrockEmbeddingModelConfigurationProperty(
                dimensions=props.dimensions, embedding_data_type="FLOAT32"
            )
        )
        return kb(
            self,
            "KnowledgeBase",
            name=f"{naming.PREFIX}-{name}-{model_digest}",
            description=props.description or f"Knowledge base for {props.tenant} ({props.environment})",
            role_arn=self._role.role_arn,
            knowledge_base_configuration=kb.KnowledgeBaseConfigurationProperty(
                type="VECTOR",
                vector_knowledge_base_configuration=kb.VectorKnowledgeBaseConfigurationProperty(
                    embedding_model_arn=self.embedding_model_arn, embedding_model_configuration=embedding
                ),
            ),
            storage_configuration=kb.StorageConfigurationProperty(
                type="S3_VECTORS",
                s3_vectors_configuration=kb.S3VectorsConfigurationProperty(index_arn=self.index.attr_index_arn),
            ),
        )

    def _data_source(self, stack: cdk.Stack) -> bedrock.CfnDataSource:
        """The source prefix of the agent-data bucket, chunked at a fixed size; its vectors stay on delete."""
        props = self._props
        ds = bedrock.CfnDataSource
        return ds(
            self,
            "DataSource",
            knowledge_base_id=self.knowledge_base.attr_knowledge_base_id,
            name=f"agent-data-{_digest(props.chunk_max_tokens, props.chunk_overlap_percent)}",
            description=f"s3://<agent-data bucket>/{props.source_prefix}",
            data_deletion_policy="RETAIN",
            data_source_configuration=ds.DataSourceConfigurationProperty(
                type="S3",
                s3_configuration=ds.S3DataSourceConfigurationProperty(
                    bucket_arn=props.data_bucket.bucket_arn,
                    # Never a same-named bucket in another account.
                    bucket_owner_account_id=stack.account,
                    inclusion_prefixes=[props.source_prefix],
                ),
            ),
            # Ingestion's transient data is encrypted with the tenant's key too.
            server_side_encryption_configuration=ds.ServerSideEncryptionConfigurationProperty(
                kms_key_arn=props.encryption_key.key_arn
            ),
            vector_ingestion_configuration=ds.VectorIngestionConfigurationProperty(
                chunking_configuration=ds.ChunkingConfigurationProperty(
                    chunking_strategy="FIXED_SIZE",
                    fixed_size_chunking_configuration=ds.FixedSizeChunkingConfigurationProperty(
                        max_tokens=props.chunk_max_tokens, overlap_percentage=props.chunk_overlap_percent
                    ),
                )
            ),
        )

    def _scheduled_ingestion(self, stack: cdk.Stack, name: str) -> None:
        """``sync_schedule`` calls StartIngestionJob directly, as a role that may do only that."""
        props = self._props
        # Holds only this schedule (no data): deleted with the stack, so a redeploy can reuse the name.
        self.schedule_group = scheduler.ScheduleGroup(
            self, "IngestionScheduleGroup", schedule_group_name=self.role_name, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.ingestion_role = iam.Role(
            self,
            "IngestionRole",
            description=f"EventBridge Scheduler: starts ingestion jobs of the {name} knowledge base, nothing else",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": self.schedule_group.schedule_group_arn,
                    },
                },
            ),
        )
        self.ingestion_schedule = scheduler.Schedule(
            self,
            "IngestionSchedule",
            description=f"Ingest s3://<agent-data bucket>/{props.source_prefix} into the {name} knowledge base",
            schedule=scheduler.ScheduleExpression.expression(props.sync_schedule),
            schedule_group=self.schedule_group,
            key=props.encryption_key,
            target=scheduler_targets.Universal(
                # SDK client name and camelCase action:
                # arn:<partition>:scheduler:::aws-sdk:bedrockagent:startIngestionJob
                service="bedrockagent",
                action="startIngestionJob",
                input=scheduler.ScheduleTargetInput.from_object(
                    {"KnowledgeBaseId": self.knowledge_base_id, "DataSourceId": self.data_source_id}
                ),
                policy_statements=[iam.PolicyStatement(actions=[START_INGESTION], resources=[self.knowledge_base_arn])],
                role=self.ingestion_role,
                # A job that cannot start now (one still running) is picked up by the next run.
                retry_attempts=2,
                max_event_age=cdk.Duration.hours(1),
            ),
        )
        acknowledge_compliance(
            self.ingestion_role.node.find_child("DefaultPolicy"),
            "IAMNoInlinePolicy",
            "The scheduler L2 writes its target grant (StartIngestionJob on this one knowledge base) and the "
            "schedule key's decrypt grant as a policy attached only to this schedule's role.",
        )

    def _acknowledge_service_policy(self) -> None:
        bucket = self._props.data_bucket
        child = bucket.node.default_child
        if isinstance(child, cdk.CfnResource):
            ref = f"<{cdk.Stack.of(self).get_logical_id(child)}.Arn>"
        else:  # imported bucket: a literal ARN, with the partition as cdk-nag prints it
            ref = re.sub(r"\$\{Token\[AWS\.Partition\.\d+\]\}", "<AWS::Partition>", bucket.bucket_arn)
        acknowledge(
            self.service_policy,
            f"AwsSolutions-IAM5[Resource::{ref}/{self._props.source_prefix}*]",
            f"The knowledge base reads every document the team puts under {self._props.source_prefix} of its own "
            "agent-data bucket (object keys are the team's, chosen at upload); nothing outside that prefix.",
        )

    # ------------------------------------------------------------------ config entry point

    @classmethod
    def from_config(
        cls, scope: Construct, construct_id: str, *, context: BlueprintContext, config: KnowledgeBaseBlueprint
    ) -> AgentKnowledgeBase:
        if problem := tenant_model_problem(config.embedding_model, context.models):
            raise ValueError(f"knowledge_base.embedding_model: {problem}")
        if context.data_bucket is None:
            raise ValueError(
                "knowledge_base needs the tenant's agent-data bucket; BlueprintContext.data_bucket is not set"
            )
        return cls(
            scope,
            construct_id,
            props=KnowledgeBaseProps(
                tenant=context.tenant,
                environment=context.environment,
                data_bucket=context.data_bucket,
                encryption_key=context.encryption_key,
                embedding_model=config.embedding_model,
                dimensions=config.dimensions,
                source_prefix=config.source_prefix,
                chunk_max_tokens=config.chunk_max_tokens,
                chunk_overlap_percent=config.chunk_overlap_percent,
                sync_schedule=config.sync_schedule,
                tags=context.tags,
            ),
        )

    # ------------------------------------------------------------------ attributes

    @property
    def knowledge_base_id(self) -> str:
        return self.knowledge_base.attr_knowledge_base_id

    @property
    def knowledge_base_arn(self) -> str:
        return self.knowledge_base.attr_knowledge_base_arn

    @property
    def data_source_id(self) -> str:
        return self.data_source.attr_data_source_id

    @property
    def role(self) -> iam.IRole:
        """The knowledge base's service role (``agentzone-kb-<tenant>-<environment>``)."""
        return self._role

    @property
    def index_arn(self) -> str:
        return self.index.attr_index_arn

    # ------------------------------------------------------------------ grants

    def grant_retrieve(self, grantee: iam.IGrantable) -> iam.Grant:
        """Retrieve on this knowledge base, and RetrieveAndGenerate.

        ``bedrock:RetrieveAndGenerate`` supports only Resource ``"*"`` (a statement naming
        the knowledge base would grant nothing), so it gets its own statement on ``"*"``;
        the knowledge bases it can query stay bounded by ``bedrock:Retrieve``, granted on
        this knowledge base's ARN only. RetrieveAndGenerate also calls a generation model:
        that model grant (and its guardrail) is the agent's own, not given here.
        """
        retrieve = iam.Grant.add_to_principal(
            grantee=grantee, actions=[RETRIEVE], resource_arns=[self.knowledge_base_arn]
        )
        generate = iam.Grant.add_to_principal(grantee=grantee, actions=[RETRIEVE_AND_GENERATE], resource_arns=["*"])
        node = getattr(grantee.grant_principal, "node", None)
        policy = node.try_find_child("DefaultPolicy") if node is not None else None
        if policy is not None:
            acknowledge(
                policy,
                "AwsSolutions-IAM5[Resource::*]",
                "bedrock:RetrieveAndGenerate supports only Resource '*'; the knowledge bases it can query are "
                "bounded by bedrock:Retrieve on this knowledge base's ARN, and its generation model by the role's "
                "own InvokeModel grants.",
            )
        return retrieve.combine(generate)

    def grant_start_ingestion(self, grantee: iam.IGrantable) -> iam.Grant:
        """Start ingestion jobs of this knowledge base (e.g. a CI role after uploading documents)."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=[START_INGESTION], resource_arns=[self.knowledge_base_arn]
        )

    def attach_to_agent(self, grantee: iam.IGrantable) -> dict[str, str]:
        """AgentAttachment: the agent may query this knowledge base and finds it by ``AGENTZONE_KNOWLEDGE_BASE_ID``."""
        self.grant_retrieve(grantee)
        return {ENV_KNOWLEDGE_BASE_ID: self.knowledge_base_id}

    # ------------------------------------------------------------------ metrics

    def metric_ingestion_start_errors(self, **kwargs) -> cloudwatch.Metric:
        """Scheduled StartIngestionJob calls that failed (AWS/Scheduler TargetErrorCount of this schedule's group).

        Bedrock publishes no CloudWatch metric per knowledge base or ingestion job;
        job outcomes are in GetIngestionJob and the knowledge base's vended logs.
        """
        return self.schedule_group.metric_target_errors(**kwargs)

    def metric_ingestion_starts_dropped(self, **kwargs) -> cloudwatch.Metric:
        """Scheduled starts dropped after their retries (AWS/Scheduler InvocationDroppedCount of this group)."""
        return self.schedule_group.metric_dropped(**kwargs)


# ------------------------------------------------------------------ registry

SPEC = BlueprintSpec(
    construct=AgentKnowledgeBase,
    config=KnowledgeBaseBlueprint,
    construct_id="KnowledgeBase",
    title="knowledge base and vector store",
    summary="Bedrock knowledge base over the agent-data bucket, S3 Vectors, scheduled ingestion",
    docs="blueprint-knowledge-base.md",
    to_agents=Attach.EVERY_AGENT,
    catalog=not_offered(
        "Needs the account's agent-data bucket (a UseCaseStack resource), and its service role is one of the "
        "agentzone-kb-* roles the SCPs exempt from the guardrail rule: a launch role must not be able to create those."
    ),
)
