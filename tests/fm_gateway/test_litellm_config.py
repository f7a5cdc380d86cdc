"""FM gateway: the generated LiteLLM config, the tenant team payloads, the admin handler
(against a local fake LiteLLM and moto Secrets Manager) and the per-tenant constructs."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
import yaml
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match
from moto import mock_aws

from agentzone.config import load_landing_zone
from agentzone.config.model import TIER_RANK, GatewayModel, TenantGateway
from agentzone.constructs.fm_gateway_tenant import FmGatewayAdmin, TenantGatewayAccess, inference_profile_name
from agentzone.fm_gateway import (
    INPUT_GUARDRAIL,
    OUTPUT_GUARDRAIL,
    deployment_id,
    gateway_model_ids,
    proxy_config,
    referenced_environment,
    render_yaml,
    team_payload,
    team_request,
    tenant_cost_tags,
    tenant_fallbacks,
    tenant_gateway_models,
)
from agentzone.handlers import fm_gateway_admin
from agentzone.nag import acknowledge, acknowledge_compliance
from agentzone.stacks.base import AgentZoneStack, StackTarget

from ..conftest import SAMPLE_CONFIG
from ..support import new_app, synthesize

REGION = "eu-west-1"
GUARDRAIL_ID = "gr0abc123def"
GUARDRAIL_VERSION = "3"
MASTER_KEY = "sk-test-master-key"


@pytest.fixture(scope="module")
def lz():
    return load_landing_zone(SAMPLE_CONFIG)


@pytest.fixture(scope="module")
def settings(lz):
    return lz.organization.shared_services.fm_gateway


@pytest.fixture(scope="module")
def config(lz, settings):
    return proxy_config(
        settings, region=REGION, guardrail_id=GUARDRAIL_ID, guardrail_version=GUARDRAIL_VERSION, tenants=lz.tenants
    )


def items(value):
    """Every (key, value) pair at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from items(item)
    elif isinstance(value, list):
        for item in value:
            yield from items(item)


# ------------------------------------------------------------------ proxy config


def test_model_list_has_one_bedrock_entry_per_gateway_model_on_the_task_role(config, settings):
    assert [entry["model_name"] for entry in config["model_list"]] == [m.name for m in settings.models]
    for entry, model in zip(config["model_list"], settings.models, strict=True):
        # No keys, profiles or role names: boto3 picks up the ECS task role.
        assert entry["litellm_params"] == {"model": f"bedrock/{model.model}", "aws_region_name": REGION}
    assert len({entry["model_info"]["id"] for entry in config["model_list"]}) == len(settings.models)


def test_fallbacks_go_only_to_lower_tiers_in_configured_order(config, settings):
    tiers = {m.name: m.tier for m in settings.models}
    shared = {
        name: chain for item in config["router_settings"]["fallbacks"] for name, chain in item.items() if name in tiers
    }
    assert shared == {"claude-sonnet": ["nova-pro", "nova-lite"], "nova-pro": ["nova-lite"]}
    for name, chain in shared.items():
        ranks = [TIER_RANK[tiers[name]]] + [TIER_RANK[tiers[f]] for f in chain]
        assert ranks == sorted(ranks, reverse=True) and len(set(ranks)) == len(ranks)
    router = config["router_settings"]
    assert router["num_retries"] == config["litellm_settings"]["num_retries"] == settings.num_retries
    assert router["timeout"] == config["litellm_settings"]["request_timeout"] == settings.request_timeout_seconds
    # Throttling is retried, then falls back; requests Bedrock refused outright are not retried.
    assert router["retry_policy"]["RateLimitErrorRetries"] == settings.num_retries
    assert router["retry_policy"]["BadRequestErrorRetries"] == 0


def test_tenant_deployments_fall_back_within_the_tenants_own_models(config, lz, settings):
    claims, fraud = lz.tenant("claims"), lz.tenant("fraud")
    # claude-sonnet -> [nova-pro, nova-lite]; claims may not call nova-pro, so it is skipped, order kept.
    assert tenant_fallbacks(claims, settings) == [{"claims/claude-sonnet": ["claims/nova-lite"]}]
    assert tenant_fallbacks(fraud, settings) == []  # nova-pro's only fallback, nova-lite, is not fraud's
    assert {"claims/claude-sonnet": ["claims/nova-lite"]} in config["router_settings"]["fallbacks"]


def test_every_call_goes_through_the_bedrock_guardrail_on_the_way_in_and_out(config):
    guardrails = {g["guardrail_name"]: g["litellm_params"] for g in config["guardrails"]}
    assert set(guardrails) == {INPUT_GUARDRAIL, OUTPUT_GUARDRAIL}
    for params in guardrails.values():
        assert params["guardrail"] == "bedrock"
        assert params["default_on"] is True
        assert (params["guardrailIdentifier"], params["guardrailVersion"]) == (GUARDRAIL_ID, GUARDRAIL_VERSION)
        assert params["aws_region_name"] == REGION
    assert (
        guardrails[INPUT_GUARDRAIL]["mode"] == "pre_call"
        and guardrails[INPUT_GUARDRAIL]["mask_request_content"] is True
    )
    assert (
        guardrails[OUTPUT_GUARDRAIL]["mode"] == "post_call"
        and guardrails[OUTPUT_GUARDRAIL]["mask_response_content"] is True
    )


