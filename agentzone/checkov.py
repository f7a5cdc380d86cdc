"""checkov over a synthesized assembly, with accepted findings kept in checkov-skips.yaml.

checkov pins an old boto3, so it lives in its own virtualenv (.venv-checkov,
created by `make install`) instead of the project's.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from .project import PROJECT_ROOT

SKIPS_FILE = PROJECT_ROOT / "checkov-skips.yaml"
CHECKOV_ENV = "AGENTZONE_CHECKOV"


def checkov_bin() -> Path | None:
    candidate = Path(os.environ.get(CHECKOV_ENV, PROJECT_ROOT / ".venv-checkov" / "bin" / "checkov"))
    return candidate if candidate.exists() else None


def load_skips(path: Path = SKIPS_FILE) -> dict[str, dict]:
    data = yaml.safe_load(path.read_text()) if path.is_file() else {}
    return data or {}


@dataclass(frozen=True)
class CheckovResult:
    failed: list[dict]  # not covered by a skip: these fail synth
    accepted: list[dict]  # covered by a skip with a reason
    passed: int

    def render(self, limit: int = 40) -> str:
        return "\n".join(
            f"  {f['check_id']} {Path(f['file_path']).name} {f['resource']}: {f['check_name']}"
            for f in self.failed[:limit]
        )


def skip_entries(skips: dict, check_id: str) -> list[dict]:
    """A check's accepted cases: one {reason, resources} entry, or a list when reasons differ by resource."""
    entry = skips.get(check_id) or []
    return entry if isinstance(entry, list) else [entry]


def _is_accepted(finding: dict, skips: dict) -> bool:
    logical_id = finding["resource"].split(".", 1)[-1]
    return any(
        fnmatch.fnmatchcase(logical_id, pattern)
        for skip in skip_entries(skips, finding["check_id"])
        for pattern in skip.get("resources", [])
    )


def checkov_by_file(files: list[Path], binary: Path | None = None) -> dict[str, tuple[list[dict], int]]:
    """checkov over these templates in one run: file name -> (failed checks before skips, passed count)."""
    binary = binary or checkov_bin()
    if binary is None:
        raise FileNotFoundError("checkov not installed; run `make install` (it creates .venv-checkov)")
    if not files:
        return {}
    cmd = [str(binary), "--framework", "cloudformation", "--skip-download", "--compact", "-o", "json"]
    for path in files:
        cmd += ["-f", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if not proc.stdout.strip():
        raise RuntimeError(f"checkov failed to run: {proc.stderr.strip()[:2000]}")
    reports = json.loads(proc.stdout)
    out: dict[str, tuple[list[dict], int]] = {Path(f).name: ([], 0) for f in files}
    for report in reports if isinstance(reports, list) else [reports]:
        results = report.get("results", {})
        for finding in results.get("failed_checks", []):
            out[Path(finding["file_path"]).name][0].append(finding)
        for finding in results.get("passed_checks", []):
            failed, passed = out[Path(finding["file_path"]).name]
            out[Path(finding["file_path"]).name] = (failed, passed + 1)
    return out


def classify(failed_checks: list[dict], passed: int, skips: dict | None = None) -> CheckovResult:
    """Split failed checks into those checkov-skips.yaml accepts and those that fail synth."""
    skips = load_skips() if skips is None else skips
    failed: list[dict] = []
    accepted: list[dict] = []
    for finding in failed_checks:
        (accepted if _is_accepted(finding, skips) else failed).append(finding)
    return CheckovResult(failed, accepted, passed)
