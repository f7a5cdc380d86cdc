"""Self-service vending: the tenant's Service Catalog portfolio (shared services) and launch role (tenant account).

One tenant and environment is synthesized once for the module, with every nag
pack on: reaching the tests means the portfolio, the product templates and the
launch role are nag-clean.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_servicecatalog as servicecatalog

from agentzone import naming
from agentzone.blueprints import REGISTRY, products
from agentzone.cfn_lint import run_cfn_lint
from agentzone.composition import Selection, compose, create_app
from agentzone.config import load_landing_zone
from agentzone.config.model import MemoryResource, NagSettings
from agentzone.constructs import service_catalog as sc
from agentzone.nag import add_rule_packs
from agentzone.stacks import REQUIRED_TAGS

from ..conftest import SAMPLE_CONFIG

TENANT, ENV, ACCOUNT = "claims", "dev", "111111111111"
SERVICES, USE_CASE = f"AgentZone-{TENANT}-{ENV}-services", f"AgentZone-{TENANT}-{ENV}"
KEY_REFERENCE = f"{{{{resolve:ssm:{sc.KEY_PARAMETER}}}}}"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    before = sorted(sc.SNAPSHOT_DIR.glob("*")) if sc.SNAPSHOT_DIR.is_dir() else []
    outdir = tmp_path_factory.mktemp("catalog") / "cdk.out"
    app = create_app(outdir=str(outdir))
    lz = load_landing_zone(SAMPLE_CONFIG)
    stacks = {s.stack_name: s for s in compose(app, lz, Selection(tenant=TENANT, environment=ENV))}
    assembly = app.synth()  # every nag pack on: raises on an unacknowledged finding
    after = sorted(sc.SNAPSHOT_DIR.glob("*")) if sc.SNAPSHOT_DIR.is_dir() else []
    templates = {s.stack_name: s.template for s in assembly.stacks}
    catalog = stacks[SERVICES].catalog
    products = {
        name: json.loads((outdir / stack.template_file).read_text()) for name, stack in catalog.product_stacks.items()
    }
    return {
        "lz": lz,
        "outdir": outdir,
        "templates": templates,
        "products": products,
        "catalog": catalog,
        "snapshots": (before, after),
    }


def resources(template: dict, type_: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def only(template: dict, type_: str) -> dict:
    found = list(resources(template, type_).values())
    assert len(found) == 1, f"{len(found)} {type_}"
    return found[0]


def tag_dict(tags) -> dict[str, str]:
    return tags if isinstance(tags, dict) else {t["Key"]: t["Value"] for t in tags}


# ------------------------------------------------------------------ portfolio


def test_portfolio_per_tenant_environment_shared_only_with_that_account(synthesized):
    services = synthesized["templates"][SERVICES]
    portfolio = only(services, "AWS::ServiceCatalog::Portfolio")["Properties"]
    assert portfolio["DisplayName"] == f"agentzone-{TENANT}-{ENV}"
    assert portfolio["ProviderName"] == sc.PROVIDER
    shares = [r["Properties"]["AccountId"] for r in resources(services, "AWS::ServiceCatalog::PortfolioShare").values()]
    assert shares == [ACCOUNT]
    others = {
        e.account
        for t in synthesized["lz"].tenants
        for name, e in t.environments.items()
        if (t.tenant, name) != (TENANT, ENV)
    }
    text = json.dumps(services)
    assert not [a for a in others if a in text], (
        "another tenant or environment's account appears in the portfolio stack"
    )
    assert not resources(services, "AWS::ServiceCatalog::PortfolioPrincipalAssociation"), (
        "principals are associated in the tenant account"
    )
    assert not resources(services, "AWS::ServiceCatalog::TagOption"), (
        "tag options are account-wide: tenants sharing the account would collide"
    )


def test_the_tenant_account_imports_its_portfolio_by_the_id_the_services_stack_publishes(synthesized):
    """No one accepts the share by hand: the services stack shares the portfolio's id with the organization and the
    tenant's account stack accepts the share and associates its launchers (config), in the portfolio's region."""
    services = synthesized["templates"][SERVICES]
    (portfolio_id,) = resources(services, "AWS::ServiceCatalog::Portfolio")
    name = naming.tenant_portfolio_parameter(TENANT, ENV)
    (published,) = (r for r in resources(services, "AWS::SSM::Parameter").values() if r["Properties"]["Name"] == name)
    assert published["Properties"]["Value"] == {"Ref": portfolio_id} and published["Properties"]["Tier"] == "Advanced"
    template = synthesized["templates"][USE_CASE]
    imported = only(template, "Custom::ImportedPortfolio")["Properties"]
    assert template["Parameters"][imported["PortfolioId"]["Ref"]]["Default"] == naming.shared_parameter_arn(
        name, "100000000011", "eu-west-1"
    )
    assert imported["Region"] == "eu-west-1"
    assert imported["PrincipalArns"] == [f"arn:aws:iam::{ACCOUNT}:role/ClaimsDevelopers"]  # catalog_launchers
    # The provider may manage only the sharing account's portfolios, in its region.
    statements = [
        s
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    (catalog,) = (s for s in statements if "servicecatalog:AcceptPortfolioShare" in s["Action"])
    assert catalog["Resource"] == "arn:aws:catalog:eu-west-1:100000000011:portfolio/*"


def test_every_blueprint_is_offered_or_says_why_not():
    assert set(products.OFFERED) == {"memory", "guardrail"}
    assert set(products.OFFERED) == {key for key, spec in REGISTRY.items() if spec.catalog.offered}
    assert all(len(spec.catalog.reason) > 40 for spec in REGISTRY.values() if not spec.catalog.offered)


def test_each_product_has_one_artifact_named_after_the_library_version(synthesized):
    version = importlib.metadata.version("agentzone")
    assert version == sc.LIBRARY_VERSION
    products = resources(synthesized["templates"][SERVICES], "AWS::ServiceCatalog::CloudFormationProduct")
    assert sorted(p["Properties"]["Name"] for p in products.values()) == [
        f"AgentZone guardrail ({TENANT} {ENV})",
        f"AgentZone memory ({TENANT} {ENV})",
    ]
    for product in products.values():
        artifacts = product["Properties"]["ProvisioningArtifactParameters"]
        assert [a["Name"] for a in artifacts] == [version]
        assert artifacts[0]["DisableTemplateValidation"] is False
        assert product["Properties"]["Owner"] == sc.PROVIDER


def test_every_product_launches_with_the_local_launch_role(synthesized):
    services = synthesized["templates"][SERVICES]
    products = set(resources(services, "AWS::ServiceCatalog::CloudFormationProduct"))
    constraints = [c["Properties"] for c in resources(services, "AWS::ServiceCatalog::LaunchRoleConstraint").values()]
    assert {c["ProductId"]["Ref"] for c in constraints} == products
    assert (
        {c["LocalRoleName"] for c in constraints}
        == {sc.launch_role_name(TENANT)}
        == {f"agentzone-catalog-launch-{TENANT}"}
    )
    assert not any("RoleArn" in c for c in constraints)
    # The role is the tenant account's: nothing is created for it in shared services.
    assert sc.launch_role_name(TENANT) not in json.dumps(resources(services, "AWS::IAM::Role"))


def test_synth_never_writes_into_the_committed_snapshot_directory(synthesized):
    before, after = synthesized["snapshots"]
    assert before == after
    written = sorted(p.name for p in (synthesized["outdir"] / "product-stack-snapshots").glob("*"))
    assert len(written) == len(products.OFFERED)
    assert all(name.endswith(f".{sc.LIBRARY_VERSION}.product.template.json") for name in written)


# ------------------------------------------------------------------ product templates


def test_memory_product_is_a_retained_cmk_memory_with_expiry_parameter(synthesized):
    template = synthesized["products"]["memory"]
    memory = only(template, "AWS::BedrockAgentCore::Memory")
    assert memory["DeletionPolicy"] == memory["UpdateReplacePolicy"] == "Retain"
    props = memory["Properties"]
    assert props["EncryptionKeyArn"] == KEY_REFERENCE
    assert props["EventExpiryDuration"] == {"Ref": "ExpiryDays"}
    assert props["Name"] == {"Fn::Join": ["", [f"{TENANT}_", {"Ref": "Name"}, f"_{ENV}"]]}
    expiry = template["Parameters"]["ExpiryDays"]
    assert (expiry["MinValue"], expiry["MaxValue"], expiry["Default"]) == (7, 365, MemoryResource().expiry_days)
    assert template["Parameters"]["Name"]["AllowedPattern"] == r"^[a-z][a-z0-9_]{0,19}$"
    assert {"MemoryId", "MemoryArn"} <= set(template["Outputs"])


def test_guardrail_product_uses_the_tenant_policy_and_strength_parameters(synthesized):
    template = synthesized["products"]["guardrail"]
    guardrail = only(template, "AWS::Bedrock::Guardrail")["Properties"]
    assert guardrail["KmsKeyArn"] == KEY_REFERENCE
    assert [t["Name"] for t in guardrail["TopicPolicyConfig"]["TopicsConfig"]] == [
        "legal-advice"
    ]  # from config/tenants/claims.yaml
    filters = {f["Type"]: f for f in guardrail["ContentPolicyConfig"]["FiltersConfig"]}
    assert filters["HATE"]["InputStrength"] == filters["HATE"]["OutputStrength"] == {"Ref": "ContentFilterStrength"}
    assert filters["PROMPT_ATTACK"]["InputStrength"] == {"Ref": "PromptAttackStrength"}
    assert filters["PROMPT_ATTACK"]["OutputStrength"] == "NONE"
    for name in ("ContentFilterStrength", "PromptAttackStrength"):
        assert template["Parameters"][name]["AllowedValues"] == ["LOW", "MEDIUM", "HIGH"]
    # A new strength must publish a new version: the version's (replace-on-change) description carries both.
    description = json.dumps(only(template, "AWS::Bedrock::GuardrailVersion")["Properties"]["Description"])
    assert '{"Ref": "ContentFilterStrength"}' in description and '{"Ref": "PromptAttackStrength"}' in description
    assert {"GuardrailId", "GuardrailVersion"} <= set(template["Outputs"])


def test_guardrail_product_offers_only_the_filters_the_tenant_policy_has(tmp_path):
    from agentzone.config.model import GuardrailBlueprint

    tenant = load_landing_zone(SAMPLE_CONFIG).tenant(TENANT)
    tenant = tenant.model_copy(
        update={
            "blueprints": tenant.blueprints.model_copy(
                update={
                    "guardrail": GuardrailBlueprint(content_filter_strength="NONE", prompt_attack_strength="MEDIUM")
                }
            )
        }
    )
    app = create_app(outdir=str(tmp_path))
    parent = cdk.Stack(app, "Parent", env=cdk.Environment(account="100000000011", region="eu-west-1"))
    cdk.CfnWaitConditionHandle(parent, "Placeholder")  # a stack needs one resource of its own
    product = products.GuardrailProductStack(parent, "Guardrail", tenant=tenant, environment=ENV, tags={})
    app.synth()
    template = json.loads((tmp_path / product.template_file).read_text())
    assert [p for p in template["Parameters"] if p.endswith("Strength")] == ["PromptAttackStrength"]
    assert template["Parameters"]["PromptAttackStrength"]["Default"] == "MEDIUM"
    [attack] = only(template, "AWS::Bedrock::Guardrail")["Properties"]["ContentPolicyConfig"]["FiltersConfig"]
    assert attack == {
        "InputStrength": {"Ref": "PromptAttackStrength"},
        "OutputStrength": "NONE",
        "Type": "PROMPT_ATTACK",
    }


@pytest.mark.parametrize("blueprint", sorted(products.OFFERED))
def test_product_resources_carry_the_tenant_tags(synthesized, blueprint):
    template = synthesized["products"][blueprint]
    tagged = {k: v for k, v in template["Resources"].items() if "Tags" in v.get("Properties", {})}
    assert tagged
    for logical_id, resource in tagged.items():
        tags = tag_dict(resource["Properties"]["Tags"])
        assert {k: tags.get(k) for k in REQUIRED_TAGS} == {
            "owner": "claims-ai@example.com",
            "cost-center": "CC-1234",
            "use-case-id": "UC-0042",
            "environment": ENV,
        }, logical_id
        assert tags[sc.PRODUCT_TAG] == blueprint


@pytest.mark.parametrize("blueprint", sorted(products.OFFERED))
def test_product_roles_carry_the_boundary_and_keys_are_the_catalog_key(synthesized, blueprint):
    template = synthesized["products"][blueprint]
    assert not resources(template, "AWS::KMS::Key"), "the launch role may not create keys"
    for role in resources(template, "AWS::IAM::Role").values():
        assert f":policy/{sc.product_boundary_name(TENANT)}" in json.dumps(role["Properties"]["PermissionsBoundary"])
        assert "RoleName" not in role["Properties"], "CloudFormation must name it after the SC-<account>-pp- stack"
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Resource"] == KEY_REFERENCE


def test_product_templates_pass_cfn_lint(synthesized):
    # The account stacks are linted with the whole sample (test_cfn_lint).
    outdir = synthesized["outdir"]
    paths = [outdir / stack.template_file for stack in synthesized["catalog"].product_stacks.values()]
    result = run_cfn_lint(paths)
    assert result.errors == [], result.render()


def test_nag_checks_product_stacks(tmp_path):
    """The module fixture passing nag means something only if nag sees product templates at all."""
    app = create_app(outdir=str(tmp_path))
    parent = cdk.Stack(app, "Parent", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    cdk.CfnWaitConditionHandle(parent, "Placeholder")  # a stack needs one resource of its own
    s3.Bucket(servicecatalog.ProductStack(parent, "Product"), "Plain")
    add_rule_packs(app, NagSettings(aws_solutions=True, nist_800_53_r5=False, hipaa_security=False, pci_dss_321=False))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    paths = {
        c["constructPath"] for p in report["pluginReports"] for v in p["violations"] for c in v["violatingConstructs"]
    }
    assert paths == {"Parent/Product/Plain/Resource"}


# ------------------------------------------------------------------ tenant account


def launch_policy(template: dict) -> list[dict]:
    role_id = next(
        k
        for k, v in resources(template, "AWS::IAM::Role").items()
        if v["Properties"].get("RoleName") == sc.launch_role_name(TENANT)
    )
    policies = [
        p
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
    ]
    assert len(policies) == 1
    assert not [
        p for p in resources(template, "AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    return policies[0]["Properties"]["PolicyDocument"]["Statement"]


def test_launch_role_is_trusted_only_by_service_catalog_for_its_account(synthesized):
    template = synthesized["templates"][USE_CASE]
    role = next(
        r
        for r in resources(template, "AWS::IAM::Role").values()
        if r["Properties"].get("RoleName") == sc.launch_role_name(TENANT)
    )
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            "Effect": "Allow",
            "Principal": {"Service": "servicecatalog.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in role["Properties"]


def actions_of(statement: dict) -> list[str]:
    """A statement's actions as a list (IAM allows a single string)."""
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def assert_roles_are_the_launched_stacks_own(statements: list[dict], by_sid: dict[str, dict]) -> None:
    # Roles: only the launched stacks' own, only with the boundary, passed only to AgentCore.
    roles = f"arn:aws:iam::{ACCOUNT}:role/SC-{ACCOUNT}-pp-*"
    for statement in statements:
        if any(a.startswith("iam:") for a in actions_of(statement)):
            assert statement["Resource"] == roles, statement["Sid"]
    assert set(by_sid["ProductRolesWithBoundary"]["Action"]) == {
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
    }
    assert list(by_sid["ProductRolesWithBoundary"]["Condition"]["StringEquals"]) == ["iam:PermissionsBoundary"]
    assert by_sid["PassProductRolesToAgentCore"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "bedrock-agentcore.amazonaws.com"}
    }


