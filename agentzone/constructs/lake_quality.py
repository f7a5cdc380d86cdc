"""Glue Data Quality rules on a namespace's curated tables, run on the data lake's quality schedule.

Each function builds its resources in the scope of the :class:`~.lake_scope.NamespaceScope` it is given,
so their construct ids (and logical ids) are the namespace's own.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets

from ..data_lake.layout import Dataset, table_name
from ..nag import acknowledge, acknowledge_compliance, nag_arn
from .lake_formation import READ
from .lake_jobs import acknowledge_glue_role, glue_role, grant_lake_formation
from .lake_scope import NamespaceScope


def quality_rules(dataset: Dataset) -> list[str]:
    """Every required column complete, plus the dataset's own rules."""
    return [f'IsComplete "{c.name}"' for c in dataset.columns if c.required] + list(dataset.quality_rules)


def dqdl(dataset: Dataset) -> str:
    return "Rules = [\n    " + ",\n    ".join(quality_rules(dataset)) + "\n]"


def quality_ruleset(ns: NamespaceScope, dataset: Dataset) -> glue.CfnDataQualityRuleset:
    """The dataset's rules on its curated table, and the schedule that evaluates them."""
    table = table_name("curated", dataset.name)
    ruleset = glue.CfnDataQualityRuleset(
        ns,
        f"Quality-{dataset.name}",
        name=f"{ns.database_name}.{table}",
        description=f"Data quality of {ns.database_name}.{table}",
        ruleset=dqdl(dataset),
        target_table=glue.CfnDataQualityRuleset.DataQualityTargetTableProperty(
            database_name=ns.database_name, table_name=table
        ),
    )
    ruleset.add_resource_dependency(ns.tables[("curated", dataset.name)])
    _schedule(ns, dataset, ruleset, quality_role(ns))
    return ruleset


def _schedule(
    ns: NamespaceScope, dataset: Dataset, ruleset: glue.CfnDataQualityRuleset, role: iam.Role
) -> scheduler.Schedule:
    """EventBridge Scheduler starts evaluation runs of this one ruleset, with ``role`` passed to Glue."""
    stack, services = cdk.Stack.of(ns), ns.services
    table = table_name("curated", dataset.name)
    results = f"s3://{services.zones['curated'].bucket_name}/_quality/{ns.database_name}/{table}/"
    runner = _runner_role(ns, dataset, table)
    schedule = scheduler.Schedule(
        ns,
        f"QualitySchedule-{dataset.name}",
        description=f"Evaluate the data quality rules of {ns.database_name}.{table}",
        schedule=scheduler.ScheduleExpression.expression(services.quality_schedule),
        schedule_group=services.quality_schedules,
        key=services.key,
        target=scheduler_targets.Universal(
            service="glue",
            action="startDataQualityRulesetEvaluationRun",
            input=scheduler.ScheduleTargetInput.from_object(
                {
                    "DataSource": {"GlueTable": {"DatabaseName": ns.database_name, "TableName": table}},
                    "Role": role.role_arn,
                    "RulesetNames": [ruleset.name],
                    "AdditionalRunOptions": {"CloudWatchMetricsEnabled": True, "ResultsS3Prefix": results},
                }
            ),
            policy_statements=[
                iam.PolicyStatement(
                    actions=["glue:StartDataQualityRulesetEvaluationRun"],
                    resources=[
                        stack.format_arn(service="glue", resource="dataQualityRuleset", resource_name=ruleset.name),
                    ],
                ),
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}},
                ),
            ],
            role=runner,
            retry_attempts=2,
            max_event_age=cdk.Duration.hours(6),
        ),
    )
    schedule.node.add_dependency(ruleset)
    acknowledge_compliance(
        runner.node.find_child("DefaultPolicy"),
        "IAMNoInlinePolicy",
        "The scheduler L2 writes its target grant (start runs of this one ruleset, pass its role to Glue) "
        "as a policy attached only to this schedule's role.",
    )
    return schedule


def _runner_role(ns: NamespaceScope, dataset: Dataset, table: str) -> iam.Role:
    """The schedule's own role, assumable by EventBridge Scheduler for this account's quality schedule group."""
    return iam.Role(
        ns,
        f"QualityScheduleRole-{dataset.name}",
        description=f"EventBridge Scheduler: starts data quality runs on {ns.database_name}.{table}, nothing else",
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={
                "StringEquals": {
                    "aws:SourceAccount": cdk.Stack.of(ns).account,
                    "aws:SourceArn": ns.services.quality_schedules.schedule_group_arn,
                }
            },
        ),
    )


def quality_role(ns: NamespaceScope) -> iam.Role:
    """One role per namespace evaluates its curated tables (read only) and writes results under _quality/."""
    existing = ns.node.try_find_child("QualityRole")
    if isinstance(existing, iam.Role):
        return existing
    role = glue_role(ns, "QualityRole", f"Glue Data Quality: evaluates {ns.database_name}'s curated tables")
    curated = ns.services.zones["curated"]
    curated.grant_read(role, f"{ns.tenant_prefix}*")
    curated.grant_put(role, f"_quality/{ns.database_name}/*")
    rulesets = cdk.Stack.of(ns).format_arn(
        service="glue", resource="dataQualityRuleset", resource_name=f"{ns.database_name}.*"
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["glue:GetTable", "glue:GetPartitions", "glue:GetDataQualityRuleset", "glue:PublishDataQuality"],
            resources=[*ns.table_arns(("curated",)), rulesets],
        )
    )
    # Lake Formation vends the credentials for the curated tables' data; the action takes no resource.
    # Which tables it vends for is decided by the Lake Formation grants below, not by IAM.
    role.add_to_policy(iam.PolicyStatement(actions=["lakeformation:GetDataAccess"], resources=["*"]))
    grant_lake_formation(ns, role, "Quality", READ, ())
    acknowledge_glue_role(ns, role, ["curated"])
    _acknowledge_quality_role(ns, role)
    return role


def _acknowledge_quality_role(ns: NamespaceScope, role: iam.Role) -> None:
    policy = role.node.find_child("DefaultPolicy")
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{ns.nag_objects('curated')}/_quality/{ns.database_name}/*]",
        "Data quality results, one object per run, under this namespace's _quality/ prefix.",
    )
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{nag_arn(ns, 'glue', f'dataQualityRuleset/{ns.database_name}.*')}]",
        "The rulesets of this namespace's curated tables, all named <database>.<table>.",
    )
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "lakeformation:GetDataAccess supports only Resource '*': Lake Formation decides per table from this role's "
        "SELECT grants on this namespace's curated tables.",
    )