def test_spend_logs_are_capped_and_carry_no_prompt_content(config, settings):
    general = config["general_settings"]
    assert general["maximum_spend_logs_retention_period"] == f"{settings.spend_log_retention_days}d" == "30d"
    assert general["store_prompts_in_spend_logs"] is False
    assert general["disable_error_logs"] is True
    assert config["litellm_settings"]["turn_off_message_logging"] is True


def test_the_config_holds_no_secret_only_environment_references(config):
    assert config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    assert "database_url" not in config["general_settings"]  # LiteLLM builds it from DATABASE_* when unset
    for section, keys in (
        ("router_settings", ("redis_host", "redis_port", "redis_password")),
        ("cache_params", ("host", "port", "password")),
    ):
        holder = config["litellm_settings"]["cache_params"] if section == "cache_params" else config[section]
        assert all(holder[key].startswith("os.environ/") for key in keys)
    assert referenced_environment(config) == ["LITELLM_MASTER_KEY", "REDIS_HOST", "REDIS_PASSWORD", "REDIS_PORT"]
    sensitive = [
        (key, value)
        for key, value in items(config)
        if any(word in key.lower() for word in ("key", "password", "secret", "token", "credential"))
        and not isinstance(value, bool)
    ]
    assert sensitive and all(isinstance(v, str) and v.startswith("os.environ/") for _, v in sensitive), sensitive
    assert not any(key.startswith("aws_") and key != "aws_region_name" for key, _ in items(config))
    assert "sk-" not in render_yaml(config)


def test_redis_is_shared_by_router_and_cache_over_tls(config):
    router, cache = config["router_settings"], config["litellm_settings"]["cache_params"]
    assert router["cache_kwargs"] == {"ssl": True}
    assert config["litellm_settings"]["cache"] is True
    assert cache["type"] == "redis" and cache["ssl"] is True
    # Responses are cached only on request, so one tenant is never answered from another's spend.
    assert cache["mode"] == "default_off"


def test_teams_and_deployments_live_in_the_database(config):
    general = config["general_settings"]
    assert general["store_model_in_db"] is True
    assert general["default_team_disabled"] is True


def test_rendering_is_deterministic_and_round_trips(lz, settings, config):
    again = proxy_config(
        settings,
        region=REGION,
        guardrail_id=GUARDRAIL_ID,
        guardrail_version=GUARDRAIL_VERSION,
        tenants=list(reversed(lz.tenants)),
    )
    assert render_yaml(again) == render_yaml(config)
    assert yaml.safe_load(render_yaml(config)) == config
    assert "&id" not in render_yaml(config)  # no YAML anchors for the shared guardrail params


def test_a_fallback_to_a_higher_tier_is_refused(settings):
    bad = settings.model_copy(
        update={
            "models": [
                GatewayModel(name="small", model="amazon.nova-lite-v1:0", tier="economy", fallbacks=["big"]),
                GatewayModel(name="big", model="amazon.nova-pro-v1:0", tier="premium"),
            ]
        }
    )
    with pytest.raises(ValueError, match="not a lower tier"):
        proxy_config(bad, region=REGION, guardrail_id="g", guardrail_version="1")


# ------------------------------------------------------------------ tenant teams


def test_gateway_models_default_to_the_tenants_bedrock_allow_list(lz, settings):
    assert tenant_gateway_models(lz.tenant("claims"), settings) == ["claude-sonnet", "nova-lite"]
    assert tenant_gateway_models(lz.tenant("fraud"), settings) == ["nova-pro"]
    assert gateway_model_ids(lz.tenant("fraud"), settings) == {"nova-pro": "amazon.nova-pro-v1:0"}


@pytest.mark.parametrize("name, budget", [("claims", 5000.0), ("fraud", 8000.0)])
def test_team_payload_defaults(lz, settings, name, budget):
    tenant = lz.tenant(name)
    team = team_payload(tenant, settings)
    assert team["team_id"] == team["team_alias"] == name
    # claims: the account budget; fraud sets its gateway budget (fm_gateway.monthly_budget_usd)
    assert team["max_budget"] == budget == (tenant.fm_gateway.monthly_budget_usd or tenant.budget.monthly_usd)
    assert team["budget_duration"] == "1mo"
    assert (
        (team["rpm_limit"], team["tpm_limit"])
        == (settings.default_tenant_rpm, settings.default_tenant_tpm)
        == (600, 400_000)
    )
    assert team["metadata"] == {
        "cost_center": tenant.cost_center,
        "use_case_id": tenant.use_case_id,
        "owner": tenant.owner,
        "managed_by": "agentzone",
    }
    names = tenant_gateway_models(tenant, settings)
    assert team["model_aliases"] == {n: f"{name}/{n}" for n in names}
    assert team["models"] == names + [f"{name}/{n}" for n in names]
    assert team["blocked"] is False


