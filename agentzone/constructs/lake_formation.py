"""Lake Formation as the data lake's only permission model.

IAM decides who may call Glue and S3 at all; Lake Formation decides which
databases, tables and columns a principal sees. New databases and tables get
no IAMAllowedPrincipals grant, so nothing is readable until a grant says so.
Cross-account grants use LF-tags (cross-account version 4): Lake Formation
shares through RAM itself and the consumer account's admin re-grants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lakeformation as lf
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .. import naming
from ..nag import acknowledge, acknowledge_compliance

CROSS_ACCOUNT_VERSION = "4"
READ = ["SELECT", "DESCRIBE"]


@dataclass(frozen=True)
class TagCondition:
    key: str
    values: tuple[str, ...]

    def render(self) -> lf.CfnPrincipalPermissions.LFTagProperty:
        return lf.CfnPrincipalPermissions.LFTagProperty(tag_key=self.key, tag_values=list(self.values))


class LakeFormationAdmin(Construct):
    """Admins, catalog defaults, registered zone buckets and the LF-tag vocabulary of one data lake account."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        admin_role_arns: list[str],
        zones: dict[str, s3.IBucket],
        tags: dict[str, list[str]],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.catalog_id = stack.account
        self.settings = lf.CfnDataLakeSettings(
            self,
            "Settings",
            admins=[
                lf.CfnDataLakeSettings.DataLakePrincipalProperty(data_lake_principal_identifier=arn)
                for arn in admin_role_arns
            ],
            # Empty defaults: no IAMAllowedPrincipals grant on new databases or tables.
            create_database_default_permissions=[],
            create_table_default_permissions=[],
            parameters={"CROSS_ACCOUNT_VERSION": CROSS_ACCOUNT_VERSION},
            mutation_type="REPLACE",
        )
        # Lake Formation reads the zones with this role (the service-linked role cannot use a CMK).
        self.data_access_role = iam.Role(
            self,
            "DataAccessRole",
            description="Lake Formation: vends credentials for the registered zone buckets",
            assumed_by=iam.ServicePrincipal(
                "lakeformation.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
        self.locations = {zone: self._register(zone, bucket) for zone, bucket in zones.items()}
        self._acknowledge_data_access(list(zones.values()))
        self.tags: dict[str, lf.CfnTag] = {}
        for key, values in sorted(tags.items()):
            tag = lf.CfnTag(
                self, f"Tag-{key.split(':')[-1]}", tag_key=key, tag_values=sorted(values), catalog_id=self.catalog_id
            )
            tag.add_resource_dependency(self.settings)
            self.tags[key] = tag

    def _register(self, zone: str, bucket: s3.IBucket) -> lf.CfnResource:
        """A zone bucket becomes a Lake Formation location, read and written through the data access role."""
        bucket.grant_read_write(self.data_access_role)
        location = lf.CfnResource(
            self,
            f"Location-{zone}",
            resource_arn=bucket.bucket_arn,
            use_service_linked_role=False,
            role_arn=self.data_access_role.role_arn,
            hybrid_access_enabled=False,
        )
        location.add_resource_dependency(self.settings)
        return location

    def _acknowledge_data_access(self, buckets: list[s3.IBucket]) -> None:
        stack = cdk.Stack.of(self)
        policy = self.data_access_role.node.find_child("DefaultPolicy")
        for bucket in buckets:
            logical_id = stack.get_logical_id(cast(cdk.CfnElement, bucket.node.default_child))
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/*]",
                "Lake Formation vends credentials for any object of a registered zone; what a principal may read is "
                "decided by its Lake Formation grants, not by this role.",
            )
        for action in ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Action::{action}]",
                "The S3 read/write action group Lake Formation's registration role needs on the zones it serves.",
            )
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Action::{action}]",
                "Writes to the CMK-encrypted zones need data keys from the zones' key, and only that key.",
            )
        acknowledge_compliance(
            policy,
            "IAMNoInlinePolicy",
            "The zone grants are a policy attached only to Lake Formation's registration role.",
        )


def tag_resource(
    scope: Construct,
    construct_id: str,
    *,
    catalog_id: str,
    resource: lf.CfnTagAssociation.ResourceProperty,
    tags: dict[str, str],
    depends_on: cdk.CfnResource,
) -> lf.CfnTagAssociation:
    """Attach LF-tags (defined in the data lake stack) to one database or table."""
    association = lf.CfnTagAssociation(
        scope,
        construct_id,
        resource=resource,
        lf_tags=[
            lf.CfnTagAssociation.LFTagPairProperty(catalog_id=catalog_id, tag_key=key, tag_values=[value])
            for key, value in sorted(tags.items())
        ],
    )
    association.add_resource_dependency(depends_on)
    return association


def _principal(identifier: str) -> lf.CfnPrincipalPermissions.DataLakePrincipalProperty:
    return lf.CfnPrincipalPermissions.DataLakePrincipalProperty(data_lake_principal_identifier=identifier)


def grant_by_tags(
    scope: Construct,
    construct_id: str,
    *,
    catalog_id: str,
    principal: str,
    resource_type: str,
    conditions: list[TagCondition],
    permissions: list[str],
    grantable: bool,
) -> lf.CfnPrincipalPermissions:
    """Grant on every database or table whose LF-tags match all ``conditions`` (cross-account: an account id)."""
    return lf.CfnPrincipalPermissions(
        scope,
        construct_id,
        catalog=catalog_id,
        principal=_principal(principal),
        resource=lf.CfnPrincipalPermissions.ResourceProperty(
            lf_tag_policy=lf.CfnPrincipalPermissions.LFTagPolicyResourceProperty(
                catalog_id=catalog_id, resource_type=resource_type, expression=[c.render() for c in conditions]
            )
        ),
        permissions=permissions,
        permissions_with_grant_option=permissions if grantable else [],
    )


def grant_tables(
    scope: Construct,
    construct_id: str,
    *,
    catalog_id: str,
    role: iam.IRole,
    database: str,
    permissions: list[str],
    depends_on: cdk.CfnResource,
) -> lf.CfnPrincipalPermissions:
    """Grant a role of this account on every table of one database.

    One grant per role and namespace (not per table) keeps stacks small; the
    role's IAM policy names the exact tables its Glue calls may touch, and a
    call needs both.
    """
    grant = lf.CfnPrincipalPermissions(
        scope,
        construct_id,
        catalog=catalog_id,
        principal=_principal(role.role_arn),
        resource=lf.CfnPrincipalPermissions.ResourceProperty(
            table=lf.CfnPrincipalPermissions.TableResourceProperty(
                catalog_id=catalog_id, database_name=database, table_wildcard={}
            )
        ),
        permissions=permissions,
        permissions_with_grant_option=[],
    )
    grant.add_resource_dependency(depends_on)
    return grant


def grant_location(
    scope: Construct, construct_id: str, *, catalog_id: str, role: iam.IRole, location_arn: str
) -> lf.CfnPrincipalPermissions:
    """DATA_LOCATION_ACCESS: needed to add partitions that point into a registered zone."""
    return lf.CfnPrincipalPermissions(
        scope,
        construct_id,
        catalog=catalog_id,
        principal=_principal(role.role_arn),
        resource=lf.CfnPrincipalPermissions.ResourceProperty(
            data_location=lf.CfnPrincipalPermissions.DataLocationResourceProperty(
                catalog_id=catalog_id, resource_arn=location_arn
            )
        ),
        permissions=["DATA_LOCATION_ACCESS"],
        permissions_with_grant_option=[],
    )


def admin_role_arns(
    qualifier: str, account: str, region: str, extra_roles: list[str], partition: str = "aws"
) -> list[str]:
    """The deploy role (CloudFormation creates the grants) plus the configured administrator roles."""
    return [naming.cfn_exec_role_arn(qualifier, account, region, partition)] + [
        f"arn:{partition}:iam::{account}:role/{role}" for role in extra_roles
    ]
