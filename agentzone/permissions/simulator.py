"""Runs @cloud-copilot/iam-simulate as a separate Node process (it is AGPL-3.0: called, never linked).

Requests are deduplicated and split over worker processes; each worker reads one JSON document on
stdin and answers with one on stdout (see ``simulator/simulate.mjs``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..project import PROJECT_ROOT
from .decisions import DecisionStore, simulator_digest
from .model import Document, Policy

SCRIPT = PROJECT_ROOT / "simulator" / "simulate.mjs"
PACKAGE = PROJECT_ROOT / "node_modules" / "@cloud-copilot" / "iam-simulate"


class SimulatorUnavailable(RuntimeError):
    """Node or the simulator package is missing (``make install`` adds it)."""


@dataclass(frozen=True)
class Request:
    principal: str
    action: str
    resource: str
    resource_account: str
    context: tuple[tuple[str, str | tuple[str, ...]], ...]
    identity: tuple[str, ...]  # policy ids
    scps: tuple[tuple[str, tuple[str, ...]], ...]
    boundary: tuple[str, ...] = ()
    resource_policy: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "resourceAccount": self.resource_account,
            "context": {k: list(v) if isinstance(v, tuple) else v for k, v in self.context},
            "identity": list(self.identity),
            "scps": [[org, list(ids)] for org, ids in self.scps],
            "boundary": list(self.boundary),
            "resourcePolicy": self.resource_policy,
        }


@dataclass
class Decision:
    decision: str  # Allowed, ExplicitlyDenied, ImplicitlyDenied, Error
    denials: list[dict[str, Any]] = field(default_factory=list)
    grants: list[dict[str, Any]] = field(default_factory=list)
    errors: str | None = None
    wildcard_only: bool = False  # the action has no resource-level permissions: only Resource "*" grants it
    ignored_keys: tuple[str, ...] = ()  # context keys the simulator does not evaluate for this action

    @property
    def allowed(self) -> bool:
        return self.decision == "Allowed"

    def undecided(self, keys: Iterable[str]) -> str:
        """The keys among ``keys`` the simulator dropped (iam-simulate ignores context keys whose variable part
        contains ':', e.g. kms:EncryptionContext:aws:...), when they may be why the request was not allowed."""
        return "" if self.allowed else ", ".join(sorted(set(self.ignored_keys) & set(keys)))

    def deciding(self) -> str:
        """The statements that decided a denial, as `layer policy[Sid]` (or the implicit layer)."""
        if self.errors:
            return f"simulator error: {self.errors}"
        parts = []
        for denial in self.denials:
            policy_type = str(denial.get("policyType"))
            layer = _LAYERS.get(policy_type, policy_type)
            if denial.get("denialType") == "Explicit":
                policy = denial.get("policyIdentifier") or ""
                parts.append(
                    f"{layer} {policy}[{denial.get('statementId') or '#' + str(denial.get('statementIndex'))}]".replace(
                        " [", "["
                    )
                )
            else:
                parts.append(f"{layer}: no statement allows it")
        if not parts and self.decision == "ImplicitlyDenied":
            return "implicitly denied: nothing on the resource's side (resource or key policy) lets this principal in"
        return "; ".join(parts) or self.decision


# iam-simulate's policy types, as the report names them.
_LAYERS = {
    "scp": "SCP",
    "pb": "permission boundary",
    "identity": "identity policy",
    "resource": "resource policy",
    "rcp": "RCP",
}


class Simulator:
    """Collects policies and requests, then decides them all in one batch."""

    def __init__(self, jobs: int | None = None, store: DecisionStore | None = None) -> None:
        self.policies: dict[str, Document] = {}
        self.jobs = jobs or max(1, min(os.cpu_count() or 1, 4))
        self.store = store  # earlier decisions, by what decides them (None: simulate everything)

    def policy(self, policy_id: str, document: Document) -> str:
        self.policies.setdefault(policy_id, document)
        return policy_id

    def request(
        self,
        *,
        principal: str,
        action: str,
        resource: str,
        resource_account: str,
        context: dict[str, Any],
        identity: list[Policy],
        scp_chain: list[tuple[str, list[Policy]]],
        boundary: Policy | None = None,
        resource_policy: Policy | None = None,
    ) -> Request:
        """One request, its policies registered by name (the SCP chain root first, as ``model.scp_chain`` gives it)."""
        return Request(
            principal,
            action,
            resource,
            resource_account,
            tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in context.items())),
            tuple(self.policy(p.name, p.document) for p in identity),
            tuple((node, tuple(self.policy(p.name, p.document) for p in policies)) for node, policies in scp_chain),
            (self.policy(boundary.name, boundary.document),) if boundary else (),
            self.policy(resource_policy.name, resource_policy.document) if resource_policy else None,
        )

    def _node(self) -> str:
        node = shutil.which("node")
        if node is None or not PACKAGE.is_dir():
            raise SimulatorUnavailable(
                "the IAM simulator is not installed: run `make install` (npm ci installs @cloud-copilot/iam-simulate)"
            )
        return node

    def _run(self, payload: dict[str, Any]) -> dict[str, Any]:
        proc = subprocess.run(
            [self._node(), str(SCRIPT)], input=json.dumps(payload), capture_output=True, text=True, cwd=PROJECT_ROOT
        )
        if proc.returncode != 0:
            raise RuntimeError(f"the IAM simulator failed: {proc.stderr.strip()[-2000:]}")
        answer: dict[str, Any] = json.loads(proc.stdout)
        return answer

    def expand(self, patterns: set[str]) -> dict[str, list[str]]:
        """Action patterns (``s3:Get*``) -> the actions they match, from the simulator's own action data."""
        if not patterns:
            return {}
        actions: dict[str, list[str]] = self._run({"expand": sorted(patterns)})["actions"]
        return actions

    def _key(self, request: Request, policy_digests: dict[str, str]) -> str:
        named = sorted({*request.identity, *request.boundary, *(i for _, ids in request.scps for i in ids)})
        if request.resource_policy:
            named.append(request.resource_policy)
        text = json.dumps([request.as_json(), [(pid, policy_digests[pid]) for pid in named]], sort_keys=True)
        return hashlib.sha256((simulator_digest() + text).encode()).hexdigest()

    def decide(self, requests: list[Request]) -> dict[Request, Decision]:
        unique = list(dict.fromkeys(requests))
        if not unique:
            return {}
        answers: dict[Request, dict[str, Any]] = {}
        keys: dict[Request, str] = {}
        if self.store is not None:
            digests = {
                pid: hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
                for pid, doc in self.policies.items()
            }
            keys = {r: self._key(r, digests) for r in unique}
            known = self.store.get_many(list(dict.fromkeys(keys.values())))
            answers = {r: known[k] for r, k in keys.items() if k in known}
        fresh = self._simulate([r for r in unique if r not in answers])
        if self.store is not None and fresh:
            self.store.put_many({keys[r]: result for r, result in fresh.items()})
        answers.update(fresh)
        return {
            request: Decision(
                result["decision"],
                result.get("denials", []),
                result.get("grants", []),
                result.get("errors"),
                bool(result.get("wildcardOnly")),
                tuple(result.get("ignoredContextKeys") or ()),
            )
            for request, result in answers.items()
        }

    def _simulate(self, unique: list[Request]) -> dict[Request, dict[str, Any]]:
        """The simulator's raw answers, the requests split over ``jobs`` Node processes."""
        if not unique:
            return {}
        chunks = [unique[i :: self.jobs] for i in range(self.jobs)]
        used = {pid for r in unique for pid in (*r.identity, *r.boundary, *(i for _, ids in r.scps for i in ids))}
        used |= {r.resource_policy for r in unique if r.resource_policy}

        def run(chunk: list[Request]) -> list[dict[str, Any]]:
            payload = {
                "policies": {k: v for k, v in self.policies.items() if k in used},
                "requests": [r.as_json() for r in chunk],
            }
            results: list[dict[str, Any]] = self._run(payload)["results"] if chunk else []
            return results

        with ThreadPoolExecutor(self.jobs) as pool:
            answers = list(pool.map(run, chunks))
        out: dict[Request, dict[str, Any]] = {}
        for chunk, results in zip(chunks, answers, strict=True):
            out.update(zip(chunk, results, strict=True))
        return out


def caller_context(principal: str, account: str, org_id: str, resource: str, default_region: str) -> dict[str, object]:
    """What every request carries: who calls, from where, in which region (the resource's, else the caller's),
    over TLS."""
    return {
        "aws:PrincipalArn": principal,
        "aws:PrincipalAccount": account,
        "aws:PrincipalOrgID": org_id,
        "aws:RequestedRegion": request_region(resource, default_region),
        "aws:SecureTransport": "true",
    }


def request_region(resource: str, default: str) -> str:
    """The region an ARN names; ``default`` for a region-less or wildcard one (S3, IAM, ``*``)."""
    parts = resource.split(":")
    return parts[3] if len(parts) > 3 and parts[3] and "*" not in parts[3] else default
