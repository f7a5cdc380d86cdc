"""Knowledge base blueprint: S3 Vectors store, Bedrock knowledge base and data source, scheduled ingestion, grants."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template

from agentzone import naming
from agentzone.blueprints.context import AgentAttachment, BlueprintContext
from agentzone.blueprints.knowledge_base import (
    BEDROCK_NON_FILTERABLE_KEYS,
    ENV_KNOWLEDGE_BASE_ID,
    AgentKnowledgeBase,
    KnowledgeBaseProps,
)
from agentzone.cfn_lint import run_cfn_lint
from agentzone.config.model import KnowledgeBaseBlueprint
from agentzone.constructs import AccessLogsBucket, BaselineKey, SecureBucket
from agentzone.nag import acknowledge_compliance

from ..support import NAG_PACKS, Synth, new_app, synthesize

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
STACK = "KnowledgeBaseTest"
EMBED = "amazon.titan-embed-text-v2:0"
MODELS = ("anthropic.claude-sonnet-4-5-v1:0", EMBED)
ROLE_NAME = "agentzone-kb-claims-dev"
EMBED_ARN = f"arn:aws:bedrock:eu-west-1::foundation-model/{EMBED}"


def tenant_stack(app: cdk.App, name: str = STACK, *, models: tuple[str, ...] = MODELS, with_bucket: bool = True):
    stack = cdk.Stack(app, name, env=ENV)
    key = BaselineKey(stack, "BaselineKey", alias="alias/agentzone/usecase", description="tenant key").key
    bucket = None
    if with_bucket:
        bucket = SecureBucket(
            stack, "AgentData", encryption_key=key, access_logs=AccessLogsBucket(stack, "AccessLogs")
        ).bucket
    context = BlueprintContext(
        tenant="claims",
        environment="dev",
        encryption_key=key,
        models=models,
        data_bucket=bucket,
        tags={"owner": "claims-ai@example.com", "use-case-id": "UC-0001"},
    )
    return stack, context


def agent_role(stack: cdk.Stack, construct_id: str = "AgentRole") -> iam.Role:
    return iam.Role(stack, construct_id, assumed_by=iam.ServicePrincipal("bedrock-agentcore.amazonaws.com"))


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Synth:
    """The blueprint from default config, an agent attached, synthesized through every nag pack.

    Synth raises on an unacknowledged nag error.
    """
    app = new_app(tmp_path_factory.mktemp("knowledge-base") / "cdk.out")
    stack, context = tenant_stack(app)
    kb = AgentKnowledgeBase.from_config(stack, "KnowledgeBase", context=context, config=KnowledgeBaseBlueprint())
    agent = agent_role(stack)
    env = kb.attach_to_agent(agent)
    assert list(env) == [ENV_KNOWLEDGE_BASE_ID]
    # Test scaffold: a runtime's generated role stands in for the agent's.
    acknowledge_compliance(
        agent.node.find_child("DefaultPolicy"),
        "IAMNoInlinePolicy",
        "Test scaffold: this role stands in for an agent runtime's execution role.",
    )
    return synthesize(app, STACK)


def getatt(logical_id: str, attribute: str) -> dict:
    return {"Fn::GetAtt": [logical_id, attribute]}


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------ vector store


def test_vector_bucket_is_encrypted_with_the_tenant_cmk(synth):
    key_id, _ = synth.one("AWS::KMS::Key")
    _, bucket = synth.one("AWS::S3Vectors::VectorBucket")
    assert bucket["Properties"]["EncryptionConfiguration"] == {"SseType": "aws:kms", "KmsKeyArn": getatt(key_id, "Arn")}
    assert bucket["Properties"]["VectorBucketName"] == ROLE_NAME


def test_index_has_bedrock_shape(synth):
    bucket_id, _ = synth.one("AWS::S3Vectors::VectorBucket")
    _, index = synth.one("AWS::S3Vectors::Index")
    props = index["Properties"]
    assert props["Dimension"] == 1024 and props["DistanceMetric"] == "cosine" and props["DataType"] == "float32"
    assert props["MetadataConfiguration"] == {
        "NonFilterableMetadataKeys": ["AMAZON_BEDROCK_TEXT", "AMAZON_BEDROCK_METADATA"]
    }
    assert set(BEDROCK_NON_FILTERABLE_KEYS) == {"AMAZON_BEDROCK_TEXT", "AMAZON_BEDROCK_METADATA"}
    assert props["VectorBucketArn"] == getatt(bucket_id, "VectorBucketArn")
    assert "EncryptionConfiguration" not in props  # inherits the bucket's CMK


def test_vector_store_is_retained_under_stable_ids(synth):
    for kind, prefix in (
        ("AWS::S3Vectors::VectorBucket", "KnowledgeBaseVectorBucket"),
        ("AWS::S3Vectors::Index", "KnowledgeBaseVectorIndex"),
    ):
        logical_id, resource = synth.one(kind)
        assert logical_id.startswith(prefix)
        assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"


def test_key_policy_lets_s3_vectors_index_this_bucket_only(synth):
    _, key = synth.one("AWS::KMS::Key")
    (statement,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "indexing.s3vectors.amazonaws.com"}
    ]
    assert statement["Action"] == "kms:Decrypt"
    bucket = "arn:aws:s3vectors:eu-west-1:111111111111:bucket/agentzone-kb-claims-dev"
    assert statement["Condition"]["ArnLike"] == {"aws:SourceArn": [bucket, f"{bucket}/*"]}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "111111111111"}
    assert statement["Condition"]["ForAnyValue:StringEquals"] == {
        "kms:EncryptionContextKeys": ["aws:s3vectors:arn", "aws:s3vectors:resource-id"]
    }


# ------------------------------------------------------------------ knowledge base and role


def test_knowledge_base_embeds_with_the_configured_model_into_the_index(synth):
    index_id, _ = synth.one("AWS::S3Vectors::Index")
    role_id = next(
        k for k, v in synth.resources("AWS::IAM::Role").items() if v["Properties"].get("RoleName") == ROLE_NAME
    )
    policy_id, _ = synth.one("AWS::IAM::ManagedPolicy")
    _, kb = synth.one("AWS::Bedrock::KnowledgeBase")
    props = kb["Properties"]
    assert props["KnowledgeBaseConfiguration"] == {
        "Type": "VECTOR",
        "VectorKnowledgeBaseConfiguration": {
            "EmbeddingModelArn": EMBED_ARN,
            "EmbeddingModelConfiguration": {
                "BedrockEmbeddingModelConfiguration": {"Dimensions": 1024, "EmbeddingDataType": "FLOAT32"}
            },
        },
    }
    assert props["StorageConfiguration"] == {
        "Type": "S3_VECTORS",
        "S3VectorsConfiguration": {"IndexArn": getatt(index_id, "IndexArn")},
    }
    assert props["RoleArn"] == getatt(role_id, "Arn")
    assert re.fullmatch(r"agentzone-claims-dev-[0-9a-f]{8}", props["Name"])
    assert policy_id in kb["DependsOn"]  # Bedrock checks the role's access at creation


def test_service_role_name_is_the_scp_exempt_prefix_and_trusts_only_this_accounts_knowledge_bases(synth):
    (role,) = [
        v
        for v in synth.resources("AWS::IAM::Role").values()
        if v["Properties"].get("RoleName", "").startswith(naming.KNOWLEDGE_BASE_ROLE_PREFIX)
    ]
    assert role["Properties"]["RoleName"] == f"{naming.KNOWLEDGE_BASE_ROLE_PREFIX}-claims-dev"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111111111111"},
        "ArnLike": {"aws:SourceArn": "arn:aws:bedrock:eu-west-1:111111111111:knowledge-base/*"},
    }
    # Only the knowledge base role carries the prefix: the scheduler's role must not get the SCP exemption.
    others = [v["Properties"].get("RoleName", "") for v in synth.resources("AWS::IAM::Role").values()]
    assert sum(name.startswith(naming.KNOWLEDGE_BASE_ROLE_PREFIX) for name in others) == 1


def test_service_policy_is_exactly_scoped(synth):
    key_id, _ = synth.one("AWS::KMS::Key")
    index_id, _ = synth.one("AWS::S3Vectors::Index")
    bucket_id = next(k for k in synth.resources("AWS::S3::Bucket") if k.startswith("AgentData"))
    _, policy = synth.one("AWS::IAM::ManagedPolicy")
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    for s in statements.values():
        assert s["Effect"] == "Allow"
        assert not any("*" in a for a in _list(s["Action"])), s
        assert "*" not in _list(s["Resource"]), s
    assert statements["EmbedWithTheConfiguredModel"] == {
        "Sid": "EmbedWithTheConfiguredModel",
        "Effect": "Allow",
        "Action": "bedrock:InvokeModel",
        "Resource": EMBED_ARN,
    }
    assert statements["ListTheSourcePrefix"]["Action"] == "s3:ListBucket"
    assert statements["ListTheSourcePrefix"]["Resource"] == getatt(bucket_id, "Arn")
    assert statements["ListTheSourcePrefix"]["Condition"] == {"StringLike": {"s3:prefix": ["knowledge/*"]}}
    assert statements["ReadTheSourcePrefix"]["Action"] == "s3:GetObject"
    assert statements["ReadTheSourcePrefix"]["Resource"] == {
        "Fn::Join": ["", [getatt(bucket_id, "Arn"), "/knowledge/*"]]
    }
    assert statements["ReadWriteTheIndex"]["Action"] == [
        "s3vectors:DeleteVectors",
        "s3vectors:GetIndex",
        "s3vectors:GetVectors",
        "s3vectors:PutVectors",
        "s3vectors:QueryVectors",
    ]
    assert statements["ReadWriteTheIndex"]["Resource"] == getatt(index_id, "IndexArn")
    assert statements["DecryptSourcesAndVectors"]["Action"] == "kms:Decrypt"
    assert statements["DecryptSourcesAndVectors"]["Condition"] == {
        "StringEquals": {"kms:ViaService": ["s3.eu-west-1.amazonaws.com", "s3vectors.eu-west-1.amazonaws.com"]}
    }
    assert statements["EncryptIngestionTransientData"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statements["EncryptIngestionTransientData"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "bedrock.eu-west-1.amazonaws.com"}
    }
    for sid in ("DecryptSourcesAndVectors", "EncryptIngestionTransientData"):
        assert statements[sid]["Resource"] == getatt(key_id, "Arn")
    assert len(statements) == 6
    # The role has nothing else: no inline or AWS managed policies.
    (role,) = [v for v in synth.resources("AWS::IAM::Role").values() if v["Properties"].get("RoleName") == ROLE_NAME]
    assert "ManagedPolicyArns" not in role["Properties"] and "Policies" not in role["Properties"]
    assert not any(ROLE_NAME in json.dumps(p) for p in synth.resources("AWS::IAM::Policy").values())


def test_data_source_reads_the_prefix_with_fixed_chunks_cmk_and_retain(synth):
    key_id, _ = synth.one("AWS::KMS::Key")
    kb_id, _ = synth.one("AWS::Bedrock::KnowledgeBase")
    bucket_id = next(k for k in synth.resources("AWS::S3::Bucket") if k.startswith("AgentData"))
    _, ds = synth.one("AWS::Bedrock::DataSource")
    props = ds["Properties"]
    assert props["KnowledgeBaseId"] == getatt(kb_id, "KnowledgeBaseId")
    assert props["DataSourceConfiguration"] == {
        "Type": "S3",
        "S3Configuration": {
            "BucketArn": getatt(bucket_id, "Arn"),
            "BucketOwnerAccountId": "111111111111",
            "InclusionPrefixes": ["knowledge/"],
        },
    }
    assert props["VectorIngestionConfiguration"] == {
        "ChunkingConfiguration": {
            "ChunkingStrategy": "FIXED_SIZE",
            "FixedSizeChunkingConfiguration": {"MaxTokens": 300, "OverlapPercentage": 20},
        }
    }
    assert props["ServerSideEncryptionConfiguration"] == {"KmsKeyArn": getatt(key_id, "Arn")}
    assert props["DataDeletionPolicy"] == "RETAIN"


# ------------------------------------------------------------------ scheduled ingestion


def test_schedule_starts_ingestion_of_this_data_source(synth):
    key_id, _ = synth.one("AWS::KMS::Key")
    kb_id, _ = synth.one("AWS::Bedrock::KnowledgeBase")
    ds_id, _ = synth.one("AWS::Bedrock::DataSource")
    _, schedule = synth.one("AWS::Scheduler::Schedule")
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(1 day)" and props["State"] == "ENABLED"
    assert props["GroupName"] == ROLE_NAME
    assert props["KmsKeyArn"] == getatt(key_id, "Arn")
    target = props["Target"]
    assert target["Arn"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":scheduler:::aws-sdk:bedrockagent:startIngestionJob"]]
    }
    assert target["Input"] == {
        "Fn::Join": [
            "",
            [
                '{"KnowledgeBaseId":"',
                getatt(kb_id, "KnowledgeBaseId"),
                '","DataSourceId":"',
                getatt(ds_id, "DataSourceId"),
                '"}',
            ],
        ]
    }
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 2}


def test_scheduler_role_may_only_start_ingestion_of_this_knowledge_base(synth):
    key_id, _ = synth.one("AWS::KMS::Key")
    kb_id, _ = synth.one("AWS::Bedrock::KnowledgeBase")
    group_id, _ = synth.one("AWS::Scheduler::ScheduleGroup")
    _, schedule = synth.one("AWS::Scheduler::Schedule")
    role_id = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
    role = synth.raw["Resources"][role_id]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111111111111", "aws:SourceArn": getatt(group_id, "Arn")}
    }
    policies = [p for p in synth.resources("AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]]
    (policy,) = policies
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "bedrock:StartIngestionJob", "Effect": "Allow", "Resource": getatt(kb_id, "KnowledgeBaseArn")},
        {
            "Action": "kms:Decrypt",
            "Effect": "Allow",
            "Resource": getatt(key_id, "Arn"),
        },  # the schedule's encrypted input
    ]
    assert "RoleName" not in role["Properties"]  # not agentzone-kb-*: no SCP exemption for the scheduler


def test_schedule_group_holds_no_data_and_goes_with_the_stack(synth):
    _, group = synth.one("AWS::Scheduler::ScheduleGroup")
    assert group["Properties"]["Name"] == ROLE_NAME
    assert group["DeletionPolicy"] == "Delete"


# ------------------------------------------------------------------ grants and attachment


def test_attached_agent_may_retrieve_from_this_knowledge_base_only(synth):
    kb_id, _ = synth.one("AWS::Bedrock::KnowledgeBase")
    (policy,) = [p for k, p in synth.resources("AWS::IAM::Policy").items() if k.startswith("AgentRoleDefaultPolicy")]
    # Retrieve names this knowledge base; RetrieveAndGenerate supports only Resource "*" (naming the
    # knowledge base would grant nothing), so it has its own statement and Retrieve bounds which KB it reads.
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "bedrock:Retrieve", "Effect": "Allow", "Resource": getatt(kb_id, "KnowledgeBaseArn")},
        {"Action": "bedrock:RetrieveAndGenerate", "Effect": "Allow", "Resource": "*"},
    ]


def test_retrieve_and_generate_wildcard_is_acknowledged_on_the_grantee_policy(synth):
    acks = {(a.path, a.finding): a.reason for a in synth.acknowledgements() if a.pack == "AwsSolutions"}
    reason = acks[(f"/{STACK}/AgentRole/DefaultPolicy", "AwsSolutions-IAM5[Resource::*]")]
    assert "RetrieveAndGenerate" in reason


def test_attach_to_agent_returns_the_knowledge_base_id():
    stack, context = tenant_stack(new_app(), "Attach")
    kb = AgentKnowledgeBase.from_config(stack, "KnowledgeBase", context=context, config=KnowledgeBaseBlueprint())
    assert isinstance(kb, AgentAttachment)
    env = kb.attach_to_agent(agent_role(stack))
    assert stack.resolve(env) == {
        ENV_KNOWLEDGE_BASE_ID: getatt(stack.get_logical_id(kb.knowledge_base), "KnowledgeBaseId")
    }


def test_grant_start_ingestion_is_this_knowledge_base_only():
    stack, context = tenant_stack(new_app(), "StartIngestion")
    kb = AgentKnowledgeBase.from_config(stack, "KnowledgeBase", context=context, config=KnowledgeBaseBlueprint())
    ci = agent_role(stack, "CiRole")
    kb.grant_start_ingestion(ci)
    kb_id = stack.get_logical_id(kb.knowledge_base)
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": stack.get_logical_id(ci.node.default_child)}],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "bedrock:StartIngestionJob",
                        "Effect": "Allow",
                        "Resource": getatt(kb_id, "KnowledgeBaseArn"),
                    }
                ]
            },
        },
    )


def test_attributes_resolve_to_the_resources():
    stack, context = tenant_stack(new_app(), "Attributes")
    kb = AgentKnowledgeBase.from_config(stack, "KnowledgeBase", context=context, config=KnowledgeBaseBlueprint())
    kb_id = stack.get_logical_id(kb.knowledge_base)
    assert stack.resolve(kb.knowledge_base_id) == getatt(kb_id, "KnowledgeBaseId")
    assert stack.resolve(kb.knowledge_base_arn) == getatt(kb_id, "KnowledgeBaseArn")
    assert stack.resolve(kb.data_source_id) == getatt(stack.get_logical_id(kb.data_source), "DataSourceId")
    assert kb.role.role_name is not None and stack.resolve(kb.role.role_name) == {
        "Ref": stack.get_logical_id(kb.role.node.default_child)
    }
    assert AgentKnowledgeBase.REGISTRY_NAME == "knowledge_base"


def test_metrics_are_the_schedule_groups_scheduler_metrics():
    stack, context = tenant_stack(new_app(), "Metrics")
    kb = AgentKnowledgeBase.from_config(stack, "KnowledgeBase", context=context, config=KnowledgeBaseBlueprint())
    errors, dropped = kb.metric_ingestion_start_errors(), kb.metric_ingestion_starts_dropped()
    assert (errors.namespace, errors.metric_name) == ("AWS/Scheduler", "TargetErrorCount")
    assert (dropped.namespace, dropped.metric_name) == ("AWS/Scheduler", "InvocationDroppedCount")
    assert (
        stack.resolve(errors.dimensions) == stack.resolve(dropped.dimensions) == {"ScheduleGroup": ROLE_NAME}
    )  # this KB's group only


# ------------------------------------------------------------------ config and errors


def test_config_values_reach_the_resources():
    stack, context = tenant_stack(new_app(), "Custom")
    config = KnowledgeBaseBlueprint(
        dimensions=512,
        source_prefix="policies/2026/",
        chunk_max_tokens=500,
        chunk_overlap_percent=10,
        sync_schedule="cron(0 3 * * ? *)",
    )
    AgentKnowledgeBase.from_config(stack, "KnowledgeBase", context=context, config=config)
    t = Template.from_stack(stack)
    t.has_resource_properties("AWS::S3Vectors::Index", {"Dimension": 512})
    t.has_resource_properties(
        "AWS::Bedrock::KnowledgeBase",
        {
            "KnowledgeBaseConfiguration": {
                "VectorKnowledgeBaseConfiguration": {
                    "EmbeddingModelConfiguration": {"BedrockEmbeddingModelConfiguration": {"Dimensions": 512}}
                }
            }
        },
    )
    t.has_resource_properties(
        "AWS::Bedrock::DataSource",
        {
            "DataSourceConfiguration": {
                "S3Configuration": Match.object_like({"InclusionPrefixes": ["policies/2026/"]})
            },
            "VectorIngestionConfiguration": {
                "ChunkingConfiguration": Match.object_like(
                    {"FixedSizeChunkingConfiguration": {"MaxTokens": 500, "OverlapPercentage": 10}}
                )
            },
        },
    )
    t.has_resource_properties("AWS::Scheduler::Schedule", {"ScheduleExpression": "cron(0 3 * * ? *)"})
    t.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "ListTheSourcePrefix",
                                "Condition": {"StringLike": {"s3:prefix": ["policies/2026/*"]}},
                            }
                        )
                    ]
                )
            }
        },
    )
    # Tenant tags reach the L1s (the stack normally adds them too).
    t.has_resource_properties(
        "AWS::Bedrock::KnowledgeBase", {"Tags": {"owner": "claims-ai@example.com", "use-case-id": "UC-0001"}}
    )
    t.has_resource_properties(
        "AWS::S3Vectors::VectorBucket", {"Tags": Match.array_with([{"Key": "use-case-id", "Value": "UC-0001"}])}
    )


def _names(**overrides) -> tuple[str | None, str, str]:
    stack, context = tenant_stack(new_app(), "Names")
    kb = AgentKnowledgeBase.from_config(
        stack, "KnowledgeBase", context=context, config=KnowledgeBaseBlueprint(**overrides)
    )
    return kb.index.index_name, kb.knowledge_base.name, kb.data_source.name


def test_one_way_settings_give_new_names_so_replacements_never_collide():
    base = _names()
    assert _names() == base  # deterministic
    dims = _names(dimensions=512)
    assert dims[0] != base[0] and dims[1] != base[1] and dims[2] == base[2]  # new index and knowledge base
    chunks = _names(chunk_max_tokens=400)
    assert chunks[:2] == base[:2] and chunks[2] != base[2]  # new data source only
    assert _names(source_prefix="other/") == base  # the prefix is updatable in place


def test_embedding_model_must_be_one_of_the_tenants_models():
    stack, context = tenant_stack(new_app(), "NoModel", models=("anthropic.claude-sonnet-4-5-v1:0",))
    with pytest.raises(ValueError, match=r"amazon.titan-embed-text-v2:0.*not in the tenant's models"):
        AgentKnowledgeBase.from_config(stack, "KnowledgeBase", context=context, config=KnowledgeBaseBlueprint())


def test_data_bucket_is_required():
    stack, context = tenant_stack(new_app(), "NoBucket", with_bucket=False)
    with pytest.raises(ValueError, match="data_bucket"):
        AgentKnowledgeBase.from_config(stack, "KnowledgeBase", context=context, config=KnowledgeBaseBlueprint())


def _props(stack: cdk.Stack, **overrides) -> KnowledgeBaseProps:
    key = kms.Key(stack, f"Key{len(stack.node.children)}")
    bucket = cdk.aws_s3.Bucket.from_bucket_name(stack, f"Bucket{len(stack.node.children)}", "claims-agent-data")
    return KnowledgeBaseProps(
        **{"tenant": "claims", "environment": "dev", "data_bucket": bucket, "encryption_key": key, **overrides}
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"tenant": "t" * 40, "environment": "production12345"}, "longer than 64"),
        ({"embedding_model": "eu.cohere.embed-v4:0"}, "cross-region inference profile"),
        ({"embedding_model": "amazon.nova-lite-v1:0"}, r"not an embedding model.*foundation-model/\*embed\*"),
        ({"source_prefix": "knowledge"}, "ending in '/'"),
        ({"dimensions": 5000}, "1..4096"),
        ({"chunk_overlap_percent": 0}, "chunk_overlap_percent"),
    ],
)
def test_bad_props_are_refused(overrides, message):
    stack = cdk.Stack(new_app(), "BadProps", env=ENV)
    with pytest.raises(ValueError, match=message):
        AgentKnowledgeBase(stack, "KnowledgeBase", props=_props(stack, **overrides))


def test_imported_key_warns_that_its_policy_needs_the_indexing_principal():
    stack = cdk.Stack(new_app(), "ImportedKey", env=ENV)
    key = kms.Key.from_key_arn(
        stack, "Imported", "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    AgentKnowledgeBase(stack, "KnowledgeBase", props=_props(stack, encryption_key=key))
    Annotations.from_stack(stack).has_warning(
        "/ImportedKey/KnowledgeBase", Match.string_like_regexp("indexing.s3vectors.amazonaws.com")
    )


# ------------------------------------------------------------------ nag and cfn-lint


def test_nag_passed_with_narrow_acknowledgements(synth):
    acks = synth.acknowledgements()
    ours = [a for a in acks if "/KnowledgeBase/" in a.path]
    assert {(a.path, a.finding) for a in ours if a.pack == "AwsSolutions"} == {
        (
            f"/{STACK}/KnowledgeBase/ServicePolicy",
            f"AwsSolutions-IAM5[Resource::<{_data_bucket_id(synth)}.Arn>/knowledge/*]",
        ),
    }
    compliance = {(a.path, a.finding) for a in ours if a.pack != "AwsSolutions"}
    assert compliance == {
        (f"/{STACK}/KnowledgeBase/IngestionRole/DefaultPolicy", f"{pack}-IAMNoInlinePolicy")
        for pack in NAG_PACKS - {"AwsSolutions"}
    }
    for ack in ours:
        assert len(ack.reason) >= 30


def _data_bucket_id(synth: Synth) -> str:
    return next(k for k in synth.resources("AWS::S3::Bucket") if k.startswith("AgentData"))


def test_cfn_lint_is_clean(synth):
    result = run_cfn_lint([synth.path])
    assert result.errors == [], result.render()
    assert result.warnings == [], result.render()


# ------------------------------------------------------------------ built from props


def test_built_from_props_it_is_tagged_exactly_as_from_config():
    """Tags travel in the props, so a team that builds the blueprint itself gets the template YAML gives."""
    app = new_app()
    yaml_stack, context = tenant_stack(app, "FromConfig")
    AgentKnowledgeBase.from_config(yaml_stack, "KnowledgeBase", context=context, config=KnowledgeBaseBlueprint())
    props_stack, context = tenant_stack(app, "FromProps")
    assert context.data_bucket is not None
    AgentKnowledgeBase(
        props_stack,
        "KnowledgeBase",
        props=KnowledgeBaseProps(
            tenant="claims",
            environment="dev",
            data_bucket=context.data_bucket,
            encryption_key=context.encryption_key,
            tags=context.tags,
        ),
    )
    from_props = Template.from_stack(props_stack)
    assert from_props.to_json() == Template.from_stack(yaml_stack).to_json()
    from_props.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": ROLE_NAME,
            "Tags": Match.array_with([{"Key": k, "Value": v} for k, v in sorted(context.tags.items())]),
        },
    )
    from_props.has_resource_properties("AWS::Bedrock::KnowledgeBase", {"Tags": context.tags})
