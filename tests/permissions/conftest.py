"""Fixtures of the permissions tests: the sample config, and the suite's sample assembly loaded to break on purpose."""

from __future__ import annotations

import pytest

from agentzone.config import load_landing_zone
from agentzone.permissions.assembly import Assembly

from ..conftest import SAMPLE_CONFIG


@pytest.fixture(scope="module")
def lz():
    return load_landing_zone(SAMPLE_CONFIG)


@pytest.fixture
def assembly(sample_assembly) -> Assembly:
    """A fresh copy of the sample assembly, to break on purpose."""
    return Assembly.load(sample_assembly.outdir)
