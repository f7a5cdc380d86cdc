"""The agent registry: curated (manual approval) records of agents, MCP servers and tools, encrypted with the CMK.

One module-scoped synth of a shared-services stack with the registry, its curator and publisher roles and three
records, through every cdk-nag pack like the real app (synth raises on an unacknowledged error), and cfn-lint.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_agentregistry as agentregistry
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from agentzone.constructs import BaselineKey
from agentzone.constructs.agent_registry import AgentRegistry, AgentRegistryProps

from ..support import Synth, new_app, synthesize
from .shared_components import (
    ENV,
    as_list,
    assert_cfn_lint_clean,
    base_stack,
    only,
    policy_of,
    resource_star_acknowledgements,
    statements,
)

STACK = "SharedComponents"


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Synth:
    app = new_app(tmp_path_factory.mktemp("registry") / "cdk.out")
    stack, key = base_stack(app, STACK)
    curator = iam.Role(stack, "Curator", role_name="agentzone-registry-curator", assumed_by=iam.AccountRootPrincipal())
    publisher = iam.Role(
        stack, "Publisher", role_name="agentzone-registry-publisher", assumed_by=iam.AccountRootPrincipal()
    )
    registry = AgentRegistry(
        stack,
        "Registry",
        props=AgentRegistryProps(
            name="agentzone-components",
            description="Agents, MCP servers and tools",
            encryption_key=key,
            approvers=[curator],
            approval_emails=["platform-leads@example.com"],
        ),
    )
    registry.grant_publish(publisher)
    registry.add_record(
        "WebSearch",
        name="web-search",
        record_type="mcp-server",
        description="Web search",
        descriptor={"name": "web-search", "version": "1.2.0"},
        version="1.2.0",
        tools=[{"name": "search"}],
    )
    registry.add_record(
        "Triage",
        name="triage-agent",
        record_type="agent",
        description="Triage agent",
        descriptor={"name": "triage", "url": "https://example.com/a2a"},
        schema_version="0.3",
    )
    registry.add_record(
        "Calculator",
        name="calculator",
        record_type="tool",
        description="Calculator tool",
        descriptor={"name": "calculator"},
    )
    return synthesize(app, STACK)  # raises on any unacknowledged nag error


@pytest.fixture(scope="module")
def shared(synth) -> Template:
    return synth.template


# ------------------------------------------------------------------- gates


def test_cfn_lint_clean(synth):
    assert_cfn_lint_clean([synth])


def test_acknowledgements_are_specific(synth):
    # No Action:: wildcard; every resource wildcard is named, and none is a bare "*".
    assert resource_star_acknowledgements([synth]) == []


# ---------------------------------------------------------------- registry


def test_registry_requires_manual_approval_and_uses_the_cmk(shared):
    registry = only(shared, "AWS::AgentRegistry::Registry")
    assert registry["DeletionPolicy"] == registry["UpdateReplacePolicy"] == "Retain"
    props = registry["Properties"]
    assert props["Name"] == "agentzone-components"
    assert props["ApprovalConfiguration"] == {"AutoApprovalRules": []}  # every submission waits for a curator
    assert props["AuthorizerType"] == "AWS_IAM"
    assert props["EncryptionConfiguration"]["KmsKeyArn"]["Fn::GetAtt"][0].startswith("BaselineKey")
    assert "DiscoveryConfiguration" not in props
    assert {t["Key"] for t in props["Tags"]} >= {"owner", "cost-center", "use-case-id", "environment"}


def test_records_map_to_service_types_and_descriptors(shared):
    records = {
        r["Properties"]["Name"]: r["Properties"]
        for r in shared.find_resources("AWS::AgentRegistry::RegistryRecord").values()
    }
    assert {n: r["RecordType"] for n, r in records.items()} == {
        "web-search": "MCP",
        "triage-agent": "AGENT",
        "calculator": "CUSTOM",
    }
    mcp = records["web-search"]["Descriptors"]["McpServer"]
    assert json.loads(mcp["Data"]) == {"name": "web-search", "version": "1.2.0"}
    assert json.loads(mcp["AdditionalData"]["Tools"]["Data"]) == [{"name": "search"}]
    assert records["web-search"]["RecordVersion"] == "1.2.0"
    assert records["triage-agent"]["Descriptors"]["A2aAgentCard"]["DataSchemaVersion"] == "0.3"
    assert set(records["calculator"]["Descriptors"]) == {"Custom"}
    for r in records.values():
        assert r["RegistryId"]["Fn::GetAtt"][1] == "RegistryId"
        assert "Status" not in r  # read-only: records start as DRAFT


def test_only_approvers_can_change_record_status(shared):
    def actions_of(role_name: str) -> set[str]:
        role_id = next(iter(shared.find_resources("AWS::IAM::Role", {"Properties": {"RoleName": role_name}})))
        return {a for s in statements(policy_of(shared, role_id)) for a in as_list(s["Action"])}

    curator, publisher = actions_of("agentzone-registry-curator"), actions_of("agentzone-registry-publisher")
    assert "agent-registry:UpdateRegistryRecordStatus" in curator
    assert "agent-registry:UpdateRegistryRecordStatus" not in publisher
    assert "agent-registry:SubmitRegistryRecordForApproval" in publisher
    assert not {a for a in curator if a.startswith("agent-registry:") and ("Create" in a or "Submit" in a)}
    every = [
        a
        for p in shared.find_resources("AWS::IAM::ManagedPolicy").values()
        for s in statements(p)
        for a in as_list(s["Action"])
    ]
    assert every.count("agent-registry:UpdateRegistryRecordStatus") == 1


def test_submissions_notify_approvers_on_an_encrypted_topic(shared):
    rule = only(shared, "AWS::Events::Rule")["Properties"]
    registry_id = next(iter(shared.find_resources("AWS::AgentRegistry::Registry")))
    assert rule["EventPattern"] == {
        "source": ["aws.agent-registry"],
        "detail-type": ["Registry Record State changed to Pending Approval"],
        "detail": {"registryId": [{"Fn::GetAtt": [registry_id, "RegistryId"]}]},
    }
    topic_id = rule["Targets"][0]["Arn"]["Ref"]
    topic = shared.to_json()["Resources"][topic_id]["Properties"]
    assert topic["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("BaselineKey")
    only(
        shared,
        "AWS::SNS::Subscription",
        {"Protocol": "email", "Endpoint": "platform-leads@example.com", "TopicArn": {"Ref": topic_id}},
    )


@pytest.mark.parametrize(
    "call,error",
    [
        (lambda r: r.add_record("X", name="x", record_type="prompt", description="d", descriptor={}), "record_type"),
        (
            lambda r: r.add_record("X", name="x", record_type="tool", description="d", descriptor={}, tools=[]),
            "only an mcp-server",
        ),
        (lambda r: r.add_record("X", name="-x", record_type="tool", description="d", descriptor={}), "record name"),
        (
            lambda r: [
                r.add_record(f"X{i}", name="x", record_type="tool", description="d", descriptor={}) for i in range(2)
            ],
            "already",
        ),
    ],
)
def test_registry_rejects_bad_records(call, error):
    stack = cdk.Stack(new_app(), "Bad", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/bad", description="bad").key
    registry = AgentRegistry(stack, "Registry", props=AgentRegistryProps(name="r", description="d", encryption_key=key))
    with pytest.raises(ValueError, match=error):
        call(registry)


def test_auto_approval_is_opt_in():
    stack = cdk.Stack(new_app(), "Sandbox", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/sandbox", description="sandbox").key
    AgentRegistry(
        stack,
        "Registry",
        props=AgentRegistryProps(name="sandbox", description="d", encryption_key=key, auto_approve=True),
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::AgentRegistry::Registry", {"ApprovalConfiguration": {"AutoApprovalRules": ["APPROVE_ALL"]}}
    )


def test_jwt_discovery_uses_the_central_identity():
    discovery = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123/.well-known/openid-configuration"
    stack = cdk.Stack(new_app(), "Jwt", env=ENV)
    key = BaselineKey(stack, "Key", alias="alias/jwt", description="jwt").key
    AgentRegistry(
        stack,
        "Registry",
        props=AgentRegistryProps(
            name="jwt",
            description="d",
            encryption_key=key,
            jwt_authorizer=agentregistry.CfnRegistry.CustomJWTAuthorizerConfigurationProperty(
                discovery_url=discovery, allowed_scopes=["agentzone/registry/search"]
            ),
        ),
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::AgentRegistry::Registry",
        {
            "AuthorizerType": "CUSTOM_JWT",
            "DiscoveryConfiguration": {
                "AuthorizerConfiguration": {
                    "CustomJWTAuthorizer": {"DiscoveryUrl": discovery, "AllowedScopes": ["agentzone/registry/search"]}
                }
            },
        },
    )
