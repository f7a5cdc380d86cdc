"""Session cost records in CloudWatch embedded metric format, and the cost estimate from model prices."""

from __future__ import annotations

import io
import json

import pytest

from agentzone.safety.metrics import NAMESPACE, emit_session_cost, estimate_cost_usd


def test_emf_record_publishes_session_and_tenant_metrics():
    out = io.StringIO()
    record = emit_session_cost(
        tenant="claims",
        environment="dev",
        session_id="s-1",
        session_cost_usd=1.25,
        step_cost_usd=0.05,
        timestamp_ms=1_700_000_000_000,
        stream=out,
    )
    assert json.loads(out.getvalue()) == record and out.getvalue().count("\n") == 1
    assert record["_aws"] == {
        "Timestamp": 1_700_000_000_000,
        "CloudWatchMetrics": [
            {
                "Namespace": NAMESPACE,
                "Dimensions": [["Tenant", "Environment", "SessionId"], ["Tenant", "Environment"]],
                "Metrics": [{"Name": "SessionCostUSD", "Unit": "None"}],
            },
            {
                "Namespace": NAMESPACE,
                "Dimensions": [["Tenant", "Environment"]],
                "Metrics": [{"Name": "CostUSD", "Unit": "None"}],
            },
        ],
    }
    assert {k: v for k, v in record.items() if k != "_aws"} == {
        "Tenant": "claims",
        "Environment": "dev",
        "SessionId": "s-1",
        "SessionCostUSD": 1.25,
        "CostUSD": 0.05,
    }
    # Every dimension and metric a directive names is a top-level member (EMF requirement).
    for directive in record["_aws"]["CloudWatchMetrics"]:
        for names in directive["Dimensions"]:
            assert all(n in record for n in names)
        assert all(m["Name"] in record for m in directive["Metrics"])


def test_emf_refuses_bad_values_and_estimates_cost_from_model_prices():
    with pytest.raises(ValueError):
        emit_session_cost(tenant="claims", environment="dev", session_id="", session_cost_usd=1, stream=io.StringIO())
    with pytest.raises(ValueError):
        emit_session_cost(tenant="claims", environment="dev", session_id="s", session_cost_usd=-1, stream=io.StringIO())
    prices = {"amazon.nova-lite-v1:0": [0.06, 0.24]}
    assert estimate_cost_usd(prices, "amazon.nova-lite-v1:0", 1000, 500) == pytest.approx(0.18)
    with pytest.raises(KeyError, match="model_prices"):
        estimate_cost_usd(prices, "other", 1, 1)
