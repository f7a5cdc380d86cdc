"""The catalog library against moto: registration, versions, lineage, the approval flow and tenant reads.

The moto tables are created from the construct's synthesized template (tests/catalog/conftest.py), so the
library is tested against exactly the key schema that gets deployed.
"""

from __future__ import annotations

from datetime import date

import pytest

from agentzone import naming
from agentzone.catalog import cli
from agentzone.catalog.spec import load_specs
from agentzone.catalog.store import (
    Catalog,
    IllegalTransition,
    ImmutableVersion,
    InvalidRequest,
    LineageError,
    NotFound,
)

from .conftest import ACCOUNT, EXAMPLES, REGION, ref, spec, spec_doc, write


def test_register_is_idempotent_and_versions_are_immutable(catalog, tmp_path):
    tool = spec(tmp_path)
    first = catalog.register(tool)
    assert first.created and first.entry.state == "draft"
    assert first.entry.registered_by == f"arn:aws:sts::{ACCOUNT}:user/moto"
    again = catalog.register(spec(tmp_path))
    assert not again.created and again.entry.content_hash == first.entry.content_hash

    with pytest.raises(ImmutableVersion) as info:
        catalog.register(load_specs([write(tmp_path, spec_doc(description="Now writes too."), "changed.yaml")])[0])
    assert str(info.value).startswith("tool/claims-lookup@1.2.0 is already registered with different content")
    assert "versions are immutable: bump the version (e.g. 1.2.1) and register that" in str(info.value)
    assert catalog.get("tool/claims-lookup@1.2.0").spec["description"] == "The claims-lookup tool."


def test_register_refuses_past_end_of_life_from_the_api(catalog, tmp_path):
    tool = spec(tmp_path)
    with pytest.raises(InvalidRequest, match="end of life 2099-12-31 is not in the future"):
        catalog.register(tool, today=date(2100, 1, 1))


def test_lineage_must_exist_and_not_be_deprecated(catalog, tmp_path):
    app = spec(
        tmp_path,
        kind="application",
        name="claims-app",
        version="1.0.0",
        lineage=[ref("tool", "claims-lookup", "1.2.0"), ref("model", "claude-sonnet", "4.5.0")],
    )
    with pytest.raises(LineageError) as info:
        catalog.register(app)
    assert str(info.value) == (
        "application/claims-app@1.0.0: lineage tool/claims-lookup@1.2.0 is not in the component catalog; "
        "register it first; model/claude-sonnet@4.5.0 is not in the model catalog; register it first"
    )
    catalog.register(spec(tmp_path))
    catalog.register(spec(tmp_path, kind="model", name="claude-sonnet", version="4.5.0"))
    catalog.deprecate("claude-sonnet@4.5.0", end_of_life=date(2099, 1, 1), reason="Superseded by 4.6.0.")
    with pytest.raises(
        LineageError,
        match=r"model/claude-sonnet@4.5.0 is deprecated \(end of life 2099-01-01\); reference a supported version",
    ):
        catalog.register(app)
    assert catalog.list(kind="application") == []


def test_approval_flow_and_illegal_transitions(catalog, reviewer, tmp_path):
    catalog.register(spec(tmp_path, kind="agent", name="claims-agent"))
    ref_ = "claims-agent@1.2.0"
    with pytest.raises(IllegalTransition, match=r"^agent/claims-agent@1.2.0 is draft; submit it before approving$"):
        reviewer.approve(ref_)
    with pytest.raises(IllegalTransition, match="is draft; only pending entries can be rejected"):
        reviewer.reject(ref_, reason="Not yet.")
    assert catalog.submit(ref_).state == "pending"
    with pytest.raises(IllegalTransition, match="is already pending approval"):
        catalog.submit(ref_)
    with pytest.raises(IllegalTransition, match="another identity must approve it"):
        catalog.approve(ref_)
    assert reviewer.reject(ref_, reason="Add a limitation about PII.").state == "draft"
    catalog.submit(ref_)
    approved = reviewer.approve(ref_)
    assert approved.state == "approved"
    assert approved.approved_by == f"arn:aws:sts::{ACCOUNT}:assumed-role/catalog-reviewer/reviewer"
    assert approved.approved_at.endswith("Z")
    assert [e["action"] for e in approved.history] == ["register", "submit", "reject", "submit", "approve"]
    assert approved.history[2]["note"] == "Add a limitation about PII."
    with pytest.raises(IllegalTransition, match="is already approved"):
        reviewer.approve(ref_)
    with pytest.raises(IllegalTransition, match="is approved; deprecate it instead"):
        reviewer.reject(ref_, reason="Too late.")


def test_approval_needs_approved_lineage(catalog, reviewer, tmp_path):
    catalog.register(spec(tmp_path))
    catalog.register(
        spec(
            tmp_path,
            kind="mcp-server",
            name="claims-mcp",
            version="0.1.0",
            lineage=[ref("tool", "claims-lookup", "1.2.0")],
        )
    )
    catalog.submit("claims-mcp@0.1.0")
    with pytest.raises(
        LineageError,
        match=r"^mcp-server/claims-mcp@0.1.0: lineage tool/claims-lookup@1.2.0 is draft; approve it first$",
    ):
        reviewer.approve("claims-mcp@0.1.0")
    catalog.submit("claims-lookup@1.2.0")
    reviewer.approve("claims-lookup@1.2.0")
    assert reviewer.approve("claims-mcp@0.1.0").state == "approved"


