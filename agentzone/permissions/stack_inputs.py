"""What resolving a stack's template reads, as one digest per stack: a resolved value can be reused while it is equal.

A stack's deployed strings depend on its own template, account, region and name, and on the stacks it reads
through ``Fn::ImportValue`` and SSM-typed parameters (and, transitively, on what those read). Digests are
computed from the templates as they are in memory, so a template changed after loading is never mistaken for
the one on disk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from .assembly import Assembly, Fragment, Stack, Unresolvable


def _imports(node: Fragment) -> Iterator[Fragment]:
    """The argument of every ``Fn::ImportValue`` in a template fragment."""
    if isinstance(node, dict):
        if len(node) == 1 and "Fn::ImportValue" in node:
            yield node["Fn::ImportValue"]
            return
        for value in node.values():
            yield from _imports(value)
    elif isinstance(node, list):
        for value in node:
            yield from _imports(value)


def _sources(assembly: Assembly, stack: Stack, text: str) -> list[tuple[str, str | None]]:
    """(what is read, the stack it is read from, None when no stack provides it) for each import and SSM value."""
    out: list[tuple[str, str | None]] = []
    if "Fn::ImportValue" in text:
        for arg in _imports(stack.template):
            try:
                name = str(stack.resolve(arg))
            except (Unresolvable, KeyError):
                out.append((json.dumps(arg, sort_keys=True), None))
                continue
            found = assembly.exports.get((stack.account, stack.region, name))
            out.append((f"export {name}", found[0].name if found else None))
    for parameter in stack.template.get("Parameters", {}).values():
        if parameter.get("Type", "").startswith("AWS::SSM::Parameter::Value"):
            key = assembly.ssm_key(stack, parameter.get("Default", ""))
            owner = assembly.ssm_parameters.get(key)
            out.append((f"ssm {key}", owner.stack.name if owner else None))
    return out


def stack_digests(assembly: Assembly, salt: str) -> dict[str, str]:
    """Stack name -> digest of its template and of everything resolving it reads from other stacks."""
    own: dict[str, str] = {}
    sources: dict[str, list[tuple[str, str | None]]] = {}
    for name, stack in assembly.stacks.items():
        text = json.dumps(stack.template, sort_keys=True, separators=(",", ":"))
        head = f"{salt}\n{name} {stack.account} {stack.region}\n"
        own[name] = hashlib.sha256((head + text).encode()).hexdigest()
        sources[name] = _sources(assembly, stack, text)
    done: dict[str, str] = {}

    def digest(name: str, trail: frozenset[str]) -> str:
        if name not in done:
            read = [
                f"{what}={digest(source, trail | {name}) if source and source not in trail else source}"
                for what, source in sources[name]
            ]
            parts = [own[name], *sorted(read)]
            done[name] = hashlib.sha256("\n".join(parts).encode()).hexdigest()
        return done[name]

    return {name: digest(name, frozenset()) for name in assembly.stacks}
