"""Rules for a tenant's ``blueprints:`` that a per-field schema cannot express.

Files named in config (prompts, tool schemas, Cedar policies) are checked
here too, so a missing or broken file is reported with the YAML line that
names it, together with every other problem, before anything is synthesized.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from pathlib import Path

from .. import naming
from ..tools.cedar import load_policy_files
from ..tools.schemas import read_openapi, read_tools
from . import model as m
from .source import Problem, SourceDoc
from .source import duplicate_problems as _duplicates

AGENTCORE_NAME_MAX = 48
# Distinct models a tenant's memories may run custom extraction with: the tenant SCP names each one
# (DenyMemoryRolesOtherModels) and must stay under the 5,120-character quota with 20 models and a judge.
MAX_EXTRACTION_MODELS = 4
BP = "blueprints"


def _name_problems(doc: SourceDoc, path: tuple, tenant: m.Tenant, name: str) -> list[Problem]:
    longest = max(tenant.environments, key=len)
    full = naming.agentcore_name(tenant.tenant, name, longest)
    if len(full) > AGENTCORE_NAME_MAX:
        return [
            doc.problem(
                path,
                f"the AgentCore name {full!r} would be {len(full)} characters (at most {AGENTCORE_NAME_MAX}); shorten "
                f"{name!r}",
            )
        ]
    return []


def _file_problems(
    doc: SourceDoc,
    path: tuple,
    root: Path | None,
    rel: str,
    what: str,
    parse: Callable[[Path], list[str]] | None = None,
) -> list[Problem]:
    """The file exists under the config directory (no '..') and, with ``parse``, reads cleanly."""
    if root is None:
        return []
    target = root / rel
    if ".." in Path(rel).parts or not target.is_file():
        return [doc.problem(path, f"no {what} file {rel} under the config directory")]
    if parse is None:
        return []
    return [doc.problem(path, f"{rel}: {message}") for message in parse(target)]


def _environment_keys(doc: SourceDoc, path: tuple, tenant: m.Tenant, keys: list[str], what: str) -> list[Problem]:
    """Per-environment maps name exactly the tenant's environments."""
    envs = list(tenant.environments)
    problems = [
        doc.problem((*path, key), f"{key!r} is not one of this tenant's environments ({', '.join(envs)})")
        for key in keys
        if key not in tenant.environments
    ]
    missing = [env for env in envs if env not in keys]
    if missing:
        problems.append(
            doc.problem(path, f"no {what} for {', '.join(missing)}; every environment the tenant deploys to needs one")
        )
    return problems


def blueprint_problems(doc: SourceDoc, tenant: m.Tenant, root: Path | None) -> list[Problem]:
    problems = [problem for check in BLUEPRINT_CHECKS.values() for problem in check(doc, tenant, root)]
    return problems + _safety_problems(doc, tenant)


# What `agentzone validate` checks of each blueprint beyond its schema, by its key under ``blueprints:``
# (the fields of config.model.Blueprints, in their order; a key without such rules maps to a check that returns []).
BlueprintCheck = Callable[[SourceDoc, m.Tenant, Path | None], list[Problem]]


def _guardrail(doc: SourceDoc, tenant: m.Tenant, root: Path | None) -> list[Problem]:
    return _guardrail_problems(doc, tenant.blueprints.guardrail)


def _memories(doc: SourceDoc, tenant: m.Tenant, root: Path | None) -> list[Problem]:
    problems = []
    for name, memory in tenant.blueprints.memory.items():
        problems += _memory_problems(doc, (BP, "memory", name), tenant, name, memory)
    return problems + _extraction_model_problems(doc, tenant)


def _prompts(doc: SourceDoc, tenant: m.Tenant, root: Path | None) -> list[Problem]:
    problems = []
    for name, prompt in tenant.blueprints.prompt_store.items():
        problems += _prompt_problems(doc, (BP, "prompt_store", name), tenant, name, prompt, root)
    return problems