def test_team_payload_takes_the_tenants_own_gateway_settings(lz, settings):
    tenant = lz.tenant("claims").model_copy(
        update={"fm_gateway": TenantGateway(models=["nova-lite"], monthly_budget_usd=750.0, rpm=30, tpm=20_000)}
    )
    team = team_payload(tenant, settings)
    assert team["models"] == ["nova-lite", "claims/nova-lite"]
    assert (team["max_budget"], team["rpm_limit"], team["tpm_limit"]) == (750.0, 30, 20_000)
    assert tenant_fallbacks(tenant, settings) == []


def test_a_tenant_without_gateway_models_gets_no_team(lz, settings):
    tenant = lz.tenant("fraud").model_copy(update={"models": ["amazon.titan-text-express-v1"]})
    assert tenant_gateway_models(tenant, settings) == []
    with pytest.raises(ValueError, match=r"empty team model list|no gateway model"):
        team_payload(tenant, settings)


def test_team_request_routes_each_model_to_the_tenants_inference_profile(lz, settings):
    arns = {
        "claude-sonnet": "arn:aws:bedrock:eu-west-1:100000000011:application-inference-profile/aaa",
        "nova-lite": "arn:aws:bedrock:eu-west-1:100000000011:application-inference-profile/bbb",
    }
    request = team_request(lz.tenant("claims"), settings, region=REGION, inference_profile_arns=arns)
    assert request["team"] == team_payload(lz.tenant("claims"), settings)
    assert request["deployments"] == [
        {
            "model_name": "claims/claude-sonnet",
            "litellm_params": {
                "model": "bedrock/anthropic.claude-sonnet-4-5-v1:0",
                "model_id": arns["claude-sonnet"],
                "aws_region_name": REGION,
            },
            "model_info": {"id": "agentzone:claims:claude-sonnet"},
        },
        {
            "model_name": "claims/nova-lite",
            "litellm_params": {
                "model": "bedrock/amazon.nova-lite-v1:0",
                "model_id": arns["nova-lite"],
                "aws_region_name": REGION,
            },
            "model_info": {"id": "agentzone:claims:nova-lite"},
        },
    ]
    assert request["fallbacks"] == [{"claims/claude-sonnet": ["claims/nova-lite"]}]
    with pytest.raises(ValueError, match="nova-lite"):
        team_request(lz.tenant("claims"), settings, region=REGION, inference_profile_arns={"claude-sonnet": "x"})


def test_deployment_ids_never_collide_with_shared_models_or_other_tenants(config, lz, settings):
    ids = {entry["model_info"]["id"] for entry in config["model_list"]}
    for tenant in lz.tenants:
        for name in tenant_gateway_models(tenant, settings):
            assert deployment_id(tenant.tenant, name) not in ids
            ids.add(deployment_id(tenant.tenant, name))


# ------------------------------------------------------------------ the admin handler


def _team_info(state: dict, body: dict, query: str) -> tuple[int, object]:
    team_id = urllib.parse.parse_qs(query)["team_id"][0]
    if team_id not in state["teams"]:
        return 404, {"detail": {"error": f"Team not found, passed team_id={team_id}"}}
    return 200, {"team_id": team_id, "team_info": state["teams"][team_id]}


def _team_new(state: dict, body: dict, query: str) -> tuple[int, object]:
    if body["team_id"] in state["teams"]:
        return 400, {"detail": {"error": "Team id already exists"}}
    state["teams"][body["team_id"]] = dict(body)
    return 200, body


def _team_update(state: dict, body: dict, query: str) -> tuple[int, object]:
    teams = state["teams"]
    if body["team_id"] not in teams:
        return 404, {"detail": {"error": f"Team not found, passed team_id={body['team_id']}"}}
    teams[body["team_id"]].update(body)
    return 200, {"data": teams[body["team_id"]]}


def _team_block(state: dict, body: dict, query: str) -> tuple[int, object]:
    state["teams"][body["team_id"]]["blocked"] = True
    return 200, state["teams"][body["team_id"]]


def _model_update(state: dict, body: dict, query: str) -> tuple[int, object]:
    models, model_id = state["models"], body["model_info"]["id"]
    if model_id not in models:  # LiteLLM's legacy answer for an unknown id
        return 400, {"error": {"message": "Authentication Error, model not found", "code": "400"}}
    models[model_id]["litellm_params"].update(body["litellm_params"])
    return 200, models[model_id]


