"""`agentzone permissions`: the sample passes, and breaking a policy on purpose fails with a message that names
the role, the action, the resource and the deciding statement. Runs on the suite's shared sample assembly
(fixtures in conftest.py)."""

from __future__ import annotations

import json

import pytest

from agentzone import naming
from agentzone.cli import main
from agentzone.permissions.check import check_permissions, render
from agentzone.permissions.model import statements

from ..conftest import SAMPLE_CONFIG


@pytest.fixture(scope="module")
def report(sample_assembly, lz, sample_decisions):
    return check_permissions(sample_assembly.outdir, lz, decisions=sample_decisions)


def test_sample_has_no_dead_grants(report):
    assert report.grants_simulated > 1000, "no grant was simulated"
    assert not report.dead_grants, render(report)
    accepted = [g for g in report.grants if g.accepted_reason]
    assert accepted and all(len(g.accepted_reason) > 40 for g in accepted)


def test_every_designed_path_is_allowed_and_every_forbidden_path_denied(report):
    assert not report.failed_paths, render(report)
    designed = [p for p in report.paths if p.path.kind == "designed"]
    forbidden = [p for p in report.paths if p.path.kind == "forbidden"]
    assert len(designed) >= 60 and len(forbidden) >= 40
    counts = report.counts()
    assert set(counts) == {f"{t}/{e}" for t in ("claims", "fraud") for e in ("dev", "staging", "prod")}
    assert all(c["designed"] >= 10 and c["forbidden"] >= 10 for c in counts.values()), counts


def test_forbidden_paths_are_denied_by_the_layer_meant_to_deny_them(report):
    by_title = {(p.path.tenant, p.path.environment, p.path.title): p for p in report.paths}
    no_guardrail = by_title[("claims", "prod", "agent intake -> anthropic.claude-sonnet-4-5-v1:0 without a guardrail")]
    assert no_guardrail.decision == "ExplicitlyDenied" and "[DenyModelCallsWithoutGuardrail]" in no_guardrail.deciding
    off_list = by_title[("fraud", "dev", "agent investigator -> model off the tenant's list")]
    assert "[DenyModelsNotOnAllowList]" in off_list.deciding
    leave = by_title[("fraud", "prod", "team admin -> leave the organization")]
    assert "agentzone-baseline-protection" in leave.deciding and "[DenyLeaveOrganization]" in leave.deciding
    region = by_title[("claims", "dev", "agent intake -> anthropic.claude-sonnet-4-5-v1:0 in us-east-1")]
    assert "[DenyOutsideAllowedRegions]" in region.deciding
    secret = by_title[("claims", "prod", "team admin -> fraud's client credentials")]
    assert secret.decision == "ImplicitlyDenied" and "resource" in secret.deciding
    attach = by_title[("fraud", "prod", "budget action -> attach AdministratorAccess to an agent")]
    assert "[SafetyRolesAttachOnlyDenyPolicies]" in attach.deciding


def test_only_conditions_the_simulator_cannot_evaluate_are_left_unverified(report):
    """Unverified results are listed, not hidden: today the key-policy grants conditioned on
    kms:EncryptionContext:* (state machines, log groups, client credentials) and nothing else."""
    paths = {p.path.title for p in report.paths if p.decision == "Unverified"}
    assert paths == {"tenant account -> decrypt its client credentials (key policy)"}
    grants = [g for g in report.grants if g.decision == "Unverified"]
    assert grants and all("kms:EncryptionContext:" in g.deciding for g in grants)


def test_every_cross_account_name_resolves(report):
    assert report.references > 100
    assert not report.wiring, "\n".join(w.render() for w in report.wiring)


def test_json_output_lists_paths_per_tenant_and_environment(report):
    data = json.loads(json.dumps(report.as_json()))
    assert data["ok"] is True
    assert data["paths_per_tenant_environment"]["claims/prod"]["designed"] >= 10
    assert {"kind", "principal", "action", "resource", "decision", "deciding"} <= set(data["paths"][0])


