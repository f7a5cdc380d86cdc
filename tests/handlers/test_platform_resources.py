"""The platform custom-resource handler, run in-process against moto (Cost Explorer via botocore Stubber)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from agentzone.handlers import platform_resources as handler


def event(resource_type: str, props: dict, request: str = "Create", **extra) -> dict:
    return {
        "RequestType": request,
        "ResourceType": resource_type,
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:eu-west-1:1:function:x", **props},
        "StackId": "stack",
        "RequestId": "req",
        "LogicalResourceId": "Logical",
        "ResponseURL": "",
        **extra,
    }


@pytest.fixture
def org(aws):
    client = boto3.client("organizations")
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    status = client.create_account(AccountName="claims-dev", Email="claims-dev@example.com")["CreateAccountStatus"]
    account = client.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"][
        "AccountId"
    ]
    ou = client.create_organizational_unit(ParentId=root, Name="claims")["OrganizationalUnit"]["Id"]
    return client, root, account, ou


def test_account_placement_moves_the_account_and_is_idempotent(org):
    client, root, account, ou = org
    assert client.list_parents(ChildId=account)["Parents"][0]["Id"] == root
    for request in ("Create", "Update"):
        response = handler.handler(event("Custom::AccountPlacement", {"AccountId": account, "ParentId": ou}, request))
        assert response["Status"] == "SUCCESS", response["Reason"]
        assert response["PhysicalResourceId"] == f"account-placement-{account}"
        assert client.list_parents(ChildId=account)["Parents"][0]["Id"] == ou


def test_deleting_a_placement_leaves_the_account_where_it_is(org):
    client, _, account, ou = org
    handler.handler(event("Custom::AccountPlacement", {"AccountId": account, "ParentId": ou}))
    handler.handler(
        event("Custom::AccountPlacement", {"AccountId": account, "ParentId": ou}, "Delete", PhysicalResourceId="p")
    )
    assert client.list_parents(ChildId=account)["Parents"][0]["Id"] == ou


def test_delegated_administrator_enables_trusted_access_then_registers_once(org):
    client, _, account, _ = org
    # (moto knows config-multiaccountsetup but not config.amazonaws.com as a delegated-admin principal)
    principal = "config-multiaccountsetup.amazonaws.com"
    props = {"AccountId": account, "ServicePrincipal": principal, "TrustedAccess": [principal]}
    for _ in range(2):
        assert handler.handler(event("Custom::DelegatedAdministrator", props))["Status"] == "SUCCESS"
    admins = client.list_delegated_administrators(ServicePrincipal=principal)["DelegatedAdministrators"]
    assert [a["Id"] for a in admins] == [account]
    enabled = {
        s["ServicePrincipal"] for s in client.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    }
    assert principal in enabled


def test_policy_types_are_enabled_on_the_root(org):
    client, root, _, _ = org
    props = {"RootId": root, "PolicyTypes": ["TAG_POLICY", "SERVICE_CONTROL_POLICY"]}
    for _ in range(2):
        response = handler.handler(event("Custom::PolicyTypes", props))
        assert response["Status"] == "SUCCESS", response["Reason"]
    types = {t["Type"]: t["Status"] for t in client.list_roots()["Roots"][0]["PolicyTypes"]}
    assert types.get("TAG_POLICY") == "ENABLED" and types.get("SERVICE_CONTROL_POLICY") == "ENABLED"


def test_guardduty_admin_is_enabled_once(org):
    _, _, account, _ = org
    for _ in range(2):
        assert (
            handler.handler(event("Custom::GuardDutyOrganizationAdmin", {"AccountId": account}))["Status"] == "SUCCESS"
        )
    admins = boto3.client("guardduty").list_organization_admin_accounts()["AdminAccounts"]
    assert [a["AdminAccountId"] for a in admins] == [account]


def test_bedrock_invocation_logging_is_set_and_removed(aws):
    props = {
        "LogGroupName": "/agentzone/bedrock/model-invocations",
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "BucketName": "logs-bucket",
        "KeyPrefix": "bedrock",
    }
    assert handler.handler(event("Custom::BedrockInvocationLogging", props))["Status"] == "SUCCESS"
    config = boto3.client("bedrock").get_model_invocation_logging_configuration()["loggingConfig"]
    assert config["cloudWatchConfig"]["logGroupName"] == "/agentzone/bedrock/model-invocations"
    assert config["s3Config"] == {"bucketName": "logs-bucket", "keyPrefix": "bedrock"}
    assert config["textDataDeliveryEnabled"] is True
    assert (
        handler.handler(event("Custom::BedrockInvocationLogging", props, "Delete", PhysicalResourceId="p"))["Status"]
        == "SUCCESS"
    )
    assert not boto3.client("bedrock").get_model_invocation_logging_configuration().get("loggingConfig")


def test_cost_allocation_tags_report_keys_not_yet_in_billing_data(monkeypatch):
    ce = boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(ce)
    stub.add_response(
        "update_cost_allocation_tags_status",
        {"Errors": [{"TagKey": "use-case-id", "Code": "TagKeysNotFoundException", "Message": "not found"}]},
        {
            "CostAllocationTagsStatus": [
                {"TagKey": k, "Status": "Active"} for k in ("cost-center", "owner", "use-case-id")
            ]
        },
    )
    monkeypatch.setattr(handler.boto3, "client", lambda name, **_: ce)
    with stub:
        response = handler.handler(
            event("Custom::CostAllocationTags", {"TagKeys": ["use-case-id", "owner", "cost-center"]})
        )
    assert response["Status"] == "SUCCESS"
    assert response["Data"] == {"TagKeys": "cost-center,owner,use-case-id", "Pending": "use-case-id"}
    stub.assert_no_pending_responses()


def test_failures_reach_cloudformation_with_the_reason(monkeypatch, aws):
    sent = []

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(request, timeout):
        sent.append((request.full_url, request.method, request.data))
        return Response()

    monkeypatch.setattr(handler.urllib.request, "urlopen", urlopen)
    response = handler.handler(event("Custom::Nope", {}, ResponseURL="https://example.com/presigned"))
    assert response["Status"] == "FAILED"
    assert "unknown resource type Custom::Nope" in response["Reason"]
    assert sent and sent[0][0] == "https://example.com/presigned" and sent[0][1] == "PUT" and b'"FAILED"' in sent[0][2]
    # An AWS error (no organization exists) is reported, not raised.
    response = handler.handler(event("Custom::AccountPlacement", {"AccountId": "123456789012", "ParentId": "ou-x"}))
    assert response["Status"] == "FAILED" and response["Reason"]


def test_ram_organization_sharing_is_switched_on_and_left_on_at_delete(monkeypatch):
    ram = boto3.client("ram", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(ram)
    stub.add_response("enable_sharing_with_aws_organization", {"returnValue": True}, {})
    stub.add_response("enable_sharing_with_aws_organization", {"returnValue": True}, {})
    monkeypatch.setattr(handler.boto3, "client", lambda name, **_: ram)
    with stub:
        for request in ("Create", "Update"):
            response = handler.handler(event("Custom::RamOrganizationSharing", {}, request))
            assert response["Status"] == "SUCCESS" and response["PhysicalResourceId"] == "ram-organization-sharing"
        # Delete makes no call: other teams' shares may rely on it (the stubber fails on any unexpected call).
        deleted = handler.handler(event("Custom::RamOrganizationSharing", {}, "Delete", PhysicalResourceId="p"))
        assert deleted["Status"] == "SUCCESS"
    stub.assert_no_pending_responses()


AWAIT = {"StackSetName": "agentzone-cdk-bootstrap", "Regions": ["eu-west-1", "eu-central-1"], "TimeoutSeconds": 60}


def instance(region: str, status: str, detailed: str, reason: str = "") -> dict:
    return {
        "StackSetId": "agentzone-cdk-bootstrap:1",
        "Region": region,
        "Account": "123456789012",
        "Status": status,
        "StackInstanceStatus": {"DetailedStatus": detailed},
        **({"StatusReason": reason} if reason else {}),
    }


def stacksets_stub(monkeypatch, pages: list[list[dict]]) -> Stubber:
    """The StackSet's instances for the account, one listing per poll; Organizations stays moto's."""
    cloudformation = boto3.client("cloudformation", region_name="eu-west-1")
    stub = Stubber(cloudformation)
    for summaries in pages:
        stub.add_response("list_stack_instances", {"Summaries": summaries})
    real = boto3.client
    monkeypatch.setattr(
        handler.boto3, "client", lambda name, **kw: cloudformation if name == "cloudformation" else real(name, **kw)
    )
    monkeypatch.setattr(handler.time, "sleep", lambda _: None)
    return stub


def test_a_placed_account_waits_until_the_bootstrap_stack_set_has_succeeded_in_every_region(org, monkeypatch):
    client, _, account, ou = org
    stub = stacksets_stub(
        monkeypatch,
        [
            [],  # automatic deployment has not started yet
            [instance("eu-west-1", "OUTDATED", "RUNNING")],
            [instance("eu-west-1", "CURRENT", "SUCCEEDED"), instance("eu-central-1", "OUTDATED", "PENDING")],
            [instance("eu-west-1", "CURRENT", "SUCCEEDED"), instance("eu-central-1", "CURRENT", "SUCCEEDED")],
        ],
    )
    with stub:
        props = {"AccountId": account, "ParentId": ou, "AwaitBootstrap": AWAIT}
        response = handler.handler(event("Custom::AccountPlacement", props))
    assert response["Status"] == "SUCCESS", response["Reason"]
    stub.assert_no_pending_responses()  # four polls: it returned at the first complete listing
    assert client.list_parents(ChildId=account)["Parents"][0]["Id"] == ou


def test_a_failed_bootstrap_fails_the_placement_with_stack_sets_reason(org, monkeypatch):
    _, _, account, ou = org
    failed = instance("eu-central-1", "OUTDATED", "FAILED", "Role cdk-agentzone-deploy-role already exists")
    stub = stacksets_stub(monkeypatch, [[instance("eu-west-1", "CURRENT", "SUCCEEDED"), failed]])
    with stub:
        props = {"AccountId": account, "ParentId": ou, "AwaitBootstrap": AWAIT}
        response = handler.handler(event("Custom::AccountPlacement", props))
    assert response["Status"] == "FAILED"
    assert "eu-central-1: Role cdk-agentzone-deploy-role already exists" in response["Reason"]


def test_a_bootstrap_still_running_at_the_deadline_fails_the_placement_naming_the_regions(org, monkeypatch):
    _, _, account, ou = org
    stub = stacksets_stub(monkeypatch, [[instance("eu-west-1", "CURRENT", "SUCCEEDED")]])
    with stub:
        props = {"AccountId": account, "ParentId": ou, "AwaitBootstrap": {**AWAIT, "TimeoutSeconds": 0}}
        response = handler.handler(event("Custom::AccountPlacement", props))
    assert response["Status"] == "FAILED"
    assert (
        f"account {account} is not bootstrapped by agentzone-cdk-bootstrap in eu-central-1 after 0 s"
        in (response["Reason"])
    )


def test_stack_sets_organization_access_is_activated_once_and_left_on_at_delete(monkeypatch):
    cloudformation = boto3.client(
        "cloudformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stub = Stubber(cloudformation)
    stub.add_response("describe_organizations_access", {"Status": "DISABLED"}, {"CallAs": "SELF"})
    stub.add_response("activate_organizations_access", {}, {})
    stub.add_response("describe_organizations_access", {"Status": "ENABLED"}, {"CallAs": "SELF"})
    monkeypatch.setattr(handler.boto3, "client", lambda name, **_: cloudformation)
    with stub:
        for request in ("Create", "Update"):  # the update finds it on and activates nothing
            response = handler.handler(event("Custom::StackSetsOrganizationAccess", {}, request))
            assert response["Status"] == "SUCCESS", response["Reason"]
        deleted = handler.handler(event("Custom::StackSetsOrganizationAccess", {}, "Delete", PhysicalResourceId="p"))
        assert deleted["Status"] == "SUCCESS"
    stub.assert_no_pending_responses()


def test_a_shared_parameter_is_read_in_its_own_region(aws):
    """Another region's stack cannot read it with a template parameter; the custom resource reads it by ARN."""
    ssm = boto3.client("ssm", region_name="eu-west-1")
    ssm.put_parameter(Name="/agentzone/prod/identity/user-pool-id", Value="eu-west-1_AbC123", Type="String")
    arn = ssm.get_parameter(Name="/agentzone/prod/identity/user-pool-id")["Parameter"]["ARN"]
    response = handler.handler(event("Custom::SharedParameter", {"ParameterArn": arn}))
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["Data"] == {"Value": "eu-west-1_AbC123"} and response["PhysicalResourceId"] == arn
    missing = arn.replace("user-pool-id", "nothing")
    failed = handler.handler(event("Custom::SharedParameter", {"ParameterArn": missing}))
    assert failed["Status"] == "FAILED" and "ParameterNotFound" in failed["Reason"]