def _model_new(state: dict, body: dict, query: str) -> tuple[int, object]:
    state["models"][body["model_info"]["id"]] = json.loads(json.dumps(body))
    return 200, body


def _model_delete(state: dict, body: dict, query: str) -> tuple[int, object]:
    if body["id"] not in state["models"]:
        return 400, {"error": {"message": f"Model with id={body['id']} not found in db"}}
    del state["models"][body["id"]]
    return 200, {"message": "deleted"}


_ROUTES = {
    ("GET", "/team/info"): _team_info,
    ("POST", "/team/new"): _team_new,
    ("POST", "/team/update"): _team_update,
    ("POST", "/team/block"): _team_block,
    ("POST", "/model/update"): _model_update,
    ("POST", "/model/new"): _model_new,
    ("POST", "/model/delete"): _model_delete,
}


class FakeServer(ThreadingHTTPServer):
    state: dict


class FakeLiteLLM(BaseHTTPRequestHandler):
    """Just enough of the LiteLLM admin API, plus CloudFormation's pre-signed response URL."""

    server: FakeServer

    def log_message(self, *args):  # keep pytest output quiet
        pass

    def _reply(self, status: int, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self, method: str) -> None:
        state = self.server.state
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        if parsed.path == "/cfn-response":
            state["responses"].append(body)
            return self._reply(200, {})
        state["calls"].append((method, parsed.path, body))
        queued = state["fail"].get((method, parsed.path))
        if queued:
            status, reply = (queued.pop(0), {"error": "injected"}) if isinstance(queued[0], int) else queued.pop(0)
            return self._reply(status, reply)
        if self.headers.get("authorization") != f"Bearer {MASTER_KEY}":
            return self._reply(401, {"error": {"message": "Authentication Error, invalid key"}})
        route = _ROUTES.get((method, parsed.path))
        if route is None:
            return self._reply(404, {"detail": "Not Found"})
        return self._reply(*route(state, body, parsed.query))

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")


@pytest.fixture
def fake_gateway():
    server = FakeServer(("127.0.0.1", 0), FakeLiteLLM)
    server.state = {"teams": {}, "models": {}, "calls": [], "fail": {}, "responses": []}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def gateway_env(monkeypatch, fake_gateway):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(
            Name="agentzone/fm-gateway/master-key", SecretString=json.dumps({"master_key": MASTER_KEY, "other": "x"})
        )["ARN"]
        monkeypatch.setenv("MASTER_KEY_SECRET_ARN", arn)
        monkeypatch.setenv("GATEWAY_URL", f"http://127.0.0.1:{fake_gateway.server_port}")
        monkeypatch.setenv("GATEWAY_RETRY_SECONDS", "30")
        sleeps: list[float] = []
        monkeypatch.setattr(time, "sleep", sleeps.append)
        yield fake_gateway.state, sleeps


@pytest.fixture
def claims_props(lz, settings):
    request = team_request(
        lz.tenant("claims"),
        settings,
        region=REGION,
        inference_profile_arns={
            name: f"arn:aws:bedrock:{REGION}:100000000011:application-inference-profile/{name}"
            for name in tenant_gateway_models(lz.tenant("claims"), settings)
        },
    )
    return {
        "ServiceToken": "arn:aws:lambda:eu-west-1:100000000011:function:admin",
        "TeamId": "claims",
        "Team": json.dumps(request["team"]),
        "Deployments": json.dumps(request["deployments"]),
    }


def cfn_event(fake_gateway, props: dict, request: str = "Create", **extra) -> dict:
    return {
        "RequestType": request,
        "ResourceType": "Custom::LiteLLMTeam",
        "ResourceProperties": props,
        "StackId": "arn:aws:cloudformation:eu-west-1:100000000011:stack/s/1",
        "RequestId": "req-1",
        "LogicalResourceId": "TenantclaimsTeam",
        "ResponseURL": f"http://127.0.0.1:{fake_gateway.server_port}/cfn-response?X-Amz-Signature=abc",
        **extra,
    }


def paths(calls):
    return [(method, path) for method, path, _ in calls]


