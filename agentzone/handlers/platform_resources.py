"""CloudFormation custom resources for control-plane settings that have no resource type.

One Lambda per stack serves every type below, the central security
account's included; each is idempotent, so a CloudFormation retry or a
re-run after drift converges. Deleting the stack leaves organization-level
settings in place (like DeletionPolicy: Retain): undoing a delegated
administrator or an account move must be a deliberate act.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request

import boto3
from botocore.exceptions import ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)


class ResourceError(Exception):
    """A failure CloudFormation should report to the deployer verbatim."""


def place_account(props: dict, request: str) -> tuple[str, dict]:
    """Move an existing account under the OU config places it in, then wait for its bootstrap when asked."""
    account, parent = props["AccountId"], props["ParentId"]
    if request != "Delete":
        org = boto3.client("organizations")
        current = org.list_parents(ChildId=account)["Parents"][0]["Id"]
        if current != parent:
            org.move_account(AccountId=account, SourceParentId=current, DestinationParentId=parent)
            LOG.info("moved %s from %s to %s", account, current, parent)
        if props.get("AwaitBootstrap"):
            await_stack_instances(account, props["AwaitBootstrap"])
    return f"account-placement-{account}", {"ParentId": parent}


# A stack instance's DetailedStatus once StackSets has given up on it (the others mean: still going, or done).
FAILED_INSTANCE_STATES = {"FAILED", "CANCELLED", "INOPERABLE", "SKIPPED_SUSPENDED_ACCOUNT"}
POLL_SECONDS = 15


def await_stack_instances(account: str, wait: dict) -> None:
    """Until the StackSet has a current, succeeded instance in every region for the account (its automatic
    deployment starts when the account arrives in a target OU); fail with StackSets' own reason, or on timeout."""
    stack_set, regions = wait["StackSetName"], sorted(wait["Regions"])
    deadline = time.monotonic() + float(wait["TimeoutSeconds"])
    cloudformation = boto3.client("cloudformation")
    while True:
        pages = cloudformation.get_paginator("list_stack_instances").paginate(
            StackSetName=stack_set, StackInstanceAccount=account, CallAs="SELF"
        )
        instances = {i["Region"]: i for page in pages for i in page["Summaries"]}
        failed = [
            f"{region}: {i.get('StatusReason') or i['StackInstanceStatus']['DetailedStatus']}"
            for region, i in sorted(instances.items())
            if i.get("StackInstanceStatus", {}).get("DetailedStatus") in FAILED_INSTANCE_STATES
        ]
        if failed:
            raise ResourceError(f"bootstrapping account {account} ({stack_set}) failed: {'; '.join(failed)}")
        pending = [
            r
            for r in regions
            if r not in instances
            or instances[r]["Status"] != "CURRENT"
            or instances[r].get("StackInstanceStatus", {}).get("DetailedStatus", "SUCCEEDED") != "SUCCEEDED"
        ]
        if not pending:
            LOG.info("account %s is bootstrapped in %s", account, ", ".join(regions))
            return
        if time.monotonic() >= deadline:
            raise ResourceError(
                f"account {account} is not bootstrapped by {stack_set} in {', '.join(pending)} after "
                f"{wait['TimeoutSeconds']} s; see the StackSet's operations in the management account, then redeploy"
            )
        time.sleep(POLL_SECONDS)


def activate_cost_allocation_tags(props: dict, request: str) -> tuple[str, dict]:
    keys = sorted(props["TagKeys"])
    if request != "Delete":
        response = boto3.client("ce").update_cost_allocation_tags_status(
            CostAllocationTagsStatus=[{"TagKey": key, "Status": "Active"} for key in keys]
        )
        # A key that has not yet appeared in billing data cannot be activated yet; it is
        # reported (not failed) and retried on the next deploy.
        pending = sorted(e["TagKey"] for e in response.get("Errors") or [])
        if pending:
            LOG.warning("cost allocation tags not activated yet: %s", response["Errors"])
        return "cost-allocation-tags", {"TagKeys": ",".join(keys), "Pending": ",".join(pending)}
    return "cost-allocation-tags", {"TagKeys": ",".join(keys), "Pending": ""}


def enable_trusted_access(props: dict, request: str) -> tuple[str, dict]:
    principals = sorted(props["ServicePrincipals"])
    if request != "Delete":
        org = boto3.client("organizations")
        for principal in principals:
            org.enable_aws_service_access(ServicePrincipal=principal)
    return "trusted-access", {}


def enable_ram_organization_sharing(props: dict, request: str) -> tuple[str, dict]:
    """RAM shares with the organization (the platform's shared SSM parameters) reach member accounts without an
    invitation to accept only once this is on."""
    if request != "Delete":
        boto3.client("ram").enable_sharing_with_aws_organization()
    return "ram-organization-sharing", {}


