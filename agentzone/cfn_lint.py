"""cfn-lint over templates: E* findings fail synth, W* are listed in a file, I* are ignored.

The project's .cfnlintrc.yaml says which checks are ignored and why.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .project import PROJECT_ROOT

CFN_LINT_CONFIG = PROJECT_ROOT / ".cfnlintrc.yaml"


@dataclass(frozen=True)
class LintResult:
    errors: list[dict]
    warnings: list[dict]

    def write_warnings(self, path: Path) -> None:
        """Warnings are listed in a file, not printed: the summary only counts them."""
        rows = [
            {
                "rule": item["Rule"]["Id"],
                "template": Path(item["Filename"]).name,
                "path": "/".join(str(p) for p in item.get("Location", {}).get("Path", [])),
                "message": item["Message"],
            }
            for item in self.warnings
        ]
        path.write_text(json.dumps(rows, indent=2) + "\n")

    def render(self, limit: int = 50) -> str:
        lines = []
        for item in (self.errors + self.warnings)[:limit]:
            loc = item.get("Location", {})
            path = "/".join(str(p) for p in loc.get("Path", []))
            lines.append(f"  {item['Rule']['Id']} {Path(item['Filename']).name} {path}: {item['Message']}")
        return "\n".join(lines)


def cfn_lint_findings(templates: list[Path]) -> list[dict]:
    """cfn-lint's JSON findings for the templates (every level)."""
    if not templates:
        return []
    cmd = [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json"]
    if CFN_LINT_CONFIG.is_file():
        cmd += ["--config-file", str(CFN_LINT_CONFIG)]
    proc = subprocess.run([*cmd, "--", *map(str, templates)], capture_output=True, text=True)
    if proc.returncode not in (0, 2, 4, 6, 8, 10, 12, 14) and not proc.stdout.strip():
        raise RuntimeError(f"cfn-lint failed to run: {proc.stderr.strip()}")
    return list(json.loads(proc.stdout or "[]"))


def classify(findings: list[dict]) -> LintResult:
    errors = [f for f in findings if f["Level"] == "Error"]
    warnings = [f for f in findings if f["Level"] == "Warning"]
    return LintResult(errors, warnings)


def run_cfn_lint(templates: list[Path]) -> LintResult:
    """Run cfn-lint on the templates; E* findings are errors, W* warnings, I* ignored."""
    return classify(cfn_lint_findings(templates))
