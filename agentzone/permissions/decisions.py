"""Simulator decisions kept between runs, keyed by everything that decides them.

A decision depends only on the request (principal, action, resource, context, which policies at which layer) and
the text of the policies it names, plus the simulator itself (``simulator/simulate.mjs`` and the locked npm
packages). The key hashes all of that, so a warm ``agentzone synth`` re-simulates only requests whose policies
changed. Rows are stored with the SHA-256 of their value; a row that does not match is a miss.

The same store keeps coarser entries under their own keys: each role's dead-grant results (permissions.grant_cache)
and each stack's resolved ARNs for the wiring check (permissions.stack_inputs), so a warm run neither builds nor
looks up the requests of what did not change.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from functools import cache
from pathlib import Path
from typing import Any

from ..project import PROJECT_ROOT

SIMULATOR_FILES = (PROJECT_ROOT / "simulator" / "simulate.mjs", PROJECT_ROOT / "package-lock.json")


@cache
def simulator_digest() -> str:
    h = hashlib.sha256(b"decisions-1\n")
    for path in SIMULATOR_FILES:
        h.update(path.read_bytes() if path.is_file() else b"absent")
    return h.hexdigest()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class DecisionStore:
    """Decisions by key in one SQLite file (safe for concurrent writers)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=120)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS decisions (key TEXT PRIMARY KEY, value TEXT NOT NULL, sha TEXT NOT NULL,"
            " used INTEGER NOT NULL)"
        )

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT key, value, sha FROM decisions WHERE key IN ({marks})", chunk)
            for key, value, sha in rows:
                if _digest(value) == sha:
                    found[key] = json.loads(value)
        with self.db:
            self.db.executemany("UPDATE decisions SET used = ? WHERE key = ?", [(int(time.time()), k) for k in found])
        return found

    def put_many(self, decisions: dict[str, dict[str, Any]]) -> None:
        now = int(time.time())
        rows = []
        for key, decision in decisions.items():
            value = json.dumps(decision, sort_keys=True)
            rows.append((key, value, _digest(value), now))
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?)", rows)

    def prune(self, max_age_days: float) -> None:
        with self.db:
            self.db.execute("DELETE FROM decisions WHERE used < ?", (int(time.time() - max_age_days * 86400),))
