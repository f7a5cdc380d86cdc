"""Read YAML while remembering where every key and value came from.

Users fix mistakes by file and line, so the loader keeps a map from key path
to line number and refuses what PyYAML would silently accept (duplicate keys,
non-string keys, anchors merging unexpected keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..problems import Problem

Path_ = tuple[str | int, ...]


class ConfigError(Exception):
    """Raised with every problem found, so the user fixes them in one pass."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{len(self.problems)} configuration problem{'s' if len(self.problems) != 1 else ''}:"
        return "\n".join([head, *("  " + p.render() for p in self.problems)])


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class SourceDoc:
    """A parsed YAML file plus the line of every key path inside it."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: Path_) -> int:
        """Line of the deepest known prefix of path (1-based; 0 if unknown)."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, path: Path_, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), dotted(path), message)


def _walk(doc: SourceDoc, node: yaml.Node, path: Path_) -> Any:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                doc.problems.append(doc.problem(path, "YAML merge keys (<<) are not supported; write the keys out"))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                doc.problems.append(
                    Problem(doc.file, key_node.start_mark.line + 1, dotted(path), "keys must be plain strings")
                )
                continue
            key = key_node.value
            child = (*path, key)
            if key in out:
                doc.problems.append(
                    Problem(
                        doc.file,
                        key_node.start_mark.line + 1,
                        dotted(child),
                        f"duplicate key '{key}' (first defined on line {doc.lines[child]}); keep one",
                    )
                )
                continue
            doc.lines[child] = key_node.start_mark.line + 1
            out[key] = _walk(doc, value_node, child)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(doc, item, (*path, i)) for i, item in enumerate(node.value)]
    # Scalars: let the safe constructor resolve int/float/bool/null/str.
    return yaml.SafeLoader.construct_object(_CONSTRUCTOR, node, deep=True)


# libyaml's parser when PyYAML was built with it (the wheels are): the same nodes and marks, ten times faster.
COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ScalarConstructor(yaml.SafeLoader):
    def __init__(self) -> None:  # no stream: only used to construct scalars
        yaml.SafeLoader.__init__(self, "")


_CONSTRUCTOR = _ScalarConstructor()


def load_yaml(file: Path, display: str | None = None) -> SourceDoc:
    """Parse one file. Syntax errors become a Problem with the line, never a traceback."""
    name = display or str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return SourceDoc(name, None, problems=[Problem(name, 0, "", f"cannot read file: {exc}")])
    doc = SourceDoc(name, None)
    try:
        node = yaml.compose(text, Loader=COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        doc.problems.append(Problem(name, line, "", f"invalid YAML: {what}"))
        return doc
    except yaml.YAMLError as exc:
        doc.problems.append(Problem(name, 0, "", f"invalid YAML: {exc}"))
        return doc
    if node is None:
        doc.problems.append(Problem(name, 1, "", "file is empty"))
        return doc
    try:
        doc.data = _walk(doc, node, ())
    except yaml.YAMLError as exc:  # e.g. bad timestamp or an unknown !tag
        mark = getattr(exc, "problem_mark", None)
        doc.problems.append(Problem(name, mark.line + 1 if mark else 0, "", f"invalid YAML: {exc}"))
    return doc


def duplicate_problems(doc: SourceDoc, path: tuple, items: list) -> list[Problem]:
    """One problem per repeated list entry, at the repeat, naming the first."""
    seen: dict = {}
    out = []
    for i, item in enumerate(items):
        if item in seen:
            out.append(doc.problem((*path, i), f"{item!r} is listed twice (first at index {seen[item]}); list it once"))
        seen.setdefault(item, i)
    return out