def _knowledge_base(doc: SourceDoc, tenant: m.Tenant, root: Path | None) -> list[Problem]:
    kb = tenant.blueprints.knowledge_base
    if kb is None:
        return []
    problems = []
    if problem := m.tenant_model_problem(kb.embedding_model, tenant.models):
        problems.append(doc.problem((BP, "knowledge_base", "embedding_model"), problem))
    if "embed" not in kb.embedding_model:
        problems.append(
            doc.problem(
                (BP, "knowledge_base", "embedding_model"),
                f"{kb.embedding_model} is not an embedding model; knowledge-base roles may only call embedding "
                "models (e.g. amazon.titan-embed-text-v2:0)",
            )
        )
    return problems


def _tool_gateway(doc: SourceDoc, tenant: m.Tenant, root: Path | None) -> list[Problem]:
    gateway = tenant.blueprints.tool_gateway
    return [] if gateway is None else _tool_gateway_problems(doc, (BP, "tool_gateway"), gateway, root)


def _runtimes(doc: SourceDoc, tenant: m.Tenant, root: Path | None) -> list[Problem]:
    problems = []
    for name, runtime in tenant.blueprints.runtime.items():
        problems += _runtime_problems(doc, (BP, "runtime", name), tenant, name, runtime)
    return problems


def _hitl(doc: SourceDoc, tenant: m.Tenant, root: Path | None) -> list[Problem]:
    hitl = tenant.blueprints.hitl
    if hitl is None:
        return []
    base = (BP, "hitl")
    problems = _duplicates(doc, (*base, "approvers"), hitl.approvers)
    problems += _duplicates(doc, (*base, "categories"), hitl.categories)
    return problems + _duplicates(doc, (*base, "escalation"), hitl.escalation)


def _eval_pipeline(doc: SourceDoc, tenant: m.Tenant, root: Path | None) -> list[Problem]:
    pipeline = tenant.blueprints.eval_pipeline
    return [] if pipeline is None else _eval_problems(doc, (BP, "eval_pipeline"), tenant, pipeline)


def _session_store(doc: SourceDoc, tenant: m.Tenant, root: Path | None) -> list[Problem]:
    store = tenant.blueprints.session_store
    if store is None:
        return []
    base = (BP, "session_store")
    problems = _duplicates(doc, (*base, "agents"), store.agents)
    if store.ttl_attribute in (m.SESSION_STORE_PARTITION_KEY, m.SESSION_STORE_SORT_KEY):
        problems.append(
            doc.problem(
                (*base, "ttl_attribute"),
                f"{store.ttl_attribute!r} is a key attribute of the table (a string); the TTL attribute holds a number",
            )
        )
    defined = ", ".join(tenant.blueprints.runtime) or "none"
    for i, agent in enumerate(store.agents):
        if agent not in tenant.blueprints.runtime:
            problems.append(
                doc.problem((*base, "agents", i), f"unknown agent {agent!r}; blueprints.runtime defines: {defined}")
            )
    return problems


BLUEPRINT_CHECKS: dict[str, BlueprintCheck] = {
    "guardrail": _guardrail,
    "memory": _memories,
    "prompt_store": _prompts,
    "knowledge_base": _knowledge_base,
    "tool_gateway": _tool_gateway,
    "runtime": _runtimes,
    "hitl": _hitl,
    "eval_pipeline": _eval_pipeline,
    "session_store": _session_store,
}
if list(BLUEPRINT_CHECKS) != list(m.Blueprints.model_fields):
    raise RuntimeError(
        f"BLUEPRINT_CHECKS must name every blueprints: key in field order ({', '.join(m.Blueprints.model_fields)}); "
        f"it names {', '.join(BLUEPRINT_CHECKS)}"
    )


def _eval_problems(doc: SourceDoc, base: tuple, tenant: m.Tenant, pipeline: m.EvalPipelineBlueprint) -> list[Problem]:
    problems = _duplicates(doc, (*base, "canary_environments"), pipeline.canary_environments)
    if pipeline.command is None and pipeline.evaluator_model is None:
        problems.append(
            doc.problem(
                base,
                "set command (your own evaluation, run in CodeBuild) or evaluator_model (a Bedrock evaluation job's "
                "judge)",
            )
        )
    if pipeline.evaluator_model and (problem := m.tenant_model_problem(pipeline.evaluator_model, tenant.models)):
        problems.append(doc.problem((*base, "evaluator_model"), problem))
    for i, env in enumerate(pipeline.canary_environments):
        if env not in tenant.environments:
            problems.append(
                doc.problem(
                    (*base, "canary_environments", i),
                    f"{env!r} is not one of this tenant's environments ({', '.join(tenant.environments)})",
                )
            )
    return problems


