"""The config loader: the sample is valid, and every kind of mistake is reported clearly."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from agentzone.config import ConfigError, load_landing_zone
from agentzone.config.loader import CONFIG_DIR_ENV, default_config_dir

from ..conftest import SAMPLE_CONFIG

ORG = "organization.yaml"
CLAIMS = "tenants/claims.yaml"
FRAUD = "tenants/fraud.yaml"


def test_sample_is_valid():
    lz = load_landing_zone(SAMPLE_CONFIG)
    assert list(lz.organization.environments) == ["dev", "staging", "prod"]
    assert [t.tenant for t in lz.tenants] == ["claims", "fraud"]
    assert lz.tenant("fraud").environments["prod"].region == "eu-central-1"
    assert lz.region_of(lz.tenant("claims").environments["dev"]) == "eu-west-1"
    claims = lz.tenant("claims").blueprints
    assert claims.memory["customers"].strategies == ["user_preference"]
    assert claims.runtime["intake"].releases["prod"].endpoints == {"PROD": 7}
    assert claims.prompt_store["triage"].environments == {"dev": "2", "staging": "2", "prod": "1"}
    assert claims.selected() == [
        "guardrail",
        "memory",
        "prompt_store",
        "knowledge_base",
        "tool_gateway",
        "runtime",
        "hitl",
        "eval_pipeline",
    ]


def test_config_dir_from_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path))
    assert default_config_dir() == tmp_path
    monkeypatch.delenv(CONFIG_DIR_ENV)
    assert default_config_dir() == SAMPLE_CONFIG


def edit(root: Path, rel: str, old: str, new: str, count: int = 1) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {rel}"
    path.write_text(text.replace(old, new, count))


def line_of(root: Path, rel: str, needle: str) -> int:
    for number, line in enumerate((root / rel).read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {rel}")


def problems_for(root: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_landing_zone(root)
    return [p.render() for p in info.value.problems]


# (id, file, old text, new text, expected key path, expected message fragment, text on the expected line)
CASES = [
    (
        "short-account",
        CLAIMS,
        '"111111111111"',
        '"11111"',
        "environments.dev.account",
        "'11111' is not a 12-digit AWS account id",
        '"11111"',
    ),
    (
        "unquoted-account",
        CLAIMS,
        '"111111111111"',
        "111111111111",
        "environments.dev.account",
        'must be a quoted string, e.g. "111111111111"',
        "111111111111",
    ),
    (
        "misspelled-key",
        CLAIMS,
        "owner: claims",
        "ownr: claims",
        "ownr",
        "unknown key 'ownr' (did you mean 'owner'?)",
        "ownr:",
    ),
    (
        "missing-key",
        CLAIMS,
        "budget: {monthly_usd: 5000, session_usd: 2.0}\n",
        "",
        "budget",
        "required key 'budget' is missing",
        "tenant: claims",
    ),
    (
        "region-not-allowed",
        CLAIMS,
        '"222222222222"}',
        '"222222222222", region: us-east-1}',
        "environments.staging.region",
        "'us-east-1' is not in allowed_regions (eu-west-1, eu-central-1)",
        "us-east-1",
    ),
    (
        "home-region-not-allowed",
        ORG,
        "home_region: eu-west-1",
        "home_region: us-west-2",
        "home_region",
        "'us-west-2' is not in allowed_regions",
        "home_region",
    ),
    (
        "bad-region-format",
        ORG,
        "allowed_regions: [eu-west-1, eu-central-1]",
        "allowed_regions: [eu-west-1, europe]",
        "allowed_regions[1]",
        "'europe' is not an AWS region code",
        "allowed_regions",
    ),
    (
        "account-reused",
        CLAIMS,
        '"111111111111"',
        '"100000000012"',
        "environments.dev.account",
        "account 100000000012 is already used as platform dev logging",
        '"100000000012"',
    ),
    (
        "unknown-environment",
        CLAIMS,
        "staging: {account",
        "qa:      {account",
        "environments.qa",
        "unknown environment 'qa'; environments defined in organization.yaml: dev, staging, prod",
        "qa:",
    ),
    (
        "bad-slug",
        FRAUD,
        "tenant: fraud",
        "tenant: Fraud_Team",
        "tenant",
        "'Fraud_Team' is not a valid slug",
        "tenant: Fraud_Team",
    ),
    (
        "bad-email",
        CLAIMS,
        "owner: claims-ai@example.com",
        "owner: claims-ai",
        "owner",
        "'claims-ai' is not an email address",
        "owner:",
    ),
    (
        "zero-budget",
        CLAIMS,
        "monthly_usd: 5000",
        "monthly_usd: 0",
        "budget.monthly_usd",
        "must be greater than 0",
        "monthly_usd",
    ),
    (
        "session-over-month",
        CLAIMS,
        "session_usd: 2.0",
        "session_usd: 9000",
        "budget.session_usd",
        "session_usd (9000.0) cannot exceed monthly_usd (5000.0)",
        "session_usd",
    ),
    (
        "unknown-strategy",
        FRAUD,
        "strategies: [semantic, episodic]",
        "strategies: [semantic, episodes]",
        "blueprints.memory.signals.strategies[1]",
        "'episodes' is not valid; valid values: 'semantic', 'summary', 'user_preference' or 'episodic'",
        "episodes",
    ),
    (
        "expiry-too-long",
        FRAUD,
        "expiry_days: 30",
        "expiry_days: 1000",
        "blueprints.memory.signals.expiry_days",
        "must be less than or equal to 365",
        "expiry_days",
    ),
    (
        "duplicate-yaml-key",
        CLAIMS,
        "cost_center: CC-1234\n",
        "cost_center: CC-1234\ncost_center: CC-9999\n",
        "cost_center",
        "duplicate key 'cost_center' (first defined on line 4); keep one",
        "CC-9999",
    ),
    (
        "unknown-blueprint",
        CLAIMS,
        "  memory:",
        "  memroy:",
        "blueprints.memroy",
        "unknown key 'memroy' (did you mean 'memory'?); valid keys here: guardrail, memory, prompt_store, "
        "knowledge_base, tool_gateway, runtime",
        "memroy",
    ),
    (
        "empty-models",
        FRAUD,
        "models: [amazon.nova-pro-v1:0]",
        "models: []",
        "models",
        "must have at least 1 item(s)",
        "models",
    ),
    (
        "bad-model-id",
        FRAUD,
        "models: [amazon.nova-pro-v1:0]",
        "models: [gpt4]",
        "models[0]",
        "'gpt4' is not a Bedrock model id",
        "models",
    ),
    (
        "duplicate-model",
        FRAUD,
        "models: [amazon.nova-pro-v1:0]",
        "models: [amazon.nova-pro-v1:0, amazon.nova-pro-v1:0]",
        "models[1]",
        "'amazon.nova-pro-v1:0' is listed twice",
        "models",
    ),
    (
        "agent-limit-looser-than-the-tenant",
        CLAIMS,
        "safety: {max_tool_calls: 8,",
        "safety: {max_tool_calls: 30,",
        "blueprints.runtime.intake.safety.max_tool_calls",
        "30 is more than the tenant's safety.max_tool_calls (12); an agent's limits can only be tighter",
        "max_tool_calls: 30",
    ),
    (
        "checkpoint-without-hitl-category",
        CLAIMS,
        "categories: [payment, claim-closure, agent-checkpoint]",
        "categories: [payment, claim-closure]",
        "blueprints.runtime.intake.safety.human_checkpoint_after",
        "the HITL workflow decides only its categories: add agent-checkpoint to blueprints.hitl.categories",
        "human_checkpoint_after: 5",
    ),
    (
        "experiment-tracking-mode-unknown",
        FRAUD,
        "experiment_tracking: isolated",
        "experiment_tracking: private",
        "experiment_tracking",
        "'private' is not valid; valid values: true, false or 'isolated'",
        "experiment_tracking",
    ),
    (
        "duplicate-catalog-launcher",
        CLAIMS,
        "catalog_launchers: [ClaimsDevelopers]",
        "catalog_launchers: [ClaimsDevelopers, ClaimsDevelopers]",
        "catalog_launchers[1]",
        "'ClaimsDevelopers' is listed twice",
        "catalog_launchers",
    ),
    (
        "catalog-launcher-not-a-role-name",
        CLAIMS,
        "catalog_launchers: [ClaimsDevelopers]",
        "catalog_launchers: [arn:aws:iam::111111111111:role/ClaimsDevelopers]",
        "catalog_launchers[0]",
        "IAM role name",
        "catalog_launchers",
    ),
    (
        "platform-role-missing",
        ORG,
        '    data_lake: "100000000024"\n',
        "",
        "environments.staging.data_lake",
        "required key 'data_lake' is missing",
        "staging:",
    ),
    (
        "bad-environment-name",
        ORG,
        "  prod:\n",
        "  Prod:\n",
        "environments.Prod",
        "key 'Prod' is not a valid environment name",
        "Prod:",
    ),
    (
        "string-not-number",
        CLAIMS,
        "monthly_usd: 5000",
        "monthly_usd: lots",
        "budget.monthly_usd",
        "must be a valid number",
        "monthly_usd",
    ),
    (
        "mapping-expected",
        FRAUD,
        "budget: {monthly_usd: 12000, session_usd: 5.0, alert_at_percent: [50, 80, 100]}",
        "budget: 12000",
        "budget",
        "must be a mapping with keys: monthly_usd, session_usd, alert_at_percent",
        "budget:",
    ),
    (
        "duplicate-use-case-id",
        FRAUD,
        "use_case_id: UC-0051",
        "use_case_id: UC-0042",
        "use_case_id",
        "use_case_id 'UC-0042' is already used by",
        "use_case_id",
    ),
    (
        "negative-session-budget",
        CLAIMS,
        "session_usd: 2.0",
        "session_usd: -2",
        "budget.session_usd",
        "must be greater than 0",
        "session_usd",
    ),
    (
        "zero-alert-percent",
        FRAUD,
        "alert_at_percent: [50, 80, 100]",
        "alert_at_percent: [0, 80]",
        "budget.alert_at_percent[0]",
        "must be greater than 0",
        "alert_at_percent",
    ),
    (
        "expiry-too-short",
        CLAIMS,
        "expiry_days: 90",
        "expiry_days: 3",
        "blueprints.memory.claims.expiry_days",
        "must be greater than or equal to 7",
        "expiry_days",
    ),
    (
        "management-account-reused",
        FRAUD,
        '"444444444444"',
        '"100000000000"',
        "environments.dev.account",
        "account 100000000000 is already used as the management account",
        '"100000000000"',
    ),
    (
        "duplicate-region",
        ORG,
        "allowed_regions: [eu-west-1, eu-central-1]",
        "allowed_regions: [eu-west-1, eu-west-1]",
        "allowed_regions[1]",
        "'eu-west-1' is listed twice",
        "allowed_regions",
    ),
    (
        "no-strategies",
        CLAIMS,
        "strategies: [user_preference]",
        "strategies: []",
        "blueprints.memory.customers.strategies",
        "choose at least one built-in strategy or add a custom_strategies entry",
        "customers:",
    ),
    (
        "no-environments",
        FRAUD,
        'environments:\n  dev:     {account: "444444444444"}\n  staging: {account: "555555555555"}\n  prod:    '
        '{account: "666666666666", region: eu-central-1}\n',
        "environments: {}\n",
        "environments",
        "must have at least 1 item(s)",
        "environments",
    ),
    (
        "unknown-nag-pack",
        ORG,
        "  pci_dss_321: true",
        "  cis_benchmark: true",
        "nag.cis_benchmark",
        "unknown key 'cis_benchmark'; valid keys here: aws_solutions, nist_800_53_r5, hipaa_security, pci_dss_321",
        "cis_benchmark",
    ),
    (
        "nag-not-boolean",
        ORG,
        "  aws_solutions: true",
        "  aws_solutions: sometimes",
        "nag.aws_solutions",
        "must be a valid boolean",
        "aws_solutions",
    ),
    (
        "platform-region-not-allowed",
        ORG,
        '    data_lake: "100000000034"\n',
        '    data_lake: "100000000034"\n    region: us-east-1\n',
        "environments.prod.region",
        "'us-east-1' is not in allowed_regions",
        "us-east-1",
    ),
    (
        "description-too-long",
        CLAIMS,
        "description: Claims triage and settlement assistant",
        "description: " + "x" * 300,
        "description",
        "at most 256 characters",
        "description",
    ),
    (
        "bad-cost-center",
        CLAIMS,
        "cost_center: CC-1234",
        "cost_center: CC 1234 / claims",
        "cost_center",
        "is not a valid cost center",
        "cost_center",
    ),
    # shared services
    (
        "fallback-to-higher-tier",
        ORG,
        "tier: standard, fallbacks: [nova-lite]",
        "tier: standard, fallbacks: [claude-sonnet]",
        "shared_services.fm_gateway.models[1].fallbacks[0]",
        "'claude-sonnet' is premium, not a lower tier than 'nova-pro' (standard)",
        "name: nova-pro",
    ),
    (
        "unknown-fallback",
        ORG,
        "fallbacks: [nova-pro, nova-lite]",
        "fallbacks: [nova-pro, nova-mini]",
        "shared_services.fm_gateway.models[0].fallbacks[1]",
        "unknown gateway model 'nova-mini'; valid: claude-sonnet, nova-pro, nova-lite",
        "nova-mini",
    ),
    (
        "gateway-image-latest",
        ORG,
        "tag: v1.77.7-stable",
        "tag: latest",
        "shared_services.fm_gateway.image.tag",
        "pin a version tag",
        "tag: latest",
    ),
    (
        "gateway-image-outside-cache",
        ORG,
        "repository: ghcr/berriai/litellm",
        "repository: berriai/litellm",
        "shared_services.fm_gateway.image.repository",
        "must start with the pull-through cache prefix 'ghcr/'",
        "berriai/litellm",
    ),
    (
        "gateway-cidr-too-small",
        ORG,
        "    min_tasks: 2\n",
        "    min_tasks: 2\n    vpc_cidr: 10.64.0.0/28\n",
        "shared_services.fm_gateway.vpc_cidr",
        "must be an IPv4 network from /16 to /22 (got 10.64.0.0/28)",
        "vpc_cidr",
    ),
    (
        "gateway-min-over-max",
        ORG,
        "min_tasks: 2",
        "min_tasks: 9",
        "shared_services.fm_gateway.min_tasks",
        "9 is more than max_tasks (6)",
        "min_tasks",
    ),
    (
        "missing-cedar-file",
        ORG,
        "policies/shared-tools/claims-limit.cedar",
        "policies/shared-tools/nope.cedar",
        "shared_services.tool_gateway.policies[1]",
        "no Cedar policy file policies/shared-tools/nope.cedar under the config directory",
        "nope.cedar",
    ),
    (
        "certificate-wrong-account",
        ORG,
        "acm:eu-west-1:100000000011",
        "acm:eu-west-1:100000000012",
        "environments.dev.fm_gateway_certificate_arn",
        "must be in this environment's shared-services account 100000000011 and region eu-west-1 (got 100000000012, "
        "eu-west-1)",
        "100000000012:certificate",
    ),
    (
        "registry-login-wrong-account",
        ORG,
        "fm_gateway_certificate_arn: arn:aws:acm:eu-west-1:100000000011:",
        "registry_credential_arn: arn:aws:secretsmanager:eu-west-1:100000000012:secret:"
        "ecr-pullthroughcache/ghcr-AbC123\n    fm_gateway_certificate_arn: arn:aws:acm:eu-west-1:100000000011:",
        "environments.dev.registry_credential_arn",
        "the secret must be in this environment's shared-services account 100000000011 and region eu-west-1, where "
        "ECR runs the cache (got 100000000012, eu-west-1)",
        "registry_credential_arn",
    ),
    (
        "adopted-sink-wrong-account",
        ORG,
        "fm_gateway_certificate_arn: arn:aws:acm:eu-west-1:100000000011:",
        "observability_sink: arn:aws:oam:eu-west-1:100000000013:sink/0d3f0f55-6b1a-4a8e-9d0c-2f1e3c4b5a61\n"
        "    fm_gateway_certificate_arn: arn:aws:acm:eu-west-1:100000000011:",
        "environments.dev.observability_sink",
        "must be in this environment's logging account 100000000012 and region eu-west-1 (got 100000000013, eu-west-1)",
        "observability_sink",
    ),
    (
        "user-pool-wrong-region",
        ORG,
        "fm_gateway_certificate_arn: arn:aws:acm:eu-west-1:100000000011:",
        "identity_user_pool_id: eu-central-1_AgZnDev01\n"
        "    fm_gateway_certificate_arn: arn:aws:acm:eu-west-1:100000000011:",
        "environments.dev.identity_user_pool_id",
        "the user pool must be in this environment's region eu-west-1",
        "eu-central-1_AgZnDev01",
    ),
    (
        "tenant-gateway-model-not-allowed",
        CLAIMS,
        "budget: {monthly_usd: 5000, session_usd: 2.0}\n",
        "budget: {monthly_usd: 5000, session_usd: 2.0}\nfm_gateway: {models: [nova-pro]}\n",
        "fm_gateway.models[0]",
        "gateway model 'nova-pro': amazon.nova-pro-v1:0 is not in the tenant's models",
        "fm_gateway",
    ),
    (
        "tenant-gateway-model-unknown",
        FRAUD,
        "budget: {",
        "fm_gateway: {models: [gpt-5]}\nbudget: {",
        "fm_gateway.models[0]",
        "unknown gateway model 'gpt-5'; valid: claude-sonnet, nova-pro, nova-lite",
        "fm_gateway",
    ),
    (
        "cedar-syntax-error",
        "policies/shared-tools/claims-limit.cedar",
        "context has input &&",
        "context has input && oops &&",
        "",
        "Cedar syntax error",
        "oops",
    ),
    (
        "duplicate-image",
        CLAIMS,
        "budget: {monthly_usd: 5000, session_usd: 2.0}\n",
        "budget: {monthly_usd: 5000, session_usd: 2.0}\nimages: [agent, agent]\n",
        "images[1]",
        "'agent' is listed twice",
        "images",
    ),
    # blueprints
    (
        "runtime-image-not-in-images",
        CLAIMS,
        "image: settlement",
        "image: payments",
        "blueprints.runtime.settlement.image",
        "'payments' is not one of this tenant's images (intake, settlement); add it under images",
        "image: payments",
    ),
    (
        "runtime-release-missing",
        CLAIMS,
        '        prod:    {image_tag: "1.4.2", endpoints: {PROD: 7}}\n',
        "",
        "blueprints.runtime.intake.releases",
        "no release for prod; every environment the tenant deploys to needs one",
        "releases:",
    ),
    (
        "runtime-release-unknown-environment",
        FRAUD,
        'staging: {image_tag: "2.0.1"',
        'qa:      {image_tag: "2.0.1"',
        "blueprints.runtime.investigator.releases.qa",
        "'qa' is not one of this tenant's environments (dev, staging, prod)",
        "qa:",
    ),
    (
        "runtime-unknown-memory",
        CLAIMS,
        "memory: {claims: read, customers: read_write}",
        "memory: {claims: read, clients: read_write}",
        "blueprints.runtime.settlement.memory.clients",
        "unknown memory 'clients'; blueprints.memory defines: claims, customers",
        "clients",
    ),
    (
        "runtime-bad-memory-access",
        FRAUD,
        "memory: {signals: read_write}",
        "memory: {signals: admin}",
        "blueprints.runtime.investigator.memory.signals",
        "'admin' is not valid; valid values: 'read', 'read_short_term', 'read_long_term', 'write' or 'read_write'",
        "admin",
    ),
    (
        "runtime-latest-tag",
        FRAUD,
        'dev:     {image_tag: "2.1.0"',
        "dev:     {image_tag: latest",
        "blueprints.runtime.investigator.releases.dev.image_tag",
        "pin a version tag; 'latest' cannot be promoted or rolled back",
        "latest",
    ),
    (
        "runtime-endpoint-version-zero",
        FRAUD,
        "endpoints: {PROD: 3, CANARY: 4}",
        "endpoints: {PROD: 0, CANARY: 4}",
        "blueprints.runtime.investigator.releases.prod.endpoints.PROD",
        "must be greater than or equal to 1",
        "PROD: 0",
    ),
    (
        "runtime-reserved-variable",
        FRAUD,
        "      max_lifetime_hours: 2\n",
        "      max_lifetime_hours: 2\n      environment: {AGENTZONE_MEMORY_SIGNALS_ID: x}\n",
        "blueprints.runtime.investigator.environment.AGENTZONE_MEMORY_SIGNALS_ID",
        "AGENTZONE_* variables are set by the blueprint",
        "AGENTZONE_MEMORY",
    ),
    (
        "runtime-vpc-too-small",
        CLAIMS,
        "vpc: {cidr: 10.80.0.0/22}",
        "vpc: {cidr: 10.80.0.0/28}",
        "blueprints.runtime.intake.vpc.cidr",
        "must be an IPv4 network from /16 to /24 (got 10.80.0.0/28)",
        "10.80.0.0/28",
    ),
    (
        "runtime-bad-protocol",
        CLAIMS,
        "protocol: A2A",
        "protocol: GRPC",
        "blueprints.runtime.intake.protocol",
        "'GRPC' is not valid; valid values: 'HTTP', 'MCP' or 'A2A'",
        "GRPC",
    ),
    (
        "runtime-default-endpoint",
        FRAUD,
        "endpoints: {PROD: 3, CANARY: 4}",
        "endpoints: {PROD: 3, DEFAULT: 4}",
        "blueprints.runtime.investigator.releases.prod.endpoints.DEFAULT",
        "DEFAULT is AgentCore's own endpoint",
        "DEFAULT: 4",
    ),
    (
        "runtime-idle-over-lifetime",
        FRAUD,
        "      max_lifetime_hours: 2\n",
        "      max_lifetime_hours: 2\n      idle_timeout_minutes: 180\n",
        "blueprints.runtime.investigator.idle_timeout_minutes",
        "180 minutes is longer than max_lifetime_hours (2)",
        "idle_timeout_minutes",
    ),
    (
        "safety-daily-over-monthly",
        CLAIMS,
        "daily_cost_usd: 250}",
        "daily_cost_usd: 6000}",
        "safety.daily_cost_usd",
        "6000.0 is more than the whole monthly budget (5000.0)",
        "daily_cost_usd",
    ),
    (
        "safety-zero-tool-calls",
        CLAIMS,
        "max_tool_calls: 12",
        "max_tool_calls: 0",
        "safety.max_tool_calls",
        "must be greater than or equal to 1",
        "max_tool_calls",
    ),
    (
        "eval-no-way-to-evaluate",
        FRAUD,
        "    evaluator_model: amazon.nova-pro-v1:0\n",
        "",
        "blueprints.eval_pipeline",
        "set command (your own evaluation, run in CodeBuild) or evaluator_model",
        "eval_pipeline:",
    ),
    (
        "eval-judge-not-allowed",
        FRAUD,
        "    evaluator_model: amazon.nova-pro-v1:0",
        "    evaluator_model: amazon.nova-lite-v1:0",
        "blueprints.eval_pipeline.evaluator_model",
        "amazon.nova-lite-v1:0 is not in the tenant's models",
        "evaluator_model",
    ),
    (
        "eval-canary-unknown-environment",
        FRAUD,
        "canary_environments: [prod]",
        "canary_environments: [production]",
        "blueprints.eval_pipeline.canary_environments[0]",
        "'production' is not one of this tenant's environments",
        "canary_environments",
    ),
    (
        "eval-threshold-over-one",
        CLAIMS,
        "correctness: 0.9, helpfulness: 0.8, faithfulness",
        "correctness: 90, helpfulness: 0.8, faithfulness",
        "blueprints.eval_pipeline.thresholds.correctness",
        "must be less than or equal to 1",
        "thresholds",
    ),
    (
        "hitl-duplicate-category",
        CLAIMS,
        "categories: [payment, claim-closure, agent-checkpoint]",
        "categories: [payment, payment, agent-checkpoint]",
        "blueprints.hitl.categories[1]",
        "'payment' is listed twice",
        "categories",
    ),
    (
        "hitl-no-approvers",
        CLAIMS,
        "approvers: [claims-leads@example.com]",
        "approvers: []",
        "blueprints.hitl.approvers",
        "must have at least 1 item(s)",
        "approvers",
    ),
    (
        "prompt-file-missing",
        CLAIMS,
        "prompts/claims/triage-v2.txt",
        "prompts/claims/triage-v3.txt",
        "blueprints.prompt_store.triage.versions.2",
        "no prompt file prompts/claims/triage-v3.txt under the config directory",
        "triage-v3",
    ),
    (
        "prompt-unknown-version",
        CLAIMS,
        'prod: "1"}',
        'prod: "3"}',
        "blueprints.prompt_store.triage.environments.prod",
        "unknown version '3'; versions: 1, 2",
        'prod: "3"',
    ),
    (
        "prompt-model-not-allowed",
        FRAUD,
        "      model: amazon.nova-pro-v1:0\n      versions",
        "      model: amazon.nova-lite-v1:0\n      versions",
        "blueprints.prompt_store.investigate.model",
        "amazon.nova-lite-v1:0 is not in the tenant's models",
        "model: amazon.nova-lite",
    ),
    (
        "knowledge-base-model-not-allowed",
        CLAIMS,
        "embedding_model: amazon.titan-embed-text-v2:0",
        "embedding_model: cohere.embed-english-v3",
        "blueprints.knowledge_base.embedding_model",
        "cohere.embed-english-v3 is not in the tenant's models",
        "cohere",
    ),
    (
        "knowledge-base-not-embedding",
        CLAIMS,
        "embedding_model: amazon.titan-embed-text-v2:0",
        "embedding_model: amazon.nova-lite-v1:0",
        "blueprints.knowledge_base.embedding_model",
        "is not an embedding model",
        "embedding_model",
    ),
    (
        "guardrail-pii-masked-and-blocked",
        CLAIMS,
        "anonymize: [EMAIL, PHONE, NAME, ADDRESS]",
        "anonymize: [EMAIL, PHONE, NAME, ADDRESS, PASSWORD]",
        "blueprints.guardrail.pii.block[4]",
        "PASSWORD is also in pii.anonymize; a PII type is either masked or blocked",
        "block:",
    ),
    (
        "guardrail-bad-strength",
        FRAUD,
        "  guardrail: {}",
        "  guardrail: {content_filter_strength: EXTREME}",
        "blueprints.guardrail.content_filter_strength",
        "'EXTREME' is not valid; valid values: 'NONE', 'LOW', 'MEDIUM' or 'HIGH'",
        "EXTREME",
    ),
    (
        "memory-custom-model-not-allowed",
        FRAUD,
        "          model: amazon.nova-pro-v1:0",
        "          model: amazon.nova-lite-v1:0",
        "blueprints.memory.signals.custom_strategies[0].model",
        "amazon.nova-lite-v1:0 is not in the tenant's models",
        "model: amazon.nova-lite",
    ),
    (
        "tool-gateway-enforce-without-policies",
        CLAIMS,
        "policies: [policies/claims/callers.cedar]",
        "policies: []",
        "blueprints.tool_gateway.policies",
        "Cedar denies every tool call",
        "policies: []",
    ),
    (
        "tool-gateway-tools-file-missing",
        CLAIMS,
        "tools/claims/claim-lookup.json",
        "tools/claims/nope.json",
        "blueprints.tool_gateway.lambda_targets[0].tools",
        "no tool schema file tools/claims/nope.json under the config directory",
        "nope.json",
    ),
    (
        "tool-gateway-duplicate-target",
        CLAIMS,
        "- name: policy-admin",
        "- name: claim-lookup  # again",
        "blueprints.tool_gateway.openapi_targets[0].name",
        "target name 'claim-lookup' is used twice",
        "# again",
    ),
    # data lake (organization data_lake: and tenant data:)
    (
        "data-lake-unknown-unmasked-env",
        ORG,
        "unmasked_environments: [prod]",
        "unmasked_environments: [production]",
        "data_lake.unmasked_environments[0]",
        "unknown environment 'production'; valid: dev, staging, prod",
        "unmasked_environments",
    ),
    (
        "data-lake-job-schedule-rate",
        ORG,
        "job_schedule: cron(0 * * * ? *)",
        "job_schedule: rate(1 hour)",
        "data_lake.job_schedule",
        "rate(1 hour)",
        "job_schedule",
    ),
    (
        "data-lake-raw-expires-before-ia",
        ORG,
        "raw_expire_days: 365",
        "raw_expire_days: 60",
        "data_lake.raw_expire_days",
        "must be later than infrequent_access_after_days (90)",
        "raw_expire_days",
    ),
    (
        "data-feedback-unknown-env",
        CLAIMS,
        "feedback_from: [prod]",
        "feedback_from: [qa]",
        "data.namespaces[1].feedback_from[0]",
        "'qa' is not one of this tenant's environments (dev, staging, prod)",
        "feedback_from",
    ),
    (
        "data-duplicate-namespace",
        CLAIMS,
        "    - name: feedback\n",
        "    - name: history  # again\n",
        "data.namespaces[1]",
        "'history' is listed twice",
        "# again",
    ),
    (
        "data-empty-namespace",
        CLAIMS,
        "      feedback_from: [prod]\n",
        "",
        "data.namespaces[1]",
        "a namespace needs datasets, feedback_from, or both",
        "- name: feedback",
    ),
    (
        "data-reserved-dataset",
        FRAUD,
        "        - name: card_events",
        "        - name: agent_signals",
        "data.namespaces[0].datasets[0].name",
        "'agent_signals' is the dataset feedback_from creates",
        "- name: agent_signals",
    ),
    (
        "data-dt-column",
        CLAIMS,
        "{name: status}",
        "{name: dt}",
        "data.namespaces[0].datasets[0].columns[6].name",
        "'dt' is the partition column",
        "{name: dt}",
    ),
    (
        "data-duplicate-column",
        CLAIMS,
        "{name: status}",
        "{name: amount}  # again",
        "data.namespaces[0].datasets[0].columns[6]",
        "'amount' is listed twice",
        "# again",
    ),
    (
        "data-bad-pii-strategy",
        CLAIMS,
        "{name: iban, pii: partial}",
        "{name: iban, pii: encrypt}",
        "data.namespaces[0].datasets[0].columns[4].pii",
        "'encrypt' is not valid",
        "pii: encrypt",
    ),
    (
        "data-unknown-dqdl-rule",
        CLAIMS,
        'IsUnique "claim_id"',
        'IsDistinct "claim_id"',
        "data.namespaces[0].datasets[0].quality_rules[0]",
        "'IsDistinct' is not a Glue Data Quality rule type",
        "IsDistinct",
    ),
    (
        "data-dqdl-unknown-column",
        FRAUD,
        'IsComplete "merchant"',
        'IsComplete "merchant_name"',
        "data.namespaces[0].datasets[0].quality_rules[0]",
        "column 'merchant_name' is not in this dataset",
        "merchant_name",
    ),
    (
        "data-stream-name-too-long",
        FRAUD,
        "name: signals\n      description: Card events and the agent's own monitoring signals\n      feedback_from: "
        "[prod]\n      datasets:\n        - name: card_events\n",
        "name: signals_from_every_card_network\n      description: Card events and the agent's own monitoring "
        "signals\n      feedback_from: [prod]\n      datasets:\n        - name: card_events_from_all_acquirers\n",
        "data.namespaces[0].datasets[0].name",
        "would be 78 characters (at most 64); shorten the namespace or dataset name",
        "card_events_from_all",
    ),
    (
        "dedicated-gateway-login-without-gateway",
        FRAUD,
        "      prod: arn:aws:secretsmanager:eu-central-1:666666666666:",
        "      dev: arn:aws:secretsmanager:eu-west-1:444444444444:",
        "fm_gateway.dedicated.registry_credentials.dev",
        "no dedicated gateway in dev (certificates names prod)",
        "dev: arn:aws:secretsmanager",
    ),
    (
        "dedicated-gateway-certificate-wrong-account",
        FRAUD,
        "prod: arn:aws:acm:eu-central-1:666666666666:",
        "prod: arn:aws:acm:eu-central-1:555555555555:",
        "fm_gateway.dedicated.certificates.prod",
        "the certificate must be in this environment's tenant account 666666666666 and region eu-central-1 "
        "(got 555555555555, eu-central-1)",
        "prod: arn:aws:acm:",
    ),
    (
        "dedicated-gateway-certificate-wrong-region",
        FRAUD,
        "prod: arn:aws:acm:eu-central-1:",
        "prod: arn:aws:acm:eu-west-1:",
        "fm_gateway.dedicated.certificates.prod",
        "account 666666666666 and region eu-central-1 (got 666666666666, eu-west-1)",
        "prod: arn:aws:acm:",
    ),
    (
        "dedicated-gateway-unknown-environment",
        FRAUD,
        "      prod: arn:aws:acm:eu-central-1:666666666666:",
        "      qa: arn:aws:acm:eu-central-1:666666666666:",
        "fm_gateway.dedicated.certificates.qa",
        "'qa' is not an environment of this tenant; valid: dev, staging, prod",
        "qa: arn:aws:acm",
    ),
    (
        "dedicated-gateway-tasks",
        FRAUD,
        "    min_tasks: 2\n    max_tasks: 4",
        "    min_tasks: 5\n    max_tasks: 4",
        "fm_gateway.dedicated.min_tasks",
        "5 is more than max_tasks (4)",
        "min_tasks: 5",
    ),
    (
        "dedicated-gateway-serves-nothing",
        FRAUD,
        "  monthly_budget_usd: 8000\n",
        "  monthly_budget_usd: 8000\n  models: []\n",
        "fm_gateway.dedicated",
        "the tenant may call no gateway model, so its gateway would serve nothing; gateway models serve "
        "amazon.nova-lite-v1:0, amazon.nova-pro-v1:0, anthropic.claude-sonnet-4-5-v1:0",
        "  dedicated:",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_invalid_input_is_reported_with_file_line_and_path(config_copy, case):
    _, rel, old, new, key_path, fragment, line_text = case
    edit(config_copy, rel, old, new)
    problems = problems_for(config_copy)
    line = line_of(config_copy, rel, line_text)
    expected_prefix = f"{config_copy / rel}:{line}:" + (
        f" {key_path}:" if key_path else ""
    )  # files without keys: Cedar
    matching = [p for p in problems if p.startswith(expected_prefix) and fragment in p]
    assert matching, f"expected {expected_prefix} ... {fragment!r}; got:\n" + "\n".join(problems)


def test_a_registry_login_for_an_upstream_without_one_is_refused(config_copy):
    login = "arn:aws:secretsmanager:eu-west-1:100000000011:secret:ecr-pullthroughcache/ghcr-AbC123"
    edit(
        config_copy,
        ORG,
        "    fm_gateway_certificate_arn: arn:aws:acm:eu-west-1:100000000011:",
        (f"    registry_credential_arn: {login}\n    fm_gateway_certificate_arn: arn:aws:acm:eu-west-1:100000000011:"),
    )
    valid = load_landing_zone(config_copy)  # ghcr.io needs a login
    assert valid.organization.environments["dev"].registry_credential_arn == login
    edit(config_copy, ORG, "upstream: ghcr.io", "upstream: quay.io")
    line = line_of(config_copy, ORG, "registry_credential_arn")
    assert (
        f"{config_copy / ORG}:{line}: environments.dev.registry_credential_arn: remove it: quay.io needs no login "
        + ("(a login is read for ghcr.io, registry-1.docker.io)")
        in problems_for(config_copy)
    )


def test_corpus_is_large_and_distinct():
    assert len({c[0] for c in CASES}) == len(CASES) >= 43


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_invalid_input_never_writes_an_assembly_or_a_traceback(config_copy, tmp_path, capsys, case):
    from agentzone import cli

    _, rel, old, new, *_ = case
    edit(config_copy, rel, old, new)
    out = tmp_path / "cdk.out"
    assert cli.main(["synth", "--config-dir", str(config_copy), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "configuration problem" in err
    assert not out.exists() and not (tmp_path / "cdk.out.staging").exists()


def test_custom_extraction_models_are_capped_so_the_tenant_scp_fits(config_copy):
    from agentzone.config.blueprint_checks import MAX_EXTRACTION_MODELS

    models = [
        "amazon.nova-pro-v1:0",
        "amazon.nova-lite-v1:0",
        "amazon.nova-micro-v1:0",
        "anthropic.claude-sonnet-4-5-v1:0",
        "anthropic.claude-haiku-4-5-v1:0",
    ]
    assert len(models) == MAX_EXTRACTION_MODELS + 1
    edit(config_copy, FRAUD, "models: [amazon.nova-pro-v1:0]", f"models: [{', '.join(models)}]")
    strategies = "".join(
        f'        - {{name: s{i}, type: semantic, namespaces: ["/s{i}/{{actorId}}"], '
        f"instructions: Keep facts., model: {model}}}  # s{i}\n"
        for i, model in enumerate(models)
    )
    edit(config_copy, FRAUD, "      custom_strategies:\n", "      custom_strategies:\n" + strategies)
    problems = problems_for(config_copy)
    line = line_of(config_copy, FRAUD, f"# s{MAX_EXTRACTION_MODELS}")
    prefix = (
        f"{config_copy / FRAUD}:{line}: blueprints.memory.signals.custom_strategies[{MAX_EXTRACTION_MODELS}].model:"
    )
    assert [p for p in problems if p.startswith(prefix) and "5th custom-extraction model (at most 4" in p], "\n".join(
        problems
    )
    assert (
        sum("custom-extraction model" in p for p in problems) == 1
    )  # reusing a model is free: only the 5th distinct one


def test_memory_extraction_role_name_must_fit_iam(config_copy):
    # fraud_investigation_signals_and_patterns_staging is 48 characters, AgentCore's limit; its role would be 65.
    edit(config_copy, FRAUD, "tenant: fraud", "tenant: fraud-investigation")
    edit(config_copy, FRAUD, "    signals:\n      expiry_days", "    signals-and-patterns:\n      expiry_days")
    problems = problems_for(config_copy)
    line = line_of(config_copy, FRAUD, "signals-and-patterns:")
    expected = (
        f"{config_copy / FRAUD}:{line}: blueprints.memory.signals-and-patterns: the memory's extraction role name "
        "'agentzone-memory-fraud_investigation_signals_and_patterns_staging' would be 65 characters (at most 64)"
    )
    assert [p for p in problems if p.startswith(expected)], "\n".join(problems)


def test_duplicate_tenant_across_files(config_copy):
    (config_copy / "tenants/claims-copy.yaml").write_text(
        (config_copy / CLAIMS)
        .read_text()
        .replace("UC-0042", "UC-0043")
        .replace('"1', '"7')
        .replace('"2', '"8')
        .replace('"3', '"9')
    )
    problems = "\n".join(problems_for(config_copy))
    # Files load in name order, so the second one seen (claims.yaml) is the duplicate.
    assert (
        f"{config_copy}/tenants/claims.yaml:2: tenant: tenant name 'claims' is already used by "
        f"{config_copy}/tenants/claims-copy.yaml" in problems
    )
    assert "must live in a file named claims.yaml (found claims-copy.yaml)" in problems


def test_malformed_yaml_names_the_line(config_copy):
    edit(config_copy, FRAUD, "models: [amazon.nova-pro-v1:0]", "models: [amazon.nova-pro-v1:0")
    problems = problems_for(config_copy)
    assert len(problems) == 1
    assert re.match(rf"{re.escape(str(config_copy / FRAUD))}:1[2-4]: invalid YAML: ", problems[0]), problems


def test_every_problem_is_reported_at_once(config_copy):
    edit(config_copy, CLAIMS, '"111111111111"', '"11111"')
    edit(config_copy, CLAIMS, "owner: claims", "ownr: claims")
    edit(config_copy, FRAUD, "monthly_usd: 12000", "monthly_usd: -1")
    edit(config_copy, ORG, "home_region: eu-west-1", "home_region: us-west-2")
    problems = problems_for(config_copy)
    joined = "\n".join(problems)
    for fragment in (
        "12-digit",
        "unknown key 'ownr'",
        "required key 'owner'",
        "greater than 0",
        "'us-west-2' is not in allowed_regions",
    ):
        assert fragment in joined
    # Moving home_region also strands what the three environments already point at in eu-west-1: their gateway
    # certificates (the sample adopts no sink or user pool: the Logging and Security stacks publish theirs).
    assert sum("must be in this environment's shared-services account" in p for p in problems) == 3
    assert len(problems) == 8


@pytest.mark.parametrize(
    "content,fragment",
    [
        ("", "file is empty"),
        ("- a\n- b\n", "top level must be a mapping of keys (got list)"),
        ("a: !Ref x\n", "invalid YAML"),
    ],
)
def test_unusable_files(config_copy, content, fragment):
    (config_copy / CLAIMS).write_text(content)
    assert any(fragment in p and str(config_copy / CLAIMS) in p for p in problems_for(config_copy))


def test_missing_organization_file(config_copy):
    (config_copy / ORG).unlink()
    assert problems_for(config_copy) == [
        f"{config_copy / ORG}: missing: every config directory needs organization.yaml"
    ]


def test_missing_config_dir(tmp_path):
    problems = problems_for(tmp_path / "nope")
    assert "config directory not found" in problems[0]


@pytest.mark.parametrize("name", ["shared-tools", "platform"])
def test_platform_names_are_reserved(config_copy, name):
    (config_copy / CLAIMS).rename(config_copy / f"tenants/{name}.yaml")
    edit(config_copy, f"tenants/{name}.yaml", "tenant: claims", f"tenant: {name}")
    problems = problems_for(config_copy)
    assert problems == [
        f"{config_copy}/tenants/{name}.yaml:2: tenant: {name!r} is reserved for the platform (mcp, platform, shared, "
        "shared-tools); choose another name"
    ]


def test_an_environment_holds_at_most_the_tenants_its_platform_policies_can_list(tmp_path, monkeypatch):
    """The real caps are 500 tenants and 250 feedback senders (docs/scale.md); lowered here to keep it quick."""
    import sys

    from agentzone.config import model

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from synth_scale import make_config

    assert (model.MAX_TENANTS_PER_ENVIRONMENT, model.MAX_FEEDBACK_SENDERS) == (500, 250)
    monkeypatch.setattr(model, "MAX_TENANTS_PER_ENVIRONMENT", 3)
    monkeypatch.setattr(model, "MAX_FEEDBACK_SENDERS", 2)
    make_config(tmp_path / "cfg", 4)  # shaped like claims: its prod account sends feedback
    problems = problems_for(tmp_path / "cfg")
    assert [p for p in problems if "4 tenants use this environment" in p and "list at most 3" in p]
    assert [p for p in problems if "4 tenant accounts send feedback" in p and "lists at most 2" in p]
    assert len(problems) == 4  # dev, staging, prod, and the feedback bus


def test_broken_tool_files_are_reported_at_the_line_that_names_them(config_copy):
    """Files named in a tenant file are read at validate time; the problem points at the YAML line."""
    tools = config_copy / "tools/claims/claim-lookup.json"
    tools.write_text(tools.read_text().replace('"type": "object"', '"type": "string"', 1))
    api = config_copy / "tools/claims/policy-admin.yaml"
    api.write_text(api.read_text().replace("https://policy-admin", "http://policy-admin"))
    problems = problems_for(config_copy)
    claims = config_copy / CLAIMS
    tools_line = line_of(config_copy, CLAIMS, "tools: tools/claims/claim-lookup.json")
    api_line = line_of(config_copy, CLAIMS, "schema_file: tools/claims/policy-admin.yaml")
    assert (
        f"{claims}:{tools_line}: blueprints.tool_gateway.lambda_targets[0].tools: tools/claims/claim-lookup.json: tool "
        "[0]: inputSchema must be a JSON schema of type object (the tool's named arguments)" in problems
    )
    assert (
        f"{claims}:{api_line}: blueprints.tool_gateway.openapi_targets[0].schema_file: tools/claims/policy-admin.yaml: "
        "servers[0].url must be an https:// URL: the gateway calls the API there, TLS only" in problems
    )
    assert len(problems) == 2


def test_tenant_cedar_policies_are_syntax_checked(config_copy):
    policy = config_copy / "policies/claims/callers.cedar"
    policy.write_text(policy.read_text().replace("principal.hasTag", "principal.hasTag(", 1))
    problems = problems_for(config_copy)
    assert any(
        p.startswith(f"{config_copy}/policies/claims/callers.cedar:") and "Cedar syntax error" in p for p in problems
    ), problems


def test_loading_the_config_never_starts_aws_cdk_lib():
    """Editors and pre-commit hooks run `agentzone validate` on every save: config must not pull in the jsii runtime."""
    code = (
        "import sys; from agentzone.config import load_landing_zone; load_landing_zone(sys.argv[1]); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'constructs'}))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(SAMPLE_CONFIG)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_dedicated_gateway_needs_a_pull_through_cache_to_get_its_image(config_copy):
    edit(config_copy, ORG, "    pull_through_cache:\n      prefix: ghcr\n", "")
    edit(config_copy, ORG, "      upstream: ghcr.io", "    # upstream: ghcr.io")
    edit(config_copy, ORG, "repository: ghcr/berriai/litellm", "repository: mirror/berriai/litellm")
    problems = problems_for(config_copy)
    line = line_of(config_copy, FRAUD, "  dedicated:")
    assert any(
        p.startswith(f"{config_copy / FRAUD}:{line}: fm_gateway.dedicated: a dedicated gateway pulls its image through")
        for p in problems
    ), problems


def test_a_dedicated_gateway_needs_the_organization_gateway_it_copies(config_copy):
    text = (config_copy / ORG).read_text()
    start, end = text.index("  fm_gateway:\n"), text.index("  tool_gateway:\n")
    (config_copy / ORG).write_text(text[:start] + text[end:])
    problems = problems_for(config_copy)
    line = line_of(config_copy, FRAUD, "  dedicated:")
    assert (
        f"{config_copy / FRAUD}:{line}: fm_gateway.dedicated: a dedicated gateway is built from "
        "shared_services.fm_gateway in organization.yaml (image, models, guardrail); define that first"
    ) in problems
