"""Canary releases as config describes them: which endpoints serve a newer version than the others.

The tenant pipeline (a stack) decides from this whether to watch an
environment after deploying it, and ``agentzone release watch`` (boto3)
what to watch; so it reads config only.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import naming
from ..config.model import LandingZone


class ReleaseError(ValueError):
    """The tenant, environment or agent named does not exist in config."""


@dataclass(frozen=True)
class Canary:
    agent: str
    runtime_name: str
    endpoint: str
    version: int
    stable_endpoint: str
    stable_version: int


def canaries(lz: LandingZone, tenant_name: str, environment: str) -> list[Canary]:
    """Endpoints serving a newer version than the environment's oldest: what a release puts at risk."""
    try:
        tenant = lz.tenant(tenant_name)
    except KeyError:
        raise ReleaseError(
            f"unknown tenant {tenant_name!r}; valid: {', '.join(t.tenant for t in lz.tenants)}"
        ) from None
    if environment not in tenant.environments:
        raise ReleaseError(
            f"tenant {tenant_name} has no {environment!r} environment; it has: {', '.join(tenant.environments)}"
        )
    found = []
    for agent, runtime in sorted(tenant.blueprints.runtime.items()):
        release = runtime.releases.get(environment)
        if release is None or len(set(release.endpoints.values())) < 2:
            continue
        stable_endpoint, stable_version = min(release.endpoints.items(), key=lambda kv: (kv[1], kv[0]))
        name = naming.agentcore_name(tenant_name, agent, environment)  # what the runtime blueprint calls it
        for endpoint, version in sorted(release.endpoints.items()):
            if version > stable_version:
                found.append(Canary(agent, name, endpoint, version, stable_endpoint, stable_version))
    return found
