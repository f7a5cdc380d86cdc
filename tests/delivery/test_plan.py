"""`agentzone deploy-plan`: the waves `cdk deploy --all` deploys the sample in, read from its assembly."""

from __future__ import annotations

import json

from agentzone import cli
from agentzone.delivery.plan import stack_waves


def test_every_stack_deploys_in_a_later_wave_than_what_it_waits_for(sample_assembly):
    waves = stack_waves(sample_assembly.outdir)
    wave_of = {s.stack: number for number, stacks in enumerate(waves) for s in stacks}
    assert len(wave_of) == sum(map(len, waves)) == len(sample_assembly.templates)
    assert all(wave_of[need] < wave_of[s.stack] for stacks in waves for s in stacks for need in s.waits_for)
    # The central archive, then the organization (its trail writes there), then the delegated security account.
    assert wave_of["AgentZone-Logging-prod"] < wave_of["AgentZone-Organization"] < wave_of["AgentZone-Security-prod"]
    assert wave_of["AgentZone-claims-prod-services"] < wave_of["AgentZone-claims-prod"]
    # The Bootstrap stack alone first: it places and bootstraps every platform account and switches RAM on.
    assert [s.stack for s in waves[0]] == ["AgentZone-Bootstrap"] and not waves[0][0].waits_for
    assert {s.stack for s in waves[1]} >= {f"AgentZone-Logging-{env}" for env in ("dev", "staging", "prod")}
    # Each environment's accounts link to the sink its Logging stack publishes; its tool gateway trusts the pool
    # its Security stack publishes.
    for env in ("dev", "staging", "prod"):
        assert wave_of[f"AgentZone-Logging-{env}"] < wave_of[f"AgentZone-Security-{env}"]
        assert wave_of[f"AgentZone-Security-{env}"] < wave_of[f"AgentZone-SharedServices-{env}"]
    assert wave_of["AgentZone-claims-governance"] < wave_of["AgentZone-claims-prod"]  # placed and bootstrapped


def test_the_plan_names_account_region_and_what_each_stack_waits_for(sample_assembly, capsys):
    assert cli.main(["deploy-plan", "--assembly", str(sample_assembly.outdir)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"cdk deploy --all: {len(sample_assembly.templates)} stacks in ")
    assert "  333333333333/eu-west-1  AgentZone-claims-prod  after AgentZone-DataLake-prod, " in text
    assert cli.main(["deploy-plan", "--assembly", str(sample_assembly.outdir), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    organization = next(s for wave in document["waves"] for s in wave if s["stack"] == "AgentZone-Organization")
    assert organization == {
        "stack": "AgentZone-Organization",
        "account": "100000000000",
        "region": "eu-west-1",
        "waits_for": ["AgentZone-Bootstrap", "AgentZone-Logging-prod"],
    }
    assert document["pipelines"] == {}  # the landing zone's assembly holds no pipeline


def test_a_directory_without_an_assembly_is_one_clear_line(tmp_path, capsys):
    assert cli.main(["deploy-plan", "--assembly", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"agentzone deploy-plan: {tmp_path / 'manifest.json'} not found: synthesize first " + (
        "(`make synth`) or pass --assembly"
    )
