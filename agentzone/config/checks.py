"""Rules that span fields or files, which a per-file schema cannot express."""

from __future__ import annotations

from pathlib import Path

from . import model as m
from .source import Problem, SourceDoc


def _duplicates(doc: SourceDoc, path: tuple, items: list) -> list[Problem]:
    seen: dict = {}
    out = []
    for i, item in enumerate(items):
        if item in seen:
            out.append(doc.problem((*path, i), f"{item!r} is listed twice (first at index {seen[item]}); list it once"))
        seen.setdefault(item, i)
    return out


def semantic_problems(
    org_doc: SourceDoc,
    org: m.Organization,
    tenants: list[tuple[SourceDoc, m.Tenant]],
) -> list[Problem]:
    problems: list[Problem] = []
    allowed = list(org.allowed_regions)
    allowed_text = ", ".join(allowed)
    known_envs = list(org.environments)

    problems += _duplicates(org_doc, ("allowed_regions",), org.allowed_regions)
    if org.home_region not in allowed:
        problems.append(org_doc.problem(("home_region",), f"{org.home_region!r} is not in allowed_regions ({allowed_text})"))

    # Every account plays exactly one role: reuse would merge blast radii and break SCP targeting.
    owners: dict[str, str] = {}

    def claim(doc: SourceDoc, path: tuple, account: str, role: str) -> None:
        if account in owners:
            problems.append(doc.problem(path, f"account {account} is already used as {owners[account]}; every role needs its own account"))
        else:
            owners[account] = role

    claim(org_doc, ("management_account",), org.management_account, "the management account")
    for env_name, env in org.environments.items():
        for role in m.PLATFORM_ROLES:
            claim(org_doc, ("environments", env_name, role), getattr(env, role), f"platform {env_name} {role}")
        if env.region and env.region not in allowed:
            problems.append(org_doc.problem(("environments", env_name, "region"), f"{env.region!r} is not in allowed_regions ({allowed_text})"))

    if org.audit.central_environment and org.audit.central_environment not in org.environments:
        problems.append(org_doc.problem(("audit", "central_environment"), f"unknown environment {org.audit.central_environment!r}; valid: {', '.join(known_envs)}"))
    archive = org.audit.archive
    if archive.expire_after_days is not None and archive.expire_after_days < archive.retention_days:
        problems.append(org_doc.problem(("audit", "archive", "expire_after_days"), f"{archive.expire_after_days} is shorter than retention_days ({archive.retention_days}); Object Lock would refuse the deletes"))
    if archive.deep_archive_after_days is not None and archive.deep_archive_after_days < archive.glacier_ir_after_days + 90:
        problems.append(org_doc.problem(("audit", "archive", "deep_archive_after_days"), f"must be at least 90 days after glacier_ir_after_days ({archive.glacier_ir_after_days}), the Glacier Instant Retrieval minimum"))
    problems += _duplicates(org_doc, ("guardrails", "admin_roles"), org.guardrails.admin_roles)
    problems += _duplicates(org_doc, ("security", "securityhub_standards"), org.security.securityhub_standards)
    for env_name, env in org.environments.items():
        if env.observability_sink:
            _, _, _, region, account, _ = env.observability_sink.split(":", 5)
            expected_region = env.region or org.home_region
            if account != env.logging or region != expected_region:
                problems.append(org_doc.problem(("environments", env_name, "observability_sink"), f"the sink must be in this environment's logging account {env.logging} and region {expected_region} (got {account}, {region})"))

    seen_names: dict[str, str] = {}
    seen_use_cases: dict[str, str] = {}
    for doc, tenant in tenants:
        stem = Path(doc.file).stem
        if stem != tenant.tenant:
            problems.append(doc.problem(("tenant",), f"tenant {tenant.tenant!r} must live in a file named {tenant.tenant}.yaml (found {Path(doc.file).name})"))
        if tenant.tenant in seen_names:
            problems.append(doc.problem(("tenant",), f"tenant name {tenant.tenant!r} is already used by {seen_names[tenant.tenant]}; tenant names must be unique"))
        seen_names.setdefault(tenant.tenant, doc.file)
        if tenant.use_case_id in seen_use_cases:
            problems.append(doc.problem(("use_case_id",), f"use_case_id {tenant.use_case_id!r} is already used by {seen_use_cases[tenant.use_case_id]}; use-case ids must be unique"))
        seen_use_cases.setdefault(tenant.use_case_id, doc.file)

        for env_name, env in tenant.environments.items():
            path = ("environments", env_name)
            if env_name not in org.environments:
                problems.append(doc.problem(path, f"unknown environment {env_name!r}; environments defined in organization.yaml: {', '.join(known_envs)}"))
            claim(doc, (*path, "account"), env.account, f"tenant {tenant.tenant} {env_name}")
            if env.region and env.region not in allowed:
                problems.append(doc.problem((*path, "region"), f"{env.region!r} is not in allowed_regions ({allowed_text})"))

        problems += _duplicates(doc, ("models",), tenant.models)
        problems += _duplicates(doc, ("auth_scopes",), tenant.auth_scopes)
        problems += _duplicates(doc, ("budget", "alert_at_percent"), tenant.budget.alert_at_percent)
        if tenant.budget.session_usd is not None and tenant.budget.session_usd > tenant.budget.monthly_usd:
            problems.append(doc.problem(("budget", "session_usd"), f"session_usd ({tenant.budget.session_usd}) cannot exceed monthly_usd ({tenant.budget.monthly_usd})"))
        memory = tenant.blueprints.memory
        if memory is not None:
            problems += _duplicates(doc, ("blueprints", "memory", "strategies"), memory.strategies)
    for env_name in org.environments:
        count = sum(env_name in t.environments for _, t in tenants)
        if count > m.MAX_TENANTS_PER_ENVIRONMENT:
            problems.append(org_doc.problem(("environments", env_name), f"{count} tenants use this environment; its Logging and Security stacks hold at most {m.MAX_TENANTS_PER_ENVIRONMENT} (CloudFormation's 500-resource limit); split tenants across landing zones or environments"))
    return problems
