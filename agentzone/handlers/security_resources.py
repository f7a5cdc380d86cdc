"""Custom resources of the central security account, served by the platform resource Lambda.

Designating the delegated administrator (Organization stack) can itself turn
GuardDuty and Security Hub on in this account, and then a CloudFormation
``AWS::GuardDuty::Detector`` or ``AWS::SecurityHub::Hub`` fails with "already
exists"; deploying those first makes the designation-dependent resources fail
instead. So these types *ensure* the service is on and adopt what is there,
whatever the deploy order. Like the platform types, deleting the stack leaves
the services on: turning threat detection off must be a deliberate act.

``platform_resources.handler`` dispatches these types too.
"""

from __future__ import annotations

import logging

import boto3
from botocore.exceptions import ClientError

try:
    from . import platform_resources as platform
except ImportError:  # in Lambda the handlers folder is the code root, not a package
    import platform_resources as platform  # type: ignore[no-redef]

LOG = logging.getLogger()


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


SECURITY_HANDLERS = {
    "Custom::GuardDutyDetector": ensure_guardduty_detector,
    "Custom::SecurityHubAccount": ensure_security_hub,
}
HANDLERS = {**platform.HANDLERS, **SECURITY_HANDLERS}

# One entry point serves every type; see platform_resources.handler.
handler = platform.handler
