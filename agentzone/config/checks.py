"""Rules that span fields or files, which a per-file schema cannot express."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from ..patterns import REGISTRIES_WITH_LOGIN
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
    owners = AccountOwners()
    problems = _organization_problems(org_doc, org, owners)
    problems += _shared_services_problems(org_doc, org, root)
    problems += data_lake_problems(org_doc, org)
    problems += delivery_problems(org_doc, org)
    seen_names: dict[str, str] = {}
    seen_use_cases: dict[str, str] = {}
    for doc, tenant in tenants:
        problems += _tenant_name_problems(doc, tenant, seen_names, seen_use_cases)
        problems += _tenant_environment_problems(doc, tenant, org, owners)
        problems += _tenant_problems(doc, tenant, org, root)
    problems += _tenant_limit_problems(org_doc, org, [tenant for _, tenant in tenants])
    return problems + owners.problems


class AccountOwners:
    """Every account plays exactly one role: reuse would merge blast radii and break SCP targeting."""

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}
        self.problems: list[Problem] = []

    def claim(self, doc: SourceDoc, path: tuple, account: str, role: str) -> None:
        if account in self.owners:
            message = f"account {account} is already used as {self.owners[account]}; every role needs its own account"
            self.problems.append(doc.problem(path, message))
        else:
            self.owners[account] = role


def _not_allowed(region: str, org: m.Organization) -> str:
    return f"{region!r} is not in allowed_regions ({', '.join(org.allowed_regions)})"


def _organization_problems(doc: SourceDoc, org: m.Organization, owners: AccountOwners) -> list[Problem]:
    problems = _duplicates(doc, ("allowed_regions",), org.allowed_regions)
    if org.home_region not in org.allowed_regions:
        problems.append(doc.problem(("home_region",), _not_allowed(org.home_region, org)))
    owners.claim(doc, ("management_account",), org.management_account, "the management account")
    for env_name, env in org.environments.items():
        for role in m.PLATFORM_ROLES:
            owners.claim(doc, ("environments", env_name, role), getattr(env, role), f"platform {env_name} {role}")
        if env.region and env.region not in org.allowed_regions:
            problems.append(doc.problem(("environments", env_name, "region"), _not_allowed(env.region, org)))
    problems += _audit_problems(doc, org)
    problems += _duplicates(doc, ("guardrails", "admin_roles"), org.guardrails.admin_roles)
    problems += _duplicates(doc, ("security", "securityhub_standards"), org.security.securityhub_standards)
    for env_name, env in org.environments.items():
        problems += _sink_problems(doc, org, env_name, env)
    return problems


def _audit_problems(doc: SourceDoc, org: m.Organization) -> list[Problem]:
    problems = []
    if org.audit.central_environment and org.audit.central_environment not in org.environments:
        problems.append(
            doc.problem(
                ("audit", "central_environment"),
                f"unknown environment {org.audit.central_environment!r}; valid: {', '.join(org.environments)}",
            )
        )
    archive = org.audit.archive
    if archive.expire_after_days is not None and archive.expire_after_days < archive.retention_days:
        problems.append(
            doc.problem(
                ("audit", "archive", "expire_after_days"),
                f"{archive.expire_after_days} is shorter than retention_days ({archive.retention_days}); "
                "Object Lock would refuse the deletes",
            )
        )
    deep = archive.deep_archive_after_days
    if deep is not None and deep < archive.glacier_ir_after_days + 90:
        problems.append(
            doc.problem(
                ("audit", "archive", "deep_archive_after_days"),
                f"must be at least 90 days after glacier_ir_after_days ({archive.glacier_ir_after_days}), "
                "the Glacier Instant Retrieval minimum",
            )
        )
    return problems


def _sink_problems(doc: SourceDoc, org: m.Organization, env_name: str, env: m.PlatformEnvironment) -> list[Problem]:
    """The OAM sink an environment links to is its own logging account's, in its region."""
    if not env.observability_sink:
        return []
    path = ("environments", env_name, "observability_sink")
    return _misplaced(
        doc, path, env.observability_sink, "sink", ("logging", env.logging), env.region or org.home_region
    )


def _misplaced(
    doc: SourceDoc, path: tuple, arn: str, what: str, owner: tuple[str, str], region: str, why: str = ""
) -> list[Problem]:
    """An ARN config adopts must be in the account (``owner``: its role and id) and region that use it."""
    _, _, _, arn_region, arn_account, _ = arn.split(":", 5)
    if (arn_account, arn_region) == (owner[1], region):
        return []
    message = (
        f"the {what} must be in this environment's {owner[0]} account {owner[1]} and region {region}{why} "
        f"(got {arn_account}, {arn_region})"
    )
    return [doc.problem(path, message)]


