"""Layout of the two catalog tables, shared by the CDK construct and the boto3 library.

One definition, so the deployed key schema and the code that reads and writes
it cannot drift. Changing a key here replaces the (retained) tables.
"""

from __future__ import annotations

from typing import Literal

from .. import naming

MODEL_KINDS = ("model",)
COMPONENT_KINDS = ("tool", "mcp-server", "agent", "application")
KINDS = MODEL_KINDS + COMPONENT_KINDS
Kind = Literal["model", "tool", "mcp-server", "agent", "application"]

# Approval flow: draft -> pending -> approved; deprecated is terminal.
STATES = ("draft", "pending", "approved", "deprecated")
State = Literal["draft", "pending", "approved", "deprecated"]

PARTITION_KEY = "pk"  # "<kind>#<name>", e.g. "tool#claims-lookup"
SORT_KEY = "version"  # semantic version, e.g. "1.2.0"
STATE_INDEX = "by-state"  # list by state, narrowed by kind or name with the sort key
STATE_INDEX_PARTITION_KEY = "state"
STATE_INDEX_SORT_KEY = PARTITION_KEY

TABLE_NAMES = {"model": naming.MODEL_CATALOG_TABLE, "component": naming.COMPONENT_CATALOG_TABLE}


def catalog_of(kind: str) -> Literal["model", "component"]:
    """Models live in the model catalog; tools, MCP servers, agents and applications in the component catalog."""
    return "model" if kind in MODEL_KINDS else "component"


def partition_key(kind: str, name: str) -> str:
    return f"{kind}#{name}"
