"""cfn-lint and checkov over a unit's templates, each template checked once per content.

A template's findings depend only on its bytes and the two tools (their versions and cfn-lint's config), so they
are cached by that digest in ``<cache>/checks/``: a unit rebuilt after a library or config change re-checks only
the templates that came out different. Each record carries the SHA-256 of its findings and is ignored when that
does not match.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ..cfn_lint import CFN_LINT_CONFIG, cfn_lint_findings
from ..checkov import checkov_bin, checkov_by_file
from .cache import RecordCache
from .inputs import FORMAT, checkov_version

CHECKOV_KEYS = ("check_id", "check_name", "file_path", "resource")


@cache
def tools_digest() -> str:
    config = CFN_LINT_CONFIG.read_bytes() if CFN_LINT_CONFIG.is_file() else b""
    parts = [f"format {FORMAT}", f"cfn-lint {metadata.version('cfn-lint')}", f"checkov {checkov_version()}"]
    return hashlib.sha256("\n".join(parts).encode() + config).hexdigest()


def _run_tools(templates: list[Path]) -> dict[str, dict]:
    """Both tools at once over the templates: file name -> its findings."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        lint = pool.submit(cfn_lint_findings, templates)
        checkov = pool.submit(checkov_by_file, templates) if checkov_bin() is not None else None
        lint_findings = lint.result()
        by_file = checkov.result() if checkov is not None else {}
    out: dict[str, dict[str, Any]] = {
        t.name: {"cfn_lint": [], "checkov_failed": [], "checkov_passed": -1} for t in templates
    }
    for finding in lint_findings:
        out[Path(finding["Filename"]).name]["cfn_lint"].append(finding | {"Filename": ""})
    for name, (failed, passed) in by_file.items():
        out[name]["checkov_failed"] = [{key: f.get(key) for key in CHECKOV_KEYS} | {"file_path": ""} for f in failed]
        out[name]["checkov_passed"] = passed
    return out


def check_templates(outdir: Path, cache_root: Path | None) -> dict:
    """Findings for every template in ``outdir``: the unit's ``results.json`` content."""
    store = RecordCache(cache_root, "checks")
    # The Service Catalog product versions kept in product-stack-snapshots/ are deployable templates too.
    templates = sorted(outdir.glob("*.template.json")) + sorted(outdir.glob("product-stack-snapshots/*.template.json"))
    keys = {t.name: hashlib.sha256(tools_digest().encode() + t.read_bytes()).hexdigest() for t in templates}
    found: dict[str, dict | None] = {name: store.get(key) for name, key in keys.items()}
    fresh = _run_tools([t for t in templates if found[t.name] is None])
    for name, checked in fresh.items():
        store.put(keys[name], checked)
        found[name] = checked
    results: dict[str, Any] = {
        "cfn_lint": [],
        "checkov": {"failed": [], "passed": 0},
        "templates": sorted(found),
        "rechecked": len(fresh),
    }
    for name in sorted(found):
        payload = found[name]
        if payload is None:  # cannot happen: every miss was just checked
            raise RuntimeError(f"no findings for {name}")
        # A template's findings are stored without its name (another file may have the same content).
        results["cfn_lint"] += [finding | {"Filename": name} for finding in payload["cfn_lint"]]
        results["checkov"]["failed"] += [finding | {"file_path": name} for finding in payload["checkov_failed"]]
        results["checkov"]["passed"] = add_passed(results["checkov"]["passed"], payload["checkov_passed"])
    return results


def add_passed(total: int, passed: int) -> int:
    """Sum of checkov pass counts, where -1 (checkov not installed) wins."""
    return -1 if total < 0 or passed < 0 else total + passed
