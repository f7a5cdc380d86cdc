"""Dead-grant results kept between runs: one entry per role, keyed by everything its results read.

A role's results depend on its own policies and boundary, its account's SCP chain, the resource (or key) policy
and owning account of every resource its statements reach, the reviewed exceptions, the organization id, the
simulator and this package's code. The key hashes all of that, so a warm ``agentzone synth`` builds, looks up and
judges requests only for the roles whose inputs changed: at 100 tenants a role-level key replaces about 700,000
request-level ones. Entries live in the decisions store (see permissions.decisions), which checks each value's
digest before trusting it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from .decisions import DecisionStore, simulator_digest
from .model import LandingZoneModel, Policy, Principal

FORMAT = "grant-results-2"


@cache
def code_digest() -> str:
    """This package's code: a change to how grants are listed, simulated or judged invalidates every entry."""
    h = hashlib.sha256(f"{FORMAT}\n{simulator_digest()}\n".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(f"{path.name} {hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()


class PolicyDigests:
    """Each policy's digest, computed once per run (a policy is shared by many roles: SCPs, boundaries, keys)."""

    def __init__(self) -> None:
        self._by_name: dict[str, str] = {}

    def __call__(self, policy: Policy | None) -> str:
        if policy is None:
            return "-"
        found = self._by_name.get(policy.name)
        if found is None:
            text = json.dumps(policy.document, sort_keys=True, separators=(",", ":"))
            found = self._by_name[policy.name] = hashlib.sha256(text.encode()).hexdigest()
        return f"{policy.name}={found}"


class GrantResultCache:
    """Serialized grant results of one role, by :meth:`key`. ``salt`` covers what applies to every role."""

    def __init__(self, store: DecisionStore, model: LandingZoneModel, salt: str) -> None:
        self.store, self.model = store, model
        self.salt = hashlib.sha256(f"{code_digest()}\n{salt}".encode()).hexdigest()
        self.digest = PolicyDigests()

    def key(self, principal: Principal, targets: Iterable[str]) -> str:
        parts = [self.salt, principal.arn, principal.label, self.digest(principal.boundary)]
        parts += [self.digest(policy) for policy in principal.policies]
        for node, policies in self.model.scp_chain(principal.account):
            parts.append(f"scp {node} " + " ".join(self.digest(p) for p in policies))
        for resource in sorted(set(targets)):
            policy, owner = self.model.guarding(resource)
            parts.append(f"target {resource} {owner} {self.digest(policy)}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def load(self, keys: list[str]) -> dict[str, tuple[int, list[list[Any]]]]:
        """Key -> (grants simulated, rows of those not plainly allowed; see grants._row); absent keys are misses."""
        return {key: (value["simulated"], value["notable"]) for key, value in self.store.get_many(keys).items()}

    def save(self, entries: dict[str, tuple[int, list[list[Any]]]]) -> None:
        self.store.put_many({key: {"simulated": n, "notable": rows} for key, (n, rows) in entries.items()})
