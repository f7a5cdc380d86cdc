"""Shared fixtures: the sample landing zone is synthesized once per test run, for every pytest-xdist worker
(sample_assembly); how the run is spread over the workers is at the end of this file.

To build and synthesize your own app (cdk.json's flags, every cdk-nag pack), use tests/support.py:
``new_app``, ``synthesize`` and ``NAG_PACKS``. It is a module rather than fixtures here so that importing
this file stays free of aws-cdk-lib (the code-quality and config tests never start jsii).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, replace
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


def _summarize(outdir: Path, assembly) -> Synthesized:
    templates, envs, protection = {}, {}, {}
    for stack in assembly.stacks:
        templates[stack.stack_name] = stack.template
        envs[stack.stack_name] = f"aws://{stack.environment.account}/{stack.environment.region}"
        protection[stack.stack_name] = bool(stack.termination_protection)
    return Synthesized(outdir, templates, envs, protection)


def _synthesize_sample(outdir: Path) -> Synthesized:
    from agentzone.composition import compose, create_app
    from agentzone.config import load_landing_zone

    app = create_app(outdir=str(outdir))
    compose(app, load_landing_zone(SAMPLE_CONFIG))
    return _summarize(outdir, app.synth())  # raises if cdk-nag reports an unacknowledged error


@pytest.fixture(scope="session")
def sample_assembly(tmp_path_factory) -> Synthesized:
    """The sample config, synthesized once per test run.

    Under pytest-xdist every worker is a session of its own: the first worker that needs the sample synthesizes it
    into a directory the run's workers share (beside their own temporary directories), holding a file lock so that
    a second worker waits for that synth instead of doing it again; later workers load the finished cloud assembly.
    A failed synth leaves nothing behind, so the next worker tries (and fails) again rather than reading half of it.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _synthesize_sample(tmp_path_factory.mktemp("sample") / "cdk.out")
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # the run's directory; each worker's basetemp is inside it
    outdir = shared / "sample" / "cdk.out"
    with FileLock(shared / "sample.lock"):
        if not outdir.is_dir():
            staging = tmp_path_factory.mktemp("sample") / "cdk.out"
            synthesized = _synthesize_sample(staging)
            outdir.parent.mkdir(exist_ok=True)
            staging.rename(outdir)
            return replace(synthesized, outdir=outdir)
    from aws_cdk.cx_api import CloudAssembly

    return _summarize(outdir, CloudAssembly(str(outdir)))


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


# ------------------------------------------------------------------------------------------- parallel runs
# `make test` runs on every core: pyproject.toml's addopts say `-n auto --dist loadscope --no-loadscope-reorder`. Each
# test module (each test class) goes to one worker as a whole, so its module-scoped fixtures are built once. Modules are
# handed out in collection order, and SLOW_FIRST moves the slow ones (pytest --durations) to the front, heaviest first:
# started at once on different workers they overlap; queued behind the rest they would leave the run on one core.
# (--dist loadgroup cannot do this: pytest-xdist 3.8 marks a group by rewriting item._nodeid, which pytest 9.2 no
# longer reads, so every xdist_group mark is silently ignored.)
SLOW_FIRST = (
    "tests/test_change_safety.py",
    "tests/test_code_quality.py",
    "tests/test_cli.py",
    "tests/test_checkov.py",
    "tests/test_cfn_lint.py",
    "tests/stacks/test_pipelines.py",
    "tests/permissions/test_check.py",
    "tests/blueprints/test_eval_pipeline.py",
    "tests/test_composition.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0]
        return SLOW_FIRST.index(module) if module in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: every module keeps its tests in order, the rest keep pytest's order