def activate_stack_sets_organization_access(props: dict, request: str) -> tuple[str, dict]:
    """Service-managed StackSets (the Bootstrap stack's) need CloudFormation's trusted access to the organization."""
    if request != "Delete":
        cloudformation = boto3.client("cloudformation")
        if cloudformation.describe_organizations_access(CallAs="SELF")["Status"] != "ENABLED":
            cloudformation.activate_organizations_access()
    return "stacksets-organization-access", {}


def read_shared_parameter(props: dict, request: str) -> tuple[str, dict]:
    """A parameter another account shares with this one through RAM, read in its own region (a template parameter
    can read only its stack's region)."""
    arn = props["ParameterArn"]
    if request == "Delete":
        return arn, {}
    value = boto3.client("ssm", region_name=arn.split(":")[3]).get_parameter(Name=arn)["Parameter"]["Value"]
    return arn, {"Value": value}


def import_portfolio(props: dict, request: str) -> tuple[str, dict]:
    """Accept a portfolio shared with this account (in the portfolio's region) and make its principals exactly
    ``PrincipalArns``; at delete, remove those principals and leave the share (launched products keep working)."""
    portfolio, wanted = props["PortfolioId"], set(props.get("PrincipalArns") or [])
    catalog = boto3.client("servicecatalog", region_name=props["Region"])
    if request == "Delete":
        for arn in sorted(wanted):
            try:
                catalog.disassociate_principal_from_portfolio(
                    PortfolioId=portfolio, PrincipalARN=arn, PrincipalType="IAM"
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
        return portfolio, {}
    catalog.accept_portfolio_share(PortfolioId=portfolio, PortfolioShareType="IMPORTED")
    pages = catalog.get_paginator("list_principals_for_portfolio").paginate(PortfolioId=portfolio)
    current = {p["PrincipalARN"] for page in pages for p in page.get("Principals", [])}
    for arn in sorted(wanted - current):
        catalog.associate_principal_with_portfolio(PortfolioId=portfolio, PrincipalARN=arn, PrincipalType="IAM")
    for arn in sorted(current - wanted):
        catalog.disassociate_principal_from_portfolio(PortfolioId=portfolio, PrincipalARN=arn, PrincipalType="IAM")
    return portfolio, {}


def enable_policy_types(props: dict, request: str) -> tuple[str, dict]:
    """SCPs and tag policies can only be attached once their type is enabled on the root."""
    root, wanted = props["RootId"], sorted(props["PolicyTypes"])
    if request != "Delete":
        org = boto3.client("organizations")
        roots = org.list_roots()["Roots"]
        enabled = {
            t["Type"] for r in roots if r["Id"] == root for t in r.get("PolicyTypes", []) if t["Status"] == "ENABLED"
        }
        for policy_type in wanted:
            if policy_type not in enabled:
                org.enable_policy_type(RootId=root, PolicyType=policy_type)
    return f"policy-types-{root}", {}


def register_delegated_administrator(props: dict, request: str) -> tuple[str, dict]:
    """Trusted access first (registration requires it), then the delegated administrator."""
    account, principal = props["AccountId"], props["ServicePrincipal"]
    if request != "Delete":
        org = boto3.client("organizations")
        for trusted in props.get("TrustedAccess", [principal]):
            org.enable_aws_service_access(ServicePrincipal=trusted)
        registered = org.list_delegated_administrators(ServicePrincipal=principal)["DelegatedAdministrators"]
        if account not in {a["Id"] for a in registered}:
            org.register_delegated_administrator(AccountId=account, ServicePrincipal=principal)
    return f"delegated-admin-{principal}-{account}", {}


def enable_guardduty_admin(props: dict, request: str) -> tuple[str, dict]:
    account = props["AccountId"]
    if request != "Delete":
        gd = boto3.client("guardduty")
        admins = gd.list_organization_admin_accounts()["AdminAccounts"]
        if account not in {a["AdminAccountId"] for a in admins}:
            gd.enable_organization_admin_account(AdminAccountId=account)
    return f"guardduty-admin-{account}", {}


def auto_enable_guardduty(props: dict, request: str) -> tuple[str, dict]:
    """From the delegated administrator: every current and future account gets GuardDuty."""
    detector = props["DetectorId"]
    if request != "Delete":
        boto3.client("guardduty").update_organization_configuration(
            DetectorId=detector, AutoEnableOrganizationMembers="ALL"
        )
    return f"guardduty-auto-enable-{detector}", {}


def bedrock_invocation_logging(props: dict, request: str) -> tuple[str, dict]:
    """Account-and-region setting: Bedrock writes each model call to the given log group and bucket."""
    bedrock = boto3.client("bedrock")
    if request == "Delete":
        bedrock.delete_model_invocation_logging_configuration()
    else:
        bedrock.put_model_invocation_logging_configuration(
            loggingConfig={
                "cloudWatchConfig": {"logGroupName": props["LogGroupName"], "roleArn": props["RoleArn"]},
                "s3Config": {"bucketName": props["BucketName"], "keyPrefix": props["KeyPrefix"]},
                "textDataDeliveryEnabled": True,
                "imageDataDeliveryEnabled": False,
                "embeddingDataDeliveryEnabled": False,
            }
        )
    return "bedrock-invocation-logging", {}


# ------------------------------------------------------------------ the central security account
#
# Designating the delegated administrator (Organization stack) can itself turn GuardDuty and Security Hub on
# in this account, and then a CloudFormation AWS::GuardDuty::Detector or AWS::SecurityHub::Hub fails with
# "already exists"; deploying those first makes the designation-dependent resources fail instead. So these
# types *ensure* the service is on and adopt what is there, whatever the deploy order. Like the types above,
# deleting the stack leaves the services on: turning threat detection off must be a deliberate act.


def ensure_guardduty_detector(props: dict, request: str) -> tuple[str, dict]:
    """The account's one detector per region: adopt it, or create it; returns its id as DetectorId."""
    gd = boto3.client("guardduty")
    detectors = gd.list_detectors()["DetectorIds"]
    if detectors:
        detector = detectors[0]
        if request != "Delete":
            gd.update_detector(
                DetectorId=detector, Enable=True, FindingPublishingFrequency=props["FindingPublishingFrequency"]
            )
    elif request == "Delete":
        return "guardduty-detector-none", {}
    else:
        detector = gd.create_detector(Enable=True, FindingPublishingFrequency=props["FindingPublishingFrequency"])[
            "DetectorId"
        ]
        LOG.info("created GuardDuty detector %s", detector)
    return detector, {"DetectorId": detector}


def ensure_security_hub(props: dict, request: str) -> tuple[str, dict]:
    """Security Hub CSPM on in this account and region, without the default standards (policies choose them)."""
    hub = boto3.client("securityhub")
    try:
        arn = hub.describe_hub()["HubArn"]
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("InvalidAccessException", "ResourceNotFoundException"):
            raise
        if request == "Delete":
            return "security-hub-none", {}
        hub.enable_security_hub(EnableDefaultStandards=False, ControlFindingGenerator="SECURITY_CONTROL")
        arn = hub.describe_hub()["HubArn"]
        LOG.info("enabled Security Hub: %s", arn)
    return arn, {"HubArn": arn}


HANDLERS = {
    "Custom::AccountPlacement": place_account,
    "Custom::CostAllocationTags": activate_cost_allocation_tags,
    "Custom::DelegatedAdministrator": register_delegated_administrator,
    "Custom::TrustedAccess": enable_trusted_access,
    "Custom::RamOrganizationSharing": enable_ram_organization_sharing,
    "Custom::StackSetsOrganizationAccess": activate_stack_sets_organization_access,
    "Custom::SharedParameter": read_shared_parameter,
    "Custom::ImportedPortfolio": import_portfolio,
    "Custom::PolicyTypes": enable_policy_types,
    "Custom::GuardDutyOrganizationAdmin": enable_guardduty_admin,
    "Custom::GuardDutyAutoEnable": auto_enable_guardduty,
    "Custom::BedrockInvocationLogging": bedrock_invocation_logging,
    "Custom::GuardDutyDetector": ensure_guardduty_detector,
    "Custom::SecurityHubAccount": ensure_security_hub,
}


def respond(event: dict, status: str, physical_id: str, data: dict, reason: str = "") -> dict:
    body = {
        "Status": status,
        "Reason": reason[:1000] or "see the function's log group",
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data,
    }
    if event.get("ResponseURL"):
        payload = json.dumps(body).encode()
        request = urllib.request.Request(event["ResponseURL"], data=payload, method="PUT", headers={"content-type": ""})
        with urllib.request.urlopen(request, timeout=30):
            pass
    return body


def handler(event: dict, context=None) -> dict:
    physical_id = event.get("PhysicalResourceId") or event["LogicalResourceId"]
    try:
        fn = HANDLERS.get(event["ResourceType"])
        if fn is None:
            raise ResourceError(f"unknown resource type {event['ResourceType']}; known: {', '.join(sorted(HANDLERS))}")
        props = {k: v for k, v in event["ResourceProperties"].items() if k != "ServiceToken"}
        physical_id, data = fn(props, event["RequestType"])
        return respond(event, "SUCCESS", physical_id, data)
    except Exception as error:  # every failure must reach CloudFormation, or the stack hangs for an hour
        LOG.exception("custom resource failed")
        return respond(event, "FAILED", physical_id, {}, f"{type(error).__name__}: {error}")
