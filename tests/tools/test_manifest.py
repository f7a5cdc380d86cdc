"""Tool manifests: prefix rules, every problem at once with its file, line and key, and the examples valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentzone.tools.manifest import load_manifests, prefix_problems

from .manifests import EXAMPLES, LAMBDA_MANIFEST, VAULT, lambda_manifest, write


def test_example_manifests_are_valid():
    loaded, problems = load_manifests(sorted(EXAMPLES.glob("*.yaml")), known_tenants={"claims", "fraud"})
    assert not problems and {m.manifest.prefix for m in loaded} == {"shared-claims", "fraud-scoring"}


@pytest.mark.parametrize(
    "prefix, owner, fragment",
    [
        ("claims-lookup", "claims", None),
        ("shared-docs", "shared", None),
        ("Claims-Lookup", "claims", "lowercase"),
        ("claims--lookup", "claims", "single '-'"),
        ("claims_lookup", "claims", "lowercase"),
        ("lookup", "claims", "must start with 'claims-'"),
        ("claims-", "claims", "must start with 'claims-'"),
        ("claims", "claims", "must start with 'claims-'"),
        ("fraud-lookup", "claims", "must start with 'claims-'"),
        ("claims-lookup", "shared", "must start with 'shared-'"),
        ("shared-" + "x" * 40, "shared", "at most 40"),
    ],
)
def test_prefix_rules(prefix, owner, fragment):
    problems = prefix_problems(prefix, owner)
    assert (not problems) if fragment is None else any(fragment in p for p in problems), problems


def test_several_problems_at_once_with_lines(tmp_path):
    path = write(
        tmp_path,
        "bad.yaml",
        f"""\
        name: lookup
        description: Look up customers
        gateway: tenant
        prefix: shared-lookup
        target:
          lambda_function:
            arn: arn:aws:lambda:eu-west-1:100000000011:function:lookup
            tool_schema_s3_uri: s3://schemas-bucket/lookup.json
          mcp_server:
            endpoint: https://mcp.example.com/mcp
        auth:
          oauth:
            provider_arn: {VAULT}/oauth2credentialprovider/x
            scopes: [read]
        compliance:
          data_classification: secret
          pii: yes please
          owner: team@example.com
          approved_by: team@example.com
          catalog_ref: CAT-1
          ownr: me
        """,
    )
    loaded, problems = load_manifests([path])
    found = {(p.line, p.path) for p in problems}
    assert (16, "compliance.data_classification") in found
    assert (17, "compliance.pii") in found
    assert (21, "compliance.ownr") in found
    assert all(p.file.endswith("bad.yaml") for p in problems) and not loaded
    assert any("did you mean 'owner'" in p.message for p in problems)


def test_semantic_problems_point_at_their_keys(tmp_path):
    path = write(
        tmp_path,
        "bad.yaml",
        f"""\
        name: lookup
        description: Look up customers
        gateway: tenant
        prefix: lookup
        target:
          lambda_function:
            arn: arn:aws:lambda:eu-west-1:100000000011:function:lookup
            tool_schema_s3_uri: s3://schemas-bucket/lookup.json
        auth:
          oauth:
            provider_arn: {VAULT}/oauth2credentialprovider/x
            scopes: [read]
        compliance:
          data_classification: internal
          pii: false
          owner: team@example.com
          approved_by: Team@example.com
          catalog_ref: CAT-1
        """,
    )
    _, problems = load_manifests([path])
    by_path = {p.path: (p.line, p.message) for p in problems}
    assert by_path["gateway"][0] == 3 and "needs 'tenant" in by_path["gateway"][1]
    assert (
        by_path["prefix"][0] == 4 and "must start with 'shared-'" in by_path["prefix"][1]
    )  # no tenant: a platform tool
    assert (
        by_path["auth.oauth"][0] == 10 and "lambda_function targets accept gateway_iam_role" in by_path["auth.oauth"][1]
    )
    assert by_path["compliance.approved_by"][0] == 17


def test_exactly_one_target_and_auth(tmp_path):
    path = write(
        tmp_path,
        "m.yaml",
        LAMBDA_MANIFEST.format(name="xyz", gateway="shared", tenant="", prefix="shared-xyz").replace(
            "      gateway_iam_role: {}",
            f"      gateway_iam_role: {{}}\n      api_key: {{provider_arn: {VAULT}/apikeycredentialprovider/k}}",
        ),
    )
    _, problems = load_manifests([path])
    assert [(p.path, p.line) for p in problems] == [("auth", 13)]
    assert "exactly one auth method" in problems[0].message


def test_duplicate_prefixes_and_names_across_manifests(tmp_path):
    a = lambda_manifest(tmp_path, "a.yaml")
    b = lambda_manifest(tmp_path, "b.yaml", prefix="Claims-Lookup".lower())
    _, problems = load_manifests([a, b])
    assert {(Path(p.file).name, p.line, p.path) for p in problems} == {("b.yaml", 1, "name"), ("b.yaml", 5, "prefix")}
    assert "already used by" in problems[0].message and "a.yaml:" in problems[0].message


def test_unknown_tenant_is_reported(tmp_path):
    _, problems = load_manifests(
        [lambda_manifest(tmp_path, tenant="tenant: billing", prefix="billing-lookup")], {"claims", "fraud"}
    )
    assert [(p.path, p.line) for p in problems] == [("tenant", 4)]


def test_tool_names_must_fit_with_the_prefix(tmp_path):
    long_prefix = "claims-" + "x" * 33
    path = lambda_manifest(tmp_path, prefix=long_prefix)
    path.write_text(path.read_text().replace("lookup_customer", "lookup_customer_by_identifier"))
    _, problems = load_manifests([path])
    assert [(p.path, p.line) for p in problems] == [("target.lambda_function.tools[0].name", 10)]