def test_an_imported_portfolio_is_accepted_and_its_principals_made_exactly_the_configured_ones(monkeypatch):
    catalog = boto3.client("servicecatalog", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(catalog)
    keep, add, drop = (f"arn:aws:iam::111111111111:role/{name}" for name in ("Keep", "Add", "ByHand"))
    stub.add_response("accept_portfolio_share", {}, {"PortfolioId": "port-abc", "PortfolioShareType": "IMPORTED"})
    stub.add_response(
        "list_principals_for_portfolio",
        {
            "Principals": [
                {"PrincipalARN": keep, "PrincipalType": "IAM"},
                {"PrincipalARN": drop, "PrincipalType": "IAM"},
            ]
        },
        {"PortfolioId": "port-abc"},
    )
    stub.add_response(
        "associate_principal_with_portfolio",
        {},
        {"PortfolioId": "port-abc", "PrincipalARN": add, "PrincipalType": "IAM"},
    )
    stub.add_response(
        "disassociate_principal_from_portfolio",
        {},
        {"PortfolioId": "port-abc", "PrincipalARN": drop, "PrincipalType": "IAM"},
    )
    # Delete removes the configured principals and leaves the share (launched products keep their portfolio).
    for arn in (add, keep):
        stub.add_response(
            "disassociate_principal_from_portfolio",
            {},
            {"PortfolioId": "port-abc", "PrincipalARN": arn, "PrincipalType": "IAM"},
        )
    regions = []
    monkeypatch.setattr(
        handler.boto3, "client", lambda name, region_name=None, **_: regions.append(region_name) or catalog
    )
    props = {"PortfolioId": "port-abc", "Region": "eu-west-1", "PrincipalArns": [keep, add]}
    with stub:
        response = handler.handler(event("Custom::ImportedPortfolio", props))
        assert response["Status"] == "SUCCESS", response["Reason"]
        assert response["PhysicalResourceId"] == "port-abc"
        deleted = handler.handler(event("Custom::ImportedPortfolio", props, "Delete", PhysicalResourceId="port-abc"))
        assert deleted["Status"] == "SUCCESS", deleted["Reason"]
    stub.assert_no_pending_responses()
    assert set(regions) == {"eu-west-1"}  # the portfolio's region, whatever the stack's


def alarm_event(name: str, state: str = "ALARM") -> dict:
    return {
        "source": "aws.cloudwatch",
        "detail-type": "CloudWatch Alarm State Change",
        "account": "123456789012",
        "region": "eu-west-1",
        "resources": [f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}"],
        "detail": {
            "alarmName": name,
            "state": {
                "value": state,
                "reason": "Threshold Crossed: 2 datapoints were >= 12",
                "timestamp": "2026-12-05T04:00:00.000+0000",
            },
        },
    }


def test_a_detective_alarm_becomes_a_security_hub_finding_in_its_account(aws, monkeypatch):
    from agentzone.handlers import alarm_findings

    monkeypatch.setenv("AGENTZONE_TENANT", "claims")
    monkeypatch.setenv("AGENTZONE_ENVIRONMENT", "prod")
    hub = boto3.client("securityhub")
    hub.enable_security_hub()
    name = "agentzone-claims-prod-detect-runaway-loop"
    assert alarm_findings.handler(alarm_event(name)) == {"imported": 1}
    assert alarm_findings.handler(alarm_event(name, state="OK")) == {"imported": 0}  # recovery: nothing new
    (found,) = hub.get_findings()["Findings"]
    assert found["GeneratorId"] == "agentzone/runaway-loop"
    assert found["Types"] == ["Unusual Behaviors/Application/Runaway Agent Loop"]
    assert found["ProductArn"] == "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"
    assert found["Severity"]["Label"] == "HIGH" and found["AwsAccountId"] == "123456789012"
    assert found["ProductFields"]["agentzone/tenant"] == "claims"
    with pytest.raises(ValueError, match="is not a detective signal"):
        alarm_findings.handler(alarm_event("agentzone-claims-prod-detect-something-else"))


def test_every_detective_alarm_of_the_sample_has_a_finding_type(sample_assembly):
    """Each alarm the findings rule forwards (``-detect-`` in its name) maps to an ASFF type, or it would be lost."""
    from agentzone.handlers import alarm_findings

    names = {
        r["Properties"]["AlarmName"]
        for template in sample_assembly.templates.values()
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and "-detect-" in r["Properties"].get("AlarmName", "")
    }
    signals = {alarm_findings.finding(alarm_event(n), tenant="t", environment="e")["GeneratorId"] for n in names}
    assert signals == {f"agentzone/{s}" for s in alarm_findings.TYPES if s != alarm_findings.LOGGING_CHANGED}


def test_invocation_logging_changed_outside_agentzone_becomes_a_finding(aws, monkeypatch):
    from agentzone.handlers import alarm_findings

    monkeypatch.setenv("AGENTZONE_TENANT", "fraud")
    monkeypatch.setenv("AGENTZONE_ENVIRONMENT", "prod")
    hub = boto3.client("securityhub")
    hub.enable_security_hub()
    event = {
        "source": "aws.bedrock",
        "detail-type": "AWS API Call via CloudTrail",
        "account": "123456789012",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "eventSource": "bedrock.amazonaws.com",
            "eventName": "DeleteModelInvocationLoggingConfiguration",
            "eventID": "7e2d1c6b-0000-4a3b-9c1d-2f3e4a5b6c7d",
            "eventTime": "2026-12-05T04:00:00Z",
            "userIdentity": {"arn": "arn:aws:sts::123456789012:assumed-role/AgentZoneBreakGlass/alice"},
        },
    }
    assert alarm_findings.handler(event) == {"imported": 1}
    (found,) = hub.get_findings()["Findings"]
    assert found["GeneratorId"] == "agentzone/invocation-logging-changed" and found["Severity"]["Label"] == "HIGH"
    assert "AgentZoneBreakGlass/alice" in found["Title"]
    assert found["Resources"][0]["Id"] == "arn:aws:bedrock:eu-west-1:123456789012:model-invocation-logging"