def _tenant_name_problems(
    doc: SourceDoc, tenant: m.Tenant, seen_names: dict[str, str], seen_use_cases: dict[str, str]
) -> list[Problem]:
    """The file is named after the tenant; tenant names and use-case ids are unique; platform names are reserved."""
    problems = []
    found = Path(doc.file).name
    if Path(doc.file).stem != tenant.tenant:
        message = f"tenant {tenant.tenant!r} must live in a file named {tenant.tenant}.yaml (found {found})"
        problems.append(doc.problem(("tenant",), message))
    if tenant.tenant in seen_names:
        message = (
            f"tenant name {tenant.tenant!r} is already used by {seen_names[tenant.tenant]}; tenant names must be unique"
        )
        problems.append(doc.problem(("tenant",), message))
    seen_names.setdefault(tenant.tenant, doc.file)
    if tenant.tenant in RESERVED_TENANT_NAMES:
        reserved = ", ".join(sorted(RESERVED_TENANT_NAMES))
        message = f"{tenant.tenant!r} is reserved for the platform ({reserved}); choose another name"
        problems.append(doc.problem(("tenant",), message))
    if tenant.use_case_id in seen_use_cases:
        message = (
            f"use_case_id {tenant.use_case_id!r} is already used by {seen_use_cases[tenant.use_case_id]}; "
            "use-case ids must be unique"
        )
        problems.append(doc.problem(("use_case_id",), message))
    seen_use_cases.setdefault(tenant.use_case_id, doc.file)
    return problems


def _tenant_environment_problems(
    doc: SourceDoc, tenant: m.Tenant, org: m.Organization, owners: AccountOwners
) -> list[Problem]:
    problems = []
    for env_name, env in tenant.environments.items():
        path = ("environments", env_name)
        if env_name not in org.environments:
            known = ", ".join(org.environments)
            message = f"unknown environment {env_name!r}; environments defined in organization.yaml: {known}"
            problems.append(doc.problem(path, message))
        owners.claim(doc, (*path, "account"), env.account, f"tenant {tenant.tenant} {env_name}")
        if env.region and env.region not in org.allowed_regions:
            problems.append(doc.problem((*path, "region"), _not_allowed(env.region, org)))
    return problems


def _tenant_problems(doc: SourceDoc, tenant: m.Tenant, org: m.Organization, root: Path | None) -> list[Problem]:
    problems = _duplicates(doc, ("models",), tenant.models)
    problems += _duplicates(doc, ("auth_scopes",), tenant.auth_scopes)
    problems += _duplicates(doc, ("budget", "alert_at_percent"), tenant.budget.alert_at_percent)
    budget = tenant.budget
    if budget.session_usd is not None and budget.session_usd > budget.monthly_usd:
        message = f"session_usd ({budget.session_usd}) cannot exceed monthly_usd ({budget.monthly_usd})"
        problems.append(doc.problem(("budget", "session_usd"), message))
    problems += _duplicates(doc, ("images",), tenant.images)
    problems += _duplicates(doc, ("catalog_launchers",), tenant.catalog_launchers)
    problems += _tenant_gateway_problems(doc, tenant, org.shared_services.fm_gateway)
    problems += _dedicated_gateway_problems(doc, tenant, org)
    problems += blueprint_problems(doc, tenant, root)
    problems += tenant_data_problems(doc, tenant)
    return problems


def _tenant_limit_problems(doc: SourceDoc, org: m.Organization, tenants: list[m.Tenant]) -> list[Problem]:
    problems = []
    limit = m.MAX_TENANTS_PER_ENVIRONMENT
    for env_name in org.environments:
        count = sum(env_name in t.environments for t in tenants)
        if count > limit:
            message = (
                f"{count} tenants use this environment; its platform stacks' resource policies list at most {limit} "
                "tenant accounts (KMS and DynamoDB policy size limits); split tenants across landing zones or "
                "environments"
            )
            problems.append(doc.problem(("environments", env_name), message))
    senders = m.feedback_senders(tenants)
    if len(senders) > m.MAX_FEEDBACK_SENDERS:
        message = (
            f"{len(senders)} tenant accounts send feedback to the central data lake (namespaces' feedback_from); "
            f"its event bus policy lists at most {m.MAX_FEEDBACK_SENDERS} (EventBridge's 10 KB policy limit)"
        )
        problems.append(doc.problem(("audit", "central_environment") if org.audit.central_environment else (), message))
    return problems


