"""The unit cache returns only entries whose every file is as it was stored, under the digest asked for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentzone.build.cache import ENTRY_FILE, UnitCache

DIGEST = "ab" + "0" * 62
OTHER = "cd" + "1" * 62


@pytest.fixture
def stored(tmp_path) -> tuple[UnitCache, Path]:
    files = tmp_path / "files"
    (files / "out" / "asset.1").mkdir(parents=True)
    (files / "out" / "Stack.template.json").write_text('{"Resources": {}}')
    (files / "out" / "asset.1" / "index.py").write_text("def handler(event, context): ...\n")
    (files / "results.json").write_text('{"cfn_lint": []}')
    cache = UnitCache(tmp_path / "cache")
    cache.put(DIGEST, "tenant-claims", files)
    return cache, tmp_path / "cache" / "units" / DIGEST[:2] / DIGEST


def test_a_stored_entry_is_returned_with_its_files(stored):
    cache, _ = stored
    found = cache.get(DIGEST, "tenant-claims")
    assert found.problem == ""
    assert found.path is not None
    assert (found.path / "out" / "Stack.template.json").read_text() == '{"Resources": {}}'


def test_a_missing_entry_is_a_plain_miss(stored):
    cache, _ = stored
    assert cache.get(OTHER, "tenant-claims") == type(cache.get(OTHER, "x"))(None, "")


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda e: (e / "files/out/Stack.template.json").write_text('{"Resources": {"Evil": {}}}'), "corrupted"),
        (lambda e: (e / "files/out/asset.1/index.py").unlink(), "corrupted"),
        (lambda e: (e / "files/out/extra.template.json").write_text("{}"), "corrupted"),
        (lambda e: (e / ENTRY_FILE).write_text("{not json"), "unreadable"),
        (lambda e: (e / ENTRY_FILE).write_text("[]"), "not an object"),
    ],
    ids=["changed-file", "missing-file", "added-file", "broken-record", "record-not-object"],
)
def test_a_tampered_entry_is_reported_and_not_used(stored, tamper, problem):
    cache, entry = stored
    tamper(entry)
    found = cache.get(DIGEST, "tenant-claims")
    assert found.path is None
    assert problem in found.problem


def test_an_entry_moved_under_another_digest_or_unit_is_foreign(stored):
    cache, entry = stored
    moved = entry.parent.parent / OTHER[:2] / OTHER
    moved.parent.mkdir(parents=True)
    entry.rename(moved)
    found = cache.get(OTHER, "tenant-claims")
    assert found.path is None and "foreign entry (digest do not match)" in found.problem
    record = json.loads((moved / ENTRY_FILE).read_text())
    record["digest"] = OTHER
    (moved / ENTRY_FILE).write_text(json.dumps(record))
    found = cache.get(OTHER, "tenant-fraud")
    assert found.path is None and "unit do not match" in found.problem


def test_storing_again_replaces_a_rejected_entry(stored, tmp_path):
    cache, entry = stored
    (entry / "files/out/Stack.template.json").write_text("tampered")
    assert cache.get(DIGEST, "tenant-claims").path is None
    cache.put(DIGEST, "tenant-claims", tmp_path / "files")
    found = cache.get(DIGEST, "tenant-claims")
    assert found.path is not None and found.problem == ""


def test_prune_removes_only_entries_unused_for_the_given_age(stored, tmp_path):
    import os
    import time

    from agentzone.build.cache import RecordCache

    cache, entry = stored
    records = RecordCache(tmp_path / "cache", "checks")
    records.put("ee" + "2" * 62, {"cfn_lint": []})
    old = time.time() - 30 * 86400
    os.utime(entry, (old, old))
    assert cache.prune(max_age_days=14) == 1
    assert cache.get(DIGEST, "tenant-claims").path is None
    assert records.get("ee" + "2" * 62) == {"cfn_lint": []}


def test_a_record_with_a_changed_payload_is_a_miss(tmp_path):
    from agentzone.build.cache import RecordCache

    records = RecordCache(tmp_path, "checks")
    key = "ff" + "3" * 62
    records.put(key, {"cfn_lint": [], "checkov_failed": []})
    path = tmp_path / "checks" / key[:2] / f"{key}.json"
    path.write_text(path.read_text().replace('"checkov_failed": []', '"checkov_failed": [{"check_id": "CKV_X"}]'))
    assert records.get(key) is None
    assert RecordCache(None, "checks").get(key) is None


def test_a_checked_entry_serves_a_build_without_checks_but_never_the_reverse(sample_build, tmp_path):
    """The change-safety tests build edited configs without cfn-lint and checkov: a unit they did not edit comes
    from the sample's checked entry; an unchecked entry never stands in for a build that runs the checks."""
    from agentzone.build.engine import build, plan
    from agentzone.config import load_landing_zone
    from agentzone.units import Selection

    from ..conftest import SAMPLE_CONFIG, sample_cache_dir

    lz = load_landing_zone(SAMPLE_CONFIG)
    checked, unchecked = plan(lz, Selection()), plan(lz, Selection(), checks=False)
    assert [r.checked_digest for r in unchecked] == [r.digest for r in checked]
    assert {r.digest for r in unchecked}.isdisjoint(r.digest for r in checked)
    assert all(r.checked_digest is None for r in checked)
    result = build(lz, Selection(), tmp_path / "out", cache=UnitCache(sample_cache_dir()), jobs=2, checks=False)
    assert not result.failures and all(r.from_cache for r in result.records)
    assert sorted(p.name for p in (tmp_path / "out").glob("*.template.json")) == sorted(
        p.name for p in sample_build.synthesized.outdir.glob("*.template.json")
    )