def test_create_adds_deployments_then_the_team_and_answers_cloudformation(
    gateway_env, fake_gateway, claims_props, lz, settings
):
    state, _ = gateway_env
    result = fm_gateway_admin.handler(cfn_event(fake_gateway, claims_props))
    assert result["Status"] == "SUCCESS", result["Reason"]
    assert result["PhysicalResourceId"] == "litellm-team-claims"
    assert result["Data"] == {
        "TeamId": "claims",
        "DeploymentIds": "agentzone:claims:claude-sonnet,agentzone:claims:nova-lite",
    }
    assert paths(state["calls"]) == [
        ("POST", "/model/update"),
        ("POST", "/model/new"),
        ("POST", "/model/update"),
        ("POST", "/model/new"),
        ("GET", "/team/info"),
        ("POST", "/team/new"),
    ]
    assert state["teams"]["claims"] == team_payload(lz.tenant("claims"), settings)
    assert state["models"]["agentzone:claims:nova-lite"]["litellm_params"] == {
        "model": "bedrock/amazon.nova-lite-v1:0",
        "model_id": f"arn:aws:bedrock:{REGION}:100000000011:application-inference-profile/nova-lite",
        "aws_region_name": REGION,
    }
    # The same answer reached CloudFormation's response URL.
    assert [r["Status"] for r in state["responses"]] == ["SUCCESS"]
    assert state["responses"][0]["PhysicalResourceId"] == "litellm-team-claims"
    assert state["responses"][0]["LogicalResourceId"] == "TenantclaimsTeam"


def test_update_updates_the_team_and_drops_deployments_the_tenant_lost(gateway_env, fake_gateway, claims_props):
    state, _ = gateway_env
    assert fm_gateway_admin.handler(cfn_event(fake_gateway, claims_props))["Status"] == "SUCCESS"
    team = json.loads(claims_props["Team"])
    team.update(
        models=["claude-sonnet", "claims/claude-sonnet"],
        model_aliases={"claude-sonnet": "claims/claude-sonnet"},
        max_budget=900.0,
    )
    new_props = {
        **claims_props,
        "Team": json.dumps(team),
        "Deployments": json.dumps(json.loads(claims_props["Deployments"])[:1]),
    }
    state["calls"].clear()
    result = fm_gateway_admin.handler(
        cfn_event(
            fake_gateway,
            new_props,
            "Update",
            PhysicalResourceId="litellm-team-claims",
            OldResourceProperties=claims_props,
        )
    )
    assert result["Status"] == "SUCCESS", result["Reason"]
    assert paths(state["calls"]) == [
        ("POST", "/model/update"),
        ("GET", "/team/info"),
        ("POST", "/team/update"),
        ("POST", "/model/delete"),
    ]
    assert state["teams"]["claims"]["max_budget"] == 900.0
    assert set(state["models"]) == {"agentzone:claims:claude-sonnet"}


def test_update_reopens_a_blocked_team(gateway_env, fake_gateway, claims_props):
    state, _ = gateway_env
    fm_gateway_admin.handler(cfn_event(fake_gateway, claims_props))
    state["teams"]["claims"]["blocked"] = True
    fm_gateway_admin.handler(
        cfn_event(
            fake_gateway,
            claims_props,
            "Update",
            PhysicalResourceId="litellm-team-claims",
            OldResourceProperties=claims_props,
        )
    )
    assert state["teams"]["claims"]["blocked"] is False


def test_delete_blocks_the_team_keeps_it_and_removes_its_deployments(gateway_env, fake_gateway, claims_props):
    state, _ = gateway_env
    fm_gateway_admin.handler(cfn_event(fake_gateway, claims_props))
    state["calls"].clear()
    result = fm_gateway_admin.handler(
        cfn_event(fake_gateway, claims_props, "Delete", PhysicalResourceId="litellm-team-claims")
    )
    assert result["Status"] == "SUCCESS", result["Reason"]
    assert paths(state["calls"]) == [
        ("GET", "/team/info"),
        ("POST", "/team/block"),
        ("POST", "/model/delete"),
        ("POST", "/model/delete"),
    ]
    assert state["teams"]["claims"]["blocked"] is True  # blocked, not deleted: spend history stays
    assert state["models"] == {}
    # Deleting again (a CloudFormation retry) is a no-op, not an error.
    again = fm_gateway_admin.handler(
        cfn_event(fake_gateway, claims_props, "Delete", PhysicalResourceId="litellm-team-claims")
    )
    assert again["Status"] == "SUCCESS", again["Reason"]


def test_a_gateway_that_is_still_starting_is_retried(gateway_env, fake_gateway, claims_props):
    state, sleeps = gateway_env
    state["fail"][("POST", "/model/update")] = [503, 502]
    state["fail"][("GET", "/team/info")] = [503]
    result = fm_gateway_admin.handler(cfn_event(fake_gateway, claims_props))
    assert result["Status"] == "SUCCESS", result["Reason"]
    assert sleeps[:2] == [1.0, 2.0]  # exponential backoff
    assert "claims" in state["teams"]


