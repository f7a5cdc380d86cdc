"""Reading the tool files a tenant tool gateway names: Lambda tool definitions and OpenAPI documents.

One set of rules for both callers: ``agentzone validate`` reports every
problem with the YAML line that names the file; the blueprint refuses to
synthesize on the first one. The schema rules are the subset AgentCore
stores for inline tool schemas: anything else would be dropped silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .targets import TOOL_NAME_MAX, TOOL_NAME_PATTERN, TOOL_SEPARATOR

TOOL_NAME = re.compile(TOOL_NAME_PATTERN)
MAX_TOOLS = 100
SCHEMA_KEYS = ("type", "description", "properties", "required", "items")
SCHEMA_TYPES = ("string", "number", "integer", "boolean", "array", "object")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def tool_name_problems(target: str | None, tool: str, where: str) -> list[str]:
    """Agents see ``<target>___<tool>``; AgentCore caps it."""
    if target is None:
        return []
    full = f"{target}{TOOL_SEPARATOR}{tool}"
    if len(full) > TOOL_NAME_MAX:
        return [
            f"{where}: agents see {full!r} ({len(full)} characters); keep target + '___' + tool within {TOOL_NAME_MAX}"
        ]
    return []


def schema_problems(node: Any, where: str) -> list[str]:
    """A JSON schema in the subset AgentCore stores (type, description, properties, required, items)."""
    if not isinstance(node, Mapping):
        return [f"{where}: must be a JSON schema object"]
    problems: list[str] = []
    unknown = sorted(set(node) - set(SCHEMA_KEYS))
    if unknown:
        problems.append(
            f"{where}: unsupported keys {unknown}; AgentCore tool schemas take only {', '.join(SCHEMA_KEYS)} "
            "(state other constraints in the description)"
        )
    kind = node.get("type")
    if kind not in SCHEMA_TYPES:
        problems.append(f"{where}.type: {kind!r} is not one of {', '.join(SCHEMA_TYPES)}")
    if node.get("description") is not None and not isinstance(node["description"], str):
        problems.append(f"{where}.description: must be a string")
    properties = node.get("properties")
    if properties is not None:
        if kind != "object" or not isinstance(properties, Mapping):
            problems.append(f"{where}.properties: only objects have properties, as a mapping of name to schema")
        else:
            for key, value in properties.items():
                problems += schema_problems(value, f"{where}.properties.{key}")
    required = node.get("required")
    if required is not None:
        if kind != "object" or not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            problems.append(f"{where}.required: only objects have required, as a list of property names")
        else:
            missing = sorted(set(required) - set(properties if isinstance(properties, Mapping) else {}))
            if missing:
                problems.append(f"{where}.required: {missing} are not among its properties")
    items = node.get("items")
    if items is not None:
        if kind != "array":
            problems.append(f"{where}.items: only arrays have items")
        else:
            problems += schema_problems(items, f"{where}.items")
    return problems


def tool_problems(tool: Any, where: str, target: str | None = None) -> list[str]:
    """One tool definition: ``{name, description, inputSchema[, outputSchema]}``."""
    if not isinstance(tool, Mapping):
        return [f"{where}: must be an object with name, description and inputSchema"]
    problems: list[str] = []
    unknown = sorted(set(tool) - {"name", "description", "inputSchema", "outputSchema"})
    if unknown:
        problems.append(f"{where}: unknown keys {unknown}; valid: name, description, inputSchema, outputSchema")
    name = tool.get("name")
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        problems.append(f"{where}: name must start with a letter and use letters, digits, '_' or '-' (at most 64)")
    else:
        problems += tool_name_problems(target, name, where)
    if not isinstance(tool.get("description"), str) or not tool["description"].strip():
        problems.append(f"{where}: description is required (agents choose tools by it)")
    schema = tool.get("inputSchema")
    if isinstance(schema, Mapping) and schema.get("type") != "object":
        problems.append(f"{where}: inputSchema must be a JSON schema of type object (the tool's named arguments)")
    else:
        problems += schema_problems(schema, f"{where}.inputSchema")
    if tool.get("outputSchema") is not None:
        problems += schema_problems(tool["outputSchema"], f"{where}.outputSchema")
    return problems


def tools_problems(data: Any, target: str | None = None) -> list[str]:
    """A non-empty list of distinct tools."""
    if not isinstance(data, list) or not data:
        return ["must be a non-empty JSON list of tools, each {name, description, inputSchema}"]
    problems: list[str] = []
    if len(data) > MAX_TOOLS:
        problems.append(f"{len(data)} tools; a target holds at most {MAX_TOOLS}")
    seen: set[object] = set()
    for i, tool in enumerate(data):
        problems += tool_problems(tool, f"tool [{i}]", target)
        name = tool.get("name") if isinstance(tool, Mapping) else None
        if isinstance(name, str) and name in seen:
            problems.append(f"tool [{i}]: name {name!r} is used twice")
        seen.add(name)
    return problems


def read_tools(path: Path, target: str | None = None) -> tuple[list[dict], list[str]]:
    """A JSON file of tools; returns (tools, problems) and no tools when there are problems."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return [], [f"not valid JSON ({error})"]
    problems = tools_problems(data, target)
    return (data if not problems else []), problems


def openapi_problems(document: Any, target: str | None = None) -> list[str]:
    """OpenAPI 3 with an https server and an operationId on every operation (it becomes the tool name)."""
    if not isinstance(document, Mapping):
        return ["must be an OpenAPI 3 document (a mapping with openapi, info, servers, paths)"]
    problems: list[str] = []
    if not str(document.get("openapi", "")).startswith("3."):
        problems.append("openapi must be a 3.x version (AgentCore Gateway reads OpenAPI 3)")
    servers = document.get("servers")
    url = servers[0].get("url") if isinstance(servers, list) and servers and isinstance(servers[0], Mapping) else None
    if not isinstance(url, str) or not url.startswith("https://"):
        problems.append("servers[0].url must be an https:// URL: the gateway calls the API there, TLS only")
    paths = document.get("paths")
    if not isinstance(paths, Mapping) or not paths:
        problems.append("paths must list at least one operation")
        return problems
    for route, operations in paths.items():
        for method, operation in (operations or {}).items():
            if method in HTTP_METHODS and isinstance(operation, Mapping):
                operation_id = operation.get("operationId")
                where = f"{method.upper()} {route}"
                if not isinstance(operation_id, str) or not operation_id:
                    problems.append(f"{where}: operationId is required (it becomes the tool name)")
                else:
                    problems += tool_name_problems(target, operation_id, where)
    return problems


def read_openapi(path: Path, target: str | None = None) -> tuple[dict, list[str]]:
    """An OpenAPI 3 document (JSON or YAML); returns (document, problems)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        return {}, [f"not valid JSON or YAML ({str(error).splitlines()[0]})"]
    problems = openapi_problems(data, target)
    return (data if not problems else {}), problems