def _shared_services_problems(doc: SourceDoc, org: m.Organization, root: Path | None) -> list[Problem]:
    problems: list[Problem] = []
    for env_name, env in org.environments.items():
        problems += _shared_environment_problems(doc, org, env_name, env)
    if org.shared_services.fm_gateway is not None:
        problems += _fm_gateway_problems(doc, org.shared_services.fm_gateway)
    problems += _tool_gateway_problems(doc, org.shared_services.tool_gateway, root)
    return problems


def _shared_environment_problems(
    doc: SourceDoc, org: m.Organization, env_name: str, env: m.PlatformEnvironment
) -> list[Problem]:
    """The identity pool and the gateway's certificate are the environment's own, in its region."""
    problems = []
    region = env.region or org.home_region
    if env.identity_user_pool_id and not env.identity_user_pool_id.startswith(f"{region}_"):
        problems.append(
            doc.problem(
                ("environments", env_name, "identity_user_pool_id"),
                f"the user pool must be in this environment's region {region}",
            )
        )
    if env.fm_gateway_certificate_arn:
        path = ("environments", env_name, "fm_gateway_certificate_arn")
        shared = ("shared-services", env.shared_services)
        problems += _misplaced(doc, path, env.fm_gateway_certificate_arn, "certificate", shared, region)
    return problems + _registry_credential_problems(doc, org, env_name, env, region)


def _registry_credential_problems(
    doc: SourceDoc, org: m.Organization, env_name: str, env: m.PlatformEnvironment, region: str
) -> list[Problem]:
    """ECR reads a pull-through cache's login only in its own account and region, and only for upstreams that
    need one."""
    if not env.registry_credential_arn:
        return []
    path = ("environments", env_name, "registry_credential_arn")
    shared = ("shared-services", env.shared_services)
    return _registry_login_problems(doc, path, env.registry_credential_arn, org, shared, region)


def _registry_login_problems(
    doc: SourceDoc, path: tuple, arn: str, org: m.Organization, owner: tuple[str, str], region: str
) -> list[Problem]:
    """A login is read only for upstreams that need one, and only in the account and region of the cache."""
    cache = org.shared_services.fm_gateway.pull_through_cache if org.shared_services.fm_gateway else None
    if cache is None or cache.upstream not in REGISTRIES_WITH_LOGIN:
        upstream = (
            f"{cache.upstream} needs no login" if cache else "there is no shared_services.fm_gateway.pull_through_cache"
        )
        return [doc.problem(path, f"remove it: {upstream} (a login is read for {', '.join(REGISTRIES_WITH_LOGIN)})")]
    return _misplaced(doc, path, arn, "secret", owner, region, ", where ECR runs the cache")


def _fm_gateway_problems(doc: SourceDoc, gateway: m.FmGatewaySettings) -> list[Problem]:
    base = ("shared_services", "fm_gateway")
    problems = []
    if gateway.image.tag == "latest":
        message = "pin a version tag; 'latest' would change the gateway under a running deployment"
        problems.append(doc.problem((*base, "image", "tag"), message))
    cache = gateway.pull_through_cache
    if cache is not None and not gateway.image.repository.startswith(f"{cache.prefix}/"):
        message = f"must start with the pull-through cache prefix '{cache.prefix}/' (got {gateway.image.repository!r})"
        problems.append(doc.problem((*base, "image", "repository"), message))
    problems += _sizing_problems(doc, base, gateway)
    problems += _duplicates(doc, (*base, "models"), [model.name for model in gateway.models])
    problems += _fallback_problems(doc, base, gateway)
    return problems


def _sizing_problems(doc: SourceDoc, base: tuple, gateway: m.GatewaySizing) -> list[Problem]:
    """The network, task count and database range of a gateway (shared or dedicated)."""
    problems = []
    try:
        network = ipaddress.ip_network(gateway.vpc_cidr)
        if network.version != 4 or not 16 <= network.prefixlen <= 22:
            message = f"must be an IPv4 network from /16 to /22 (got {gateway.vpc_cidr})"
            problems.append(doc.problem((*base, "vpc_cidr"), message))
    except ValueError:
        message = f"not a network address (got {gateway.vpc_cidr!r}); e.g. 10.64.0.0/20"
        problems.append(doc.problem((*base, "vpc_cidr"), message))
    problems += _duplicates(doc, (*base, "zones"), gateway.zones)
    if gateway.min_tasks > gateway.max_tasks:
        message = f"{gateway.min_tasks} is more than max_tasks ({gateway.max_tasks})"
        problems.append(doc.problem((*base, "min_tasks"), message))
    database = gateway.database
    if database.min_capacity_acu > database.max_capacity_acu:
        message = f"{database.min_capacity_acu} is more than max_capacity_acu ({database.max_capacity_acu})"
        problems.append(doc.problem((*base, "database", "min_capacity_acu"), message))
    return problems


