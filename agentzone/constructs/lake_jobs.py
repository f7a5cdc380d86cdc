"""A namespace's Glue side: the crawler, the curate-and-mask job and the Glue roles they (and quality runs) use.

Each function builds its resources in the scope of the :class:`~.lake_scope.NamespaceScope` it is given,
so their construct ids (and logical ids) are the namespace's own.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager

from .. import naming
from ..nag import acknowledge, acknowledge_compliance, nag_arn
from .lake_formation import grant_location, grant_tables
from .lake_scope import BUCKET_GRANT_WILDCARDS, NamespaceScope

_CRAWLER_ACTIONS = [
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
    "glue:CreatePartition",
    "glue:BatchCreatePartition",
    "glue:UpdatePartition",
    "glue:BatchUpdatePartition",
    "glue:UpdateTable",
]

# ------------------------------------------------------------------ crawler


def crawler(ns: NamespaceScope) -> tuple[glue.CfnCrawler, iam.Role]:
    """Adds the partitions producers and streams write; schemas stay the ones config declares."""
    role = glue_role(ns, "CrawlerRole", f"Glue crawler: adds partitions to {ns.database_name}'s raw tables")
    ns.services.zones["raw"].grant_read(role, f"{ns.tenant_prefix}*")
    role.add_to_policy(iam.PolicyStatement(actions=_CRAWLER_ACTIONS, resources=ns.table_arns(("raw",))))
    cfn_crawler = glue.CfnCrawler(
        ns,
        "Crawler",
        name=f"{naming.PREFIX}-{ns.layout.tenant}-{ns.layout.namespace.name}-raw".replace("_", "-"),
        description=f"Partitions of {ns.database_name}'s raw tables (schemas come from config)",
        role=role.role_arn,
        targets=glue.CfnCrawler.TargetsProperty(
            catalog_targets=[
                glue.CfnCrawler.CatalogTargetProperty(database_name=ns.database_name, tables=ns.table_names("raw"))
            ]
        ),
        # Catalog targets: the crawler updates partitions of existing tables and never rewrites their schema.
        schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(update_behavior="LOG", delete_behavior="LOG"),
        recrawl_policy=glue.CfnCrawler.RecrawlPolicyProperty(recrawl_behavior="CRAWL_EVERYTHING"),
        configuration=json.dumps(
            {"Version": 1.0, "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}}}
        ),
        crawler_security_configuration=ns.services.security_configuration,
        schedule=glue.CfnCrawler.ScheduleProperty(schedule_expression=ns.services.job_schedule),
    )
    for table in ns.zone_tables("raw"):
        cfn_crawler.add_resource_dependency(table)
    acknowledge_security_configuration(ns, cfn_crawler, ("AwsSolutions-GL1",))
    grant_lake_formation(ns, role, "Crawler", ["ALTER", "DESCRIBE"], ("raw",))
    acknowledge_glue_role(ns, role, ["raw"])
    return cfn_crawler, role


# ------------------------------------------------------------------ curate and mask


def curate_and_mask_job(ns: NamespaceScope, masking_key: secretsmanager.ISecret) -> tuple[glue.CfnJob, iam.Role]:
    """Raw -> curated (declared columns, cast, required present) -> masked (PII hashed, redacted or truncated)."""
    role = _job_role(ns, masking_key)
    zones = ns.services.zones
    plan = ns.layout.job_plan({zone: bucket.bucket_name for zone, bucket in zones.items()}, cdk.Stack.of(ns).region)
    job = glue.CfnJob(
        ns,
        "CurateAndMask",
        name=ns.job_name,
        description=f"Curate and mask {ns.database_name}: raw -> curated -> masked, lineage under _lineage/",
        role=role.role_arn,
        command=glue.CfnJob.JobCommandProperty(
            name="pythonshell", python_version="3.9", script_location=ns.services.job_script.s3_object_url
        ),
        glue_version="3.0",
        max_capacity=0.0625,
        max_retries=1,
        timeout=120,
        # One run at a time: the masked object is the "done" marker, so overlapping runs would duplicate work.
        execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
        security_configuration=ns.services.security_configuration,
        default_arguments={"--plan": plan, "--hash_key_secret": masking_key.secret_arn},
    )
    for zone in ("curated", "masked"):
        for table in ns.zone_tables(zone):
            job.add_resource_dependency(table)
    acknowledge_security_configuration(ns, job, ("AwsSolutions-GL1", "AwsSolutions-GL3"))
    grant_lake_formation(ns, role, "Job", ["ALTER", "INSERT", "DESCRIBE"], ("curated", "masked"))
    glue.CfnTrigger(
        ns,
        "Schedule",
        name=f"{ns.job_name}-schedule",
        description=f"Runs {ns.job_name} on the data lake's job schedule",
        type="SCHEDULED",
        schedule=ns.services.job_schedule,
        start_on_creation=True,
        actions=[glue.CfnTrigger.ActionProperty(job_name=ns.job_name)],
    ).add_resource_dependency(job)
    acknowledge_glue_role(ns, role, ["raw", "curated", "masked"])
    acknowledge(
        role.node.find_child("DefaultPolicy"),
        f"AwsSolutions-IAM5[Resource::{ns.nag_objects('curated')}/_lineage/{ns.database_name}/*]",
        "One lineage manifest per run, named by the Glue job run id, under this namespace's _lineage/ prefix.",
    )
    return job, role


def _job_role(ns: NamespaceScope, masking_key: secretsmanager.ISecret) -> iam.Role:
    """Reads raw, writes curated and masked (and lineage), reads the masking key and the job's script."""
    role = glue_role(ns, "JobRole", f"Glue job {ns.job_name}: raw to curated and masked for {ns.database_name}")
    zones = ns.services.zones
    zones["raw"].grant_read(role, f"{ns.tenant_prefix}*")
    zones["curated"].grant_read_write(role, f"{ns.tenant_prefix}*")
    zones["curated"].grant_put(role, f"_lineage/{ns.database_name}/*")
    zones["masked"].grant_read_write(role, f"{ns.tenant_prefix}*")
    masking_key.grant_read(role)
    script = ns.services.job_script
    role.add_to_policy(
        iam.PolicyStatement(actions=["s3:GetObject"], resources=[script.bucket.arn_for_objects(script.s3_object_key)])
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["glue:GetTable", "glue:BatchCreatePartition", "glue:GetPartition"],
            resources=ns.table_arns(("curated", "masked")),
        )
    )
    return role


