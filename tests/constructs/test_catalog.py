"""The catalogs construct: two encrypted, recoverable, retained DynamoDB tables tenants may only read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template

from agentzone import naming
from agentzone.catalog import tables
from agentzone.constructs.catalog import READ_ACTIONS, Catalogs, CatalogsProps

from ..support import new_app

ACCOUNT = "100000000011"  # shared services, dev, in the sample config
REGION = "eu-west-1"
READERS = ["111111111111", "222222222222"]
ORG_ID = "o-a1b2c3d4e5"


def catalog_stack(key: kms.IKey | None = None, readers=READERS) -> tuple[cdk.Stack, Catalogs]:
    stack = cdk.Stack(new_app(), "SharedServices", env=cdk.Environment(account=ACCOUNT, region=REGION))
    key = key or kms.Key(stack, "Key", enable_key_rotation=True)
    props = CatalogsProps(encryption_key=key, reader_accounts=readers, organization_id=ORG_ID)
    return stack, Catalogs(stack, "Catalogs", props=props)


@pytest.fixture(scope="module")
def template() -> Template:
    stack, _ = catalog_stack()
    return Template.from_stack(stack)


def tables_of(template: Template) -> Mapping[str, Mapping[str, Any]]:
    return template.find_resources("AWS::DynamoDB::GlobalTable")


def test_tables_are_encrypted_recoverable_protected_and_retained(template):
    tables = tables_of(template)
    assert sorted(t["Properties"]["TableName"] for t in tables.values()) == sorted(
        [naming.MODEL_CATALOG_TABLE, naming.COMPONENT_CATALOG_TABLE]
    )
    key_id = next(iter(template.find_resources("AWS::KMS::Key")))
    for table in tables.values():
        assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
        (replica,) = props["Replicas"]
        assert replica["SSESpecification"] == {"KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert replica["DeletionProtectionEnabled"] is True


def test_tenants_get_read_only_access_within_the_organization(template):
    for table in tables_of(template).values():
        name = table["Properties"]["TableName"]
        (statement,) = table["Properties"]["Replicas"][0]["ResourcePolicy"]["PolicyDocument"]["Statement"]
        # ARNs with a literal partition, as cdk.json's enablePartitionLiterals synthesizes them.
        assert statement["Principal"]["AWS"] == [f"arn:aws:iam::{a}:root" for a in READERS]
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}
        assert sorted(statement["Action"]) == sorted(READ_ACTIONS)
        assert not [a for a in statement["Action"] if any(w in a for w in ("Put", "Update", "Delete", "Write", "*"))]
        assert statement["Resource"] == [
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}/index/*",
        ]


def test_reader_accounts_decrypt_only_through_dynamodb(template):
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "CatalogReadersDecryptViaDynamoDB",
                                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                                "Condition": {
                                    "StringEquals": {
                                        "kms:ViaService": f"dynamodb.{REGION}.amazonaws.com",
                                        "kms:CallerAccount": READERS,
                                        "aws:PrincipalOrgID": ORG_ID,
                                    }
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


def test_key_schema_comes_from_the_shared_layout(template):
    for table in tables_of(template).values():
        props = table["Properties"]
        assert props["KeySchema"] == [
            {"AttributeName": tables.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": tables.SORT_KEY, "KeyType": "RANGE"},
        ]
        (index,) = props["GlobalSecondaryIndexes"]
        assert index["IndexName"] == tables.STATE_INDEX


def test_no_readers_means_no_resource_policy():
    stack, _ = catalog_stack(readers=[])
    for table in tables_of(Template.from_stack(stack)).values():
        assert "ResourcePolicy" not in table["Properties"]["Replicas"][0]


def test_imported_key_warns_that_its_policy_was_not_changed():
    stack = cdk.Stack(new_app(), "SharedServices", env=cdk.Environment(account=ACCOUNT, region=REGION))
    key = kms.Key.from_key_arn(
        stack, "Imported", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    )
    props = CatalogsProps(encryption_key=key, reader_accounts=READERS, organization_id=ORG_ID)
    Catalogs(stack, "Catalogs", props=props)
    Annotations.from_stack(stack).has_warning(
        "/SharedServices/Catalogs", Match.string_like_regexp("its key policy was not changed")
    )


def test_grant_write_never_allows_deletes():
    stack, catalogs = catalog_stack()
    role = iam.Role(stack, "Publisher", assumed_by=iam.AccountRootPrincipal())
    catalogs.grant_write(role)
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    actions = {
        a
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem"} <= actions
    assert not {a for a in actions if "Delete" in a or "BatchWrite" in a}


def test_reader_accounts_must_be_account_ids():
    with pytest.raises(ValueError, match="12-digit account ids"):
        catalog_stack(readers=["1234"])
