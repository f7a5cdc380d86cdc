"""cfn-lint and checkov over a unit's templates, each template checked once per content.

A template's findings depend only on its bytes and the two tools (their versions and cfn-lint's config), so they
are cached by that digest in ``<cache>/checks/``: a unit rebuilt after a library or config change re-checks only
the templates that came out different. Each record carries the SHA-256 of its findings and is ignored when that
does not match.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import metadata
from pathlib import Path

from ..cfn_lint import CFN_LINT_CONFIG, cfn_lint_findings
from ..checkov import checkov_bin, checkov_by_file
from .inputs import FORMAT, checkov_version

CHECKOV_KEYS = ("check_id", "check_name", "file_path", "resource")


@cache
def tools_digest() -> str:
    config = CFN_LINT_CONFIG.read_bytes() if CFN_LINT_CONFIG.is_file() else b""
    parts = [f"format {FORMAT}", f"cfn-lint {metadata.version('cfn-lint')}", f"checkov {checkov_version()}"]
    return hashlib.sha256("\n".join(parts).encode() + config).hexdigest()


def _payload_digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class CheckCache:
    """Findings per template digest; a record whose key or findings do not verify is a miss."""

    def __init__(self, root: Path | None) -> None:
        self.root = None if root is None else Path(root) / "checks"

    def get(self, key: str) -> dict | None:
        if self.root is None:
            return None
        try:
            record = json.loads((self.root / key[:2] / f"{key}.json").read_text())
            payload = record["payload"]
            ok = record.get("key") == key and record.get("sha256") == _payload_digest(payload)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return payload if ok else None

    def put(self, key: str, payload: dict) -> None:
        if self.root is None:
            return
        folder = self.root / key[:2]
        folder.mkdir(parents=True, exist_ok=True)
        record = {"key": key, "sha256": _payload_digest(payload), "payload": payload}
        handle, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "w") as out:
            json.dump(record, out, sort_keys=True)
        os.replace(temp, folder / f"{key}.json")


def _run_tools(templates: list[Path]) -> dict[str, dict]:
    """Both tools at once over the templates: file name -> its findings."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        lint = pool.submit(cfn_lint_findings, templates)
        checkov = pool.submit(checkov_by_file, templates) if checkov_bin() is not None else None
        lint_findings = lint.result()
        by_file = checkov.result() if checkov is not None else {}
    out = {t.name: {"cfn_lint": [], "checkov_failed": [], "checkov_passed": -1} for t in templates}
    for finding in lint_findings:
        out[Path(finding["Filename"]).name]["cfn_lint"].append(finding | {"Filename": ""})
    for name, (failed, passed) in by_file.items():
        out[name]["checkov_failed"] = [{key: f.get(key) for key in CHECKOV_KEYS} | {"file_path": ""} for f in failed]
        out[name]["checkov_passed"] = passed
    return out


def check_templates(outdir: Path, cache_root: Path | None) -> dict:
    """Findings for every template in ``outdir``: the unit's ``results.json`` content."""
    store = CheckCache(cache_root)
    # The Service Catalog product versions kept in product-stack-snapshots/ are deployable templates too.
    templates = sorted(outdir.glob("*.template.json")) + sorted(outdir.glob("product-stack-snapshots/*.template.json"))
    keys = {t.name: hashlib.sha256(tools_digest().encode() + t.read_bytes()).hexdigest() for t in templates}
    found = {name: store.get(key) for name, key in keys.items()}
    fresh = _run_tools([t for t in templates if found[t.name] is None])
    for name, payload in fresh.items():
        store.put(keys[name], payload)
        found[name] = payload
    results: dict = {"cfn_lint": [], "checkov": {"failed": [], "passed": 0}, "rechecked": len(fresh)}
    for name in sorted(found):
        payload = found[name]
        assert payload is not None
        # A template's findings are stored without its name (another file may have the same content).
        results["cfn_lint"] += [finding | {"Filename": name} for finding in payload["cfn_lint"]]
        results["checkov"]["failed"] += [finding | {"file_path": name} for finding in payload["checkov_failed"]]
        results["checkov"]["passed"] = add_passed(results["checkov"]["passed"], payload["checkov_passed"])
    return results


def add_passed(total: int, passed: int) -> int:
    """Sum of checkov pass counts, where -1 (checkov not installed) wins."""
    return -1 if total < 0 or passed < 0 else total + passed