def test_requests_that_got_through_before_a_retry_are_settled_by_an_update(gateway_env, fake_gateway, claims_props):
    state, _ = gateway_env
    assert fm_gateway_admin.handler(cfn_event(fake_gateway, claims_props))["Status"] == "SUCCESS"
    state["calls"].clear()
    # As if the first attempts had timed out after LiteLLM stored the rows: the lookups miss, the creates collide.
    state["fail"][("GET", "/team/info")] = [404]
    state["fail"][("POST", "/model/update")] = [(400, {"error": {"message": "Authentication Error, model not found"}})]
    state["fail"][("POST", "/model/new")] = [(400, {"error": "Unique constraint failed on the fields: (`model_id`)"})]
    result = fm_gateway_admin.handler(
        cfn_event(
            fake_gateway,
            claims_props,
            "Update",
            PhysicalResourceId="litellm-team-claims",
            OldResourceProperties=claims_props,
        )
    )
    assert result["Status"] == "SUCCESS", result["Reason"]
    assert paths(state["calls"])[:3] == [("POST", "/model/update"), ("POST", "/model/new"), ("POST", "/model/update")]
    assert paths(state["calls"])[-3:] == [("GET", "/team/info"), ("POST", "/team/new"), ("POST", "/team/update")]


def test_retries_stop_at_the_deadline_with_the_last_error(gateway_env, fake_gateway, claims_props, monkeypatch):
    state, _ = gateway_env
    monkeypatch.setenv("GATEWAY_RETRY_SECONDS", "0")
    state["fail"][("POST", "/model/update")] = [503] * 5
    result = fm_gateway_admin.handler(cfn_event(fake_gateway, claims_props))
    assert result["Status"] == "FAILED"
    assert "still failing after 1 attempts: HTTP 503" in result["Reason"]
    assert state["responses"][-1]["Status"] == "FAILED"


def test_a_lambda_context_shortens_the_retry_budget(monkeypatch):
    class Context:
        def get_remaining_time_in_millis(self):
            return 60_000

    monkeypatch.setenv("GATEWAY_RETRY_SECONDS", "600")
    assert fm_gateway_admin._deadline(Context()) - time.monotonic() <= 60 - fm_gateway_admin.RESPONSE_MARGIN_SECONDS


def test_client_errors_are_reported_verbatim_without_retrying(gateway_env, fake_gateway, claims_props):
    state, sleeps = gateway_env
    state["fail"][("POST", "/team/new")] = [422]
    result = fm_gateway_admin.handler(cfn_event(fake_gateway, claims_props))
    assert result["Status"] == "FAILED"
    assert (
        result["Reason"] == 'ResourceError: POST /team/new on the FM gateway answered HTTP 422: {"error": "injected"}'
    )
    assert sleeps == []


def test_a_plain_string_secret_is_the_master_key_itself(gateway_env, fake_gateway, claims_props, monkeypatch):
    arn = boto3.client("secretsmanager").create_secret(Name="plain", SecretString=MASTER_KEY)["ARN"]
    monkeypatch.setenv("MASTER_KEY_SECRET_ARN", arn)
    assert fm_gateway_admin.handler(cfn_event(fake_gateway, claims_props))["Status"] == "SUCCESS"


def test_the_master_key_never_travels_in_clear_text(gateway_env, fake_gateway, claims_props, monkeypatch):
    monkeypatch.setenv("GATEWAY_URL", "http://llm.agents.acme.internal")
    result = fm_gateway_admin.handler(cfn_event(fake_gateway, claims_props))
    assert result["Status"] == "FAILED" and "must be an https:// URL" in result["Reason"]
    assert gateway_env[0]["calls"] == []


def test_unknown_types_and_bad_properties_fail_but_bad_deletes_succeed(gateway_env, fake_gateway, claims_props):
    other = cfn_event(fake_gateway, claims_props, ResourceType="Custom::Other")
    assert "unknown resource type" in fm_gateway_admin.handler(other)["Reason"]
    bad = {**claims_props, "Deployments": "[{}]"}
    assert "model_info.id" in fm_gateway_admin.handler(cfn_event(fake_gateway, bad))["Reason"]
    # A resource whose create never validated must not block its own rollback.
    assert (
        fm_gateway_admin.handler(cfn_event(fake_gateway, bad, "Delete", PhysicalResourceId="x"))["Status"] == "SUCCESS"
    )


# ------------------------------------------------------------------ constructs

FIXTURE_REASON = "Test fixture standing in for the FM gateway infrastructure construct, which owns and hardens it."


