"""A CloudWatch dashboard custom widget: one saved AWS Config advanced query, run against the organization's
aggregator, as an HTML table (the agent inventory, in the central security account).

CloudWatch calls it with the widget's ``params`` (``{"query": "<stored query name>"}``) when the dashboard is
viewed or refreshed. The expression is read from the stored query itself (``GetStoredQuery``), so the saved
query stays the one definition and a widget cannot be edited into running another. Environment:
``AGENTZONE_AGGREGATOR`` (the aggregator's name), ``AGENTZONE_QUERIES`` (comma-separated query names it may run).
"""

from __future__ import annotations

import html
import json
import os

import boto3

MAX_ROWS = 500  # enough for an organization's agents on one screen; the table says when it stops
PAGE = 100  # SelectAggregateResourceConfig returns at most 100 results per call
DOCS = """## AgentZone inventory widget
Runs one saved AWS Config advanced query against the organization aggregator and shows the rows.
```
params:
  query: agentzone-agent-inventory
```
"""


def _cell(value) -> str:
    """A result value as table text: tags as key=value pairs, other structures as JSON."""
    if isinstance(value, list) and all(isinstance(v, dict) and "key" in v for v in value):
        return ", ".join(f"{v['key']}={v.get('value', '')}" for v in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def rows(config, *, aggregator: str, expression: str) -> tuple[list[str], list[dict], bool]:
    """(columns, rows, truncated) of one query, at most MAX_ROWS rows."""
    found: list[dict] = []
    columns: list[str] = []
    token = None
    while len(found) < MAX_ROWS:
        kwargs = {"Expression": expression, "ConfigurationAggregatorName": aggregator, "Limit": PAGE}
        page = config.select_aggregate_resource_config(**kwargs, **({"NextToken": token} if token else {}))
        columns = columns or [f["Name"] for f in page.get("QueryInfo", {}).get("SelectFields", [])]
        found += [json.loads(result) for result in page.get("Results", [])]
        token = page.get("NextToken")
        if not token:
            return columns, found, False
    return columns, found[:MAX_ROWS], True


def render(query: str, columns: list[str], found: list[dict], truncated: bool) -> str:
    """An HTML table, every value escaped (resource names and tags are written by tenants)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(row.get(c, '')))}</td>" for c in columns) + "</tr>" for row in found
    )
    note = f"first {MAX_ROWS} rows; run the saved query in AWS Config for all" if truncated else f"{len(found)} rows"
    return (
        f"<p>{html.escape(query)}: {note}</p>"
        f'<table class="cwdb-no-default-styles"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def handler(event: dict, context=None) -> str:
    if event.get("describe"):
        return DOCS
    query = (event.get("widgetContext", {}).get("params") or event).get("query", "")
    allowed = [q for q in os.environ.get("AGENTZONE_QUERIES", "").split(",") if q]
    if query not in allowed:
        return f"<p>unknown query {html.escape(str(query))}; this widget runs {html.escape(', '.join(allowed))}</p>"
    config = boto3.client("config")
    expression = config.get_stored_query(QueryName=query)["StoredQuery"]["Expression"]
    columns, found, truncated = rows(config, aggregator=os.environ["AGENTZONE_AGGREGATOR"], expression=expression)
    return render(query, columns, found, truncated)
