"""The shared synth helper (tests/support.py) builds apps as the real app does and synthesizes through nag."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns

from agentzone.composition import cdk_json_context

from .support import NAG_PACKS, new_app, synthesize

ENV = cdk.Environment(account="111111111111", region="eu-west-1")


def test_new_app_carries_the_cdk_json_flags():
    app = new_app()
    for key, value in cdk_json_context().items():
        assert app.node.try_get_context(key) == value, key


def test_synthesize_runs_every_nag_pack(tmp_path):
    app = new_app(tmp_path / "cdk.out")
    sns.Topic(cdk.Stack(app, "Unencrypted", env=ENV), "Topic")  # no CMK: every pack flags it
    with pytest.raises(Exception, match="AwsSolutions-SNS"):
        synthesize(app, "Unencrypted")


def test_synthesize_without_nag_returns_the_stack(tmp_path):
    app = new_app(tmp_path / "cdk.out")
    sns.Topic(cdk.Stack(app, "Plain", env=ENV), "Topic")
    synth = synthesize(app, "Plain", nag=None)
    logical_id, topic = synth.one("AWS::SNS::Topic")
    assert topic["Type"] == "AWS::SNS::Topic" and logical_id.startswith("Topic")
    assert synth.path.is_file() and synth.outdir == synth.path.parent
    synth.template.resource_count_is("AWS::SNS::Topic", 1)
    assert synth.acknowledgements() == [] and "AwsSolutions" in NAG_PACKS