def _safety_problems(doc: SourceDoc, tenant: m.Tenant) -> list[Problem]:
    problems = []
    daily = tenant.safety.daily_cost_usd
    if daily is not None and daily > tenant.budget.monthly_usd:
        problems.append(
            doc.problem(
                ("safety", "daily_cost_usd"),
                f"{daily} is more than the whole monthly budget ({tenant.budget.monthly_usd})",
            )
        )
    for name, runtime in tenant.blueprints.runtime.items():
        if runtime.safety is not None:
            problems += _agent_limit_problems(doc, (BP, "runtime", name, "safety"), tenant, runtime.safety)
    return problems + _checkpoint_problems(doc, tenant)


def _tenant_limits(tenant: m.Tenant) -> dict[str, tuple[tuple, float | None]]:
    """Each agent limit's tenant-wide counterpart: (its path in the tenant file, its value)."""
    safety = tenant.safety
    out: dict[str, tuple[tuple, float | None]] = {
        name: (("safety", name), getattr(safety, name))
        for name in m.AgentLimits.model_fields
        if name in m.SafetyControls.model_fields
    }
    out["max_session_cost_usd"] = (("budget", "session_usd"), tenant.budget.session_usd)
    return out


def _agent_limit_problems(doc: SourceDoc, base: tuple, tenant: m.Tenant, limits: m.AgentLimits) -> list[Problem]:
    """An agent's own stops may only be tighter than its tenant's: looser ones would never apply."""
    problems = []
    for name, (tenant_path, tenant_value) in _tenant_limits(tenant).items():
        value = getattr(limits, name)
        if value is not None and tenant_value is not None and value > tenant_value:
            where = ".".join(tenant_path)
            problems.append(
                doc.problem(
                    (*base, name),
                    f"{value:g} is more than the tenant's {where} ({tenant_value:g}); an "
                    "agent's limits can only be tighter",
                )
            )
    return problems


def _checkpoint_problems(doc: SourceDoc, tenant: m.Tenant) -> list[Problem]:
    """A human checkpoint goes to the tenant's HITL workflow, which decides only the categories it lists."""
    hitl = tenant.blueprints.hitl
    if hitl is None or naming.CHECKPOINT_CATEGORY in hitl.categories:
        return []
    paths: list[tuple] = [("safety", "human_checkpoint_after")] if tenant.safety.human_checkpoint_after else []
    paths += [
        (BP, "runtime", name, "safety", "human_checkpoint_after")
        for name, runtime in tenant.blueprints.runtime.items()
        if runtime.safety is not None and runtime.safety.human_checkpoint_after
    ]
    return [
        doc.problem(
            path,
            f"the HITL workflow decides only its categories: add {naming.CHECKPOINT_CATEGORY} to "
            "blueprints.hitl.categories (or agents stop at the checkpoint with no one asked)",
        )
        for path in paths[:1]
    ]


def _guardrail_problems(doc: SourceDoc, guardrail: m.GuardrailBlueprint | None) -> list[Problem]:
    if guardrail is None:
        return []
    base = (BP, "guardrail")
    problems = _duplicates(doc, (*base, "pii", "anonymize"), guardrail.pii.anonymize)
    problems += _duplicates(doc, (*base, "pii", "block"), guardrail.pii.block)
    for i, kind in enumerate(guardrail.pii.block):
        if kind in guardrail.pii.anonymize:
            problems.append(
                doc.problem(
                    (*base, "pii", "block", i),
                    f"{kind} is also in pii.anonymize; a PII type is either masked or blocked",
                )
            )
    problems += _duplicates(doc, (*base, "denied_topics"), [topic.name for topic in guardrail.denied_topics])
    problems += _duplicates(doc, (*base, "words"), [word.lower() for word in guardrail.words])
    return problems


