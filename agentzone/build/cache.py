"""A content-addressed store of unit results: ``<root>/units/<digest[:2]>/<digest>/``.

An entry is its files plus ``entry.json``, which names the format, the digest it was stored under, the unit, and
the SHA-256 of every file. An entry is used only when all of that checks out (no file missing, added or changed);
otherwise it is reported and rebuilt, never trusted. Entries are written to a temporary directory and renamed into
place, so an interrupted run leaves no half entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .inputs import FORMAT, file_digest

ENTRY_FILE = "entry.json"
DEFAULT_DIR = ".agentzone-cache"
CACHE_DIR_ENV = "AGENTZONE_CACHE_DIR"
PRUNE_AFTER_DAYS = 14  # entries unused this long go (CI restores the cache on every run and it would only grow)


@dataclass(frozen=True)
class Lookup:
    path: Path | None  # the verified entry's files, or None
    problem: str = ""  # why an existing entry was not used ("" when there was none or it was fine)


def _listing(files_dir: Path) -> dict[str, str]:
    return {p.relative_to(files_dir).as_posix(): file_digest(p) for p in sorted(files_dir.rglob("*")) if p.is_file()}


class UnitCache:
    """Verified reads and atomic writes of unit results, keyed by their input digest."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _entry(self, digest: str) -> Path:
        return self.root / "units" / digest[:2] / digest

    def get(self, digest: str, unit: str) -> Lookup:
        entry = self._entry(digest)
        if not entry.exists():
            return Lookup(None)
        try:
            record = json.loads((entry / ENTRY_FILE).read_text())
        except (OSError, ValueError) as exc:
            return Lookup(None, f"unreadable {ENTRY_FILE} ({exc.__class__.__name__})")
        if not isinstance(record, dict):
            return Lookup(None, f"{ENTRY_FILE} is not an object")
        expected = {"format": FORMAT, "digest": digest, "unit": unit}
        wrong = [key for key, value in expected.items() if record.get(key) != value]
        if wrong:
            return Lookup(None, f"foreign entry ({', '.join(wrong)} do not match)")
        files_dir = entry / "files"
        if not files_dir.is_dir() or _listing(files_dir) != record.get("files"):
            return Lookup(None, "corrupted entry (its files do not match their recorded SHA-256)")
        os.utime(entry)  # last use, for prune()
        return Lookup(files_dir)

    def prune(self, max_age_days: float = PRUNE_AFTER_DAYS) -> int:
        """Remove entries and records not used for ``max_age_days``; returns how many went."""
        cutoff = time.time() - max_age_days * 86400
        removed = 0
        for entry in [*self.root.glob("units/*/*"), *self.root.glob("*/*/*.json")]:
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                    removed += 1
            except OSError:
                continue
        return removed

    def put(self, digest: str, unit: str, files_dir: Path) -> Path:
        """Store a copy of ``files_dir`` under ``digest``; returns the stored files."""
        entry = self._entry(digest)
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=entry.parent))
        shutil.copytree(files_dir, staging / "files", symlinks=False)
        record = {"format": FORMAT, "digest": digest, "unit": unit, "files": _listing(staging / "files")}
        (staging / ENTRY_FILE).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        if entry.exists():  # a rejected (corrupt or foreign) entry: replace it
            shutil.rmtree(entry, ignore_errors=True)
        try:
            os.replace(staging, entry)
        except OSError:  # another process stored the same digest first: its entry is as good as ours
            shutil.rmtree(staging, ignore_errors=True)
        return entry / "files"


def _payload_digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class RecordCache:
    """Small JSON results by key (template findings, permission check summaries).

    A record holds its key and the SHA-256 of its payload; one whose key or payload does not verify is a miss.
    """

    def __init__(self, root: Path | None, kind: str) -> None:
        self.root = None if root is None else Path(root) / kind

    def _path(self, root: Path, key: str) -> Path:
        return root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        if self.root is None:
            return None
        path = self._path(self.root, key)
        try:
            record = json.loads(path.read_text())
            payload = record["payload"]
            ok = record.get("key") == key and record.get("sha256") == _payload_digest(payload)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if ok:
            os.utime(path)  # last use, for UnitCache.prune()
        return payload if ok else None

    def put(self, key: str, payload: dict) -> None:
        if self.root is None:
            return
        path = self._path(self.root, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"key": key, "sha256": _payload_digest(payload), "payload": payload}
        handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w") as out:
            json.dump(record, out, sort_keys=True)
        os.replace(temp, path)
