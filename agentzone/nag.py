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
# The finding prefixes of every pack (what tests and reports group acknowledgements by).
PACK_PREFIXES = frozenset(prefix for prefix, _ in PACKS.values())
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


def nag_arn(scope: IConstruct, service: str, resource: str) -> str:
    """An ARN as cdk-nag prints it in finding ids (unresolved parts as <AWS::...>)."""
    stack = cdk.Stack.of(scope)
    partition = "<AWS::Partition>" if cdk.Token.is_unresolved(stack.partition) else stack.partition
    region = "<AWS::Region>" if cdk.Token.is_unresolved(stack.region) else stack.region
    account = "<AWS::AccountId>" if cdk.Token.is_unresolved(stack.account) else stack.account
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def nag_imported_bucket_arn(scope: IConstruct, export_name: str) -> str:
    """The ARN of a bucket imported by name from an export, as cdk-nag prints it (with the export's name)."""
    partition = cdk.Stack.of(scope).partition
    partition = "<AWS::Partition>" if cdk.Token.is_unresolved(partition) else partition
    return f"arn:{partition}:s3:::{export_name}"


def acknowledge_runtime_role(policy: IConstruct, writer: str) -> None:
    """The wildcards the AgentCore Runtime L2 grants every execution role, each with its reason.

    ``writer`` says who writes the role's policy (for the inline-policy finding).
    """
    runtime_logs = "log-group:/aws/bedrock-agentcore/runtimes/*"
    findings = {
        nag_arn(
            policy, "logs", runtime_logs
        ): "AgentCore names runtime log groups /aws/bedrock-agentcore/runtimes/<runtime id>-"
        "<endpoint>; the runtime id is assigned at creation.",
        nag_arn(
            policy, "logs", f"{runtime_logs}:log-stream:*"
        ): "Log streams under the runtime's own log group prefix, named by the service per session.",
        nag_arn(
            policy, "logs", "log-group:*"
        ): "logs:DescribeLogGroups cannot be scoped below the account's log groups; it reads no log data.",
        "*": "X-Ray segment writes and ecr:GetAuthorizationToken support no resource-level permissions; metric writes "
        "are limited to the bedrock-agentcore namespace by condition.",
        nag_arn(
            policy, "bedrock-agentcore", "workload-identity-directory/default/workload-identity/*"
        ): "AgentCore creates the runtime's workload identity at deploy time; its name is not known at synth.",
    }
    for resource, reason in findings.items():
        acknowledge(policy, f"AwsSolutions-IAM5[Resource::{resource}]", reason)
    acknowledge_compliance(
        policy, "IAMNoInlinePolicy", f"{writer} the execution role's grants as a policy attached only to that role."
    )


def add_rule_packs(app: cdk.App, settings: NagSettings) -> list[str]:
    """Register the selected packs on the app; synth then fails on any unacknowledged error."""
    packs: list[str] = []
    for switch, (prefix, pack) in PACKS.items():
        if getattr(settings, switch):
            cdk.Validations.of(app).add_plugins(pack(app))
            packs.append(prefix)
    return packs
