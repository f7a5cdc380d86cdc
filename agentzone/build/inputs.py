"""What a unit reads, and one digest over it: equal digests mean equal templates and check results.

A unit's digest covers the library (every file under ``agentzone/``, the app entry point, ``cdk.json``, the
project and lock files, the product-stack snapshots and the cfn-lint config), the installed distributions
(aws-cdk-lib, cdk-nag, cfn-lint, ...), checkov's version, Node's and Python's, and the config files the unit
reads: ``organization.yaml`` and what it references for every unit; the tenant's own file and what it references
for a tenant unit; the whole config tree for the pipelines, which read every tenant. A platform environment reads
the tenants only through ``units.platform_view``; the engine adds those fields (``units.platform_inputs``) to its
digest instead of the tenants' files.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path

import yaml

from ..config.source import COMPOSER
from ..project import PROJECT_ROOT

FORMAT = 1  # bump when the cache entry layout or a unit's outputs change meaning
LIBRARY_FILES = ("app.py", "cdk.json", "pyproject.toml", "package.json", "package-lock.json", ".cfnlintrc.yaml")
LIBRARY_DIRS = ("agentzone", "product-stack-snapshots")
SKIPPED_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache"}
ORGANIZATION_FILE = "organization.yaml"
TENANTS_DIR = "tenants"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.is_file() and not SKIPPED_PARTS.intersection(p.parts) and p.suffix != ".pyc"
    )


def checkov_version() -> str:
    dists = sorted((PROJECT_ROOT / ".venv-checkov").glob("lib/python*/site-packages/checkov-*.dist-info"))
    return dists[-1].name if dists else "absent"


def _node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "absent"


@cache
def library_digest() -> str:
    """Everything besides config that decides a unit's outputs. Computed once per process."""
    h = hashlib.sha256(f"agentzone-build-format-{FORMAT}\n".encode())
    files = [PROJECT_ROOT / name for name in LIBRARY_FILES if (PROJECT_ROOT / name).is_file()]
    for directory in LIBRARY_DIRS:
        if (PROJECT_ROOT / directory).is_dir():
            files += _tree_files(PROJECT_ROOT / directory)
    for path in sorted(files):
        h.update(f"{path.relative_to(PROJECT_ROOT).as_posix()} {file_digest(path)}\n".encode())
    dists = sorted({f"{d.metadata['Name']}=={d.version}".lower() for d in metadata.distributions()})
    h.update("\n".join(dists).encode())
    h.update(f"\ncheckov {checkov_version()}\nnode {_node_version()}\npython {platform.python_version()}\n".encode())
    return h.hexdigest()


def _strings(node: object) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def referenced_files(config_dir: Path, document: Path) -> set[Path]:
    """The document itself and every file or directory under the config tree that one of its strings names."""
    out = {document}
    root = config_dir.resolve()
    for text in _strings(yaml.load(document.read_text(), Loader=COMPOSER) or {}):
        if "\n" in text or len(text) > 512 or ".." in Path(text).parts or Path(text).is_absolute():
            continue
        candidate = (config_dir / text).resolve()
        if candidate == root or root not in candidate.parents:
            continue
        if candidate.is_file():
            out.add(candidate)
        elif candidate.is_dir():
            out.update(_tree_files(candidate))
    return out


def tenant_file(config_dir: Path, tenant: str) -> Path:
    for suffix in (".yaml", ".yml"):
        path = config_dir / TENANTS_DIR / f"{tenant}{suffix}"
        if path.is_file():
            return path
    raise FileNotFoundError(f"no file for tenant {tenant} under {config_dir / TENANTS_DIR}")


class ConfigInputs:
    """The config tree as units read it; each file parsed and hashed once, however many units read it."""

    def __init__(self, config_dir: Path) -> None:
        self.root = Path(config_dir).resolve()
        self._digests: dict[Path, str] = {}

    @cached_property
    def tree(self) -> list[Path]:
        return _tree_files(self.root)

    @cached_property
    def organization(self) -> set[Path]:
        return referenced_files(self.root, self.root / ORGANIZATION_FILE)

    def files(self, kind: str, tenant: str | None = None) -> list[Path]:
        """The config files a unit of this kind reads (see the module docstring)."""
        if kind == "pipelines":
            return self.tree
        files = set(self.organization)
        if kind == "tenant" and tenant:
            files |= referenced_files(self.root, tenant_file(self.root, tenant))
        return sorted(p.resolve() for p in files)

    def digest(self, unit_key: dict, files: list[Path]) -> str:
        """The unit's identity (kind, name, environment filter), the library and its config files, hashed."""
        h = hashlib.sha256(library_digest().encode())
        h.update(json.dumps(unit_key, sort_keys=True).encode())
        for path in files:
            if path not in self._digests:
                self._digests[path] = file_digest(path)
            h.update(f"\n{path.relative_to(self.root).as_posix()} {self._digests[path]}".encode())
        return h.hexdigest()
