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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass
class SampleBuild:
    """The sample, built as `agentzone synth` builds it: the assembly and every unit's cfn-lint and checkov findings."""

    synthesized: Synthesized
    result: Any  # agentzone.build.engine.BuildResult (imported lazily: it starts no jsii, but the build does)


def _build_sample(dest: Path, cache: Path) -> SampleBuild:
    from aws_cdk.cx_api import CloudAssembly

    from agentzone.build.cache import UnitCache
    from agentzone.build.engine import build
    from agentzone.config import load_landing_zone
    from agentzone.units import Selection

    result = build(load_landing_zone(SAMPLE_CONFIG), Selection(), dest, cache=UnitCache(cache), jobs=2)
    assert not result.failures, result.failures  # an unacknowledged nag error fails here
    return SampleBuild(_summarize(dest, CloudAssembly(str(dest))), result)


def sample_cache_dir() -> Path:
    """The unit cache `make synth` uses (AGENTZONE_CACHE_DIR or .agentzone-cache): entries are verified on read."""
    from agentzone.build.cache import CACHE_DIR_ENV, DEFAULT_DIR

    return Path(os.environ.get(CACHE_DIR_ENV) or ROOT / DEFAULT_DIR)


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> SampleBuild:
    """The sample config, built once per test run through the synth engine.

    Under pytest-xdist every worker is a session of its own: they build under one file lock, so the first worker
    synthesizes every unit into the unit cache while the others wait, then take all of them from it (about a second).
    """
    dest = tmp_path_factory.mktemp("sample") / "cdk.out"
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _build_sample(dest, sample_cache_dir())
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # the run's directory; each worker's basetemp is inside it
    with FileLock(shared / "sample.lock"):
        return _build_sample(dest, sample_cache_dir())


@pytest.fixture(scope="session")
def sample_assembly(sample_build) -> Synthesized:
    """The sample's joined assembly (the same templates and manifest one CDK app writes; the snapshots check it)."""
    return sample_build.synthesized


def _run_dir(tmp_path_factory) -> Path:
    """The directory every pytest-xdist worker of this run shares (the basetemp without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def sample_decisions(sample_assembly, tmp_path_factory) -> Path:
    """The IAM simulator's decisions on the sample, made once per run and shared by every permission check in the
    suite (the store keys each decision by everything that decides it and takes concurrent writers): a check of
    an edited assembly simulates only what the edit changed, as a warm `agentzone synth` does."""
    from filelock import FileLock

    from agentzone.config import load_landing_zone
    from agentzone.permissions.check import check_permissions

    shared = _run_dir(tmp_path_factory)
    store = shared / "sample-decisions.sqlite"
    with FileLock(shared / "sample-decisions.lock"):
        if not (shared / "sample-decisions.done").exists():
            check_permissions(sample_assembly.outdir, load_landing_zone(SAMPLE_CONFIG), decisions=store)
            (shared / "sample-decisions.done").touch()
    return store


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
    "tests/build/test_incremental.py",
    "tests/permissions/test_check.py",
    "tests/blueprints/test_eval_pipeline.py",
    "tests/test_composition.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0]
        return SLOW_FIRST.index(module) if module in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: every module keeps its tests in order, the rest keep pytest's order
