"""The blueprint registry: what each blueprint declares, and vending a tenant's selection from it.

Each blueprint module ends with ``SPEC = BlueprintSpec(...)``, the one place that says
which construct and config model it has, what it gives the agents, whether teams can
launch it from their Service Catalog portfolio, and where its docs are. The package lists
the specs once, in creation order (:data:`agentzone.blueprints.REGISTRY`), and
:func:`registry_of` refuses, at import, a list that misses or adds a key of
``config.model.Blueprints`` (the YAML keys) or creates a blueprint before one it needs.

The config side stays free of aws-cdk-lib: the keys and config models are the fields of
``Blueprints``, their checks are ``config.blueprint_checks.BLUEPRINT_CHECKS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, TypeVar, get_args

from constructs import Construct
from pydantic import BaseModel

from .. import naming
from ..config.model import AgentRuntimeBlueprint, Blueprints
from .context import AgentAttachment, BlueprintContext

C = TypeVar("C", bound=Construct)


class Blueprint(Protocol):
    """A blueprint construct class: ``REGISTRY_NAME`` (its key under ``blueprints:``) and its adapter from config.

    (``REGISTRY_NAME`` is checked when the registry is built: a ClassVar in a protocol would
    make mypy refuse every class object.)
    """

    @classmethod
    def from_config(cls, *args: Any, **kwargs: Any) -> Any: ...


class Attach(Enum):
    """What a blueprint gives agents when it is not a per-agent choice (see :data:`AgentShare`)."""

    NOTHING = "nothing"
    EVERY_AGENT = "every agent"  # the construct is an AgentAttachment; each agent of the account gets it


# One agent's share of a blueprint: (what the blueprint created, the agent's name, the agent's
# config, the blueprint's config) -> the attachments that agent gets.
AgentShare = Callable[[Any, str, AgentRuntimeBlueprint, Any], Sequence[AgentAttachment]]


@dataclass(frozen=True)
class CatalogOffer:
    """Whether a team can launch the blueprint from its Service Catalog portfolio, and if not, why."""

    offered: bool
    reason: str = ""


OFFERED = CatalogOffer(offered=True)


def not_offered(reason: str) -> CatalogOffer:
    return CatalogOffer(offered=False, reason=reason)


@dataclass(frozen=True)
class BlueprintSpec:
    """Everything the landing zone needs to know about one blueprint.

    ``construct_id`` is the construct's id in the account's stack (a prefix for ``named``
    blueprints, ``Memory`` -> ``MemoryClaims``): part of every logical id, never rename it.
    ``named``: the config is ``{name: settings}`` and each name gets its own construct.
    ``agent``: the blueprint is an agent; it receives every other blueprint's attachments.
    ``after``: keys this blueprint uses in ``then`` (the registry creates them first).
    ``then``: runs once the blueprint exists, with everything created before it.
    """

    construct: type[Blueprint]
    config: type[BaseModel]
    construct_id: str
    title: str
    summary: str
    docs: str
    catalog: CatalogOffer
    named: bool = False
    to_agents: Attach | AgentShare = Attach.NOTHING
    agent: bool = False
    after: tuple[str, ...] = ()
    then: Callable[[Any, Vending], None] | None = None

    @property
    def key(self) -> str:
        return _key_of(self.construct)

    @property
    def attaches(self) -> bool:
        return self.to_agents is not Attach.NOTHING


def construct_id(prefix: str, name: str) -> str:
    """``Runtime`` + ``claims-intake`` -> ``RuntimeClaimsIntake``: stable ids, so logical ids never move."""
    return prefix + naming.pascal_title(name)


class VendedBlueprints:
    """What :func:`vend` created in one account, by registry key, in creation order."""

    def __init__(self) -> None:
        self._by_key: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        """The construct (``named`` blueprints: ``{name: construct}``); None or ``{}`` when not selected."""
        return self._by_key[key]

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    def created(self, key: str) -> Any:
        """Like ``self[key]``, or None while the registry has not reached that blueprint."""
        return self._by_key.get(key)

    def get(self, cls: type[C]) -> C | None:
        """The account's one construct of a blueprint class, e.g. ``vended.get(AgentGuardrail)``."""
        return self._by_key.get(_key_of(cls))

    def each(self, cls: type[C]) -> dict[str, C]:
        """A named blueprint's constructs by name, e.g. ``vended.each(AgentRuntime)``."""
        return dict(self._by_key.get(_key_of(cls)) or {})

    def selected(self) -> list[str]:
        return [key for key, created in self._by_key.items() if created]

    def add(self, key: str, created: Any) -> None:
        self._by_key[key] = created


def _key_of(cls: type) -> str:
    key = getattr(cls, "REGISTRY_NAME", None)
    if not isinstance(key, str):
        raise TypeError(f"{cls.__name__} is not a blueprint (it has no REGISTRY_NAME)")
    return key