def assert_keys_are_the_catalog_key(synthesized, statements: list[dict], by_sid: dict[str, dict]) -> None:
    # Keys: the catalog key only, and its data-key use only through Bedrock / AgentCore.
    kms_statements = [s for s in statements if any(a.startswith("kms:") for a in actions_of(s))]
    assert {json.dumps(s["Resource"]) for s in kms_statements} == {
        json.dumps({"Fn::GetAtt": [catalog_key_id(synthesized), "Arn"]})
    }
    assert "kms:ViaService" in by_sid["CatalogKeyThroughBedrock"]["Condition"]["StringEquals"]
    assert by_sid["CatalogKeyGrantsForBedrock"]["Action"] == "kms:CreateGrant"
    assert by_sid["CatalogKeyGrantsForBedrock"]["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert by_sid["ResolveCatalogKey"]["Resource"] == {
        "Fn::Join": ["", [f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter", {"Ref": parameter_id(synthesized)}]]
    }


def test_launch_role_policy_is_least_privilege(synthesized):
    statements = launch_policy(synthesized["templates"][USE_CASE])
    actions = [a for s in statements for a in actions_of(s)]
    assert all(s["Effect"] == "Allow" for s in statements)
    assert "*" not in actions and not [a for a in actions if a.endswith(":*") or "*" in a], actions
    assert {a.split(":")[0] for a in actions} == {
        "cloudformation",
        "s3",
        "iam",
        "bedrock",
        "bedrock-agentcore",
        "kms",
        "ssm",
    }
    forbidden = {
        "iam:AttachRolePolicy",
        "iam:CreatePolicy",
        "iam:CreatePolicyVersion",
        "iam:DeleteRolePermissionsBoundary",
        "iam:PutRolePermissionsBoundary",
        "iam:CreateUser",
        "kms:CreateKey",
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
    }
    assert not forbidden & set(actions)
    by_sid = {s["Sid"]: s for s in statements}
    stacks = f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/SC-{ACCOUNT}-pp-*/*"
    assert by_sid["ProvisionedProductStacks"]["Resource"] == stacks
    assert by_sid["ValidateProductTemplates"]["Action"] == [
        "cloudformation:GetTemplateSummary",
        "cloudformation:ValidateTemplate",
    ]
    assert by_sid["ReadProductTemplates"]["Condition"] == {
        "StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}
    }
    assert_roles_are_the_launched_stacks_own(statements, by_sid)
    assert_keys_are_the_catalog_key(synthesized, statements, by_sid)


def test_launch_role_creates_guardrails_and_memories_on_star_only_with_the_product_tag(synthesized):
    """CreateGuardrail and CreateMemory authorize against no guardrail or memory ARN: on those ARNs they grant
    nothing and launching the products fails. They get their own statements on "*", bounded by the product tag
    the templates put on what they create; every other guardrail and memory action stays on this account's ARNs."""
    by_sid = {s["Sid"]: s for s in launch_policy(synthesized["templates"][USE_CASE])}
    assert by_sid["CreateGuardrails"] == {
        "Action": "bedrock:CreateGuardrail",
        "Effect": "Allow",
        "Resource": "*",
        "Sid": "CreateGuardrails",
        "Condition": {"StringEquals": {f"aws:RequestTag/{sc.PRODUCT_TAG}": "guardrail"}},
    }
    assert by_sid["CreateMemories"] == {
        "Action": "bedrock-agentcore:CreateMemory",
        "Effect": "Allow",
        "Resource": "*",
        "Sid": "CreateMemories",
        "Condition": {"StringEquals": {f"aws:RequestTag/{sc.PRODUCT_TAG}": "memory"}},
    }
    assert "bedrock:CreateGuardrail" not in by_sid["Guardrails"]["Action"]
    assert "bedrock-agentcore:CreateMemory" not in by_sid["Memories"]["Action"]
    assert by_sid["Guardrails"]["Resource"] == f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:guardrail/*"
    assert by_sid["Memories"]["Resource"] == f"arn:aws:bedrock-agentcore:eu-west-1:{ACCOUNT}:memory/*"
    # The products really put that tag on what they create (CloudFormation sends it with the create call).
    for blueprint, kind in (("guardrail", "AWS::Bedrock::Guardrail"), ("memory", "AWS::BedrockAgentCore::Memory")):
        created = only(synthesized["products"][blueprint], kind)
        assert tag_dict(created["Properties"]["Tags"])[sc.PRODUCT_TAG] == blueprint


def parameter_id(synthesized) -> str:
    template = synthesized["templates"][USE_CASE]
    return next(
        k for k, p in resources(template, "AWS::SSM::Parameter").items() if p["Properties"]["Name"] == sc.KEY_PARAMETER
    )


def catalog_key_id(synthesized) -> str:
    template = synthesized["templates"][USE_CASE]
    alias = next(
        a for a in resources(template, "AWS::KMS::Alias").values() if a["Properties"]["AliasName"] == sc.KEY_ALIAS
    )
    return alias["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]


def test_catalog_key_is_a_separate_rotating_retained_key_published_for_the_products(synthesized):
    template = synthesized["templates"][USE_CASE]
    key_id = catalog_key_id(synthesized)
    key = template["Resources"][key_id]
    assert key["Properties"]["EnableKeyRotation"] is True and key["DeletionPolicy"] == "Retain"
    parameter = next(
        p["Properties"]
        for p in resources(template, "AWS::SSM::Parameter").values()
        if p["Properties"]["Name"] == sc.KEY_PARAMETER
    )
    assert parameter["Value"] == {"Fn::GetAtt": [key_id, "Arn"]}
    boundary = next(
        p["Properties"]
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        if p["Properties"].get("ManagedPolicyName") == sc.product_boundary_name(TENANT)
    )
    [statement] = boundary["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert all(a.startswith("kms:") and "*" not in a for a in statement["Action"])


# ------------------------------------------------------------------ versions


def catalog_app(tmp_path: Path, name: str, snapshots: Path, *, release: bool = False):
    app = create_app(outdir=str(tmp_path / name), context={sc.RELEASE_CONTEXT: "true"} if release else None)
    stack = cdk.Stack(app, "Services", env=cdk.Environment(account="100000000011", region="eu-west-1"))
    tenant = load_landing_zone(SAMPLE_CONFIG).tenant(TENANT)
    catalog = products.TenantCatalog(
        stack,
        "Catalog",
        tenant=tenant,
        environment=ENV,
        tenant_account=ACCOUNT,
        tags={},
        support_email="p@example.com",
        snapshots=snapshots,
    )
    return app, stack, catalog


def artifact_names(template: dict) -> list[list[str]]:
    products = resources(template, "AWS::ServiceCatalog::CloudFormationProduct")
    return sorted([a["Name"] for a in p["Properties"]["ProvisioningArtifactParameters"]] for p in products.values())


def test_a_release_locks_its_snapshots_and_earlier_releases_stay_launchable(tmp_path):
    snapshots = tmp_path / "snapshots"
    app, _, _ = catalog_app(tmp_path, "release", snapshots, release=True)
    app.synth()
    current = sorted(snapshots.glob(f"*.{sc.LIBRARY_VERSION}.product.template.json"))
    assert len(current) == len(products.OFFERED)

    # Pretend those were release 0.0.9: the next synth offers 0.0.9 from the snapshot and the current version.
    for path in current:
        shutil.copy(path, path.with_name(path.name.replace(f".{sc.LIBRARY_VERSION}.", ".0.0.9.")))
    app, _, _ = catalog_app(tmp_path, "next", snapshots)
    template = app.synth().get_stack_by_name("Services").template
    assert artifact_names(template) == [["0.0.9", sc.LIBRARY_VERSION]] * len(products.OFFERED)
    assert len(list(snapshots.glob("*"))) == 2 * len(products.OFFERED), (
        "outside a release nothing is written to the snapshots"
    )

    # A released version never changes: a different template under the same version fails a release synth.
    current[0].write_text(current[0].read_text().replace("AgentZone", "Changed"))
    app, _, _ = catalog_app(tmp_path, "changed", snapshots, release=True)
    with pytest.raises(RuntimeError, match=r"TemplateChangedForLockedVersion|Template has changed"):
        app.synth()


def test_versions_sort_numerically():
    assert sorted(["0.10.0", "0.9.1", "0.9.0", "1.0.0"], key=sc._version_key) == ["0.9.0", "0.9.1", "0.10.0", "1.0.0"]
