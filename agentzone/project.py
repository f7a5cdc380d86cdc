"""Where the project's files live (the checkout or the installed source tree): the one place that knows."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