@dataclass
class Vending:
    """One account's vending in progress: its inputs and what exists so far."""

    scope: Construct
    context: BlueprintContext
    config: Blueprints
    attachments: tuple[AgentAttachment, ...]  # account-level (the safety controls): every agent gets these first
    registry: Mapping[str, BlueprintSpec]
    vended: VendedBlueprints = field(default_factory=VendedBlueprints)

    def attachments_for(self, agent: str, agent_config: AgentRuntimeBlueprint) -> list[AgentAttachment]:
        """The account's attachments, then each blueprint for every agent, then the agent's own choices.

        Both groups follow creation order, so a template never depends on YAML order.
        """
        shared: list[AgentAttachment] = [*self.attachments]
        own: list[AgentAttachment] = []
        for spec in self.registry.values():
            created = self.vended.created(spec.key)
            if created is None:
                continue
            if spec.to_agents is Attach.EVERY_AGENT:
                shared.append(created)
            elif callable(spec.to_agents):
                own += spec.to_agents(created, agent, agent_config, getattr(self.config, spec.key))
        return shared + own

    def agents(self) -> dict[str, tuple[Any, AgentRuntimeBlueprint]]:
        """Every agent created so far with its config, by name (sorted)."""
        out: dict[str, tuple[Any, AgentRuntimeBlueprint]] = {}
        for spec in self.registry.values():
            if spec.agent and spec.key in self.vended:
                configs = getattr(self.config, spec.key)
                out.update({name: (agent, configs[name]) for name, agent in self.vended[spec.key].items()})
        return dict(sorted(out.items()))


def vend(
    registry: Mapping[str, BlueprintSpec],
    scope: Construct,
    *,
    context: BlueprintContext,
    blueprints: Blueprints,
    attachments: Sequence[AgentAttachment] = (),
) -> VendedBlueprints:
    """Create the blueprints a tenant selected, in registry order (see ``vend_blueprints``)."""
    vending = Vending(scope, context, blueprints, tuple(attachments), registry)
    for spec in registry.values():
        created = _create(spec, vending)
        vending.vended.add(spec.key, created)
        if created is not None and spec.then is not None:
            spec.then(created, vending)
    return vending.vended


def _create(spec: BlueprintSpec, vending: Vending) -> Any:
    """The construct for one blueprint's config, or ``{name: construct}`` (sorted) for a named one."""
    config = getattr(vending.config, spec.key)
    if spec.named:
        return {name: _build(spec, vending, name, config[name]) for name in sorted(config)}
    if not config:  # None, or an empty mapping
        return None
    return _build(spec, vending, None, config)


def _build(spec: BlueprintSpec, vending: Vending, name: str | None, config: Any) -> Any:
    kwargs: dict[str, Any] = {"context": vending.context, "config": config}
    if name is not None:
        kwargs["name"] = name
    if spec.agent:
        kwargs["attachments"] = vending.attachments_for(name or spec.key, config)
    cid = spec.construct_id if name is None else construct_id(spec.construct_id, name)
    return spec.construct.from_config(vending.scope, cid, **kwargs)


# ------------------------------------------------------------------ import-time checks


class RegistryError(Exception):
    """The blueprint registry does not match the config, or a spec contradicts itself."""


def registry_of(specs: Iterable[BlueprintSpec]) -> dict[str, BlueprintSpec]:
    """The registry in creation order, after checking every wiring a missing line would break."""
    registry: dict[str, BlueprintSpec] = {}
    for spec in specs:
        if spec.key in registry:
            raise RegistryError(f"blueprint {spec.key!r} is registered twice")
        registry[spec.key] = spec
    fields = Blueprints.model_fields
    missing, extra = sorted(set(fields) - set(registry)), sorted(set(registry) - set(fields))
    if missing or extra:
        raise RegistryError(
            f"the registry must cover exactly the keys of config.model.Blueprints: "
            f"no spec for {missing or 'none'}, no config field for {extra or 'none'}"
        )
    problems = [problem for spec in registry.values() for problem in _spec_problems(spec, fields[spec.key].annotation)]
    problems += _order_problems(list(registry.values()))
    if problems:
        raise RegistryError("; ".join(problems))
    return registry


def _spec_problems(spec: BlueprintSpec, annotation: Any) -> list[str]:
    problems = []
    if not _mentions(annotation, spec.config):
        problems.append(f"{spec.key}: config.model.Blueprints.{spec.key} is {annotation}, not {spec.config.__name__}")
    if spec.to_agents is Attach.EVERY_AGENT and (spec.named or not hasattr(spec.construct, "attach_to_agent")):
        problems.append(f"{spec.key}: only a single construct with attach_to_agent can attach to every agent")
    if not spec.catalog.offered and not spec.catalog.reason:
        problems.append(f"{spec.key}: say why it is not offered in the Service Catalog")
    if spec.agent and not spec.named:
        problems.append(f"{spec.key}: agents are named blueprints")
    return problems


def _order_problems(specs: list[BlueprintSpec]) -> list[str]:
    """Agents come after every blueprint that attaches to them; ``after`` keys come first."""
    problems = []
    for i, spec in enumerate(specs):
        earlier = {s.key for s in specs[:i]}
        needs = set(spec.after)
        if spec.agent:
            needs |= {s.key for s in specs if s.attaches}
        late = sorted(needs - earlier)
        if late:
            problems.append(f"{spec.key} is created before {', '.join(late)}, which it needs")
    return problems


def _mentions(annotation: Any, cls: type) -> bool:
    """``GuardrailBlueprint | None`` and ``dict[Name, MemoryResource]`` mention their config models."""
    return annotation is cls or any(_mentions(arg, cls) for arg in get_args(annotation))
