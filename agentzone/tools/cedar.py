"""Cedar policies for the tool gateway: load them from config, check them offline, evaluate requests.

AgentCore Policy stores one Cedar statement per Policy resource and names
entities in the ``AgentCore`` namespace (see docs/tools.md):

- principal ``AgentCore::OAuthUser::"<sub>"``; the caller's JWT claims are
  entity *tags* (``principal.getTag("scope")``);
- action ``AgentCore::Action::"<target>___<tool>"``, one per gateway tool;
- resource ``AgentCore::Gateway::"<gateway ARN>"``;
- ``context.input`` holds the tool call's arguments.

The gateway ARN is only known at deploy time, so files write the placeholder
``{{gateway_arn}}`` and :class:`~agentzone.constructs.tool_gateway.ToolGateway`
substitutes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cedarpy

from ..problems import Problem
from .targets import TOOL_SEPARATOR

GATEWAY_ARN_PLACEHOLDER = "{{gateway_arn}}"
POLICY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,47}$")  # AgentCore Policy name rule
MIN_STATEMENT, MAX_STATEMENT = 35, 10_000  # CedarPolicy.statement length limits


@dataclass(frozen=True)
class Statement:
    text: str
    line: int  # 1-based line where the statement starts in its file


def split_statements(text: str) -> list[Statement]:
    """Split Cedar source on ';' outside strings and comments; keeps each statement's start line."""
    out: list[Statement] = []
    buf: list[str] = []
    line, start = 1, None
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            buf.append(ch)
            if ch == "\\" and i + 1 < n:
                buf.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            buf.append(text[i:end])
            i = end
            continue
        else:
            if start is None and not ch.isspace():
                start = line
            buf.append(ch)
            if ch == '"':
                in_string = True
            elif ch == ";":
                out.append(Statement("".join(buf).strip(), start or line))
                buf, start = [], None
        if ch == "\n":
            line += 1
        i += 1
    rest = "".join(buf).strip()
    if start is not None and _code(rest):
        out.append(Statement(rest, start))  # unterminated: the parser reports it
    return out


def _code(text: str) -> str:
    """The text without // comments (to tell a trailing comment from a missing ';')."""
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines()).strip()


def _error_line(statement: Statement, message: str) -> int:
    """Line of a parse error. cedarpy reports no positions, so: the line naming the offending
    token when the message ends with one, else the first line at which the statement's prefix
    fails the same way (a prefix that stops before the error only fails with "unexpected end")."""
    lines = statement.text.splitlines()
    # statement.line is where the code starts; the text may begin with its leading comments.
    lead = next((i for i, line in enumerate(lines) if _code(line)), 0)
    first = statement.line - lead
    token = message.rsplit(": ", 1)[-1].strip().strip("`'\"")
    if len(token) > 1 and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token):
        for k, line in enumerate(lines):
            if re.search(rf"\b{re.escape(token)}\b", _code(line)):
                return first + k
    for k in range(1, len(lines) + 1):
        try:
            cedarpy.PolicySet.from_str("\n".join(lines[:k]))
        except ValueError as exc:
            if str(exc) == message:
                return first + k - 1
    return statement.line


def check_syntax(text: str, file: str) -> list[Problem]:
    """Parse every statement with cedarpy; each failure becomes a Problem at its line."""
    problems: list[Problem] = []
    statements = split_statements(text)
    if not statements:
        return [Problem(file, 1, "", "no Cedar statement found; write at least one permit(...) or forbid(...);")]
    for statement in statements:
        try:
            cedarpy.PolicySet.from_str(statement.text)
        except ValueError as exc:
            problems.append(Problem(file, _error_line(statement, str(exc)), "", f"Cedar syntax error: {exc}"))
            continue
        if not MIN_STATEMENT <= len(statement.text) <= MAX_STATEMENT:
            problems.append(
                Problem(
                    file,
                    statement.line,
                    "",
                    f"statement is {len(statement.text)} characters; AgentCore accepts {MIN_STATEMENT}-{MAX_STATEMENT}",
                )
            )
    return problems


