"""Cedar policies: the shared tools' policies decide as intended, and policy files load with their problems named."""

from __future__ import annotations

import textwrap

import pytest

from agentzone.tools import cedar

from ..conftest import SAMPLE_CONFIG

SCOPE = "agentzone/shared-tools/invoke"
POLICY_DIR = SAMPLE_CONFIG / "policies" / "shared-tools"
GATEWAY_ARN = "arn:aws:bedrock-agentcore:eu-west-1:100000000011:gateway/agentzone-shared-tools-abcdefghij"


def shared_policies() -> dict[str, str]:
    policies, problems = cedar.load_policy_dir(POLICY_DIR)
    assert not problems
    return policies


def decide(context, *, principal=None, tool="submit_claim", target="shared-claims", gateway_arn=GATEWAY_ARN):
    who = (
        principal
        if principal is not None
        else cedar.oauth_user("agent-claims-1", scope=f"agentzone/claims/invoke {SCOPE}")
    )
    return cedar.evaluate(
        shared_policies(),
        principal=who,
        action=cedar.tool_action(target, tool),
        resource=cedar.gateway_resource(gateway_arn),
        context=context,
        gateway_arn=GATEWAY_ARN,
    )


def test_claims_at_the_limit_are_allowed():
    result = decide({"input": {"policy_id": "P-1", "amount": 10000}})
    assert result.allowed and result.diagnostics.reasons == ["policy0"]


@pytest.mark.parametrize(
    "context", [{"input": {"amount": 10001}}, {"input": {"amount": 250000}}, {"input": {"policy_id": "P-1"}}, {}]
)
def test_claims_above_the_limit_or_without_amount_are_refused(context):
    assert not decide(context).allowed


def test_other_tools_are_not_limited():
    assert decide({"input": {"claim_id": "C-1", "amount": 99999}}, tool="claim_status").allowed


@pytest.mark.parametrize(
    "principal",
    [
        'AgentCore::OAuthUser::"stranger"',  # unknown caller: no claims at all
        cedar.oauth_user("agent-fraud-1", scope="agentzone/fraud/invoke"),  # authenticated, but not for shared tools
        cedar.oauth_user("agent-x", scope=f"{SCOPE}-admin"),  # a longer scope is not the scope
        'AgentCore::IamEntity::"arn:aws:iam::444444444444:role/x"',
    ],
)
def test_callers_without_the_shared_tools_scope_are_denied(principal):
    assert not decide({"input": {"amount": 1}}, principal=principal).allowed


def test_another_gateway_is_not_covered():
    assert not decide({"input": {"amount": 1}}, gateway_arn=GATEWAY_ARN.replace("abcdefghij", "zzzzzzzzzz")).allowed


def test_cedar_syntax_errors_name_file_and_line(tmp_path):
    (tmp_path / "good.cedar").write_text(
        '// ok\npermit(principal, action, resource == AgentCore::Gateway::"{{gateway_arn}}");\n'
    )
    (tmp_path / "bad.cedar").write_text(
        textwrap.dedent("""\
        // a comment; with a semicolon
        permit(principal, action, resource == AgentCore::Gateway::"{{gateway_arn}}");

        forbid(principal, action, resource == AgentCore::Gateway::"{{gateway_arn}}")
        when { context.input.amount > };
        """)
    )
    policies, problems = cedar.load_policy_dir(tmp_path)
    assert list(policies) == ["good"]
    assert [(p.file.endswith("bad.cedar"), p.line) for p in problems] == [(True, 5)]
    assert "Cedar syntax error" in problems[0].message


def test_multi_statement_files_become_numbered_policies(tmp_path):
    (tmp_path / "two-rules.cedar").write_text(
        'forbid(principal, action == AgentCore::Action::"a___b", resource == AgentCore::Gateway::"{{gateway_arn}}");\n'
        'forbid(principal, action == AgentCore::Action::"a___c", resource == AgentCore::Gateway::"{{gateway_arn}}");\n'
    )
    policies, problems = cedar.load_policy_dir(tmp_path)
    assert not problems and list(policies) == ["two_rules_1", "two_rules_2"]
