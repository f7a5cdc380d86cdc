"""Stack composition and the baseline each account role starts with."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from agentzone.composition import Selection, SelectionError, compose, create_app
from agentzone.config import load_landing_zone
from agentzone.config.model import PLATFORM_ROLES
from agentzone.stacks import PLATFORM_ACCOUNTS, PLATFORM_STACKS, UnknownPlatformRole, platform_role
from agentzone.stacks.roles import check_roles

from .conftest import SAMPLE_CONFIG

ENVIRONMENTS = ("dev", "staging", "prod")
PLATFORM = [
    f"AgentZone-{role}-{env}" for env in ENVIRONMENTS for role in ("SharedServices", "Logging", "Security", "DataLake")
]
TENANTS = [f"AgentZone-{t}-{env}" for t in ("claims", "fraud") for env in ("dev", "staging", "prod")]
GOVERNANCE = [f"AgentZone-{t}-governance" for t in ("claims", "fraud")]
SERVICES = [f"AgentZone-{t}-{env}-services" for t in ("claims", "fraud") for env in ("dev", "staging", "prod")]
DATA = [f"AgentZone-{t}-{env}-data" for t in ("claims", "fraud") for env in ("dev", "staging", "prod")]


def stack_names(selection: Selection) -> list[str]:
    app = create_app()
    return [s.stack_name for s in compose(app, load_landing_zone(SAMPLE_CONFIG), selection)]


def test_every_account_gets_its_stack(sample_assembly):
    assert sorted(sample_assembly.templates) == sorted(
        ["AgentZone-Organization", *PLATFORM, *TENANTS, *GOVERNANCE, *SERVICES, *DATA]
    )
    envs = sample_assembly.environments
    assert envs["AgentZone-Organization"] == envs["AgentZone-fraud-governance"] == "aws://100000000000/eu-west-1"
    assert envs["AgentZone-Logging-staging"] == "aws://100000000022/eu-west-1"
    assert envs["AgentZone-claims-prod"] == "aws://333333333333/eu-west-1"
    assert envs["AgentZone-fraud-prod"] == "aws://666666666666/eu-central-1"
    # A tenant's share of shared services lives in the environment's shared-services account.
    assert (
        envs["AgentZone-fraud-prod-services"] == envs["AgentZone-SharedServices-prod"] == "aws://100000000031/eu-west-1"
    )
    # Its namespaces live in the environment's data lake account, beside the lake they import.
    assert envs["AgentZone-fraud-prod-data"] == envs["AgentZone-DataLake-prod"] == "aws://100000000034/eu-west-1"


def test_prod_and_organization_stacks_have_termination_protection(sample_assembly):
    protected = {name for name, on in sample_assembly.termination_protection.items() if on}
    assert protected == {
        n for n in sample_assembly.templates if n.endswith(("-prod", "-prod-services", "-prod-data"))
    } | {"AgentZone-Organization", *GOVERNANCE}


@pytest.mark.parametrize(
    "selection,expected",
    [
        (Selection(environment="prod"), [n for n in PLATFORM + TENANTS + SERVICES + DATA if "-prod" in n]),
        (Selection(tenant="claims"), [n for n in TENANTS + GOVERNANCE + SERVICES + DATA if "claims" in n]),
        (
            Selection(tenant="fraud", environment="dev"),
            ["AgentZone-fraud-dev", "AgentZone-fraud-dev-services", "AgentZone-fraud-dev-data"],
        ),
    ],
)
def test_context_selectors_synthesize_a_subset(selection, expected):
    assert sorted(stack_names(selection)) == sorted(expected)


@pytest.mark.parametrize(
    "selection,message",
    [
        (Selection(environment="qa"), "-c environment=qa: unknown environment; valid: dev, staging, prod"),
        (Selection(tenant="billing"), "-c tenant=billing: unknown tenant; valid: claims, fraud"),
    ],
)
def test_unknown_selectors_are_rejected(selection, message):
    with pytest.raises(SelectionError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        stack_names(selection)


@pytest.mark.parametrize("name", ["AgentZone-Organization", *PLATFORM, *TENANTS, *GOVERNANCE])
def test_every_stack_has_a_rotating_retained_cmk(sample_assembly, name):
    template = Template.from_json(sample_assembly.template(name))
    template.has_resource(
        "AWS::KMS::Key",
        {
            "Properties": {"EnableKeyRotation": True, "RotationPeriodInDays": 365, "PendingWindowInDays": 30},
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    template.has_resource_properties("AWS::KMS::Alias", {"AliasName": Match.string_like_regexp("^alias/agentzone/")})


@pytest.mark.parametrize(
    "name,logical_prefix",
    [
        ("AgentZone-Logging-prod", "LogArchive"),
        ("AgentZone-DataLake-dev", "RawZone"),
        ("AgentZone-SharedServices-staging", "Artifacts"),
        ("AgentZone-claims-dev", "AgentData"),
    ],
)
def test_data_buckets_are_cmk_encrypted_private_versioned_and_access_logged(sample_assembly, name, logical_prefix):
    buckets = sample_assembly.resources(name, "AWS::S3::Bucket")
    data = [v for k, v in buckets.items() if k.startswith(logical_prefix)]
    logs = [k for k in buckets if k.startswith("AccessLogs")]
    assert len(data) == 1 and len(logs) == 1
    bucket = data[0]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    key_ids = sample_assembly.resources(name, "AWS::KMS::Key")
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0] in key_ids
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs[0]}
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


@pytest.mark.parametrize("name", ["AgentZone-Logging-dev", "AgentZone-claims-prod"])
def test_bucket_policies_deny_plain_http_and_old_tls(sample_assembly, name):
    policies = sample_assembly.resources(name, "AWS::S3::BucketPolicy").values()
    assert policies
    for policy in policies:
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        denies = {json_key(s["Condition"]) for s in statements if s["Effect"] == "Deny"}
        assert "Bool:aws:SecureTransport=false" in denies
        assert "NumericLessThan:s3:TlsVersion=1.2" in denies


def json_key(condition: dict) -> str:
    ((op, inner),) = condition.items()
    ((key, value),) = inner.items()
    return f"{op}:{key}={str(value).lower() if isinstance(value, bool) else value}"


def test_log_archive_has_object_lock_from_creation(sample_assembly):
    archive = next(
        v
        for k, v in sample_assembly.resources("AgentZone-Logging-prod", "AWS::S3::Bucket").items()
        if k.startswith("LogArchive")
    )
    assert archive["Properties"]["ObjectLockEnabled"] is True


def test_access_logs_bucket_uses_sse_s3_because_log_delivery_requires_it(sample_assembly):
    logs = next(
        v
        for k, v in sample_assembly.resources("AgentZone-claims-dev", "AWS::S3::Bucket").items()
        if k.startswith("AccessLogs")
    )
    algo = logs["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ]["SSEAlgorithm"]
    assert algo == "AES256"
    assert logs["DeletionPolicy"] == "Retain"


def test_security_stack_has_no_bucket_it_does_not_need(sample_assembly):
    assert sample_assembly.resources("AgentZone-Security-dev", "AWS::S3::Bucket") == {}


def test_memory_blueprint_follows_tenant_config(sample_assembly):
    template = Template.from_json(sample_assembly.template("AgentZone-fraud-dev"))
    key_id = next(iter(sample_assembly.resources("AgentZone-fraud-dev", "AWS::KMS::Key")))
    template.has_resource(
        "AWS::BedrockAgentCore::Memory",
        {
            "Properties": {
                "Name": "fraud_signals_dev",
                "EventExpiryDuration": 30,
                "EncryptionKeyArn": {"Fn::GetAtt": [key_id, "Arn"]},
                "MemoryStrategies": [
                    {"EpisodicMemoryStrategy": Match.any_value()},
                    {"SemanticMemoryStrategy": Match.any_value()},
                    {
                        "CustomMemoryStrategy": {
                            "Name": "risk_patterns",
                            "Namespaces": ["/fraud/patterns/{actorId}"],
                            "Configuration": {
                                "SemanticOverride": {
                                    "Extraction": {
                                        "AppendToPrompt": Match.string_like_regexp(
                                            "^Keep only facts about transaction patterns"
                                        ),
                                        "ModelId": "amazon.nova-pro-v1:0",
                                    }
                                }
                            },
                        }
                    },
                ],
            },
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_memory_service_role_is_scoped_to_its_key_and_account(sample_assembly):
    name = "AgentZone-claims-staging"
    template = Template.from_json(sample_assembly.template(name))
    key_id = next(iter(sample_assembly.resources(name, "AWS::KMS::Key")))
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Service": "bedrock-agentcore.amazonaws.com"},
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": "222222222222"},
                                "ArnLike": Match.any_value(),
                            },
                        }
                    )
                ]
            }
        },
    )
    policies = [p for k, p in sample_assembly.resources(name, "AWS::IAM::Policy").items() if "MemoryServiceRole" in k]
    assert len(policies) == 2  # claims and customers
    for policy in policies:
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_every_tenant_account_has_a_budget_that_notifies_the_owner(sample_assembly):
    # Two per account: the owner's alerts, and the safety controls' budget that carries the deny action.
    for name in TENANTS:
        budgets = sample_assembly.resources(name, "AWS::Budgets::Budget").values()
        assert sorted(b["Properties"]["Budget"]["BudgetName"] for b in budgets) == [
            f"agentzone-{name.split('-', 1)[1]}",
            f"agentzone-{name.split('-', 1)[1]}-safety",
        ], name
    (budget,) = [
        b
        for b in sample_assembly.resources("AgentZone-fraud-prod", "AWS::Budgets::Budget").values()
        if b["Properties"]["Budget"]["BudgetName"] == "agentzone-fraud-prod"
    ]
    fraud_prod = budget["Properties"]
    assert fraud_prod["Budget"]["BudgetName"] == "agentzone-fraud-prod"
    assert fraud_prod["Budget"]["BudgetLimit"] == {"Amount": 12000, "Unit": "USD"}
    assert "CostFilters" not in fraud_prod["Budget"]  # a member account's budget sees only its own spend
    thresholds = [n["Notification"]["Threshold"] for n in fraud_prod["NotificationsWithSubscribers"]]
    assert thresholds == [50, 80, 100]
    assert all(
        n["Subscribers"] == [{"Address": "fraud-ai@example.com", "SubscriptionType": "EMAIL"}]
        for n in fraud_prod["NotificationsWithSubscribers"]
    )


def test_management_account_budgets_watch_each_tenant_and_platform_environment(sample_assembly):
    (tenant,) = sample_assembly.resources("AgentZone-fraud-governance", "AWS::Budgets::Budget").values()
    budget = tenant["Properties"]["Budget"]
    assert budget["BudgetName"] == "agentzone-tenant-fraud"
    assert budget["BudgetLimit"] == {"Amount": 36000, "Unit": "USD"}  # monthly_usd for each of its three accounts
    assert budget["CostFilters"] == {"LinkedAccount": ["444444444444", "555555555555", "666666666666"]}
    subscribers = tenant["Properties"]["NotificationsWithSubscribers"][0]["Subscribers"]
    assert [s["Address"] for s in subscribers] == ["fraud-ai@example.com", "platform-ai@example.com"]
    platform = {
        b["Properties"]["Budget"]["BudgetName"]: b["Properties"]
        for b in sample_assembly.resources("AgentZone-Organization", "AWS::Budgets::Budget").values()
    }
    assert sorted(platform) == ["agentzone-platform-dev", "agentzone-platform-prod", "agentzone-platform-staging"]
    prod = platform["agentzone-platform-prod"]
    assert prod["Budget"]["BudgetLimit"] == {"Amount": 8000, "Unit": "USD"}
    assert prod["Budget"]["CostFilters"] == {
        "LinkedAccount": ["100000000031", "100000000032", "100000000033", "100000000034"]
    }


def test_stack_metadata_names_role_environment_and_tenant(sample_assembly):
    assert sample_assembly.template("AgentZone-claims-prod")["Metadata"]["AgentZone"] == {
        "role": "UseCase",
        "environment": "prod",
        "tenant": "claims",
    }
    assert sample_assembly.template("AgentZone-Organization")["Metadata"]["AgentZone"]["environment"] == "global"


def test_platform_only_selection_is_independent_of_tenants():
    assert sorted(stack_names(Selection(only="platform"))) == sorted(["AgentZone-Organization", *PLATFORM])
    assert sorted(stack_names(Selection(only="platform", environment="dev"))) == sorted(
        n for n in PLATFORM if n.endswith("-dev")
    )
    assert sorted(stack_names(Selection(only="tenants"))) == sorted(TENANTS + GOVERNANCE + SERVICES + DATA)


def test_shards_cover_every_stack_exactly_once(sample_assembly):
    from agentzone.composition import shards

    covered = []
    for shard in shards(load_landing_zone(SAMPLE_CONFIG)):
        covered += stack_names(Selection(**shard["context"]))
    assert sorted(covered) == sorted(sample_assembly.templates)


def test_invalid_only_selector():
    with pytest.raises(SelectionError, match="valid values are platform, tenants"):
        stack_names(Selection(only="everything"))


# ------------------------------------------------------------------ platform account roles


def test_the_platform_role_table_covers_exactly_the_config_roles_in_order():
    assert tuple(PLATFORM_ACCOUNTS) == PLATFORM_ROLES
    assert {name: role.stack for name, role in PLATFORM_ACCOUNTS.items()} == PLATFORM_STACKS
    names = [f"AgentZone-{PLATFORM_STACKS[role].ROLE}-{env}" for env in ENVIRONMENTS for role in PLATFORM_ROLES]
    assert names == PLATFORM


@pytest.mark.parametrize(
    "roles",
    [PLATFORM_ROLES[:-1], (*PLATFORM_ROLES, "delivery"), tuple(reversed(PLATFORM_ROLES))],
    ids=["missing-from-config", "missing-from-table", "other-order"],
)
def test_a_role_on_one_side_only_fails_the_check(roles):
    with pytest.raises(RuntimeError, match=r"config\.model\.PLATFORM_ROLES is .* a platform role needs both"):
        check_roles(PLATFORM_ACCOUNTS, roles)


def test_an_unknown_platform_role_is_an_error():
    with pytest.raises(UnknownPlatformRole, match=r"^unknown platform account role 'audit': the roles are shared_"):
        platform_role("audit")


def test_every_platform_account_but_logging_links_its_telemetry_to_the_sink():
    """What the diagram draws: an OAM link from each platform account except the one that holds the sink."""
    stacks = compose(create_app(), load_landing_zone(SAMPLE_CONFIG), Selection(only="platform", environment="dev"))
    linked = {s.ROLE for s in stacks if s.node.try_find_child("Observability") is not None}
    assert linked == {role.stack.ROLE for name, role in PLATFORM_ACCOUNTS.items() if name != "logging"}