def policy_name(stem: str, index: int | None = None) -> str:
    """AgentCore policy names allow letters, digits and '_': 'claims-limit' -> 'claims_limit'."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", stem)
    return base if index is None else f"{base}_{index}"


def load_policy_files(files: list[Path], display=str) -> tuple[dict[str, str], list[Problem]]:
    """Read .cedar files into {policy name: one statement}; every problem at once, with file and line.

    A file with one statement gives one policy named after the file; a file with
    several gives ``<name>_1``, ``<name>_2``, ... (AgentCore stores one statement per policy).
    """
    policies: dict[str, str] = {}
    origin: dict[str, str] = {}
    problems: list[Problem] = []
    for path in sorted(files):
        name = display(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, 0, "", f"cannot read file: {exc}"))
            continue
        found = check_syntax(text, name)
        problems += found
        if found:
            continue
        statements = split_statements(text)
        for i, statement in enumerate(statements, start=1):
            pname = policy_name(path.stem, i if len(statements) > 1 else None)
            if not POLICY_NAME.match(pname):
                problems.append(
                    Problem(
                        name,
                        statement.line,
                        "",
                        f"policy name {pname!r} (from the file name) must start with a letter and have at most 48 "
                        "letters, digits or '_'",
                    )
                )
            elif pname in policies:
                problems.append(
                    Problem(
                        name,
                        statement.line,
                        "",
                        f"policy name {pname!r} is also produced by {origin[pname]}; rename one file",
                    )
                )
            else:
                policies[pname], origin[pname] = statement.text, name
    return policies, problems


def load_policy_dir(directory: Path, display=str) -> tuple[dict[str, str], list[Problem]]:
    """All ``*.cedar`` files of one directory (e.g. config/policies/shared-tools)."""
    if not directory.is_dir():
        return {}, [Problem(display(directory), 0, "", "policy directory not found")]
    return load_policy_files(sorted(directory.glob("*.cedar")), display)


def render(statement: str, gateway_arn: str) -> str:
    """Put the gateway ARN (or a CDK token standing for it) where the file has the placeholder."""
    return statement.replace(GATEWAY_ARN_PLACEHOLDER, gateway_arn)


# ------------------------------------------------------------- evaluation (tests, `what if` checks)


def oauth_user(sub: str, **claims: str) -> dict[str, Any]:
    """An AgentCore OAuthUser entity whose JWT claims are tags, as the gateway builds it."""
    return {"uid": {"type": "AgentCore::OAuthUser", "id": sub}, "attrs": {}, "parents": [], "tags": dict(claims)}


def tool_action(target: str, tool: str) -> str:
    return f'AgentCore::Action::"{target}{TOOL_SEPARATOR}{tool}"'


def gateway_resource(gateway_arn: str) -> str:
    return f'AgentCore::Gateway::"{gateway_arn}"'


def evaluate(
    policies: Mapping[str, str] | str,
    *,
    principal: dict[str, Any] | str,
    action: str,
    resource: str,
    context: Mapping[str, Any] | None = None,
    gateway_arn: str | None = None,
) -> cedarpy.AuthzResult:
    """Decide one tool call offline with cedarpy (default deny; forbid wins, as in AgentCore).

    ``principal`` is an entity from :func:`oauth_user` (its tags carry the
    claims) or a bare entity reference string (an unknown caller, no claims).
    """
    text = policies if isinstance(policies, str) else "\n".join(policies[k] for k in sorted(policies))
    if gateway_arn is not None:
        text = render(text, gateway_arn)
    entities: list[dict[str, Any]] = []
    if isinstance(principal, dict):
        entities.append(principal)
        uid = principal["uid"]
        principal = f'{uid["type"]}::"{uid["id"]}"'
    request = {"principal": principal, "action": action, "resource": resource, "context": dict(context or {})}
    return cedarpy.is_authorized(request, text, entities)
