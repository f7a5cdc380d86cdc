"""The README and docs/ stay true: every relative link resolves, every `agentzone` command they show exists."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from agentzone.cli import build_parser

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
