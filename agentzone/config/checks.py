"""Rules that span fields or files, which a per-file schema cannot express."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from ..tools.cedar import load_policy_files
from . import model as m
from .blueprint_checks import blueprint_problems
from .data_checks import data_lake_problems, tenant_data_problems
from .source import Problem, SourceDoc
from .source import duplicate_problems as _duplicates

# Names platform resources use in the tenant namespaces (OAuth2 resource servers, role and repository names).
RESERVED_TENANT_NAMES = frozenset({"shared-tools", "platform", "shared", "mcp"})


def semantic_problems(
    org_doc: SourceDoc,
    org: m.Organization,
    tenants: list[tuple[SourceDoc, m.Tenant]],
    root: Path | None = None,
) -> list[Problem]:
    problems: list[Problem] = []
    allowed = list(org.allowed_regions)
    allowed_text = ", ".join(allowed)
    known_envs = list(org.environments)

    problems += _duplicates(org_doc, ("allowed_regions",), org.allowed_regions)
    if org.home_region not in allowed:
        problems.append(
            org_doc.problem(("home_region",), f"{org.home_region!r} is not in allowed_regions ({allowed_text})")
        )

    # Every account plays exactly one role: reuse would merge blast radii and break SCP targeting.
    owners: dict[str, str] = {}

    def claim(doc: SourceDoc, path: tuple, account: str, role: str) -> None:
        if account in owners:
            problems.append(
                doc.problem(
                    path, f"account {account} is already used as {owners[account]}; every role needs its own account"
                )
            )
        else:
            owners[account] = role

    claim(org_doc, ("management_account",), org.management_account, "the management account")
    for env_name, env in org.environments.items():
        for role in m.PLATFORM_ROLES:
            claim(org_doc, ("environments", env_name, role), getattr(env, role), f"platform {env_name} {role}")
        if env.region and env.region not in allowed:
            problems.append(
                org_doc.problem(
                    ("environments", env_name, "region"), f"{env.region!r} is not in allowed_regions ({allowed_text})"
                )
            )

    if org.audit.central_environment and org.audit.central_environment not in org.environments:
        problems.append(
            org_doc.problem(
                ("audit", "central_environment"),
                f"unknown environment {org.audit.central_environment!r}; valid: {', '.join(known_envs)}",
            )
        )
    archive = org.audit.archive
    if archive.expire_after_days is not None and archive.expire_after_days < archive.retention_days:
        problems.append(
            org_doc.problem(
                ("audit", "archive", "expire_after_days"),
                f"{archive.expire_after_days} is shorter than retention_days ({archive.retention_days}); Object Lock would refuse the deletes",
            )
        )
    if (
        archive.deep_archive_after_days is not None
        and archive.deep_archive_after_days < archive.glacier_ir_after_days + 90
    ):
        problems.append(
            org_doc.problem(
                ("audit", "archive", "deep_archive_after_days"),
                f"must be at least 90 days after glacier_ir_after_days ({archive.glacier_ir_after_days}), the Glacier Instant Retrieval minimum",
            )
        )
    problems += _duplicates(org_doc, ("guardrails", "admin_roles"), org.guardrails.admin_roles)
    problems += _duplicates(org_doc, ("security", "securityhub_standards"), org.security.securityhub_standards)
    for env_name, env in org.environments.items():
        if env.observability_sink:
            _, _, _, region, account, _ = env.observability_sink.split(":", 5)
            expected_region = env.region or org.home_region
            if account != env.logging or region != expected_region:
                problems.append(
                    org_doc.problem(
                        ("environments", env_name, "observability_sink"),
                        f"the sink must be in this environment's logging account {env.logging} and region {expected_region} (got {account}, {region})",
                    )
                )

    problems += _shared_services_problems(org_doc, org, root)
    problems += data_lake_problems(org_doc, org)
    problems += delivery_problems(org_doc, org)

    seen_names: dict[str, str] = {}
    seen_use_cases: dict[str, str] = {}
    for doc, tenant in tenants:
        stem = Path(doc.file).stem
        if stem != tenant.tenant:
            problems.append(
                doc.problem(
                    ("tenant",),
                    f"tenant {tenant.tenant!r} must live in a file named {tenant.tenant}.yaml (found {Path(doc.file).name})",
                )
            )
        if tenant.tenant in seen_names:
            problems.append(
                doc.problem(
                    ("tenant",),
                    f"tenant name {tenant.tenant!r} is already used by {seen_names[tenant.tenant]}; tenant names must be unique",
                )
            )
        seen_names.setdefault(tenant.tenant, doc.file)
        if tenant.tenant in RESERVED_TENANT_NAMES:
            problems.append(
                doc.problem(
                    ("tenant",),
                    f"{tenant.tenant!r} is reserved for the platform ({', '.join(sorted(RESERVED_TENANT_NAMES))}); choose another name",
                )
            )
        if tenant.use_case_id in seen_use_cases:
            problems.append(
                doc.problem(
                    ("use_case_id",),
                    f"use_case_id {tenant.use_case_id!r} is already used by {seen_use_cases[tenant.use_case_id]}; use-case ids must be unique",
                )
            )
        seen_use_cases.setdefault(tenant.use_case_id, doc.file)

        for env_name, env in tenant.environments.items():
            path = ("environments", env_name)
            if env_name not in org.environments:
                problems.append(
                    doc.problem(
                        path,
                        f"unknown environment {env_name!r}; environments defined in organization.yaml: {', '.join(known_envs)}",
                    )
                )
            claim(doc, (*path, "account"), env.account, f"tenant {tenant.tenant} {env_name}")
            if env.region and env.region not in allowed:
                problems.append(
                    doc.problem((*path, "region"), f"{env.region!r} is not in allowed_regions ({allowed_text})")
                )

        problems += _duplicates(doc, ("models",), tenant.models)
        problems += _duplicates(doc, ("auth_scopes",), tenant.auth_scopes)
        problems += _duplicates(doc, ("budget", "alert_at_percent"), tenant.budget.alert_at_percent)
        if tenant.budget.session_usd is not None and tenant.budget.session_usd > tenant.budget.monthly_usd:
            problems.append(
                doc.problem(
                    ("budget", "session_usd"),
                    f"session_usd ({tenant.budget.session_usd}) cannot exceed monthly_usd ({tenant.budget.monthly_usd})",
                )
            )
        problems += _duplicates(doc, ("images",), tenant.images)
        problems += _tenant_gateway_problems(doc, tenant, org.shared_services.fm_gateway)
        problems += blueprint_problems(doc, tenant, root)
        problems += tenant_data_problems(doc, tenant)
    for env_name in org.environments:
        count = sum(env_name in t.environments for _, t in tenants)
        if count > m.MAX_TENANTS_PER_ENVIRONMENT:
            problems.append(
                org_doc.problem(
                    ("environments", env_name),
                    f"{count} tenants use this environment; its Logging and Security stacks hold at most {m.MAX_TENANTS_PER_ENVIRONMENT} (CloudFormation's 500-resource limit); split tenants across landing zones or environments",
                )
            )
    return problems


def _shared_services_problems(doc: SourceDoc, org: m.Organization, root: Path | None) -> list[Problem]:
    problems: list[Problem] = []
    shared = org.shared_services
    for env_name, env in org.environments.items():
        region = env.region or org.home_region
        if env.identity_user_pool_id and not env.identity_user_pool_id.startswith(f"{region}_"):
            problems.append(
                doc.problem(
                    ("environments", env_name, "identity_user_pool_id"),
                    f"the user pool must be in this environment's region {region}",
                )
            )
        if env.fm_gateway_certificate_arn:
            _, _, _, cert_region, cert_account, _ = env.fm_gateway_certificate_arn.split(":", 5)
            if (cert_account, cert_region) != (env.shared_services, region):
                problems.append(
                    doc.problem(
                        ("environments", env_name, "fm_gateway_certificate_arn"),
                        f"the certificate must be in this environment's shared-services account {env.shared_services} and region {region} (got {cert_account}, {cert_region})",
                    )
                )

    gateway = shared.fm_gateway
    if gateway is not None:
        base = ("shared_services", "fm_gateway")
        if gateway.image.tag == "latest":
            problems.append(
                doc.problem(
                    (*base, "image", "tag"),
                    "pin a version tag; 'latest' would change the gateway under a running deployment",
                )
            )
        cache = gateway.pull_through_cache
        if cache is not None and not gateway.image.repository.startswith(f"{cache.prefix}/"):
            problems.append(
                doc.problem(
                    (*base, "image", "repository"),
                    f"must start with the pull-through cache prefix '{cache.prefix}/' (got {gateway.image.repository!r})",
                )
            )
        try:
            network = ipaddress.ip_network(gateway.vpc_cidr)
            if network.version != 4 or not 16 <= network.prefixlen <= 22:
                problems.append(
                    doc.problem(
                        (*base, "vpc_cidr"), f"must be an IPv4 network from /16 to /22 (got {gateway.vpc_cidr})"
                    )
                )
        except ValueError:
            problems.append(
                doc.problem((*base, "vpc_cidr"), f"not a network address (got {gateway.vpc_cidr!r}); e.g. 10.64.0.0/20")
            )
        problems += _duplicates(doc, (*base, "zones"), gateway.zones)
        if gateway.min_tasks > gateway.max_tasks:
            problems.append(
                doc.problem((*base, "min_tasks"), f"{gateway.min_tasks} is more than max_tasks ({gateway.max_tasks})")
            )
        if gateway.database.min_capacity_acu > gateway.database.max_capacity_acu:
            problems.append(
                doc.problem(
                    (*base, "database", "min_capacity_acu"),
                    f"{gateway.database.min_capacity_acu} is more than max_capacity_acu ({gateway.database.max_capacity_acu})",
                )
            )
        tiers = {model.name: model.tier for model in gateway.models}
        problems += _duplicates(doc, (*base, "models"), [model.name for model in gateway.models])
        for i, model in enumerate(gateway.models):
            path = (*base, "models", i, "fallbacks")
            problems += _duplicates(doc, path, model.fallbacks)
            for j, fallback in enumerate(model.fallbacks):
                if fallback not in tiers:
                    problems.append(
                        doc.problem((*path, j), f"unknown gateway model {fallback!r}; valid: {', '.join(tiers)}")
                    )
                elif m.TIER_RANK[tiers[fallback]] >= m.TIER_RANK[model.tier]:
                    problems.append(
                        doc.problem(
                            (*path, j),
                            f"{fallback!r} is {tiers[fallback]}, not a lower tier than {model.name!r} ({model.tier}); fallbacks go to cheaper tiers",
                        )
                    )

    tools = shared.tool_gateway
    problems += _duplicates(doc, ("shared_services", "tool_gateway", "policies"), tools.policies)
    problems += _duplicates(
        doc, ("shared_services", "tool_gateway", "mcp_servers"), [s.name for s in tools.mcp_servers]
    )
    if root is not None:
        present = []
        for i, rel in enumerate(tools.policies):
            path = root / rel
            if ".." in Path(rel).parts or not path.is_file():
                problems.append(
                    doc.problem(
                        ("shared_services", "tool_gateway", "policies", i),
                        f"no Cedar policy file {rel} under the config directory",
                    )
                )
            else:
                present.append(path)
        if present:
            base = Path(doc.file).parent
            _, cedar_problems = load_policy_files(present, display=lambda path: str(base / path.relative_to(root)))
            problems += cedar_problems
    return problems


def _tenant_gateway_problems(doc: SourceDoc, tenant: m.Tenant, gateway: m.FmGatewaySettings | None) -> list[Problem]:
    chosen = tenant.fm_gateway.models
    if chosen is None:
        return []
    path = ("fm_gateway", "models")
    if gateway is None:
        return [
            doc.problem(path, "the organization has no FM gateway (shared_services.fm_gateway in organization.yaml)")
        ]
    problems = _duplicates(doc, path, chosen)
    by_name = {model.name: model.model for model in gateway.models}
    for i, name in enumerate(chosen):
        if name not in by_name:
            problems.append(doc.problem((*path, i), f"unknown gateway model {name!r}; valid: {', '.join(by_name)}"))
        elif problem := m.tenant_model_problem(by_name[name], tenant.models):
            problems.append(doc.problem((*path, i), f"gateway model {name!r}: {problem}, or drop it here"))
    return problems


def delivery_problems(doc: SourceDoc, org: m.Organization) -> list[Problem]:
    if org.delivery is None:
        return []
    base = ("delivery",)
    problems = _duplicates(doc, (*base, "approval_before"), org.delivery.approval_before or [])
    for i, env in enumerate(org.delivery.approval_before or []):
        if env not in org.environments:
            problems.append(
                doc.problem(
                    (*base, "approval_before", i), f"unknown environment {env!r}; valid: {', '.join(org.environments)}"
                )
            )
    if org.delivery.region and org.delivery.region not in org.allowed_regions:
        problems.append(
            doc.problem(
                (*base, "region"),
                f"{org.delivery.region!r} is not in allowed_regions ({', '.join(org.allowed_regions)})",
            )
        )
    return problems
