"""checkov runs on the sample assembly; only findings accepted in checkov-skips.yaml may fail."""

from __future__ import annotations

import json

import pytest

from agentzone.checkov import _is_accepted, checkov_bin, checkov_by_file, classify, load_skips, skip_entries

needs_checkov = pytest.mark.skipif(checkov_bin() is None, reason="checkov not installed (make install)")


def test_every_skip_has_a_reason_and_a_narrow_scope():
    skips = load_skips()
    assert skips
    for check_id in skips:
        assert check_id.startswith("CKV_")
        for skip in skip_entries(skips, check_id):
            assert len(skip["reason"]) >= 60, check_id
            assert skip["resources"] and all(p not in ("*", "") for p in skip["resources"]), check_id


def test_a_check_may_have_several_entries_each_with_its_own_resources():
    skips = {
        "CKV_AWS_116": [
            {"reason": "a", "resources": ["PlatformResource*"]},
            {"reason": "b", "resources": ["FmGatewayAdmin*"]},
        ]
    }
    assert _is_accepted(
        {"check_id": "CKV_AWS_116", "resource": "AWS::Lambda::Function.FmGatewayAdminFunction26E282F9"}, skips
    )
    assert _is_accepted(
        {"check_id": "CKV_AWS_116", "resource": "AWS::Lambda::Function.PlatformResourceProviderFunctionX"}, skips
    )
    assert not _is_accepted({"check_id": "CKV_AWS_116", "resource": "AWS::Lambda::Function.AgentFunction"}, skips)


def test_skip_matches_only_named_resources():
    skips = {"CKV_AWS_18": {"reason": "x", "resources": ["AccessLogsBucket*"]}}
    assert _is_accepted({"check_id": "CKV_AWS_18", "resource": "AWS::S3::Bucket.AccessLogsBucketCD784A59"}, skips)
    assert not _is_accepted({"check_id": "CKV_AWS_18", "resource": "AWS::S3::Bucket.AgentDataBucket5BCCB2B2"}, skips)
    assert not _is_accepted({"check_id": "CKV_AWS_21", "resource": "AWS::S3::Bucket.AccessLogsBucketCD784A59"}, skips)


@needs_checkov
def test_sample_assembly_passes_checkov(sample_build):
    """The findings `agentzone synth` judged: checkov over every template of every unit of the sample."""
    result = classify(sample_build.result.checkov_failed, sample_build.result.checkov_passed)
    assert result.failed == [], result.render()
    assert result.passed > 300
    assert {f["check_id"] for f in result.accepted} == {
        "CKV_AWS_18",
        "CKV_AWS_109",
        "CKV_AWS_111",
        "CKV_AWS_115",
        "CKV_AWS_116",
        "CKV_AWS_117",
        "CKV_AWS_120",
        "CKV_AWS_123",
        "CKV_AWS_149",
        "CKV_AWS_173",
    }


@needs_checkov
def test_checkov_gate_catches_a_real_failure(tmp_path):
    bad, good = tmp_path / "Bad.template.json", tmp_path / "Logs.template.json"
    bad.write_text(json.dumps({"Resources": {"Data": {"Type": "AWS::S3::Bucket", "Properties": {}}}}))
    good.write_text(json.dumps({"Resources": {"AccessLogsBucketX": {"Type": "AWS::S3::Bucket", "Properties": {}}}}))
    by_file = checkov_by_file([bad, good])
    failed = {f["check_id"] for f in classify(*by_file["Bad.template.json"]).failed}
    assert "CKV_AWS_18" in failed  # not an AccessLogs bucket, so the skip does not apply
    logs = classify(*by_file["Logs.template.json"])
    assert "CKV_AWS_18" in {f["check_id"] for f in logs.accepted}  # each file's findings stay its own