def synth_gateway_stack(lz, settings, *, nag: bool = True, tenants=None):
    app = new_app()
    target = StackTarget("dev", "100000000011", REGION, "platform-ai@example.com", "CC-0001", "platform")

    class GatewayStack(AgentZoneStack):
        ROLE = "GatewayTest"

    stack = GatewayStack(app, "FmGatewayTest", target=target, description="FM gateway tenant access test")
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    security_group = ec2.SecurityGroup(stack, "AdminSecurityGroup", vpc=vpc, allow_all_outbound=False)
    secret = secretsmanager.Secret(stack, "MasterKey", encryption_key=stack.key)
    acknowledge(vpc, "AwsSolutions-VPC7", FIXTURE_REASON)
    acknowledge_compliance(vpc, "VPCFlowLogsEnabled", FIXTURE_REASON)
    acknowledge(secret, "AwsSolutions-SMG4", FIXTURE_REASON)
    acknowledge_compliance(secret, "SecretsManagerRotationEnabled", FIXTURE_REASON)
    admin = FmGatewayAdmin(
        stack,
        "Admin",
        vpc=vpc,
        security_group=security_group,
        gateway_url=f"https://{settings.domain_name}",
        master_key_secret=secret,
        encryption_key=stack.key,
        log_retention_days=365,
    )
    task_role = iam.Role(stack, "TaskRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    task_policy = iam.ManagedPolicy(stack, "TaskPolicy", roles=[task_role]) if nag else None
    for tenant in tenants or lz.tenants:
        access = TenantGatewayAccess.for_tenant(
            stack, f"Tenant-{tenant.tenant}", tenant=tenant, settings=settings, admin_service_token=admin.service_token
        )
        if task_policy is not None:
            task_policy.add_statements(access.invoke_policy_statement())
        else:
            access.grant_invoke(task_role)
    synth = synthesize(app, "FmGatewayTest", nag=lz.organization.nag if nag else None)  # raises on any nag error
    return synth.template, synth.raw


@pytest.fixture(scope="module")
def gateway_stack(lz, settings):
    return synth_gateway_stack(lz, settings)


def logical_id(template: dict, type_: str, **props) -> str:
    found = [
        k
        for k, v in template["Resources"].items()
        if v["Type"] == type_ and all(v["Properties"].get(p) == value for p, value in props.items())
    ]
    assert len(found) == 1, (type_, props, found)
    return found[0]


@pytest.mark.parametrize(
    "tenant, model, source",
    [
        ("claims", "claude-sonnet", "anthropic.claude-sonnet-4-5-v1:0"),
        ("claims", "nova-lite", "amazon.nova-lite-v1:0"),
        ("fraud", "nova-pro", "amazon.nova-pro-v1:0"),
    ],
)
def test_one_tagged_application_inference_profile_per_tenant_model(gateway_stack, lz, tenant, model, source):
    t, _ = gateway_stack
    t.resource_count_is("AWS::Bedrock::ApplicationInferenceProfile", 3)
    tags = tenant_cost_tags(lz.tenant(tenant))
    t.has_resource_properties(
        "AWS::Bedrock::ApplicationInferenceProfile",
        {
            "InferenceProfileName": f"agentzone-{tenant}-{model}",
            "ModelSource": {"CopyFrom": f"arn:aws:bedrock:{REGION}::foundation-model/{source}"},
            # The tenant's cost center wins over the stack's (CC-0001), so Cost Explorer bills the tenant.
            "Tags": Match.array_with([{"Key": key, "Value": value} for key, value in sorted(tags.items())]),
        },
    )


def test_the_team_resource_carries_the_payload_and_the_profile_arns(gateway_stack, lz, settings):
    _, template = gateway_stack
    team_id = logical_id(template, "Custom::LiteLLMTeam", TeamId="claims")
    props = template["Resources"][team_id]["Properties"]
    assert json.loads(props["Team"]) == json.loads(json.dumps(team_payload(lz.tenant("claims"), settings)))
    admin_fn = logical_id(template, "AWS::Lambda::Function", Handler="fm_gateway_admin.handler")
    assert props["ServiceToken"] == {"Fn::GetAtt": [admin_fn, "Arn"]}
    parts = props["Deployments"]["Fn::Join"][1]
    profile = logical_id(
        template, "AWS::Bedrock::ApplicationInferenceProfile", InferenceProfileName="agentzone-claims-claude-sonnet"
    )
    assert {"Fn::GetAtt": [profile, "InferenceProfileArn"]} in parts
    rendered = "".join(p if isinstance(p, str) else "ARN" for p in parts)
    deployments = json.loads(rendered)
    assert [d["model_name"] for d in deployments] == ["claims/claude-sonnet", "claims/nova-lite"]
    assert all(d["litellm_params"]["model_id"] == "ARN" for d in deployments)


def test_admin_function_runs_in_the_gateway_vpc_with_only_the_master_key(gateway_stack, settings):
    t, template = gateway_stack
    fn = logical_id(template, "AWS::Lambda::Function", Handler="fm_gateway_admin.handler")
    props = template["Resources"][fn]["Properties"]
    assert props["Runtime"] == "python3.14" and props["Architectures"] == ["arm64"]
    assert props["Timeout"] <= 900 and props["Timeout"] > int(
        props["Environment"]["Variables"]["GATEWAY_RETRY_SECONDS"]
    )
    subnets = {k for k, v in template["Resources"].items() if v["Type"] == "AWS::EC2::Subnet"}
    assert {s["Ref"] for s in props["VpcConfig"]["SubnetIds"]} == subnets
    sg = logical_id(template, "AWS::EC2::SecurityGroup", GroupDescription="FmGatewayTest/AdminSecurityGroup")
    assert props["VpcConfig"]["SecurityGroupIds"] == [{"Fn::GetAtt": [sg, "GroupId"]}]
    secret = next(k for k, v in template["Resources"].items() if v["Type"] == "AWS::SecretsManager::Secret")
    assert props["Environment"]["Variables"]["MASTER_KEY_SECRET_ARN"] == {"Ref": secret}
    assert props["Environment"]["Variables"]["GATEWAY_URL"] == f"https://{settings.domain_name}"
    # The role's only permissions: one managed policy, no inline ones.
    role = props["Role"]["Fn::GetAtt"][0]
    assert "Policies" not in template["Resources"][role]["Properties"]
    policy = template["Resources"][role]["Properties"]["ManagedPolicyArns"][0]["Ref"]
    statements = template["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"]
    by_action = {tuple(s["Action"]) if isinstance(s["Action"], list) else (s["Action"],): s for s in statements}
    assert by_action[("secretsmanager:GetSecretValue",)]["Resource"] == {"Ref": secret}
    kms = by_action[("kms:Decrypt",)]
    assert kms["Resource"] == {"Fn::GetAtt": ["BaselineKey6BDA4C48", "Arn"]}
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}
    wildcard = [s for s in statements if s["Resource"] == "*"]
    assert len(wildcard) == 1 and all(a.startswith("ec2:") for a in wildcard[0]["Action"])
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert not any(a.startswith("bedrock:") or a.endswith(":*") for a in actions)
    t.has_resource(
        "AWS::Logs::LogGroup",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like({"KmsKeyId": {"Fn::GetAtt": ["BaselineKey6BDA4C48", "Arn"]}}),
        },
    )


