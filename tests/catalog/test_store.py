"""Model and component catalogs: spec validation, the boto3 library and CLI against moto, and the CDK construct.

The moto tables are created from the construct's synthesized template, so
the library is tested against exactly the key schema that gets deployed.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import aws_cdk as cdk
import boto3
import pytest
import yaml
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template
from moto import mock_aws

from agentzone import naming
from agentzone.catalog import cli
from agentzone.catalog.spec import Reference, load_specs
from agentzone.catalog.store import (
    Catalog,
    IllegalTransition,
    ImmutableVersion,
    InvalidRequest,
    LineageError,
    NotFound,
)
from agentzone.config.source import ConfigError
from agentzone.constructs.catalog import READ_ACTIONS, Catalogs, CatalogsProps

from .conftest import ROOT, SAMPLE_CONFIG

ACCOUNT = "100000000011"  # shared services, dev, in the sample config
REGION = "eu-west-1"
READERS = ["111111111111", "222222222222"]
ORG_ID = "o-a1b2c3d4e5"
EXAMPLES = ROOT / "examples" / "catalog"


# ------------------------------------------------------------------ fixtures


def catalog_stack(key: kms.IKey | None = None, readers=READERS) -> tuple[cdk.Stack, Catalogs]:
    app = cdk.App()
    stack = cdk.Stack(app, "SharedServices", env=cdk.Environment(account=ACCOUNT, region=REGION))
    key = key or kms.Key(stack, "Key", enable_key_rotation=True)
    props = CatalogsProps(encryption_key=key, reader_accounts=readers, organization_id=ORG_ID)
    return stack, Catalogs(stack, "Catalogs", props=props)


@pytest.fixture(scope="module")
def template() -> Template:
    stack, _ = catalog_stack()
    return Template.from_stack(stack)


@pytest.fixture
def aws(monkeypatch, tmp_path, template):
    """moto with the construct's tables, in the sample's dev shared-services account."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no credentials: fail fast, do not probe IMDS
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        for resource in template.find_resources("AWS::DynamoDB::GlobalTable").values():
            props = resource["Properties"]
            client.create_table(
                TableName=props["TableName"],
                KeySchema=props["KeySchema"],
                AttributeDefinitions=props["AttributeDefinitions"],
                BillingMode=props["BillingMode"],
                GlobalSecondaryIndexes=[
                    {k: g[k] for k in ("IndexName", "KeySchema", "Projection")}
                    for g in props.get("GlobalSecondaryIndexes", [])
                ],
            )
        yield


