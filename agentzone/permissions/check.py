"""`agentzone permissions`: dead grants, designed and forbidden paths, and cross-account wiring of an assembly."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config.model import LandingZone
from .assembly import Assembly
from .decisions import DecisionStore
from .grants import DeadGrantCheck, GrantResult, load_exceptions
from .model import LandingZoneModel, Principal
from .paths import Path as AccessPath
from .paths import PathResult, build_paths, run_paths
from .simulator import Simulator
from .wiring import WiringCheck, WiringProblem


@dataclass
class PermissionsReport:
    grants: list[GrantResult]  # the grants not plainly allowed: dead, accepted in the exceptions, unverified
    grants_simulated: int
    paths: list[PathResult]
    wiring: list[WiringProblem]
    references: int

    @property
    def dead_grants(self) -> list[GrantResult]:
        return [g for g in self.grants if g.failed]

    @property
    def failed_paths(self) -> list[PathResult]:
        return [p for p in self.paths if not p.ok]

    @property
    def ok(self) -> bool:
        return not (self.dead_grants or self.failed_paths or self.wiring)

    def counts(self) -> dict[str, dict[str, int]]:
        """Designed and forbidden paths per tenant/environment."""
        out: dict[str, Counter[str]] = {}
        for result in self.paths:
            key = f"{result.path.tenant}/{result.path.environment}"
            out.setdefault(key, Counter())[result.path.kind] += 1
        return {k: dict(v) for k, v in sorted(out.items())}

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dead_grants": [_grant_json(g) for g in self.dead_grants],
            "accepted_grants": [_grant_json(g) for g in self.grants if g.accepted_reason],
            "unverified_grants": [_grant_json(g) for g in self.grants if g.decision == "Unverified"],
            "grants_simulated": self.grants_simulated,
            "paths": [_path_json(p) for p in self.paths],
            "unverified_paths": [_path_json(p) for p in self.paths if p.decision == "Unverified"],
            "paths_per_tenant_environment": self.counts(),
            "wiring": [
                {
                    "stack": w.reference.stack,
                    "resource": w.reference.logical_id,
                    "property": w.reference.path,
                    "name": w.reference.target,
                    "problem": w.message,
                }
                for w in self.wiring
            ],
            "cross_account_names_checked": self.references,
        }


def _grant_json(g: GrantResult) -> dict[str, Any]:
    return {
        "role": g.grant.principal.label,
        "role_arn": g.grant.principal.arn,
        "policy": g.grant.policy,
        "statement": g.grant.sid,
        "action": g.grant.action,
        "resource": g.resource,
        "decision": g.decision,
        "deciding": g.deciding,
        "accepted_reason": g.accepted_reason,
    }


def _path_json(p: PathResult) -> dict[str, Any]:
    path = p.path
    return {
        "kind": path.kind,
        "tenant": path.tenant,
        "environment": path.environment,
        "title": path.title,
        "principal": path.actor.arn if path.actor else None,
        "action": path.action,
        "resource": path.resource,
        "decision": p.decision,
        "deciding": p.deciding,
        "ok": p.ok,
    }


def landing_zone_accounts(lz: LandingZone) -> set[str]:
    org = lz.organization
    accounts = {org.management_account}
    for env in org.environments.values():
        accounts |= {env.shared_services, env.logging, env.security, env.data_lake}
    for tenant in lz.tenants:
        accounts |= {env.account for env in tenant.environments.values()}
    return accounts


def adopted_values(lz: LandingZone) -> set[str]:
    """ARNs an operator writes into organization.yaml (values adopted from a deployed stack, not built by one)."""
    values = set()
    for env in lz.organization.environments.values():
        values |= {v for v in (env.observability_sink, env.fm_gateway_certificate_arn) if v}
    return values


def check_permissions(
    assembly: Path | Assembly,
    lz: LandingZone,
    *,
    jobs: int | None = None,
    exceptions_file: Path | None = None,
    only_roles: Callable[[Principal], bool] | None = None,
    only_paths: Callable[[AccessPath], bool] | None = None,
    decisions: Path | None = None,
) -> PermissionsReport:
    """Run all three checks. ``only_roles``/``only_paths`` (predicates) narrow a run, e.g. in tests; ``decisions``
    is a SQLite file of earlier simulator decisions to reuse (see permissions.decisions)."""
    model = LandingZoneModel(assembly if isinstance(assembly, Assembly) else Assembly.load(assembly))
    store = DecisionStore(decisions) if decisions else None
    simulator = Simulator(jobs, store)
    org_id = lz.organization.organization_id
    exceptions = load_exceptions(exceptions_file) if exceptions_file else load_exceptions()
    grants = DeadGrantCheck(model, simulator, org_id, exceptions, only_roles).run()
    paths = [p for p in build_paths(lz, model) if only_paths is None or only_paths(p)]
    wiring = WiringCheck(model, landing_zone_accounts(lz), adopted_values(lz), store)
    paths_run = run_paths(paths, model, simulator, org_id)
    return PermissionsReport(grants.notable, grants.simulated, paths_run, wiring.run(), len(wiring.references))


def render(report: PermissionsReport, *, limit: int = 60) -> str:
    lines = []
    designed = [p for p in report.paths if p.path.kind == "designed"]
    forbidden = [p for p in report.paths if p.path.kind == "forbidden"]
    accepted = sum(1 for g in report.grants if g.accepted_reason)
    grants_unverified = sum(g.decision == "Unverified" for g in report.grants)
    paths_unverified = sum(p.decision == "Unverified" for p in report.paths)
    lines.append(
        f"dead grants:     {len(report.dead_grants)} of {report.grants_simulated} grants simulated "
        f"({accepted} accepted in permissions-exceptions.yaml)"
    )
    lines.append(f"designed paths:  {sum(p.decision == 'Allowed' for p in designed)}/{len(designed)} allowed")
    lines.append(
        f"forbidden paths: {sum(p.ok and p.decision != 'Unverified' for p in forbidden)}/{len(forbidden)} denied"
    )
    lines.append(f"wiring:          {len(report.wiring)} unresolved of {report.references} cross-account names")
    if grants_unverified or paths_unverified:
        lines.append(
            f"unverified:      {grants_unverified} grants, {paths_unverified} paths (conditions on keys the simulator "
            "does not evaluate, e.g. kms:EncryptionContext:...; --json lists them)"
        )
    lines.append("")
    header = ("tenant/environment", "designed", "forbidden")
    rows = [header] + [(k, str(v.get("designed", 0)), str(v.get("forbidden", 0))) for k, v in report.counts().items()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    failures = [
        f"DEAD GRANT {g.grant.principal.label} ({g.grant.principal.name}): {g.grant.action} on {g.resource} "
        f"[{g.grant.policy} {g.grant.sid}] -> {g.decision}: {g.deciding}"
        for g in report.dead_grants
    ]
    failures += [
        f"{p.path.kind.upper()} PATH {p.path.tenant}/{p.path.environment} {p.path.title}: "
        f"{p.path.actor.label if p.path.actor else '?'} {p.path.action} on {p.path.resource} -> "
        f"{p.decision}: {p.deciding}"
        for p in report.failed_paths
    ]
    failures += [f"WIRING {w.render()}" for w in report.wiring]
    if failures:
        lines += ["", f"{len(failures)} failure(s):"] + [f"  {f}" for f in failures[:limit]]
        if len(failures) > limit:
            lines.append(f"  ... and {len(failures) - limit} more (--json lists all)")
    return "\n".join(lines)


def dump(report: PermissionsReport) -> str:
    return json.dumps(report.as_json(), indent=2, sort_keys=True)