def test_deprecate(catalog, tmp_path):
    catalog.register(spec(tmp_path))
    with pytest.raises(
        InvalidRequest, match="later than the registered 2099-12-31; deprecation can only bring it forward"
    ):
        catalog.deprecate("claims-lookup@1.2.0", end_of_life=date(2100, 1, 1), reason="x")
    with pytest.raises(InvalidRequest, match="is in the past"):
        catalog.deprecate("claims-lookup@1.2.0", end_of_life=date(2000, 1, 1), reason="x")
    with pytest.raises(InvalidRequest, match="a reason is required"):
        catalog.deprecate("claims-lookup@1.2.0", end_of_life=date(2099, 1, 1), reason="  ")
    entry = catalog.deprecate("claims-lookup@1.2.0", end_of_life=date(2099, 1, 1), reason="Use 2.0.0.")
    assert (entry.state, entry.end_of_life, entry.deprecation["reason"]) == ("deprecated", "2099-01-01", "Use 2.0.0.")
    with pytest.raises(IllegalTransition, match=r"is already deprecated \(end of life 2099-01-01\)"):
        catalog.deprecate("claims-lookup@1.2.0", end_of_life=date(2099, 1, 1), reason="again")
    with pytest.raises(IllegalTransition, match="is deprecated; register a new version instead"):
        catalog.submit("claims-lookup@1.2.0")


def test_list_filters_and_semver_order(catalog, reviewer, tmp_path):
    for version in ["1.10.0", "1.9.0", "1.10.0-rc.1", "1.10.0-rc.10", "1.10.0-rc.2"]:
        catalog.register(spec(tmp_path, version=version))
    catalog.register(spec(tmp_path, kind="agent", name="claims-agent", version="1.0.0"))
    catalog.register(spec(tmp_path, kind="model", name="claude-sonnet", version="4.5.0"))
    catalog.submit("claims-lookup@1.9.0")
    reviewer.approve("claims-lookup@1.9.0")
    catalog.submit("claims-agent@1.0.0")

    assert [e.version for e in catalog.list(kind="tool")] == [
        "1.9.0",
        "1.10.0-rc.1",
        "1.10.0-rc.2",
        "1.10.0-rc.10",
        "1.10.0",
    ]
    assert [e.ref for e in catalog.list()][:2] == ["model/claude-sonnet@4.5.0", "tool/claims-lookup@1.9.0"]
    assert [e.ref for e in catalog.list(state="approved")] == ["tool/claims-lookup@1.9.0"]
    assert [e.ref for e in catalog.list(state="pending", kind="agent")] == ["agent/claims-agent@1.0.0"]
    drafts = catalog.list(state="draft", kind="tool", name="claims-lookup")
    assert drafts[0].ref == "tool/claims-lookup@1.10.0-rc.1"
    assert [e.ref for e in catalog.list(name="claude-sonnet")] == ["model/claude-sonnet@4.5.0"]
    assert catalog.list(kind="mcp-server") == []
    with pytest.raises(InvalidRequest, match="unknown state 'live'"):
        catalog.list(state="live")


def test_references_without_kind_must_be_unambiguous(catalog, tmp_path):
    catalog.register(spec(tmp_path, kind="tool", name="claims", version="1.0.0"))
    catalog.register(spec(tmp_path, kind="agent", name="claims", version="1.0.0"))
    with pytest.raises(InvalidRequest, match=r"claims@1.0.0 is ambiguous \(tool/claims@1.0.0, agent/claims@1.0.0\)"):
        catalog.get("claims@1.0.0")
    assert catalog.get("agent/claims@1.0.0").kind == "agent"
    with pytest.raises(NotFound, match=r"^tool/claims@9\.9\.9 is not in the component catalog$"):
        catalog.get("tool/claims@9.9.9")


def test_tenant_reads_by_table_arn(catalog, tmp_path):
    catalog.register(spec(tmp_path))
    tenant_view = Catalog.for_account(ACCOUNT, REGION)
    assert tenant_view.tables["component"] == naming.catalog_table_arn(naming.COMPONENT_CATALOG_TABLE, ACCOUNT, REGION)
    assert [e.ref for e in tenant_view.list()] == ["tool/claims-lookup@1.2.0"]


def test_examples_register_in_lineage_order(catalog, reviewer):
    specs = load_specs(sorted(EXAMPLES.glob("*.yaml")), today=date(2026, 11, 1))
    for s in cli.dependency_order(specs):
        assert catalog.register(s, today=date(2026, 11, 1)).created
    assert [e.ref for e in catalog.dependents("tool/claims-lookup@1.2.0")] == [
        "application/claims-assistant@2.0.0-rc.1"
    ]