def test_cli_refuses_a_directory_without_an_assembly(tmp_path, capsys):
    assert main(["permissions", "--cdk-out", str(tmp_path), "--config-dir", str(SAMPLE_CONFIG)]) == 2
    assert "not a synthesized assembly" in capsys.readouterr().err


# --- breaking a policy on purpose -------------------------------------------------------------------


def _statement(document: dict, sid: str) -> dict:
    return next(s for s in statements(document) if s.get("Sid") == sid)


def test_dropping_the_judge_exemption_kills_the_evaluation_job(assembly, lz):
    scp = assembly.stacks["AgentZone-fraud-governance"].template["Resources"]["Scp"]["Properties"]["Content"]
    rule = _statement(scp, "DenyModelCallsWithoutGuardrail")
    rule["Condition"]["ArnNotLike"]["aws:PrincipalARN"] = [
        p for p in rule["Condition"]["ArnNotLike"]["aws:PrincipalARN"] if "agentzone-eval" not in p
    ]
    report = check_permissions(
        assembly,
        lz,
        only_roles=lambda p: p.name.startswith("agentzone-eval-fraud"),
        only_paths=lambda p: p.title.startswith("evaluation job judge"),
    )
    dead = [g for g in report.dead_grants if g.grant.action == "bedrock:InvokeModel"]
    assert dead and all("[DenyModelCallsWithoutGuardrail]" in g.deciding for g in dead)
    text = render(report)
    assert "agentzone-eval-fraud-prod" in text and "foundation-model/amazon.nova-pro-v1:0" in text
    assert "DESIGNED PATH fraud/prod evaluation job judge" in text and "DenyModelCallsWithoutGuardrail" in text


def test_widening_a_tenant_reader_to_everything_reaches_the_other_tenant(assembly, lz):
    observability = assembly.stacks["AgentZone-claims-prod-observability"]
    resources = observability.template["Resources"]
    (policy,) = [
        r["Properties"]["PolicyDocument"] for r in resources.values() if r["Type"] == "AWS::IAM::ManagedPolicy"
    ]
    for statement in statements(policy):
        statement["Resource"] = "*"
        statement.pop("Condition", None)
    report = check_permissions(
        assembly,
        lz,
        only_roles=lambda p: False,
        only_paths=lambda p: (
            p.tenant == "claims" and p.environment == "prod" and p.title.startswith("tenant reader -> fraud")
        ),
    )
    leaked = [p for p in report.failed_paths if p.decision == "Allowed"]
    assert {p.path.title for p in leaked} >= {
        "tenant reader -> fraud's dashboard",
        "tenant reader -> fraud's log groups",
    }
    text = render(report)
    assert "FORBIDDEN PATH claims/prod tenant reader -> fraud's dashboard" in text
    assert (
        "AgentZone-claims-prod-observability" in text
        and "cloudwatch:GetDashboard" in text
        and "dashboard/agentzone-fraud-prod" in text
    )


def test_pointing_an_agent_at_another_tenants_repository_breaks_its_image_pull(assembly, lz):
    stack = assembly.stacks["AgentZone-claims-prod"]
    resources = stack.template["Resources"]
    policy = next(r for k, r in resources.items() if k.startswith("RuntimeIntakeExecutionRoleDefaultPolicy"))
    pull = next(s for s in statements(policy["Properties"]["PolicyDocument"]) if "ecr:BatchGetImage" in s["Action"])
    pull["Resource"] = "arn:aws:ecr:eu-west-1:100000000031:repository/agentzone/fraud/agent"
    report = check_permissions(
        assembly,
        lz,
        only_roles=lambda p: (
            p.resource.logical_id.startswith("RuntimeIntakeExecutionRole") and p.stack.name == "AgentZone-claims-prod"
        ),
        only_paths=lambda p: p.tenant == "claims" and p.environment == "prod" and "pull image" in p.title,
    )
    failed = [p for p in report.failed_paths if p.path.title.startswith("agent intake")]
    assert failed and failed[0].decision == "ImplicitlyDenied"
    dead = [g for g in report.dead_grants if g.grant.action == "ecr:BatchGetImage"]
    assert dead and "repository/agentzone/fraud/agent" in dead[0].resource and "resource policy" in dead[0].deciding
    assert "RuntimeIntakeExecutionRole" in render(report)


