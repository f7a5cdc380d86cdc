"""Dead grants: Allow statements the landing zone's own SCPs or permission boundaries deny.

Each Allow statement of each role is simulated as that role, once per action it names (wildcards
expanded from the simulator's action data) and resource it names (wildcards kept: the simulator
answers whether any request the pattern covers is allowed). The request carries what the statement's
own conditions ask for, so a grant conditioned on a guardrail is simulated with that guardrail. The
resource is taken to be in the role's account: cross-account resource policies are the designed
paths' business, this check asks only whether the role's own account lets it use the grant.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..project import PROJECT_ROOT
from .grant_cache import GrantResultCache
from .model import Document, LandingZoneModel, Policy, Principal, as_list, statements
from .simulator import Decision, Request, Simulator, caller_context

EXCEPTIONS_FILE = PROJECT_ROOT / "permissions-exceptions.yaml"

# One reviewed dead grant: globs under role, action and resource, and the reason it is accepted.
GrantException = dict[str, str]

# Condition operators whose values describe a request that satisfies them.
SATISFIED_BY_VALUE = (
    "StringEquals",
    "StringLike",
    "ArnEquals",
    "ArnLike",
    "Bool",
    "NumericEquals",
    "StringEqualsIgnoreCase",
    "ForAnyValue:StringEquals",
    "ForAnyValue:StringLike",
    "ForAllValues:StringEquals",
    "ForAllValues:StringLike",
)


@dataclass(frozen=True)
class Grant:
    """One action of one Allow statement of one role, over the statement's resources."""

    principal: Principal
    policy: str
    sid: str
    action: str
    resources: tuple[str, ...]
    named: bool  # the statement names the action itself (not through a wildcard)


@dataclass(frozen=True)
class GrantResult:
    grant: Grant
    decision: str  # Allowed, ExplicitlyDenied, ImplicitlyDenied, Ineffective
    deciding: str
    resource: str = ""
    accepted_reason: str | None = None

    @property
    def failed(self) -> bool:
        return self.decision not in ("Allowed", "Unverified") and self.accepted_reason is None


@dataclass
class GrantCheckResult:
    """How many grants were simulated, and those not plainly allowed (dead, accepted, unverified)."""

    notable: list[GrantResult]
    simulated: int

    def add(self, simulated: int, notable: list[GrantResult]) -> None:
        self.simulated += simulated
        self.notable += notable


def _notable(results: list[GrantResult]) -> list[GrantResult]:
    return [r for r in results if r.decision != "Allowed" or r.accepted_reason]


def load_exceptions(path: Path = EXCEPTIONS_FILE) -> list[GrantException]:
    """Reviewed dead grants: ``[{role, action, resource, reason}]`` (globs over role label, action and resource)."""
    data = yaml.safe_load(path.read_text()) if path.is_file() else None
    return list(data or [])


def _satisfying_value(value: Any) -> list[str]:
    values = as_list(value)
    return [str(v).replace("*", "probe").replace("?", "x") for v in values]


def condition_context(statement: Document) -> dict[str, object]:
    """What a statement's own conditions ask of a request it means to allow."""
    context: dict[str, object] = {}
    for operator, keys in (statement.get("Condition") or {}).items():
        base = operator.removesuffix("IfExists")
        for key, value in keys.items():
            if base in SATISFIED_BY_VALUE:
                values = _satisfying_value(value)
                context[key] = values if base.startswith("For") else values[0]
            elif base == "Null" and str(as_list(value)[0]).lower() == "false":
                context[key] = "probe"
    return context


def condition_keys(statement: Document) -> set[str]:
    return {key for keys in (statement.get("Condition") or {}).values() for key in keys}


