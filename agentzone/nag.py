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

_FINDING = re.compile(r"^(AwsSolutions|NIST\.800\.53\.R5|HIPAA\.Security|PCI\.DSS\.321)-[A-Za-z0-9]+(\[[^\]]+\])?$")
MIN_REASON = 30


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one nag finding on one construct, with a reviewable reason."""
    if not _FINDING.match(finding):
        raise ValueError(f"nag finding id {finding!r} is not of the form 'AwsSolutions-IAM5[Resource::...]'")
    if len(reason.strip()) < MIN_REASON:
        raise ValueError(f"acknowledgement of {finding} needs a specific reason (at least {MIN_REASON} characters)")
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


def add_rule_packs(app: cdk.App, settings: NagSettings) -> list[str]:
    """Register the selected packs on the app; synth then fails on any unacknowledged error."""
    packs: list[str] = []
    if settings.aws_solutions:
        cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
        packs.append("AwsSolutions")
    return packs