def test_earlier_decisions_are_reused_but_a_changed_policy_is_simulated_again(sample_assembly, lz, tmp_path):
    from agentzone.permissions.assembly import Assembly

    store = tmp_path / "decisions.sqlite"
    narrow = {
        "only_roles": lambda p: p.name.startswith("agentzone-eval-fraud"),
        "only_paths": lambda p: p.title.startswith("evaluation job judge"),
    }
    fresh = check_permissions(sample_assembly.outdir, lz, **narrow)
    first = check_permissions(sample_assembly.outdir, lz, decisions=store, **narrow)
    again = check_permissions(sample_assembly.outdir, lz, decisions=store, **narrow)
    assert render(first) == render(again) == render(fresh)
    assert not [g for g in again.dead_grants if g.grant.action == "bedrock:InvokeModel"]

    broken = Assembly.load(sample_assembly.outdir)
    scp = broken.stacks["AgentZone-fraud-governance"].template["Resources"]["Scp"]["Properties"]["Content"]
    rule = _statement(scp, "DenyModelCallsWithoutGuardrail")
    rule["Condition"]["ArnNotLike"]["aws:PrincipalARN"] = [
        p for p in rule["Condition"]["ArnNotLike"]["aws:PrincipalARN"] if "agentzone-eval" not in p
    ]
    after = check_permissions(broken, lz, decisions=store, **narrow)
    dead = [g for g in after.dead_grants if g.grant.action == "bedrock:InvokeModel"]
    assert dead and all("[DenyModelCallsWithoutGuardrail]" in g.deciding for g in dead)


def _grant_rows(report) -> list[tuple]:
    return [(g.grant.principal.label, g.grant.sid, g.grant.action, g.decision, g.resource) for g in report.grants]


def test_a_roles_stored_results_are_dropped_when_a_resource_it_reaches_changes_its_policy(assembly, lz, tmp_path):
    """Role-level entries (permissions.grant_cache) are keyed by the policies of the resources the role reaches:
    the repository's policy changes, the role's own stack does not, and the pull becomes a dead grant."""
    store = tmp_path / "decisions.sqlite"
    narrow = {
        "only_roles": lambda p: (
            p.resource.logical_id.startswith("RuntimeIntakeExecutionRole") and p.stack.name == "AgentZone-claims-prod"
        ),
        "only_paths": lambda p: False,
    }
    first = check_permissions(assembly, lz, decisions=store, **narrow)
    assert first.grants_simulated and not first.dead_grants
    again = check_permissions(assembly, lz, decisions=store, **narrow)
    assert render(again) == render(first) and _grant_rows(again) == _grant_rows(first)
    assert again.grants_simulated == first.grants_simulated

    services = assembly.stacks["AgentZone-claims-prod-services"].template["Resources"]
    repository = next(r for k, r in services.items() if k.startswith("ImagesIntakeRepository"))
    pull = _statement(repository["Properties"]["RepositoryPolicyText"], "PullFromOrganizationAccounts")
    pull["Principal"]["AWS"] = "arn:aws:iam::100000000031:root"
    after = check_permissions(assembly, lz, decisions=store, **narrow)
    dead = [g for g in after.dead_grants if g.grant.action == "ecr:BatchGetImage"]
    assert dead and "repository/agentzone/claims/intake" in dead[0].resource


