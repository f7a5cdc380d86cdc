"""The loaded assembly: resolving a stack's intrinsics across stacks."""

from __future__ import annotations

import pytest

from agentzone.permissions.assembly import Unresolvable


def test_an_import_no_stack_exports_is_reported(assembly):
    stack = assembly.stacks["AgentZone-claims-prod-data"]
    with pytest.raises(Unresolvable, match="imports agentzone-data-lake-missing, which no stack in 100000000034"):
        stack.resolve({"Fn::ImportValue": "agentzone-data-lake-missing"})
