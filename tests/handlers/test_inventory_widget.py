"""The inventory dashboard's custom widget against a botocore Stubber (moto implements no aggregator queries)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from agentzone.handlers import inventory_widget as widget

AGGREGATOR = "agentzone-organization"
EXPRESSION = "SELECT resourceId, resourceName, accountId, tags WHERE resourceType = 'AWS::BedrockAgentCore::Runtime'"


@pytest.fixture
def config(monkeypatch):
    monkeypatch.setenv("AGENTZONE_AGGREGATOR", AGGREGATOR)
    monkeypatch.setenv("AGENTZONE_QUERIES", "agentzone-agent-inventory,agentzone-agent-roles")
    client = boto3.client("config", region_name="eu-west-1")
    monkeypatch.setattr(widget.boto3, "client", lambda name, **_: client)
    return Stubber(client)


def _row(name: str, owner: str) -> str:
    return json.dumps(
        {
            "resourceId": f"{name}-abc",
            "resourceName": name,
            "accountId": "444444444444",
            "tags": [{"key": "owner", "value": owner}, {"key": "use-case-id", "value": "UC-0051"}],
        }
    )


def _stored(config: Stubber) -> None:
    config.add_response(
        "get_stored_query",
        {"StoredQuery": {"QueryName": "agentzone-agent-inventory", "Expression": EXPRESSION}},
        {"QueryName": "agentzone-agent-inventory"},
    )


def test_the_saved_query_runs_on_the_aggregator_and_renders_an_escaped_table(config):
    fields = {"SelectFields": [{"Name": n} for n in ("resourceId", "resourceName", "accountId", "tags")]}
    request = {"Expression": EXPRESSION, "ConfigurationAggregatorName": AGGREGATOR, "Limit": 100}
    _stored(config)
    config.add_response(
        "select_aggregate_resource_config",
        {"Results": [_row("fraud_investigator_prod", "fraud-ai@example.com")], "QueryInfo": fields, "NextToken": "n"},
        request,
    )
    config.add_response(
        "select_aggregate_resource_config",
        {"Results": [_row("<script>x</script>", "a&b@example.com")], "QueryInfo": fields},
        {**request, "NextToken": "n"},
    )
    with config:
        page = widget.handler({"query": "agentzone-agent-inventory", "widgetContext": {"dashboardName": "d"}})
    config.assert_no_pending_responses()
    assert page.startswith("<p>agentzone-agent-inventory: 2 rows</p>")
    assert "<th>resourceName</th>" in page and "<td>fraud_investigator_prod</td>" in page
    assert "<td>owner=fraud-ai@example.com, use-case-id=UC-0051</td>" in page  # tags as key=value
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page and "a&amp;b@example.com" in page


def test_a_widget_cannot_run_a_query_it_was_not_given(config):
    with config:  # no AWS call at all
        page = widget.handler({"query": "someone-elses-query"})
    assert page == (
        "<p>unknown query someone-elses-query; this widget runs agentzone-agent-inventory, agentzone-agent-roles</p>"
    )
    assert widget.handler({"describe": True}).startswith("## AgentZone inventory widget")


def test_large_inventories_stop_at_the_row_limit(config, monkeypatch):
    monkeypatch.setattr(widget, "MAX_ROWS", 2)
    _stored(config)
    config.add_response(
        "select_aggregate_resource_config",
        {"Results": [_row(f"agent{i}", "o@example.com") for i in range(3)], "NextToken": "more"},
        {"Expression": EXPRESSION, "ConfigurationAggregatorName": AGGREGATOR, "Limit": 100},
    )
    with config:
        page = widget.handler({"query": "agentzone-agent-inventory"})
    assert "first 2 rows; run the saved query in AWS Config for all" in page