def test_a_stacks_stored_wiring_strings_are_dropped_when_an_export_it_imports_changes(assembly, lz, tmp_path):
    """Per-stack entries (permissions.stack_inputs) cover the stacks a stack imports from: only the exporter's
    template changes, and every importer's resolved key ARN is checked again."""
    import json

    store = tmp_path / "decisions.sqlite"
    narrow = {"only_roles": lambda p: False, "only_paths": lambda p: False}
    assert not check_permissions(assembly, lz, decisions=store, **narrow).wiring
    logging = assembly.stacks["AgentZone-Logging-prod"]
    value = logging.template["Outputs"]["ArchiveKeyArn"]["Value"]
    value.clear()
    value["Fn::Join"] = ["", [f"arn:aws:kms:{logging.region}:{logging.account}:key/"]]
    importers = {
        name
        for name, stack in assembly.stacks.items()
        if stack is not logging
        and "agentzone-logging-archive-key-arn" in json.dumps(stack.template)
        and stack.account == logging.account
    }
    after = check_permissions(assembly, lz, decisions=store, **narrow)
    assert len(importers) >= 2 and {w.reference.stack for w in after.wiring} == importers
    assert all("has no resource name" in w.message for w in after.wiring)


def test_a_stored_decision_whose_value_was_changed_is_not_used(tmp_path):
    import sqlite3

    from agentzone.permissions.decisions import DecisionStore

    store = DecisionStore(tmp_path / "decisions.sqlite")
    store.put_many({"k1": {"decision": "ExplicitlyDenied"}, "k2": {"decision": "Allowed"}})
    with sqlite3.connect(tmp_path / "decisions.sqlite") as db:
        db.execute("UPDATE decisions SET value = ? WHERE key = 'k1'", ('{"decision": "Allowed"}',))
    assert store.get_many(["k1", "k2", "k3"]) == {"k2": {"decision": "Allowed"}}


def test_an_isolated_tenants_tracking_server_is_its_own(report, sample_assembly):
    """fraud says ``experiment_tracking: isolated``: its role reaches its own server, not the shared one, and no
    other tenant's role reaches its server."""
    by_title = {(p.path.tenant, p.path.environment, p.path.title): p for p in report.paths}
    own = by_title[("fraud", "prod", "MLflow role -> its tracking server")]
    assert own.decision == "Allowed" and "mlflow-tracking-server/agentzone-mlflow-fraud" in own.path.resource
    shared = by_title[("fraud", "prod", "MLflow role (isolated) -> the shared tracking server")]
    assert shared.decision == "ImplicitlyDenied" and shared.path.resource.endswith("/agentzone-mlflow")
    other = by_title[("claims", "dev", "MLflow role -> fraud's own tracking server")]
    assert other.decision == "ImplicitlyDenied"
    # The server is the tenant's: in its services stack, under its artifact prefix, with its cost tags.
    (server,) = sample_assembly.resources(
        "AgentZone-fraud-prod-services", "AWS::SageMaker::MlflowTrackingServer"
    ).values()
    props = server["Properties"]
    assert props["TrackingServerName"] == naming.tenant_mlflow_server("fraud")
    assert props["ArtifactStoreUri"]["Fn::Join"][1][-1] == "/fraud/"
    assert {"Key": "cost-center", "Value": "CC-2211"} in props["Tags"]
    assert not sample_assembly.resources("AgentZone-claims-prod-services", "AWS::SageMaker::MlflowTrackingServer")


def test_giving_a_tenants_mlflow_role_every_server_reaches_the_isolated_tenants(assembly, lz):
    stack = assembly.stacks["AgentZone-claims-dev-services"]
    for resource in stack.template["Resources"].values():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            for statement in statements(resource["Properties"]["PolicyDocument"]):
                if statement.get("Sid") == "UseTrackingServer":
                    statement["Resource"] = "*"
    report = check_permissions(
        assembly,
        lz,
        only_roles=lambda p: False,
        only_paths=lambda p: p.tenant == "claims" and p.environment == "dev" and "fraud's own" in p.title,
    )
    assert [(p.path.title, p.decision) for p in report.failed_paths] == [
        ("MLflow role -> fraud's own tracking server", "Allowed")
    ]
