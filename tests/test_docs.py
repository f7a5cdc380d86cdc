"""The README and docs/ stay true: every relative link resolves, every `agentzone` command and config key they show
exists."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentzone.catalog.spec import AgentSpec, ApplicationSpec, McpServerSpec, ModelSpec, ToolSpec
from agentzone.cli import build_parser
from agentzone.tools.manifest import ToolManifest

SPEC_MODELS = (ModelSpec, ToolSpec, McpServerSpec, AgentSpec, ApplicationSpec)

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
COMMAND = re.compile(r"\bagentzone ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if not path.exists():
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: broken links {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_agentzone_command_shown_exists(page):
    commands = _subcommands(build_parser())
    unknown = []
    for first, second in COMMAND.findall(page.read_text()):
        if first not in commands:
            unknown.append(first)
        elif (
            second
            and not second.startswith("-")
            and _subcommands(commands[first])
            and second not in _subcommands(commands[first])
        ):
            unknown.append(f"{first} {second}")
    assert not unknown, f"{page.relative_to(ROOT)}: no such agentzone command(s): {sorted(set(unknown))}"


def test_readme_stays_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


# ------------------------------------------------------------------ config keys

YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)
FILE_COMMENT = re.compile(r"^# \S+\.yaml.*$", re.M)


def _schemas() -> list[dict[str, Any]]:
    """Every document a page's YAML may show: the config files, catalog specs and tool manifests."""
    documents = [json.loads(p.read_text()) for p in sorted((ROOT / "schema").glob("*.schema.json"))]
    documents += [model.model_json_schema() for model in (*SPEC_MODELS, ToolManifest)]
    return documents


def _nodes(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document and each of its definitions: a YAML excerpt may start at any of them."""
    return [document, *document.get("$defs", {}).values()]


def _unknown_keys(value: Any, schema: dict[str, Any], document: dict[str, Any], path: str) -> list[str]:
    """Key paths of ``value`` that ``schema`` does not define (values are the schema test's business)."""
    if "$ref" in schema:
        schema = document["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    branches = [b for key in ("anyOf", "oneOf", "allOf") for b in schema.get(key, [])]
    if branches:
        results = [_unknown_keys(value, b, document, path) for b in branches]
        return min(results, key=len)
    if isinstance(value, list):
        items = schema.get("items")
        return [k for item in value for k in _unknown_keys(item, items, document, path)] if items else []
    if not isinstance(value, dict):
        return []
    properties, extra = schema.get("properties", {}), schema.get("additionalProperties")
    if schema.get("type") not in (None, "object") or "enum" in schema or "const" in schema:
        return [f"{path}{key}" for key in value]  # a mapping where the schema wants a scalar
    if not properties and not extra and not schema.get("patternProperties"):
        return []  # a free-form object (e.g. a tool's JSON Schema)
    unknown = []
    patterns = schema.get("patternProperties", {})
    for key, child in value.items():
        child_schema = properties.get(key, extra if isinstance(extra, dict) else None)
        if child_schema is None:
            child_schema = next((s for p, s in patterns.items() if re.match(p, str(key))), None)
        if child_schema is None:
            unknown.append(f"{path}{key}")
        else:
            unknown += _unknown_keys(child, child_schema, document, f"{path}{key}.")
    return unknown


@pytest.mark.parametrize("page", [p for p in PAGES if "```yaml" in p.read_text()], ids=lambda p: p.name)
def test_every_config_key_shown_exists(page):
    """Each YAML excerpt fits some config, catalog or manifest schema node with every key it shows."""
    documents = _schemas()
    problems = []
    for number, block in enumerate(YAML_BLOCK.findall(page.read_text()), start=1):
        for part in FILE_COMMENT.split(block):  # a block may show two files, each after a `# <file>.yaml` line
            excerpt = yaml.safe_load(part)
            if not isinstance(excerpt, dict):
                continue
            # The excerpt's own top-level keys must be declared properties, not a free-form map's entries.
            candidates = [
                (node, document)
                for document in documents
                for node in _nodes(document)
                if set(excerpt) <= set(node.get("properties", {}))
            ]
            best = min((_unknown_keys(excerpt, n, d, "") for n, d in candidates), key=len, default=sorted(excerpt))
            if best:
                problems.append(f"yaml block {number}: no such key(s) {best}")
    assert not problems, f"{page.relative_to(ROOT)}: " + "; ".join(problems)
