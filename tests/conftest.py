"""Shared fixtures: the sample landing zone is synthesized once per test run.

To build and synthesize your own app (cdk.json's flags, every cdk-nag pack), use tests/support.py:
``new_app``, ``synthesize`` and ``NAG_PACKS``. It is a module rather than fixtures here so that importing
this file stays free of aws-cdk-lib (the code-quality and config tests never start jsii).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CONFIG = ROOT / "config"


@dataclass
class Synthesized:
    outdir: Path
    templates: dict[str, dict]  # stack name -> template
    environments: dict[str, str]  # stack name -> aws://account/region
    termination_protection: dict[str, bool]

    def template(self, name: str) -> dict:
        return self.templates[name]

    def resources(self, name: str, type_: str) -> dict[str, dict]:
        return {k: v for k, v in self.templates[name]["Resources"].items() if v["Type"] == type_}


@pytest.fixture(scope="session")
def sample_assembly(tmp_path_factory) -> Synthesized:
    from agentzone.composition import compose, create_app
    from agentzone.config import load_landing_zone

    outdir = tmp_path_factory.mktemp("sample") / "cdk.out"
    app = create_app(outdir=str(outdir))
    compose(app, load_landing_zone(SAMPLE_CONFIG))
    assembly = app.synth()  # raises if cdk-nag reports an unacknowledged error
    templates, envs, protection = {}, {}, {}
    for stack in assembly.stacks:
        templates[stack.stack_name] = stack.template
        envs[stack.stack_name] = f"aws://{stack.environment.account}/{stack.environment.region}"
        protection[stack.stack_name] = bool(stack.termination_protection)
    return Synthesized(outdir, templates, envs, protection)


@pytest.fixture
def config_copy(tmp_path) -> Path:
    """A writable copy of the sample config for tests that break it."""
    target = tmp_path / "config"
    shutil.copytree(SAMPLE_CONFIG, target)
    return target


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture
def aws(monkeypatch):
    """moto for everything, with fake credentials so no test can reach a real account."""
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield
