"""The catalog entry spec: what every model, tool, MCP server, agent and application must declare.

Spec files are YAML. They are validated like the landing-zone config: every
problem at once, each with file, line, key path and what would be valid.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from ..config.loader import validate_document
from ..config.model import Email, Slug, Strict
from ..config.source import ConfigError, Path_, Problem, load_yaml
from .tables import KINDS, Kind

# semver.org 2.0.0, without build metadata (see _semver).
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$"
)
_BUILD = re.compile(r"^[^+]+\+[0-9A-Za-z.-]*$")
_HTTPS = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s]*)?$")
_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:\S+$")
_SEMVER_HELP = "must be a semantic version MAJOR.MINOR.PATCH with an optional -pre-release, e.g. 1.4.0 or 2.0.0-rc.1"


def _semver(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise PydanticCustomError("semver", _SEMVER_HELP + ", quoted (YAML reads an unquoted 1.0 as a number)")
    if isinstance(value, str) and not SEMVER.match(value):
        if _BUILD.match(value) and SEMVER.match(value.split("+", 1)[0]):
            raise PydanticCustomError(
                "semver",
                "must not carry build metadata (+...): versions that differ only in build metadata have equal "
                "precedence, so they cannot be told apart; bump the version or use a pre-release",
            )
        raise PydanticCustomError("semver", _SEMVER_HELP)
    return value


def _endpoint(value: Any) -> Any:
    if isinstance(value, str) and not (_HTTPS.match(value) or _ARN.match(value)):
        raise PydanticCustomError(
            "endpoint",
            "must be an https:// URL or an ARN (e.g. https://tools.example.com/mcp, arn:aws:bedrock-agentcore:...)",
        )
    return value


def _https(value: Any) -> Any:
    if isinstance(value, str) and not _HTTPS.match(value):
        raise PydanticCustomError("https", "must be an https:// URL, e.g. https://git.example.com/team/blueprint")
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, datetime):  # YAML reads 2027-06-30T00:00 as a datetime
        raise PydanticCustomError("iso_date", "must be a date YYYY-MM-DD without a time, e.g. 2027-06-30")
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("iso_date", "must be a date YYYY-MM-DD, e.g. 2027-06-30") from None
    if not isinstance(value, date):
        raise PydanticCustomError("iso_date", "must be a date YYYY-MM-DD, e.g. 2027-06-30")
    return value


SemVer = Annotated[str, BeforeValidator(_semver), Field(description="Semantic version 2.0.0, e.g. 1.4.0 or 2.0.0-rc.1")]
IsoDate = Annotated[date, BeforeValidator(_iso_date), Field(description="Date, YYYY-MM-DD")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2048, strip_whitespace=True)]
TagKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:/=+@-]{1,128}$")]


# (major, minor, patch, 1 for a release / 0 for a pre-release, pre-release identifiers); see version_key.
VersionKey = tuple[int, int, int, int, tuple[object, ...]]


def version_key(version: str) -> VersionKey:
    """Sort key following semver precedence: 1.10.0 > 1.9.0, 1.0.0-rc.1 < 1.0.0."""
    match = SEMVER.match(version)
    if not match:
        return (0, 0, 0, 0, (version,))
    major, minor, patch, pre = match.groups()
    if pre is None:
        return (int(major), int(minor), int(patch), 1, ())
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch), 0, ids)


def next_patch(version: str) -> str | None:
    """The version to suggest when one is taken (1.2.0 -> 1.2.1).

    None for pre-releases: what follows a pre-release is its owner's call.
    """
    match = SEMVER.match(version)
    if not match or match.group(4):
        return None
    major, minor, patch, _ = match.groups()
    return f"{major}.{minor}.{int(patch) + 1}"


# ------------------------------------------------------------------ the model


class Reference(Strict):
    """One catalog version this entry is built from (lineage)."""

    kind: Kind = Field(description="model, tool, mcp-server, agent or application")
    name: Slug = Field(description="Name of the referenced entry")
    version: SemVer

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}@{self.version}"


class ModelReference(Reference):
    kind: Literal["model"] = Field(description="A model entry may only reference its base model")


class ToolReference(Reference):
    kind: Literal["model"] = Field(description="A tool may reference the models it calls")


class McpServerReference(Reference):
    kind: Literal["model", "tool"] = Field(description="An MCP server may reference models and the tools it exposes")


class AgentReference(Reference):
    kind: Literal["model", "tool", "mcp-server", "agent"] = Field(
        description="An agent may reference models, tools, MCP servers and collaborator agents"
    )


class ApplicationReference(Reference):
    kind: Literal["model", "tool", "mcp-server", "agent"] = Field(
        description="An application references the models, tools, MCP servers and agents it is built from"
    )


class Lifecycle(Strict):
    stage: Literal["preview", "ga"] = Field(
        description=(
            "preview: may change or break; ga: supported. Deprecation is a catalog action (agentzone catalog deprecate)"
        )
    )
    end_of_life: IsoDate = Field(
        description="Last day this version is supported; must be in the future when registering"
    )


class Compliance(Strict):
    data_classification: Literal["public", "internal", "confidential", "restricted"] = Field(
        description="Highest classification of data the entry processes"
    )
    personal_data: bool = Field(False, description="Processes personal data")
    regulations: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}$")]] = Field(
        default=[], max_length=20, description="Regimes it has been assessed against, e.g. GDPR, HIPAA"
    )


class EntrySpec(Strict):
    """One immutable version of a catalog entry."""

    kind: Kind = Field(description="model (model catalog); tool, mcp-server, agent, application (component catalog)")
    name: Slug = Field(description="Unique name within its kind, e.g. claims-lookup")
    version: SemVer
    owner: Email = Field(description="Team mailbox that owns and maintains this entry")
    description: Text = Field(description="What it is, in a sentence or two")
    intended_use: Text = Field(description="What it is for, and who should use it")
    limitations: list[Text] = Field(
        min_length=1, max_length=50, description="Known limitations and what it must not be used for"
    )
    consumption: Literal["SaaS", "PaaS"] = Field(
        description="SaaS: call the shared endpoint; PaaS: deploy it into your own account from its blueprint"
    )
    endpoint: Annotated[str, BeforeValidator(_endpoint)] = Field(description="https:// URL or ARN where it is reached")
    deployment: Annotated[str, BeforeValidator(_https)] | None = Field(
        None, description="https:// URL of the IaC blueprint or deployment instructions (required for PaaS)"
    )
    lifecycle: Lifecycle
    # A Sequence (read-only) so each kind's spec can narrow the reference type it accepts.
    lineage: Sequence[Reference] = Field(
        default=[], max_length=99, description="Catalog versions this version is built from"
    )
    compliance: Compliance | None = None
    tags: dict[TagKey, Annotated[str, StringConstraints(max_length=256)]] = Field(
        default={}, max_length=20, description="Free-form labels for search, e.g. domain: claims"
    )

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}@{self.version}"

    def problems(self, today: date | None = None) -> list[tuple[Path_, str]]:
        """Checks across fields, as (key path, message); one source for spec files and API callers."""
        today = today or date.today()
        out: list[tuple[Path_, str]] = []
        eol = self.lifecycle.end_of_life
        if eol <= today:
            out.append(
                (
                    ("lifecycle", "end_of_life"),
                    f"end of life {eol} is not in the future (today is {today}); a new version needs a future date",
                )
            )
        if self.consumption == "PaaS" and self.deployment is None:
            out.append(
                (
                    ("deployment",),
                    "required when consumption is PaaS: link the IaC blueprint or deployment instructions",
                )
            )
        seen: dict[tuple[str, str], int] = {}
        for i, ref in enumerate(self.lineage):
            if (ref.kind, ref.name) == (self.kind, self.name):
                out.append((("lineage", i), f"{ref} is this entry itself; lineage lists what it is built from"))
            elif (ref.kind, ref.name) in seen:
                first = seen[ref.kind, ref.name]
                message = f"{ref.kind}/{ref.name} is already referenced at lineage[{first}]; reference one version"
                out.append((("lineage", i), message))
            seen.setdefault((ref.kind, ref.name), i)
        return out

    def content_hash(self) -> str:
        """sha256 of the canonical JSON; defaults are left out so adding an optional field later keeps old hashes."""
        body = json.dumps(
            self.model_dump(mode="json", exclude_defaults=True),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


class ModelSpec(EntrySpec):
    kind: Literal["model"] = Field(description="A model: serverless, self-hosted or fine-tuned")
    lineage: list[ModelReference] = Field(
        default=[], max_length=1, description="The base model, for a fine-tuned model"
    )


class ToolSpec(EntrySpec):
    kind: Literal["tool"] = Field(description="A tool agents call")
    lineage: list[ToolReference] = Field(default=[], max_length=99, description="Models the tool calls")


class McpServerSpec(EntrySpec):
    kind: Literal["mcp-server"] = Field(description="An MCP server exposing tools")
    lineage: list[McpServerReference] = Field(
        default=[], max_length=99, description="Tools it exposes and models it calls"
    )


class AgentSpec(EntrySpec):
    kind: Literal["agent"] = Field(description="An agent other agents or applications call (A2A)")
    lineage: list[AgentReference] = Field(
        default=[], max_length=99, description="Models, tools, MCP servers and agents it uses"
    )


class ApplicationSpec(EntrySpec):
    kind: Literal["application"] = Field(description="An agentic application a use-case team deploys")
    lineage: list[ApplicationReference] = Field(default=[], max_length=99, description="Everything it is built from")


SPEC_CLASSES: dict[str, type[EntrySpec]] = {
    "model": ModelSpec,
    "tool": ToolSpec,
    "mcp-server": McpServerSpec,
    "agent": AgentSpec,
    "application": ApplicationSpec,
}
assert tuple(SPEC_CLASSES) == KINDS


def parse_spec(data: dict[str, Any]) -> EntrySpec:
    """Validate a mapping (e.g. read back from the catalog) with the class of its kind."""
    kind = data.get("kind")
    return (
        SPEC_CLASSES.get(kind, EntrySpec).model_validate(data)
        if isinstance(kind, str)
        else EntrySpec.model_validate(data)
    )


def spec_problems(spec: EntrySpec, today: date | None = None) -> list[str]:
    return [f"{'.'.join(str(p) for p in path)}: {message}" for path, message in spec.problems(today)]


# ------------------------------------------------------------------ loading


def load_specs(paths: list[Path | str], *, today: date | None = None) -> list[EntrySpec]:
    """Load and check spec files; raise ConfigError with every problem in every file (nothing is half-loaded)."""
    problems: list[Problem] = []
    specs: list[EntrySpec] = []
    for path in paths:
        doc = load_yaml(Path(path), str(path))
        kind = doc.data.get("kind") if isinstance(doc.data, dict) else None
        # An unknown kind still gets every other key checked, against the common model.
        spec = validate_document(SPEC_CLASSES.get(kind, EntrySpec) if isinstance(kind, str) else EntrySpec, doc)
        if isinstance(spec, EntrySpec):
            for key_path, message in spec.problems(today):
                doc.problems.append(doc.problem(key_path, message))
            specs.append(spec)
        problems += doc.problems
    if problems:
        raise ConfigError(problems)
    return specs


def load_spec(path: Path | str, *, today: date | None = None) -> EntrySpec:
    return load_specs([path], today=today)[0]


__all__ = [
    "SPEC_CLASSES",
    "Compliance",
    "EntrySpec",
    "Lifecycle",
    "Reference",
    "load_spec",
    "load_specs",
    "next_patch",
    "parse_spec",
    "spec_problems",
    "version_key",
]