class DeadGrantCheck:
    def __init__(
        self,
        model: LandingZoneModel,
        simulator: Simulator,
        org_id: str,
        exceptions: list[GrantException],
        only_roles: Callable[[Principal], bool] | None = None,
    ) -> None:
        self.model, self.simulator, self.org_id, self.exceptions = model, simulator, org_id, exceptions
        self.only_roles = only_roles  # predicate over principals, to check a subset

    def _accepted(self, grant: Grant, resource: str) -> str | None:
        for entry in self.exceptions:
            if (
                (
                    fnmatch.fnmatchcase(grant.principal.label, entry["role"])
                    or fnmatch.fnmatchcase(grant.principal.name, entry["role"])
                )
                and fnmatch.fnmatchcase(grant.action, entry.get("action", "*"))
                and fnmatch.fnmatchcase(resource, entry.get("resource", "*"))
            ):
                return entry["reason"]
        return None

    @staticmethod
    def _allow_statements(principal: Principal) -> Iterator[tuple[str, str, Document]]:
        """(policy name, statement id, statement) of every Allow statement with an Action."""
        for policy in principal.policies:
            for index, statement in enumerate(statements(policy.document)):
                if statement.get("Effect") == "Allow" and "Action" in statement:
                    yield policy.name, statement.get("Sid") or f"#{index}", statement

    def grants(self, principals: list[Principal]) -> list[tuple[Grant, Document]]:
        patterns = {a for p in principals for _, _, s in self._allow_statements(p) for a in as_list(s["Action"])}
        expanded = self.simulator.expand(patterns)
        out = []
        for principal in principals:
            for policy, sid, statement in self._allow_statements(principal):
                resources = tuple(as_list(statement.get("Resource", "*")))
                for pattern in as_list(statement["Action"]):
                    named = "*" not in pattern and "?" not in pattern
                    for action in expanded.get(pattern) or [pattern]:
                        out.append((Grant(principal, policy, sid, action, resources, named), statement))
        return out

    def _request(self, grant: Grant, resource: str, statement: Document) -> Request:
        """A resource the assembly creates is simulated in its owner's account with its own policy; key policies
        decide KMS access even in the same account. Anything else is taken to be in the role's account."""
        principal = grant.principal
        policy, owner = self.model.guarding(resource)
        context = caller_context(principal.arn, principal.account, self.org_id, resource, principal.region)
        statement_only = Policy(f"{grant.policy}[{grant.sid}]", {"Version": "2012-10-17", "Statement": [statement]})
        return self.simulator.request(
            principal=principal.arn,
            action=grant.action,
            resource=resource,
            resource_account=owner or principal.account,
            context={**context, **condition_context(statement)},
            identity=[statement_only],
            scp_chain=self.model.scp_chain(principal.account),
            boundary=principal.boundary,
            resource_policy=policy,
        )

    def _targets(self, principal: Principal, resources: tuple[str, ...]) -> list[str]:
        """The statement's resources, plus the concrete resources a cross-account pattern covers (each with its own
        resource or key policy): a pattern is usable when any resource it covers is."""
        out = list(resources)
        for pattern in resources:
            account = pattern.split(":")[4] if pattern.count(":") >= 5 else ""
            if "*" in pattern and account.isdigit() and account != principal.account:
                out += [arn for arn in self.model.arns_in(account) if fnmatch.fnmatchcase(arn, pattern)][:5]
        return out

    def _reach(self, principal: Principal) -> list[str]:
        """Every resource the role's grants are simulated against."""
        return [
            target
            for _, _, statement in self._allow_statements(principal)
            for target in self._targets(principal, tuple(as_list(statement.get("Resource", "*"))))
        ]

    def run(self) -> GrantCheckResult:
        """Every grant of every (selected) role; with a decisions store, a role whose inputs are unchanged since an
        earlier run gets its stored results (see permissions.grant_cache)."""
        principals = [p for p in self.model.principals.values() if self.only_roles is None or self.only_roles(p)]
        store = self.simulator.store
        cache = GrantResultCache(store, self.model, json.dumps([self.org_id, self.exceptions])) if store else None
        keys = {id(p): cache.key(p, self._reach(p)) for p in principals} if cache else {}
        stored = cache.load(list(dict.fromkeys(keys.values()))) if cache else {}
        fresh: dict[int, list[GrantResult]] = {id(p): [] for p in principals if keys.get(id(p)) not in stored}
        for result in self._check([p for p in principals if id(p) in fresh]):
            fresh[id(result.grant.principal)].append(result)
        if cache:
            cache.save(
                {keys[pid]: (len(results), [_row(r) for r in _notable(results)]) for pid, results in fresh.items()}
            )
        out = GrantCheckResult([], 0)
        for p in principals:
            if id(p) in fresh:
                out.add(len(fresh[id(p)]), _notable(fresh[id(p)]))
            else:
                count, rows = stored[keys[id(p)]]
                out.add(count, [_from_row(p, row) for row in rows])
        return out

    def _check(self, principals: list[Principal]) -> list[GrantResult]:
        grants = [(g, st, self._targets(g.principal, g.resources)) for g, st in self.grants(principals)]
        requests = {(g, r): self._request(g, r, st) for g, st, targets in grants for r in targets}
        decisions = self.simulator.decide(list(requests.values()))
        return [self._judge(g, {r: decisions[requests[(g, r)]] for r in targets}, st) for g, st, targets in grants]

    def _judge(self, grant: Grant, by_resource: dict[str, Decision], statement: Document) -> GrantResult:
        """Allowed when any resource the action acts on is allowed; a resource the action cannot act on is
        ignored (as IAM ignores it), unless the statement names the action and it acts on none of them."""
        applicable = {
            r: d for r, d in by_resource.items() if d.decision != "NotApplicable" and not (d.wildcard_only and r != "*")
        }
        if any(d.allowed for d in applicable.values()):
            return GrantResult(grant, "Allowed", "")
        if not applicable:
            if not grant.named:
                return GrantResult(grant, "Allowed", "not applicable to these resources (wildcard expansion)")
            only_star = any(d.wildcard_only for d in by_resource.values())
            why = (
                'the action supports only Resource "*"'
                if only_star
                else "the action acts on none of the statement's resource types"
            )
            return GrantResult(
                grant, "Ineffective", why, ", ".join(grant.resources), self._accepted(grant, grant.resources[0])
            )
        resource, decision = next(iter(applicable.items()))
        undecided = decision.undecided(condition_keys(statement))
        if undecided:
            # iam-simulate cannot evaluate the statement's condition: the grant is reported, not failed.
            return GrantResult(grant, "Unverified", f"the simulator does not evaluate {undecided}", resource)
        return GrantResult(grant, decision.decision, decision.deciding(), resource, self._accepted(grant, resource))


def _row(result: GrantResult) -> list[Any]:
    """A grant result as stored (its role is the entry's key)."""
    g = result.grant
    outcome = [result.decision, result.deciding, result.resource, result.accepted_reason]
    return [g.policy, g.sid, g.action, list(g.resources), g.named, *outcome]


def _from_row(principal: Principal, row: list[Any]) -> GrantResult:
    policy, sid, action, resources, named, decision, deciding, resource, accepted = row
    return GrantResult(
        Grant(principal, policy, sid, action, tuple(resources), named), decision, deciding, resource, accepted
    )
