"""cdk-nag wiring: which rule packs run, and the one way to acknowledge a finding.

Acknowledgements go through :func:`acknowledge` so every one names a specific
finding on the narrowest construct and carries a real reason. They land in
the assembly metadata (``aws:cdk:acknowledged-rules``), which the synth
summary counts per stack.
"""

from __future__ import annotations

import re

import aws_cdk as cdk
import cdk_nag
from constructs import IConstruct

from .config.model import NagSettings

# config switch -> (finding prefix, pack class)
PACKS = {
    "aws_solutions": ("AwsSolutions", cdk_nag.AwsSolutionsChecks),
    "nist_800_53_r5": ("NIST.800.53.R5", cdk_nag.NIST80053R5Checks),
    "hipaa_security": ("HIPAA.Security", cdk_nag.HIPAASecurityChecks),
    "pci_dss_321": ("PCI.DSS.321", cdk_nag.PCIDSS321Checks),
}
COMPLIANCE_PREFIXES = tuple(prefix for switch, (prefix, _) in PACKS.items() if switch != "aws_solutions")
_FINDING = re.compile(
    r"^(" + "|".join(re.escape(prefix) for prefix, _ in PACKS.values()) + r")-[A-Za-z0-9]+(\[[^\]]+\])?$"
)
MIN_REASON = 30


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one nag finding on one construct, with a reviewable reason."""
    if not _FINDING.match(finding):
        raise ValueError(f"nag finding id {finding!r} is not of the form 'AwsSolutions-IAM5[Resource::...]'")
    if len(reason.strip()) < MIN_REASON:
        raise ValueError(f"acknowledgement of {finding} needs a specific reason (at least {MIN_REASON} characters)")
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


def acknowledge_compliance(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge the same rule (e.g. 'S3BucketReplicationEnabled') in every compliance pack.

    The NIST, HIPAA and PCI packs share rule names; one decision, one reason.
    Acknowledging for a pack that is switched off is harmless.
    """
    for prefix in COMPLIANCE_PREFIXES:
        acknowledge(construct, f"{prefix}-{rule}", reason)


def add_rule_packs(app: cdk.App, settings: NagSettings) -> list[str]:
    """Register the selected packs on the app; synth then fails on any unacknowledged error."""
    packs: list[str] = []
    for switch, (prefix, pack) in PACKS.items():
        if getattr(settings, switch):
            cdk.Validations.of(app).add_plugins(pack(app))
            packs.append(prefix)
    return packs
