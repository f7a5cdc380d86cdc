"""One way for tests to build and synthesize CDK apps: as the real app does, through every cdk-nag pack.

A bare ``cdk.App()`` synthesizes without cdk.json's feature flags (the frozen context every real synth
carries), so its templates can differ from what ships. Build apps with :func:`new_app` instead, and
synthesize with :func:`synthesize` (one stack) or :func:`synthesize_stacks` (several)::

    from .support import NAG_PACKS, Synth, new_app, synthesize

    @pytest.fixture(scope="module")
    def synth(tmp_path_factory) -> Synth:
        app = new_app(tmp_path_factory.mktemp("guardrail") / "cdk.out")
        stack = cdk.Stack(app, STACK, env=ENV)
        AgentGuardrail.from_config(stack, "Guardrail", context=..., config=...)
        return synthesize(app, STACK)  # every nag pack: an unacknowledged error raises here

    def test_one_guardrail(synth):
        logical_id, guardrail = synth.one("AWS::Bedrock::Guardrail")
        synth.template.has_resource_properties("AWS::Bedrock::Guardrail", {...})
        assert {a.pack for a in synth.acknowledgements()} == NAG_PACKS

For a quick template without nag (props validation, names): ``cdk.Stack(new_app(), "Bad", env=ENV)`` and
``Template.from_stack(stack)``.

- ``new_app(outdir, context=...)`` is :func:`agentzone.composition.create_app`: cdk.json's context, the
  stack-trace switch the CLI sets, plus any extra context (e.g. a release flag).
- ``synthesize`` registers the packs with :func:`agentzone.nag.add_rule_packs`, as composition does; do not
  add them yourself as well (each pack would run twice). ``nag=None`` skips them, for a test that inspects
  what nag would reject on purpose.
- ``NAG_PACKS`` is :data:`agentzone.nag.PACK_PREFIXES`: the finding prefix of every pack.
- A fixture that needs more than the synthesized templates (resolved environment variables, the props it
  built from) returns them beside the ``Synth``, e.g. as a tuple or a small dataclass holding one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from agentzone.composition import create_app
from agentzone.config.model import NagSettings
from agentzone.nag import PACK_PREFIXES, add_rule_packs
from agentzone.report import Acknowledgement, acknowledgements

NAG_PACKS: frozenset[str] = PACK_PREFIXES
EVERY_PACK = NagSettings()  # the config default: all four packs on


def new_app(outdir: Path | str | None = None, *, context: dict[str, Any] | None = None) -> cdk.App:
    """An app with the frozen cdk.json flags; without ``outdir`` CDK writes to a temporary directory."""
    return create_app(outdir=None if outdir is None else str(outdir), context=context)


@dataclass(frozen=True)
class Synth:
    """One synthesized stack: its template as JSON and as an assertions Template, and where the files are."""

    stack: str
    raw: dict[str, Any]  # the template
    path: Path  # the template file (cfn-lint, checkov)
    outdir: Path  # the cloud assembly (acknowledgements, product templates)

    @cached_property
    def template(self) -> Template:
        return Template.from_json(self.raw)

    def resources(self, kind: str, prefix: str = "") -> dict[str, dict[str, Any]]:
        """Logical id -> resource, for the resources of one type (whose logical id starts with ``prefix``)."""
        return {k: v for k, v in self.raw["Resources"].items() if v["Type"] == kind and k.startswith(prefix)}

    def one(self, kind: str, prefix: str = "") -> tuple[str, dict[str, Any]]:
        """The only resource of a type (and logical id prefix); fails listing what was found otherwise."""
        found = self.resources(kind, prefix)
        assert len(found) == 1, f"expected one {kind} starting {prefix!r} in {self.stack}, found {sorted(found)}"
        return next(iter(found.items()))

    def acknowledgements(self, packs: frozenset[str] = NAG_PACKS) -> list[Acknowledgement]:
        """The stack's acknowledged nag findings, of the given packs (by default every cdk-nag pack)."""
        return [a for a in acknowledgements(self.outdir, self.stack) if a.pack in packs]


def synthesize_stacks(app: cdk.App, *, nag: NagSettings | None = EVERY_PACK) -> dict[str, Synth]:
    """Every stack of the app, by stack name, after synthesizing through the nag packs ``nag`` selects."""
    if nag is not None:
        add_rule_packs(app, nag)
    assembly = app.synth()  # raises if a pack reports an unacknowledged error
    outdir = Path(assembly.directory)
    return {
        artifact.stack_name: Synth(artifact.stack_name, artifact.template, outdir / artifact.template_file, outdir)
        for artifact in assembly.stacks
    }


def synthesize(app: cdk.App, stack: str, *, nag: NagSettings | None = EVERY_PACK) -> Synth:
    """One stack of the app, after synthesizing through the nag packs ``nag`` selects (all of them by default)."""
    stacks = synthesize_stacks(app, nag=nag)
    assert stack in stacks, f"no stack named {stack!r}; the app has {sorted(stacks)}"
    return stacks[stack]