def test_the_invoke_statement_covers_the_profiles_and_their_models(gateway_stack):
    _, template = gateway_stack
    policy = next(
        v
        for k, v in template["Resources"].items()
        if v["Type"] == "AWS::IAM::ManagedPolicy" and k.startswith("TaskPolicy")
    )
    statement = policy["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    resources = statement["Resource"]
    assert (
        sum(1 for r in resources if isinstance(r, dict) and "InferenceProfileArn" in r.get("Fn::GetAtt", [None, ""])[1])
        == 3
    )
    assert f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-pro-v1:0" in resources


def test_a_system_inference_profile_source_and_its_regions(lz, settings):
    cross_region = settings.model_copy(
        update={
            "models": [GatewayModel(name="claude-sonnet", model="eu.anthropic.claude-sonnet-4-5-v1:0", tier="premium")]
        }
    )
    tenant = lz.tenant("claims").model_copy(update={"models": ["eu.anthropic.claude-sonnet-4-5-v1:0"]})
    t, template = synth_gateway_stack(lz, cross_region, nag=False, tenants=[tenant])
    t.has_resource_properties(
        "AWS::Bedrock::ApplicationInferenceProfile",
        {
            "ModelSource": {
                "CopyFrom": f"arn:aws:bedrock:{REGION}:100000000011:inference-profile/"
                "eu.anthropic.claude-sonnet-4-5-v1:0"
            },
        },
    )
    policy = next(
        v for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Policy" and k.startswith("TaskRole")
    )
    resources = json.dumps(policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"])
    assert ":bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-v1:0" in resources


def test_profile_names_fit_bedrocks_limit():
    assert inference_profile_name("claims", "claude-sonnet") == "agentzone-claims-claude-sonnet"
    long = inference_profile_name("a" * 32, "m" * 48)
    assert len(long) <= 64 and long.startswith("agentzone-aaaa")
    assert long != inference_profile_name("a" * 32, "m" * 47 + "n")
    assert "--" not in inference_profile_name("a--b", "x--y")


def test_constructs_refuse_unsafe_inputs(lz, settings):
    app = new_app()
    stack = AgentZoneStack(
        app,
        "Refuse",
        target=StackTarget("dev", "100000000011", REGION, "o@example.com", "CC-0001", "platform"),
        description="t",
    )
    with pytest.raises(ValueError, match="empty team model list"):
        TenantGatewayAccess(stack, "Empty", tenant="claims", models={}, tags={}, team={}, admin_service_token="arn")
    with pytest.raises(ValueError, match="not tenant"):
        TenantGatewayAccess(
            stack,
            "Other",
            tenant="claims",
            models={"nova-lite": "amazon.nova-lite-v1:0"},
            tags={},
            team={"team_id": "fraud"},
            admin_service_token="arn",
        )
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    with pytest.raises(ValueError, match="https"):
        FmGatewayAdmin(
            stack,
            "Admin",
            vpc=vpc,
            security_group=ec2.SecurityGroup(stack, "Sg", vpc=vpc),
            gateway_url="http://llm.internal",
            master_key_secret=secretsmanager.Secret(stack, "S"),
            encryption_key=stack.key,
        )
