"""Change safety: stateful resources are retained, config changes move nothing they should not,
and reordering the config changes nothing at all."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from agentzone import cli
from agentzone.build.cache import UnitCache
from agentzone.build.engine import build
from agentzone.config import load_landing_zone
from agentzone.guard import STATEFUL_TYPES, Violation, compare, guard, load_assembly
from agentzone.permissions.check import check_permissions, render
from agentzone.units import Selection

from .conftest import sample_cache_dir


def synth(config_dir: Path, outdir: Path) -> Path:
    """The edited config through the synth engine and the suite's unit cache: only the units the edit touches are
    built again (the rest verify and come from the sample's build), as `agentzone synth` would do. They are
    synthesized with every nag pack but not linted: these tests are about which templates change and what the
    landing zone allows, and cfn-lint and checkov (two thirds of a unit's build) change neither."""
    lz = load_landing_zone(config_dir)
    result = build(lz, Selection(), outdir, cache=UnitCache(sample_cache_dir()), jobs=2, checks=False)
    assert not result.failures, result.failures
    return outdir


def template_bytes(outdir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(outdir.glob("*.template.json"))}


def changed_templates(before: Path, after: Path) -> set[str]:
    old, new = template_bytes(before), template_bytes(after)
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


def rewrite(path: Path, mutate) -> None:
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


# ------------------------------------------------------------------ retention


def test_every_stateful_resource_is_retained(sample_assembly):
    seen_types = set()
    offenders = []
    for name, template in sample_assembly.templates.items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] in STATEFUL_TYPES:
                seen_types.add(resource["Type"])
                if resource.get("DeletionPolicy") != "Retain" or resource.get("UpdateReplacePolicy") != "Retain":
                    offenders.append(f"{name}/{logical_id} ({resource['Type']})")
    assert {"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::BedrockAgentCore::Memory"} <= seen_types
    assert not offenders, "stateful resources without Retain:\n" + "\n".join(offenders)


# --------------------------------------------------------------- guard logic


def assembly(resources: dict, env: str = "aws://111111111111/eu-west-1") -> dict:
    return {"S": (env, {"Resources": resources})}


BUCKET = {
    "Type": "AWS::S3::Bucket",
    "Properties": {"BucketName": "data", "VersioningConfiguration": {"Status": "Enabled"}},
}


@pytest.mark.parametrize(
    "new,reason",
    [
        (assembly({}), "logical id removed"),
        (assembly({"B": {**BUCKET, "Type": "AWS::DynamoDB::Table"}}), "type changes to AWS::DynamoDB::Table"),
        (
            assembly({"B": {**BUCKET, "Properties": {**BUCKET["Properties"], "BucketName": "other"}}}),
            "create-only property BucketName changes",
        ),
        (
            assembly({"B": BUCKET}, env="aws://111111111111/eu-central-1"),
            "stack moves from aws://111111111111/eu-west-1 to aws://111111111111/eu-central-1",
        ),
        ({}, "stack removed"),
    ],
)
def test_guard_flags_loss(new, reason):
    (violation,) = compare(assembly({"B": BUCKET}), new)
    assert violation.stack == "S" and violation.logical_id == "B" and reason in violation.reason


def test_guard_allows_in_place_updates_and_stateless_removals():
    old = assembly({"B": BUCKET, "P": {"Type": "AWS::S3::BucketPolicy", "Properties": {}}})
    new = assembly(
        {"B": {**BUCKET, "Properties": {"BucketName": "data", "VersioningConfiguration": {"Status": "Suspended"}}}}
    )
    assert compare(old, new) == []


def test_memory_name_is_create_only_per_cfn_schema():
    memory = {"Type": "AWS::BedrockAgentCore::Memory", "Properties": {"Name": "a", "EventExpiryDuration": 30}}
    renamed = {**memory, "Properties": {"Name": "b", "EventExpiryDuration": 30}}
    longer = {**memory, "Properties": {"Name": "a", "EventExpiryDuration": 90}}
    assert [v.reason for v in compare(assembly({"M": memory}), assembly({"M": renamed}))] == [
        "create-only property Name changes: resource would be replaced"
    ]
    assert compare(assembly({"M": memory}), assembly({"M": longer})) == []


# ------------------------------------------------- scripted config changes


def test_adding_a_tenant_changes_only_its_stacks_and_the_logging_identity_and_shared_services_stacks(
    sample_assembly, sample_decisions, config_copy, tmp_path
):
    """The tenant's own stacks appear (its reader and dashboard, its OAuth2 client in their own stacks). The
    platform stacks change only where a policy lists its accounts: Logging (sink and replication policies),
    Security (the credentials key's decrypt statement), SharedServices (catalog readers, MLflow role, gateway
    endpoint principals) and DataLake (the tenant's LF-tag value); everything else, Organization included, stays
    byte-identical."""
    claims = (config_copy / "tenants/claims.yaml").read_text()
    billing = claims.replace("tenant: claims", "tenant: billing").replace("UC-0042", "UC-0077")
    for old, new in (
        ("111111111111", "777777777777"),
        ("222222222222", "888888888888"),
        ("333333333333", "999999999999"),
    ):
        billing = billing.replace(old, new)
    (config_copy / "tenants/billing.yaml").write_text(billing)
    after = synth(config_copy, tmp_path / "out")
    envs = ("dev", "staging", "prod")
    changed = changed_templates(sample_assembly.outdir, after)
    products = {name for name in changed if name.endswith(".product.template.json")}
    assert len(products) == 2 * len(envs) and all(
        name.startswith("AgentZonebilling") for name in products
    )  # its Service Catalog products
    assert changed - products == (
        {f"AgentZone-billing-{e}.template.json" for e in envs}
        | {f"AgentZone-billing-{e}-services.template.json" for e in envs}
        | {
            f"AgentZone-billing-{e}-{kind}.template.json"
            for e in envs
            for kind in ("data", "observability", "identity")
        }
        | {"AgentZone-billing-governance.template.json"}
        | {
            f"AgentZone-{role}-{e}.template.json"
            for role in ("Logging", "Security", "SharedServices", "DataLake")
            for e in envs
        }
    )
    assert guard(sample_assembly.outdir, after) == []
    # The new tenant works with the rest of the landing zone from its first synth: its grants are live, its
    # designed paths allowed, the other tenants' data out of its reach and its names wired (docs/permissions.md).
    report = check_permissions(after, load_landing_zone(config_copy), decisions=sample_decisions)
    assert report.ok, render(report)
    counts = report.counts()
    assert all(counts[f"billing/{e}"]["designed"] >= 40 and counts[f"billing/{e}"]["forbidden"] >= 25 for e in envs), (
        counts
    )
    reached = {p.path.title for p in report.paths if p.path.tenant == "billing" and p.path.kind == "forbidden"}
    assert "tenant reader -> claims's invocation logs" in reached  # isolation against the next tenant by name


def test_removing_a_blueprint_is_caught_and_touches_only_that_tenant(sample_assembly, config_copy, tmp_path):
    rewrite(config_copy / "tenants/fraud.yaml", lambda d: d.pop("blueprints"))
    after = synth(config_copy, tmp_path / "out")
    # The governance stack changes too: without an evaluation pipeline, fraud's SCP drops the judge-role exemption.
    assert changed_templates(sample_assembly.outdir, after) == {
        f"AgentZone-fraud-{e}.template.json" for e in ("dev", "staging", "prod", "governance")
    }
    violations = guard(sample_assembly.outdir, after)
    # Per account: the memory, and the evaluation store (table, dataset and results buckets, pipeline logs).
    removed = sorted((v.stack, v.resource_type) for v in violations)
    per_account = ["AWS::BedrockAgentCore::Memory", "AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket", "AWS::S3::Bucket"]
    assert all(v.stack.startswith("AgentZone-fraud-") for v in violations)
    for env in ("dev", "prod", "staging"):
        kinds = sorted(t for s, t in removed if s == f"AgentZone-fraud-{env}" and t != "AWS::Logs::LogGroup")
        assert kinds == per_account, (env, kinds)
    assert all("logical id removed" in v.reason for v in violations)


def test_changing_a_budget_and_memory_expiry_updates_in_place(sample_assembly, config_copy, tmp_path):
    def mutate(d):
        d["budget"]["monthly_usd"] = 7500
        d["blueprints"]["memory"]["claims"]["expiry_days"] = 120

    rewrite(config_copy / "tenants/claims.yaml", mutate)
    after = synth(config_copy, tmp_path / "out")
    stacks = {f"AgentZone-claims-{e}.template.json" for e in ("dev", "staging", "prod", "governance")}
    # The gateway team's budget defaults to the tenant budget, so its services stacks change too.
    stacks |= {f"AgentZone-claims-{e}-services.template.json" for e in ("dev", "staging", "prod")}
    assert changed_templates(sample_assembly.outdir, after) == stacks
    assert guard(sample_assembly.outdir, after) == []


def test_reordering_lists_keys_and_files_is_byte_identical(sample_assembly, config_copy, tmp_path):
    def reverse_everything(node):
        if isinstance(node, dict):
            return {k: reverse_everything(node[k]) for k in reversed(list(node))}
        if isinstance(node, list):
            return [reverse_everything(v) for v in reversed(node)]
        return node

    for path in (config_copy / "tenants").glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        path.write_text(yaml.safe_dump(reverse_everything(data), sort_keys=False))
    org = yaml.safe_load((config_copy / "organization.yaml").read_text())
    org["allowed_regions"].reverse()
    org["environments"] = dict(reversed(list(org["environments"].items())))
    (config_copy / "organization.yaml").write_text(yaml.safe_dump(org, sort_keys=True))
    after = synth(config_copy, tmp_path / "out")
    assert changed_templates(sample_assembly.outdir, after) == set()


def test_guard_command_exit_codes(sample_assembly, tmp_path, capsys):
    # The assembly a region move in claims.yaml produces (its manifest places the stack in eu-central-1); the
    # guard reads only manifests and templates, so editing a copy stands in for a 30-second synth.
    after = tmp_path / "out"
    shutil.copytree(sample_assembly.outdir, after)
    manifest = json.loads((after / "manifest.json").read_text())
    manifest["artifacts"]["AgentZone-claims-prod"]["environment"] = "aws://333333333333/eu-central-1"
    (after / "manifest.json").write_text(json.dumps(manifest))
    assert cli.main(["guard", str(sample_assembly.outdir), str(after)]) == 1
    err = capsys.readouterr().err
    assert (
        "AgentZone-claims-prod/" in err
        and "stack moves from aws://333333333333/eu-west-1 to aws://333333333333/eu-central-1" in err
    )
    assert cli.main(["guard", str(sample_assembly.outdir), str(sample_assembly.outdir)]) == 0
    assert cli.main(["guard", str(tmp_path / "missing"), str(after)]) == 2


def test_violation_renders_its_location():
    assert Violation("S", "B", "AWS::S3::Bucket", "why").render() == "S/B (AWS::S3::Bucket): why"


def test_load_assembly_reads_environments(sample_assembly):
    loaded = load_assembly(sample_assembly.outdir)
    assert loaded["AgentZone-fraud-prod"][0] == "aws://666666666666/eu-central-1"
