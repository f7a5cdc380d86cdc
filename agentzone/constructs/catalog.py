"""The model and component catalogs of a shared-services account.

Two DynamoDB tables (CMK, point-in-time recovery, deletion protection,
retained) whose key schema comes from :mod:`agentzone.catalog.tables`, the
same definition the boto3 library uses. Tenant accounts read them by ARN
through a resource policy; nobody outside this account can write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..catalog import tables
from .ids import invalid_accounts

# Read-only data-plane actions tenants get; ConditionCheckItem only evaluates a condition.
READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
# What register / submit / approve / deprecate need: no DeleteItem, no BatchWriteItem (versions are immutable).
WRITE_ACTIONS = ("dynamodb:ConditionCheckItem", "dynamodb:PutItem", "dynamodb:UpdateItem")


@dataclass(frozen=True)
class CatalogsProps:
    """``reader_accounts`` read both tables, as members of ``organization_id`` only."""

    encryption_key: kms.IKey
    reader_accounts: Sequence[str]
    organization_id: str
    contributor_insights: bool = False


class Catalogs(Construct):
    """Model catalog and component catalog tables, readable from ``reader_accounts`` within the organization."""

    def __init__(self, scope: Construct, construct_id: str, *, props: CatalogsProps) -> None:
        super().__init__(scope, construct_id)
        bad = invalid_accounts(props.reader_accounts)
        if bad:
            raise ValueError(f"reader_accounts must be 12-digit account ids (got {bad})")
        self.encryption_key = props.encryption_key
        self.reader_accounts = sorted(set(props.reader_accounts))
        self.organization_id = props.organization_id
        # Construct ids are part of the contract: renaming them would replace retained tables.
        self.model_table = self._table("ModelCatalog", "model", props.contributor_insights)
        self.component_table = self._table("ComponentCatalog", "component", props.contributor_insights)
        if self.reader_accounts:
            self._let_readers_decrypt()

    @property
    def table_arns(self) -> list[str]:
        return [self.model_table.table_arn, self.component_table.table_arn]

    @property
    def tables(self) -> list[dynamodb.TableV2]:
        return [self.model_table, self.component_table]

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read both catalogs and their index (and decrypt through DynamoDB)."""
        return self.model_table.grant_read_data(grantee).combine(self.component_table.grant_read_data(grantee))

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """What the catalog library needs to register and move entries: reads plus put/update, never delete."""
        grant = self.grant_read(grantee)
        for table in self.tables:
            grant = grant.combine(table.grant(grantee, *WRITE_ACTIONS))
        return grant.combine(self.encryption_key.grant_encrypt_decrypt(grantee))

    def _table(self, construct_id: str, catalog: str, contributor_insights: bool) -> dynamodb.TableV2:
        name = tables.TABLE_NAMES[catalog]
        string = dynamodb.AttributeType.STRING
        table = dynamodb.TableV2(
            self,
            construct_id,
            table_name=name,
            partition_key=dynamodb.Attribute(name=tables.PARTITION_KEY, type=string),
            sort_key=dynamodb.Attribute(name=tables.SORT_KEY, type=string),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=tables.STATE_INDEX,
                    partition_key=dynamodb.Attribute(name=tables.STATE_INDEX_PARTITION_KEY, type=string),
                    sort_key=dynamodb.Attribute(name=tables.STATE_INDEX_SORT_KEY, type=string),
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            ],
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(self.encryption_key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            contributor_insights_specification=dynamodb.ContributorInsightsSpecification(enabled=True)
            if contributor_insights
            else None,
            resource_policy=self._read_policy(name) if self.reader_accounts else None,
        )
        return table

    def _read_policy(self, table_name: str) -> iam.PolicyDocument:
        # The explicit table name lets the policy name its own ARN without a circular reference.
        arn = cdk.Stack.of(self).format_arn(service="dynamodb", resource="table", resource_name=table_name)
        return iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="OrganizationAccountsReadOnly",
                    principals=[iam.AccountPrincipal(account) for account in self.reader_accounts],
                    actions=list(READ_ACTIONS),
                    resources=[arn, f"{arn}/index/*"],
                    conditions={"StringEquals": {"aws:PrincipalOrgID": self.organization_id}},
                )
            ]
        )

    def _let_readers_decrypt(self) -> None:
        """Reader accounts may decrypt catalog items, only through DynamoDB in this region."""
        region = cdk.Stack.of(self).region
        result = self.encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CatalogReadersDecryptViaDynamoDB",
                principals=[iam.AccountPrincipal(account) for account in self.reader_accounts],
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"dynamodb.{region}.amazonaws.com",
                        "kms:CallerAccount": self.reader_accounts,
                        "aws:PrincipalOrgID": self.organization_id,
                    }
                },
            )
        )
        if not result.statement_added:
            cdk.Annotations.of(self).add_warning_v2(
                "agentzone:catalog-key-policy",
                "The catalog key is imported, so its key policy was not changed: let the reader accounts "
                "kms:Decrypt via dynamodb in this region, or tenants cannot read the catalogs.",
            )