def _memory_problems(
    doc: SourceDoc, base: tuple, tenant: m.Tenant, name: str, memory: m.MemoryResource
) -> list[Problem]:
    name_problems = _name_problems(doc, base, tenant, name)
    problems = [*name_problems]
    problems += _duplicates(doc, (*base, "strategies"), memory.strategies)
    problems += _duplicates(doc, (*base, "custom_strategies"), [s.name for s in memory.custom_strategies])
    if not memory.strategies and not memory.custom_strategies:
        problems.append(
            doc.problem((*base, "strategies"), "choose at least one built-in strategy or add a custom_strategies entry")
        )
    for i, strategy in enumerate(memory.custom_strategies):
        path = (*base, "custom_strategies", i)
        if bool(strategy.instructions) != bool(strategy.model):
            problems.append(doc.problem(path, "instructions and model go together: the extraction override needs both"))
        if strategy.model and (problem := m.tenant_model_problem(strategy.model, tenant.models)):
            problems.append(doc.problem((*path, "model"), problem))
    if not name_problems and any(s.model for s in memory.custom_strategies):
        # Custom extraction runs as a role with a fixed name the tenant SCP exempts (naming.memory_service_role).
        longest = max(tenant.environments, key=len)
        role = naming.memory_service_role(naming.agentcore_name(tenant.tenant, name, longest))
        if len(role) > naming.IAM_ROLE_NAME_MAX:
            problems.append(
                doc.problem(
                    base,
                    f"the memory's extraction role name {role!r} would be {len(role)} characters "
                    f"(at most {naming.IAM_ROLE_NAME_MAX}); shorten {name!r}",
                )
            )
    return problems


def _extraction_model_problems(doc: SourceDoc, tenant: m.Tenant) -> list[Problem]:
    """At most MAX_EXTRACTION_MODELS distinct custom-extraction models across the tenant's memories."""
    seen: list[str] = []
    problems = []
    for name, memory in tenant.blueprints.memory.items():
        for i, strategy in enumerate(memory.custom_strategies):
            if not strategy.model or strategy.model in seen:
                continue
            seen.append(strategy.model)
            if len(seen) > MAX_EXTRACTION_MODELS:
                problems.append(
                    doc.problem(
                        (BP, "memory", name, "custom_strategies", i, "model"),
                        f"{strategy.model} would be this tenant's {len(seen)}th custom-extraction model (at most "
                        f"{MAX_EXTRACTION_MODELS}, "
                        "so the tenant SCP stays under its size quota); reuse one of "
                        f"{', '.join(seen[:MAX_EXTRACTION_MODELS])}",
                    )
                )
    return problems