# ------------------------------------------------------------------ Glue roles


def glue_role(ns: NamespaceScope, construct_id: str, description: str) -> iam.Role:
    """A role Glue assumes for this account only; it may write Glue's run logs, encrypted with the lake's key."""
    stack = cdk.Stack.of(ns)
    role = iam.Role(
        ns,
        construct_id,
        description=description,
        assumed_by=iam.ServicePrincipal(
            "glue.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
        ),
    )
    # Glue writes run logs under /aws-glue/ and, with the security configuration, encrypts them with the lake's key.
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
            resources=[
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name="/aws-glue/*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
    )
    ns.services.lake_key.grant_encrypt_decrypt(role)
    return role


def grant_lake_formation(
    ns: NamespaceScope, role: iam.Role, name: str, permissions: list[str], locations: tuple[str, ...]
) -> None:
    """Lake Formation side of a lake role: its namespace's tables, and the zones it adds partitions in."""
    catalog = ns.services.catalog_id
    grant = grant_tables(
        ns,
        f"{name}Grant",
        catalog_id=catalog,
        role=role,
        database=ns.database_name,
        permissions=permissions,
        depends_on=ns.database,
    )
    for table in ns.tables.values():
        grant.add_resource_dependency(table)
    for zone in locations:
        grant_location(
            ns,
            f"{name}Location-{zone}",
            catalog_id=catalog,
            role=role,
            location_arn=ns.services.zones[zone].bucket_arn,
        )


def acknowledge_security_configuration(
    ns: NamespaceScope, resource: cdk.CfnResource, findings: tuple[str, ...]
) -> None:
    for finding in findings:
        acknowledge(
            resource,
            finding,
            f"Uses the security configuration {ns.services.security_configuration} (DataLake stack, "
            "referenced by name): CloudWatch logs SSE-KMS, job bookmarks CSE-KMS and S3 SSE-KMS with the zones' CMK.",
        )


def acknowledge_glue_role(ns: NamespaceScope, role: iam.Role, zones: list[str]) -> None:
    policy = role.node.find_child("DefaultPolicy")
    for zone in zones:
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{ns.nag_objects(zone)}/{ns.tenant_prefix}*]",
            "This namespace's objects: one prefix per tenant namespace in each zone, files named by the writer.",
        )
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{nag_arn(ns, 'logs', 'log-group:/aws-glue/*')}]",
        "Glue names its run log groups per security configuration and role (/aws-glue/<kind>-<config>-role/...).",
    )
    for action in BUCKET_GRANT_WILDCARDS:
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Action::{action}]",
            "The S3 grant action groups on this namespace's prefix, and data "
            "keys from the lake's CMK for the objects and logs written there.",
        )
    acknowledge_compliance(
        policy, "IAMNoInlinePolicy", "The namespace's grants are a policy attached only to this Glue role."
    )
