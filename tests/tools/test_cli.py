"""`agentzone tools validate`: problems are exit 2 with a message, never a traceback; tenants checked against config."""

from __future__ import annotations

import pytest

from agentzone.tools.cli import run

from ..conftest import SAMPLE_CONFIG
from .manifests import EXAMPLES, lambda_manifest


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("name: [unclosed\n", "invalid YAML"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("", "file is empty"),
    ],
)
def test_broken_files_are_problems_not_tracebacks(tmp_path, capsys, text, fragment):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    assert run(["tools", "validate", str(path)]) == 2
    assert fragment in capsys.readouterr().err


def test_validate_checks_tenants_against_the_config(tmp_path, capsys):
    assert run(["tools", "validate", str(EXAMPLES / "fraud-scoring.yaml"), "--config-dir", str(SAMPLE_CONFIG)]) == 0
    bad = lambda_manifest(tmp_path, tenant="tenant: billing", prefix="billing-lookup")
    assert run(["tools", "validate", str(bad), "--config-dir", str(SAMPLE_CONFIG)]) == 2
    assert "unknown tenant 'billing'" in capsys.readouterr().err