def _prompt_text_problems(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        return ["the prompt is empty"]
    if len(text) > 200_000:
        return [f"the prompt is {len(text)} characters; Bedrock prompt management holds at most 200,000"]
    return []


def _prompt_problems(
    doc: SourceDoc, base: tuple, tenant: m.Tenant, name: str, prompt: m.PromptBlueprint, root: Path | None
) -> list[Problem]:
    problems = _name_problems(doc, base, tenant, name)
    if problem := m.tenant_model_problem(prompt.model, tenant.models):
        problems.append(doc.problem((*base, "model"), problem))
    for label, rel in prompt.versions.items():
        problems += _file_problems(doc, (*base, "versions", label), root, rel, "prompt", _prompt_text_problems)
    problems += _environment_keys(doc, (*base, "environments"), tenant, list(prompt.environments), "prompt version")
    for env, label in prompt.environments.items():
        if label not in prompt.versions:
            problems.append(
                doc.problem(
                    (*base, "environments", env), f"unknown version {label!r}; versions: {', '.join(prompt.versions)}"
                )
            )
    return problems


def _tool_gateway_problems(
    doc: SourceDoc, base: tuple, gateway: m.ToolGatewayBlueprint, root: Path | None
) -> list[Problem]:
    problems = _duplicates(doc, (*base, "policies"), gateway.policies)
    if gateway.enforce and not gateway.policies:
        problems.append(
            doc.problem(
                (*base, "policies"),
                "with enforce: true and no policies, Cedar denies every tool call; add a policy file or set enforce: "
                "false",
            )
        )
    present = []
    for i, rel in enumerate(gateway.policies):
        found = _file_problems(doc, (*base, "policies", i), root, rel, "Cedar policy")
        problems += found
        if root is not None and not found:
            present.append(root / rel)
    if present:
        base_dir = Path(doc.file).parent.parent
        _, cedar_problems = load_policy_files(present, display=lambda path: str(base_dir / path.relative_to(root)))
        problems += cedar_problems
    names = [("lambda_targets", i, t.name) for i, t in enumerate(gateway.lambda_targets)]
    names += [("openapi_targets", i, t.name) for i, t in enumerate(gateway.openapi_targets)]
    seen: set[str] = set()
    for kind, i, name in names:
        if name in seen:
            message = f"target name {name!r} is used twice; target names are unique per gateway"
            problems.append(doc.problem((*base, kind, i, "name"), message))
        seen.add(name)
    for i, lambda_target in enumerate(gateway.lambda_targets):
        path = (*base, "lambda_targets", i, "tools")
        parse = functools.partial(_tool_file_problems, read_tools, lambda_target.name)
        problems += _file_problems(doc, path, root, lambda_target.tools, "tool schema", parse)
    for i, openapi_target in enumerate(gateway.openapi_targets):
        path = (*base, "openapi_targets", i, "schema_file")
        parse = functools.partial(_tool_file_problems, read_openapi, openapi_target.name)
        problems += _file_problems(doc, path, root, openapi_target.schema_file, "OpenAPI", parse)
    return problems


def _tool_file_problems(read: Callable[[Path, str], tuple[object, list[str]]], target: str, path: Path) -> list[str]:
    """What is wrong with a target's tool file (``read`` is read_tools or read_openapi)."""
    return read(path, target)[1]


def _runtime_problems(
    doc: SourceDoc, base: tuple, tenant: m.Tenant, name: str, runtime: m.AgentRuntimeBlueprint
) -> list[Problem]:
    problems = _name_problems(doc, base, tenant, name)
    if runtime.image not in tenant.images:
        message = (
            f"{runtime.image!r} is not one of this tenant's images ({', '.join(tenant.images)}); add it under images"
        )
        problems.append(doc.problem((*base, "image"), message))
    problems += _environment_keys(doc, (*base, "releases"), tenant, list(runtime.releases), "release")
    problems += _release_problems(doc, base, runtime)
    if runtime.idle_timeout_minutes > runtime.max_lifetime_hours * 60:
        message = (
            f"{runtime.idle_timeout_minutes} minutes is longer than max_lifetime_hours ({runtime.max_lifetime_hours})"
        )
        problems.append(doc.problem((*base, "idle_timeout_minutes"), message))
    for memory in runtime.memory:
        if memory not in tenant.blueprints.memory:
            defined = ", ".join(tenant.blueprints.memory) or "none"
            message = f"unknown memory {memory!r}; blueprints.memory defines: {defined}"
            problems.append(doc.problem((*base, "memory", memory), message))
    for var in runtime.environment:
        if var.startswith("AGENTZONE_"):
            message = "AGENTZONE_* variables are set by the blueprint (memory ids, gateway URLs); choose another name"
            problems.append(doc.problem((*base, "environment", var), message))
    if runtime.vpc is not None:
        problems += _runtime_vpc_problems(doc, (*base, "vpc"), runtime.vpc)
    return problems


def _release_problems(doc: SourceDoc, base: tuple, runtime: m.AgentRuntimeBlueprint) -> list[Problem]:
    """Releases pin an image tag and name their own endpoints."""
    problems = []
    for env, release in runtime.releases.items():
        if release.image_tag == "latest":
            message = "pin a version tag; 'latest' cannot be promoted or rolled back"
            problems.append(doc.problem((*base, "releases", env, "image_tag"), message))
        if "DEFAULT" in release.endpoints:
            message = (
                "DEFAULT is AgentCore's own endpoint (always the newest version); name yours, e.g. DEV, PREPROD, PROD"
            )
            problems.append(doc.problem((*base, "releases", env, "endpoints", "DEFAULT"), message))
    return problems


def _runtime_vpc_problems(doc: SourceDoc, base: tuple, vpc: m.RuntimeVpc) -> list[Problem]:
    problems = _duplicates(doc, (*base, "zones"), vpc.zones)
    try:
        network = ipaddress.ip_network(vpc.cidr)
        if network.version != 4 or not 16 <= network.prefixlen <= 24:
            problems.append(doc.problem((*base, "cidr"), f"must be an IPv4 network from /16 to /24 (got {vpc.cidr})"))
    except ValueError:
        problems.append(doc.problem((*base, "cidr"), f"not a network address (got {vpc.cidr!r}); e.g. 10.80.0.0/22"))
    return problems
