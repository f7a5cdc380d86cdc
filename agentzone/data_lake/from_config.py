"""A tenant's data namespaces as the data lake constructs take them, from the config model.

The only place config's data section becomes :mod:`agentzone.data_lake.layout` props: the stacks call
it, so no config object reaches a construct.
"""

from __future__ import annotations

from ..config import model as m
from .layout import Column, Dataset, Feedback, Namespace, Reader


def namespaces(tenant: m.Tenant) -> tuple[Namespace, ...]:
    """The tenant's namespaces by name; each one's feedback comes from its feedback_from environments."""
    return tuple(namespace(tenant, ns) for ns in sorted(tenant.data.namespaces, key=lambda ns: ns.name))


def namespace(tenant: m.Tenant, ns: m.DataNamespace) -> Namespace:
    feedback = None
    if ns.feedback_from:
        accounts = tuple(tenant.environments[env].account for env in ns.feedback_from)
        feedback = Feedback(dataset=m.FEEDBACK_DATASET, accounts=accounts)
    return Namespace(
        name=ns.name,
        description=ns.description,
        datasets=tuple(dataset(d) for d in ns.datasets),
        producers=tuple(ns.producers),
        feedback=feedback,
    )


def dataset(d: m.Dataset) -> Dataset:
    return Dataset(
        name=d.name,
        description=d.description,
        ingestion=d.ingestion,
        columns=tuple(
            Column(name=c.name, type=c.type, required=c.required, pii=c.pii, description=c.description)
            for c in d.columns
        ),
        quality_rules=tuple(d.quality_rules),
    )


def tenant_readers(tenant: m.Tenant, unmasked_environments: list[str]) -> tuple[Reader, ...]:
    """The tenant's accounts, each reading unmasked data only in ``unmasked_environments``."""
    return tuple(
        Reader(name, tenant_env.account, unmasked=name in unmasked_environments)
        for name, tenant_env in tenant.environments.items()
    )


def feeds_back(tenant: m.Tenant, environment: str) -> bool:
    """Whether some namespace asks for this environment's monitoring signals."""
    return any(environment in ns.feedback_from for ns in tenant.data.namespaces)