def reviewer_credentials() -> dict[str, str]:
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/catalog-reviewer", RoleSessionName="reviewer"
    )["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


@pytest.fixture
def catalog(aws) -> Catalog:
    return Catalog()


@pytest.fixture
def reviewer(aws) -> Catalog:
    creds = reviewer_credentials()
    session = boto3.Session(
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"],
        region_name=REGION,
    )
    return Catalog(session=session)


def spec_doc(kind="tool", name="claims-lookup", version="1.2.0", **overrides) -> dict:
    doc = {
        "kind": kind,
        "name": name,
        "version": version,
        "owner": "claims-ai@example.com",
        "description": f"The {name} {kind}.",
        "intended_use": "Claims agents.",
        "limitations": ["Read-only."],
        "consumption": "SaaS",
        "endpoint": f"https://tools.example.com/{name}",
        "lifecycle": {"stage": "ga", "end_of_life": "2099-12-31"},
    }
    doc.update(overrides)
    return doc


def write(tmp_path: Path, doc: dict | str, name: str | None = None) -> Path:
    path = tmp_path / (name or f"{doc['kind']}-{doc['name']}-{doc['version']}.yaml")
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return path


def spec(tmp_path, **kwargs):
    return load_specs([write(tmp_path, spec_doc(**kwargs))])[0]


def ref(kind, name, version):
    return {"kind": kind, "name": name, "version": version}


# ------------------------------------------------------------------ spec


@pytest.mark.parametrize("version", ["0.0.1", "1.2.0", "10.20.30", "1.0.0-alpha", "1.0.0-rc.1", "2.0.0-x-y.7.z.92"])
def test_semver_accepted(version):
    assert Reference(kind="tool", name="claims-lookup", version=version).version == version


@pytest.mark.parametrize("version", ["1.2", "v1.2.0", "01.2.0", "1.2.0-", "1.2.0-01", "1.2.0+build.5", "latest"])
def test_semver_refused(tmp_path, version):
    path = write(tmp_path, spec_doc(version=version), "bad.yaml")
    with pytest.raises(ConfigError) as info:
        load_specs([path])
    assert f"{path}:3: version: must" in info.value.render()


def test_unquoted_number_version_explains_quoting(tmp_path):
    path = write(tmp_path, yaml.safe_dump(spec_doc()).replace("version: 1.2.0", "version: 1.2"), "bad.yaml")
    with pytest.raises(ConfigError) as info:
        load_specs([path])
    assert "quoted (YAML reads an unquoted 1.0 as a number) (got 1.2)" in info.value.render()


def test_spec_problems_all_at_once_with_file_line_and_key_path(tmp_path):
    text = """\
kind: application
name: Claims_App
version: "1.0.0"
ownr: claims-ai@example.com
description: An app.
intended_use: Adjusters.
limitations: []
consumption: saas
endpoint: http://app.example.com
lifecycle: {stage: deprecated, end_of_life: 2099-12-31}
lineage:
  - {kind: application, name: other-app, version: 1.0.0}
"""
    bad = write(tmp_path, text, "app.yaml")
    also_bad = write(tmp_path, spec_doc(kind="widget"), "widget.yaml")
    with pytest.raises(ConfigError) as info:
        load_specs([bad, also_bad])
    rendered = info.value.render()
    assert rendered.startswith("9 configuration problems:")
    for line in [
        f"{bad}:1: owner: required key 'owner' is missing",
        f"{bad}:2: name: 'Claims_App' is not a valid slug",
        f"{bad}:4: ownr: unknown key 'ownr' (did you mean 'owner'?)",
        f"{bad}:7: limitations: must have at least 1 item(s)",
        f"{bad}:8: consumption: 'saas' is not valid; valid values: 'SaaS' or 'PaaS'",
        f"{bad}:9: endpoint: must be an https:// URL or an ARN",
        f"{bad}:10: lifecycle.stage: 'deprecated' is not valid; valid values: 'preview' or 'ga'",
        f"{bad}:12: lineage[0].kind: 'application' is not valid; valid values: 'model', 'tool', 'mcp-server' or 'agent'",
        f"{also_bad}:1: kind: 'widget' is not valid; valid values: 'model', 'tool', 'mcp-server', 'agent' or 'application'",
    ]:
        assert line in rendered


def test_cross_field_problems_point_at_their_lines(tmp_path):
    doc = spec_doc(
        kind="agent",
        name="claims-agent",
        consumption="PaaS",
        lifecycle={"stage": "ga", "end_of_life": "2026-01-01"},
        lineage=[
            ref("tool", "claims-lookup", "1.0.0"),
            ref("tool", "claims-lookup", "1.1.0"),
            ref("agent", "claims-agent", "1.0.0"),
        ],
    )
    path = write(tmp_path, doc, "agent.yaml")
    with pytest.raises(ConfigError) as info:
        load_specs([path], today=date(2026, 6, 1))
    rendered = info.value.render()
    assert f"{path}:1: deployment: required when consumption is PaaS" in rendered
    assert "lifecycle.end_of_life: end of life 2026-01-01 is not in the future (today is 2026-06-01)" in rendered
    assert "lineage[1]: tool/claims-lookup is already referenced at lineage[0]" in rendered
    assert "lineage[2]: agent/claims-agent@1.0.0 is this entry itself" in rendered


def test_content_hash_ignores_spelled_out_defaults(tmp_path):
    plain = spec(tmp_path)
    explicit = load_specs([write(tmp_path, spec_doc(tags={}, lineage=[]), "explicit.yaml")])[0]
    assert plain.content_hash() == explicit.content_hash()
    changed = load_specs([write(tmp_path, spec_doc(description="Changed."), "changed.yaml")])[0]
    assert changed.content_hash() != plain.content_hash()


# ------------------------------------------------------------------ library


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
        "application/claims-app@1.0.0: lineage tool/claims-lookup@1.2.0 is not in the component catalog; register it first; "
        "model/claude-sonnet@4.5.0 is not in the model catalog; register it first"
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
    assert [e.ref for e in catalog.list(state="draft", kind="tool", name="claims-lookup")][
        0
    ] == "tool/claims-lookup@1.10.0-rc.1"
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
    with pytest.raises(NotFound, match="^tool/claims@9.9.9 is not in the component catalog$"):
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


# ------------------------------------------------------------------ CLI


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.run([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_end_to_end(aws, tmp_path, capsys, monkeypatch):
    tool = write(tmp_path, spec_doc())
    app = write(
        tmp_path,
        spec_doc(
            kind="application", name="claims-app", version="1.0.0", lineage=[ref("tool", "claims-lookup", "1.2.0")]
        ),
    )

    code, out, err = run(capsys, "register", app, tool)  # given out of order: the tool goes first
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith("registered tool/claims-lookup@1.2.0 as draft (sha256:")
    assert out.splitlines()[1].startswith("registered application/claims-app@1.0.0 as draft")

    code, out, _ = run(capsys, "register", tool)
    assert (code, out) == (
        0,
        "tool/claims-lookup@1.2.0 is already registered with identical content (draft); nothing changed\n",
    )

    changed = write(tmp_path, spec_doc(limitations=["Read-only.", "Slow."]), "changed.yaml")
    code, _, err = run(capsys, "register", changed)
    assert code == 1
    assert err.startswith("agentzone catalog: tool/claims-lookup@1.2.0 is already registered with different content")
    assert "Traceback" not in err

    code, out, _ = run(capsys, "submit", "claims-lookup@1.2.0")
    assert (code, out) == (0, "tool/claims-lookup@1.2.0: draft -> pending\n")
    code, _, err = run(capsys, "approve", "claims-app@1.0.0")
    assert (code, err) == (1, "agentzone catalog: application/claims-app@1.0.0 is draft; submit it before approving\n")
    code, _, err = run(capsys, "approve", "claims-lookup@1.2.0")
    assert code == 1 and "another identity must approve it (four eyes)" in err

    for name, value in reviewer_credentials().items():
        monkeypatch.setenv(name, value)
    code, out, _ = run(capsys, "approve", "tool/claims-lookup@1.2.0")
    assert (code, out) == (0, "tool/claims-lookup@1.2.0: pending -> approved\n")

    code, out, _ = run(capsys, "list", "--json", "--state", "approved")
    rows = json.loads(out)
    assert [(r["ref"], r["approved_by"]) for r in rows] == [
        ("tool/claims-lookup@1.2.0", f"arn:aws:sts::{ACCOUNT}:assumed-role/catalog-reviewer/reviewer")
    ]
    code, out, _ = run(capsys, "list", "--kind", "application")
    assert out.splitlines() == [
        "kind         name        version  state  owner                  end-of-life",
        "application  claims-app  1.0.0    draft  claims-ai@example.com  2099-12-31",
    ]
    code, out, _ = run(capsys, "show", "claims-lookup@1.2.0")
    assert code == 0 and "  used by:      application/claims-app@1.0.0" in out
    code, out, _ = run(capsys, "show", "claims-lookup@1.2.0", "--json")
    assert json.loads(out)["used_by"] == ["application/claims-app@1.0.0"]

    code, out, _ = run(
        capsys, "deprecate", "claims-lookup@1.2.0", "--end-of-life", "2099-06-30", "--reason", "Use 2.0.0."
    )
    assert code == 0
    assert (
        out == "tool/claims-lookup@1.2.0: approved -> deprecated\n  still referenced by: application/claims-app@1.0.0\n"
    )
    newer_app = write(
        tmp_path,
        spec_doc(
            kind="application", name="claims-app", version="1.1.0", lineage=[ref("tool", "claims-lookup", "1.2.0")]
        ),
    )
    code, _, err = run(capsys, "register", newer_app)
    assert code == 1 and "lineage tool/claims-lookup@1.2.0 is deprecated (end of life 2099-06-30)" in err


def test_cli_bad_input_exits_2_and_writes_nothing(aws, tmp_path, capsys):
    good = write(tmp_path, spec_doc())
    bad = write(tmp_path, spec_doc(kind="agent", name="claims-agent", version="1.2", owner="nobody"))
    code, out, err = run(capsys, "register", good, bad)
    assert code == 2 and out == ""
    assert err.splitlines()[0] == "2 configuration problems:"
    assert f"{bad}:3: version: must be a semantic version" in err
    assert f"{bad}:4: owner: 'nobody' is not an email address" in err
    assert run(capsys, "list")[1] == "no catalog entries match\n"

    code, _, err = run(capsys, "show", "claims-lookup")
    assert code == 2 and "'claims-lookup' is not a catalog reference; write NAME@VERSION" in err
    code, _, err = run(capsys, "deprecate", "claims-lookup@1.2.0", "--end-of-life", "soon", "--reason", "x")
    assert code == 2 and "'soon' is not a date; write YYYY-MM-DD" in err
    code, _, err = run(capsys, "show", "claims-lookup@9.9.9")
    assert (code, err) == (1, "agentzone catalog: claims-lookup@9.9.9 is not in the catalogs\n")


def test_cli_environment_resolves_the_shared_services_tables(aws, tmp_path, capsys):
    from agentzone.config import load_landing_zone

    assert load_landing_zone(SAMPLE_CONFIG).organization.environments["dev"].shared_services == ACCOUNT
    run(capsys, "register", write(tmp_path, spec_doc()))
    code, out, _ = run(capsys, "list", "--environment", "dev", "--config-dir", SAMPLE_CONFIG)
    assert code == 0 and "claims-lookup" in out
    # staging's shared-services account has no tables here: a clear AWS error, exit 1.
    code, _, err = run(capsys, "list", "--environment", "staging", "--config-dir", SAMPLE_CONFIG)
    assert code == 1 and "catalog table not found" in err and "Traceback" not in err
    code, _, err = run(capsys, "list", "--environment", "qa", "--config-dir", SAMPLE_CONFIG)
    assert (code, err) == (2, "agentzone catalog: unknown environment 'qa'; valid: dev, staging, prod\n")
    code, _, err = run(capsys, "list", "--environment", "dev", "--region", "eu-west-1")
    assert code == 2 and "do not combine it with --region" in err


def test_cli_without_credentials_exits_2(aws, monkeypatch, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    code, _, err = run(capsys, "list")
    assert (code, err) == (
        2,
        "agentzone catalog: no AWS credentials found; sign in (e.g. aws sso login) or pass --profile\n",
    )


# ------------------------------------------------------------------ construct


def tables_of(template: Template) -> dict[str, dict]:
    return template.find_resources("AWS::DynamoDB::GlobalTable")


def test_tables_are_encrypted_recoverable_protected_and_retained(template):
    tables = tables_of(template)
    assert sorted(t["Properties"]["TableName"] for t in tables.values()) == sorted(
        [naming.MODEL_CATALOG_TABLE, naming.COMPONENT_CATALOG_TABLE]
    )
    key_id = next(iter(template.find_resources("AWS::KMS::Key")))
    for table in tables.values():
        assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
        (replica,) = props["Replicas"]
        assert replica["SSESpecification"] == {"KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert replica["DeletionProtectionEnabled"] is True


def test_tenants_get_read_only_access_within_the_organization(template):
    for table in tables_of(template).values():
        name = table["Properties"]["TableName"]
        (statement,) = table["Properties"]["Replicas"][0]["ResourcePolicy"]["PolicyDocument"]["Statement"]
        principals = statement["Principal"]["AWS"]
        assert [p["Fn::Join"][1][-1] for p in principals] == [f":iam::{a}:root" for a in READERS]
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}
        assert sorted(statement["Action"]) == sorted(READ_ACTIONS)
        assert not [a for a in statement["Action"] if any(w in a for w in ("Put", "Update", "Delete", "Write", "*"))]
        resources = [r["Fn::Join"][1][-1] for r in statement["Resource"]]
        assert resources == [
            f":dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            f":dynamodb:{REGION}:{ACCOUNT}:table/{name}/index/*",
        ]


def test_reader_accounts_decrypt_only_through_dynamodb(template):
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "CatalogReadersDecryptViaDynamoDB",
                                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                                "Condition": {
                                    "StringEquals": {
                                        "kms:ViaService": f"dynamodb.{REGION}.amazonaws.com",
                                        "kms:CallerAccount": READERS,
                                        "aws:PrincipalOrgID": ORG_ID,
                                    }
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


def test_key_schema_comes_from_the_shared_layout(template):
    from agentzone.catalog import tables

    for table in tables_of(template).values():
        props = table["Properties"]
        assert props["KeySchema"] == [
            {"AttributeName": tables.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": tables.SORT_KEY, "KeyType": "RANGE"},
        ]
        (index,) = props["GlobalSecondaryIndexes"]
        assert index["IndexName"] == tables.STATE_INDEX


def test_no_readers_means_no_resource_policy():
    stack, _ = catalog_stack(readers=[])
    for table in tables_of(Template.from_stack(stack)).values():
        assert "ResourcePolicy" not in table["Properties"]["Replicas"][0]


def test_imported_key_warns_that_its_policy_was_not_changed():
    app = cdk.App()
    stack = cdk.Stack(app, "SharedServices", env=cdk.Environment(account=ACCOUNT, region=REGION))
    key = kms.Key.from_key_arn(
        stack, "Imported", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    )
    props = CatalogsProps(encryption_key=key, reader_accounts=READERS, organization_id=ORG_ID)
    Catalogs(stack, "Catalogs", props=props)
    Annotations.from_stack(stack).has_warning(
        "/SharedServices/Catalogs", Match.string_like_regexp("its key policy was not changed")
    )


def test_grant_write_never_allows_deletes():
    stack, catalogs = catalog_stack()
    role = iam.Role(stack, "Publisher", assumed_by=iam.AccountRootPrincipal())
    catalogs.grant_write(role)
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    actions = {
        a
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem"} <= actions
    assert not {a for a in actions if "Delete" in a or "BatchWrite" in a}


def test_reader_accounts_must_be_account_ids():
    with pytest.raises(ValueError, match="12-digit account ids"):
        catalog_stack(readers=["1234"])


def test_the_agentzone_command_carries_catalog_and_tools(aws, capsys):
    """The same commands through `agentzone` itself (the entry point users run), end to end in moto."""
    from agentzone import cli as agentzone_cli

    examples = Path(__file__).resolve().parents[1] / "examples"
    specs = [str(examples / "catalog" / name) for name in ("claude-sonnet.model.yaml", "claims-lookup.tool.yaml")]
    assert agentzone_cli.main(["catalog", "register", *specs]) == 0
    assert agentzone_cli.main(["catalog", "register", *specs]) == 0  # same content again: a no-op
    capsys.readouterr()
    assert agentzone_cli.main(["catalog", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    refs = {(e["ref"], e["state"]) for e in (listed if isinstance(listed, list) else listed["entries"])}
    assert {r for r, _ in refs} >= {"tool/claims-lookup@1.2.0"} and all(state == "draft" for _, state in refs)
    assert agentzone_cli.main(["catalog", "approve", "tool/claims-lookup@1.2.0"]) == 1  # still draft: refused
    assert "draft" in capsys.readouterr().err
    assert agentzone_cli.main(["tools", "validate", str(examples / "tools" / "shared-claims.yaml")]) == 0
