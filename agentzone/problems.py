"""What every check reports: one problem a user fixes by file and line.

Config validation, tool manifests, Cedar policy files and the catalog specs
all report :class:`Problem`. It lives outside ``agentzone.config`` so the
checks constructs run at synth (Cedar syntax) report the same way without
importing config.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One user-facing problem: where it is (file, line, key path) and what to do."""

    file: str
    line: int
    path: str
    message: str

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.path}:" if self.path else ""
        return f"{where}:{key} {self.message}"