def _fallback_problems(doc: SourceDoc, base: tuple, gateway: m.FmGatewaySettings) -> list[Problem]:
    """A model falls back to known models of a cheaper tier."""
    problems = []
    tiers = {model.name: model.tier for model in gateway.models}
    for i, model in enumerate(gateway.models):
        path = (*base, "models", i, "fallbacks")
        problems += _duplicates(doc, path, model.fallbacks)
        for j, fallback in enumerate(model.fallbacks):
            if fallback not in tiers:
                problems.append(
                    doc.problem((*path, j), f"unknown gateway model {fallback!r}; valid: {', '.join(tiers)}")
                )
            elif m.TIER_RANK[tiers[fallback]] >= m.TIER_RANK[model.tier]:
                message = (
                    f"{fallback!r} is {tiers[fallback]}, not a lower tier than {model.name!r} ({model.tier}); "
                    "fallbacks go to cheaper tiers"
                )
                problems.append(doc.problem((*path, j), message))
    return problems


def _tool_gateway_problems(doc: SourceDoc, tools: m.ToolGatewaySettings, root: Path | None) -> list[Problem]:
    """The shared tool gateway's Cedar policy files exist under the config directory and parse."""
    base = ("shared_services", "tool_gateway")
    problems = _duplicates(doc, (*base, "policies"), tools.policies)
    problems += _duplicates(doc, (*base, "mcp_servers"), [s.name for s in tools.mcp_servers])
    if root is None:
        return problems
    present = []
    for i, rel in enumerate(tools.policies):
        path = root / rel
        if ".." in Path(rel).parts or not path.is_file():
            problems.append(
                doc.problem((*base, "policies", i), f"no Cedar policy file {rel} under the config directory")
            )
        else:
            present.append(path)
    if present:
        config_dir = Path(doc.file).parent
        _, cedar_problems = load_policy_files(present, display=lambda path: str(config_dir / path.relative_to(root)))
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


def _dedicated_gateway_problems(doc: SourceDoc, tenant: m.Tenant, org: m.Organization) -> list[Problem]:
    """A dedicated gateway is the platform's gateway blueprint, serving this tenant's gateway models, with a
    certificate (and a registry login, when given) of its own account and region in each environment."""
    dedicated = tenant.fm_gateway.dedicated
    if dedicated is None:
        return []
    base = ("fm_gateway", "dedicated")
    shared = org.shared_services.fm_gateway
    if shared is None:
        message = (
            "a dedicated gateway is built from shared_services.fm_gateway in organization.yaml (image, models, "
            "guardrail); define that first"
        )
        return [doc.problem(base, message)]
    problems = _sizing_problems(doc, base, dedicated)
    if shared.pull_through_cache is None:
        message = (
            "a dedicated gateway pulls its image through ECR's pull-through cache in the tenant's account; set "
            "shared_services.fm_gateway.pull_through_cache in organization.yaml (otherwise the image is only in "
            "the shared-services accounts' ECR)"
        )
        problems.append(doc.problem(base, message))
    if not m.tenant_gateway_models(tenant, shared):
        offered = ", ".join(sorted({model.model for model in shared.models}))
        message = (
            f"the tenant may call no gateway model, so its gateway would serve nothing; gateway models serve {offered}"
        )
        problems.append(doc.problem(base, message))
    problems += _per_environment_arns(doc, (*base, "certificates"), tenant, org, dedicated.certificates)
    for env_name in dedicated.registry_credentials:
        if env_name in tenant.environments and env_name not in dedicated.certificates:
            message = f"no dedicated gateway in {env_name} (certificates names {', '.join(dedicated.certificates)})"
            problems.append(doc.problem((*base, "registry_credentials", env_name), message))
    problems += _per_environment_arns(
        doc, (*base, "registry_credentials"), tenant, org, dedicated.registry_credentials, login=True
    )
    return problems


def _per_environment_arns(
    doc: SourceDoc, path: tuple, tenant: m.Tenant, org: m.Organization, arns: dict[str, str], login: bool = False
) -> list[Problem]:
    """ARNs by environment of the tenant, each in that environment's account and region (a registry ``login`` also
    needs an upstream that reads one)."""
    problems = []
    for env_name, arn in arns.items():
        if env_name not in tenant.environments:
            message = f"{env_name!r} is not an environment of this tenant; valid: {', '.join(tenant.environments)}"
            problems.append(doc.problem((*path, env_name), message))
            continue
        env = tenant.environments[env_name]
        owner, region = ("tenant", env.account), env.region or org.home_region
        if login:
            problems += _registry_login_problems(doc, (*path, env_name), arn, org, owner, region)
        else:
            problems += _misplaced(doc, (*path, env_name), arn, "certificate", owner, region)
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
