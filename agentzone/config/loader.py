"""Load and validate a config tree: every problem, at once, with file and line."""

from __future__ import annotations

import difflib
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .. import patterns as p
from ..project import PROJECT_ROOT
from . import model as m
from .checks import semantic_problems
from .source import ConfigError, Problem, SourceDoc, dotted, load_yaml

ORGANIZATION_FILE = "organization.yaml"
TENANTS_DIR = "tenants"
CONFIG_DIR_ENV = "AGENTZONE_CONFIG_DIR"
ModelT = TypeVar("ModelT", bound=BaseModel)

_PATTERN_HELP = {
    p.ACCOUNT_PATTERN: 'is not a 12-digit AWS account id; write it quoted, e.g. "111111111111"',
    p.SLUG_PATTERN: "is not a valid slug; use 3-32 lowercase letters, digits and '-', starting with a letter",
    p.REGION_PATTERN: "is not an AWS region code (e.g. eu-west-1, us-east-1)",
    p.EMAIL_PATTERN: "is not an email address (e.g. team@example.com)",
    p.COST_CENTER_PATTERN: "is not a valid cost center; use 2-32 letters, digits, '-' or '_' (e.g. CC-1234)",
    p.MODEL_PATTERN: "is not a Bedrock model id (e.g. amazon.nova-lite-v1:0, anthropic.claude-sonnet-4-5-v1:0)",
    p.ORG_ID_PATTERN: "is not an AWS Organizations id (o- followed by 10-32 lowercase letters/digits)",
    p.ROOT_ID_PATTERN: "is not an organization root id (r- followed by 4-32 lowercase letters/digits)",
    p.ROLE_NAME_PATTERN: "is not a valid IAM role name (1-64 letters, digits and +=,.@_-)",
    p.SINK_ARN_PATTERN: (
        "is not an OAM sink ARN (arn:aws:oam:<region>:<account>:sink/<uuid>; copy the Logging stack's SinkArn output)"
    ),
    p.SCOPE_PATTERN: "is not a valid scope name (lowercase letters, digits and ._-, starting with a letter)",
    p.ENV_PATTERN: "is not a valid environment name; use 2-16 lowercase letters/digits (e.g. dev, staging, prod)",
}


def default_config_dir() -> Path:
    """The sample shipped with the repository, unless AGENTZONE_CONFIG_DIR says otherwise."""
    env = os.environ.get(CONFIG_DIR_ENV)
    if env:
        return Path(env)
    return PROJECT_ROOT / "config"


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated so we can see the model or container underneath."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _type_at(root: type[BaseModel], loc: tuple) -> Any:
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (dict, list, tuple):
            current = typing.get_args(current)[-1]
        else:
            return None
    return _unwrap(current)


def _valid_keys(root: type[BaseModel], loc: tuple) -> list[str]:
    owner = _type_at(root, loc)
    if isinstance(owner, type) and issubclass(owner, BaseModel):
        return list(owner.model_fields)
    return []


def _describe(root: type[BaseModel], err: ErrorDetails) -> tuple[tuple, str]:
    """Turn one pydantic error into (key path, human message that says what is valid)."""
    loc = tuple(err["loc"])
    kind = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if "[key]" in loc:  # an invalid dict key, e.g. an environment name
        loc = loc[: loc.index("[key]")]
        pattern = str(ctx.get("pattern"))
        return loc, f"key {value!r} {_PATTERN_HELP.get(pattern, err['msg'])}"
    if kind == "extra_forbidden":
        key = loc[-1]
        valid = _valid_keys(root, loc[:-1])
        hint = difflib.get_close_matches(str(key), valid, n=1)
        did = f" (did you mean '{hint[0]}'?)" if hint else ""
        return loc, f"unknown key '{key}'{did}; valid keys here: {', '.join(valid)}"
    if kind == "missing":
        return loc, f"required key '{loc[-1]}' is missing"
    if kind == "string_pattern_mismatch":
        help_ = _PATTERN_HELP.get(str(ctx.get("pattern")), f"must match {ctx.get('pattern')}")
        return loc, f"{value!r} {help_}"
    if kind == "string_type" and isinstance(value, int) and not isinstance(value, bool):
        why = " (YAML reads unquoted digits as a number and drops leading zeros)"
        return loc, f'{value} must be a quoted string, e.g. "{value}"{why}'
    if kind == "literal_error":
        # Written as YAML writes them: true/false, not Python's True/False.
        expected = str(ctx.get("expected")).replace("True", "true").replace("False", "false")
        return loc, f"{value!r} is not valid; valid values: {expected}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        valid = _valid_keys(root, loc)
        extra = f" with keys: {', '.join(valid)}" if valid else ""
        return loc, f"must be a mapping{extra} (got {type(value).__name__})"
    if kind == "list_type":
        return loc, f"must be a list, e.g. [a, b] (got {type(value).__name__} {value!r})"
    if kind in ("too_short",):
        return loc, f"must have at least {ctx.get('min_length')} item(s)"
    msg = err["msg"]
    if msg.startswith("Input should be"):
        msg = "must be" + msg[len("Input should be") :]
    shown = value if not isinstance(value, (dict, list)) else type(value).__name__
    return loc, f"{msg} (got {shown!r})"


def validate_document(root: type[ModelT], doc: SourceDoc) -> ModelT | None:
    """Validate one YAML document against a model; problems (file, line, key path) go to doc.problems."""
    if doc.data is None:
        return None
    if not isinstance(doc.data, dict):
        doc.problems.append(doc.problem((), f"top level must be a mapping of keys (got {type(doc.data).__name__})"))
        return None
    try:
        return root.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc, message = _describe(root, err)
            doc.problems.append(doc.problem(loc, message))
        return None


def display_path(path: Path) -> str:
    """Relative to the working directory when inside it, so messages stay short."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def load_landing_zone(config_dir: Path | str | None = None) -> m.LandingZone:
    """Validate the whole tree; raise ConfigError listing every problem found."""
    root = Path(config_dir) if config_dir else default_config_dir()
    problems: list[Problem] = []
    org_path = root / ORGANIZATION_FILE
    if not root.is_dir():
        raise ConfigError(
            [
                Problem(
                    display_path(root),
                    0,
                    "",
                    "config directory not found; pass -c config_dir=PATH or set AGENTZONE_CONFIG_DIR",
                )
            ]
        )
    if not org_path.is_file():
        raise ConfigError(
            [Problem(display_path(org_path), 0, "", f"missing: every config directory needs {ORGANIZATION_FILE}")]
        )

    org_doc = load_yaml(org_path, display_path(org_path))
    organization = validate_document(m.Organization, org_doc)
    problems += org_doc.problems

    tenant_docs: list[tuple[SourceDoc, m.Tenant | None]] = []
    tenant_dir = root / TENANTS_DIR
    files = sorted(tenant_dir.glob("*.y*ml")) if tenant_dir.is_dir() else []
    for path in files:
        doc = load_yaml(path, display_path(path))
        tenant = validate_document(m.Tenant, doc)
        problems += doc.problems
        tenant_docs.append((doc, tenant))

    if organization is not None:
        problems += semantic_problems(org_doc, organization, [(d, t) for d, t in tenant_docs if t is not None], root)
    if problems:
        raise ConfigError(problems)
    tenants = tuple(sorted((t for _, t in tenant_docs if t is not None), key=lambda t: t.tenant))
    return m.LandingZone(organization=organization, tenants=tenants, source_dir=str(root))


__all__ = [
    "ConfigError",
    "Problem",
    "default_config_dir",
    "display_path",
    "dotted",
    "load_landing_zone",
    "validate_document",
]
