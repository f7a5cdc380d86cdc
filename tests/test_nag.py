"""cdk-nag is a synth gate: the sample passes it, and a violation fails synth."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from agentzone.composition import create_app
from agentzone.config.model import NagSettings
from agentzone.nag import MIN_REASON, acknowledge, add_rule_packs

ACK = "aws:cdk:acknowledged-rules"


def acknowledgements(sample_assembly) -> list[tuple[str, str, str]]:
    out = []
    for meta_file in sample_assembly.outdir.glob("*.metadata.json"):
        for path, entries in json.loads(meta_file.read_text()).items():
            for entry in entries:
                if entry["type"] == ACK:
                    out += [(path, rule, reason) for rule, reason in entry["data"].items()]
    return out


def test_sample_passes_aws_solutions_with_specific_acknowledgements(sample_assembly):
    # The session fixture synthesized with the pack on: reaching here means no unacknowledged error.
    acks = acknowledgements(sample_assembly)
    assert acks
    for path, rule, reason in acks:
        assert rule.removeprefix("Annotation::").startswith("AwsSolutions-"), rule
        assert len(reason) >= MIN_REASON, (path, rule)
        assert not path.count("/") == 1, f"{rule} acknowledged on a whole stack: {path}"
    wildcard_acks = [rule for _, rule, _ in acks if "IAM5" in rule]
    assert all("[" in rule for rule in wildcard_acks), "IAM5 acknowledgements must name the exact finding"


def test_unacknowledged_finding_fails_synth(tmp_path):
    app = create_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bad", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    s3.Bucket(stack, "Plain")  # no access logs, no TLS-only policy
    add_rule_packs(app, NagSettings())
    with pytest.raises(RuntimeError, match="ValidationFailed") as info:
        app.synth()
    report = str(info.value)
    assert "AwsSolutions-S1" in report or "AwsSolutions-S10" in report or "(AwsSolutions)" in report


def test_acknowledgement_silences_exactly_that_finding(tmp_path):
    app = create_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Acked", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    bucket = s3.Bucket(stack, "Logs", enforce_ssl=True, encryption=s3.BucketEncryption.S3_MANAGED,
                       block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
    acknowledge(bucket, "AwsSolutions-S1", "Test bucket standing in for a server access log destination.")
    add_rule_packs(app, NagSettings())
    app.synth()  # passes: the only finding is acknowledged


def test_nag_can_be_switched_off_in_config(tmp_path):
    app = create_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Off", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    s3.Bucket(stack, "Plain")
    assert add_rule_packs(app, NagSettings(aws_solutions=False)) == []
    app.synth()


@pytest.mark.parametrize(
    "finding,reason,error",
    [
        ("AwsSolutions-IAM5[Resource::*]", "ok", "needs a specific reason"),
        ("IAM5", "a perfectly long and specific reason for this finding", "is not of the form"),
        ("AwsSolutions::AwsSolutions-IAM5", "a perfectly long and specific reason for this finding", "is not of the form"),
    ],
)
def test_acknowledge_rejects_vague_acknowledgements(finding, reason, error):
    stack = cdk.Stack()
    with pytest.raises(ValueError, match=error):
        acknowledge(stack, finding, reason)
