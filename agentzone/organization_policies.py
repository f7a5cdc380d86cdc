"""Service control and tag policies, generated from config as plain JSON.

Kept free of CDK so tests can check sizes and statements for any config, and
so a reviewer can read exactly what each OU gets. Attachments live in
``stacks/organization.py``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from .config.model import Organization, Tenant
from .naming import (
    DENY_POLICY_PATTERN,
    EVALUATION_ROLE_PREFIX,
    FM_GATEWAY_ROLE_PREFIX,
    KNOWLEDGE_BASE_ROLE_PREFIX,
    MEMORY_ROLE_PREFIX,
    PLATFORM_RESOURCES_ROLE,
    PREFIX,
    SAFETY_ROLE_PREFIX,
    STACKSETS_EXECUTION_ROLE_PATTERN,
    role_arn_pattern,
    split_profile,
)

# One IAM policy statement as JSON (Sid, Effect, Action, Resource, Condition, ...).
Statement = dict[str, Any]

SCP_MAX_CHARS = 5120  # AWS Organizations quota for a service control policy document
SCP_MAX_PER_TARGET = 5  # directly attached SCPs per root/OU/account, FullAWSAccess included

# Actions Bedrock authorizes model calls with. Converse and ConverseStream have no IAM
# actions of their own: they are authorized as InvokeModel / InvokeModelWithResponseStream.
MODEL_INVOKE_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]

# Services whose endpoints are global or us-east-1 only; from the AWS Organizations
# example "Deny access to AWS based on the requested AWS Region", plus the billing family.
GLOBAL_SERVICE_ACTIONS = [
    "a4b:*",
    "access-analyzer:*",
    "account:*",
    "acm:*",
    "aws-marketplace-management:*",
    "aws-marketplace:*",
    "aws-portal:*",
    "billing:*",
    "budgets:*",
    "ce:*",
    "chime:*",
    "cloudfront:*",
    "config:*",
    "cur:*",
    "directconnect:*",
    "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways",
    "ec2:DescribeVpnGateways",
    "fms:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "importexport:*",
    "invoicing:*",
    "kms:*",
    "mobileanalytics:*",
    "networkmanager:*",
    "organizations:*",
    "payments:*",
    "pricing:*",
    "route53-recovery-cluster:*",
    "route53-recovery-control-config:*",
    "route53-recovery-readiness:*",
    "route53:*",
    "route53domains:*",
    "s3:GetAccountPublic*",
    "s3:ListAllMyBuckets",
    "s3:ListMultiRegionAccessPoints",
    "s3:PutAccountPublic*",
    "shield:*",
    "sts:*",
    "support:*",
    "tax:*",
    "trustedadvisor:*",
    "waf-regional:*",
    "waf:*",
    "wafv2:*",
    "wellarchitected:*",
]

# Stopping or weakening any of these blinds the platform; only exempt principals may.
BASELINE_PROTECTED_ACTIONS = [
    "access-analyzer:DeleteAnalyzer",
    "bedrock:DeleteModelInvocationLoggingConfiguration",
    "bedrock:PutModelInvocationLoggingConfiguration",
    "cloudtrail:DeleteTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
    "config:DeleteConfigurationAggregator",
    "config:DeleteConfigurationRecorder",
    "config:DeleteDeliveryChannel",
    "config:DeleteRetentionConfiguration",
    "config:StopConfigurationRecorder",
    "guardduty:DeleteDetector",
    "guardduty:DeleteMembers",
    "guardduty:DisassociateFromAdministratorAccount",
    "guardduty:DisassociateFromMasterAccount",
    "guardduty:DisassociateMembers",
    "guardduty:StopMonitoringMembers",
    "guardduty:UpdateDetector",
    "oam:DeleteLink",
    "oam:DeleteSink",
    "oam:PutSinkPolicy",
    "oam:UpdateLink",
    "securityhub:BatchDisableStandards",
    "securityhub:DeleteMembers",
    "securityhub:DisableSecurityHub",
    "securityhub:DisassociateFromAdministratorAccount",
    "securityhub:DisassociateFromMasterAccount",
    "securityhub:DisassociateMembers",
]

# Managed policies the platform creates (permission boundaries, launch and deny policies) must not be rewritten
# by account principals: a new default version would widen every role the policy bounds or grants.
POLICY_MUTATING_ACTIONS = [
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
]
ROLE_ATTACHMENT_ACTIONS = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
ROLE_MUTATING_ACTIONS = [
    *ROLE_ATTACHMENT_ACTIONS,
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
]

REQUIRED_TAG_KEYS = ("owner", "cost-center", "use-case-id")


@dataclass(frozen=True)
class Policy:
    """One Organizations policy: its name, what it is for, and its document."""

    name: str
    description: str
    document: dict
    kind: str = "SERVICE_CONTROL_POLICY"

    @property
    def size(self) -> int:
        """Characters as Organizations counts them for the quota (minified JSON)."""
        return len(json.dumps(self.document, separators=(",", ":")))


def _document(*statements: Statement) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def exempt_principals(org: Organization) -> list[str]:
    """Break-glass roles, the platform's own CloudFormation execution role and the role StackSets bootstraps each
    account with (it creates the protected cdk-<qualifier>-* roles), in any account."""
    roles = [f"arn:aws:iam::*:role/{name}" for name in org.guardrails.admin_roles]
    roles.append(f"arn:aws:iam::*:role/cdk-{org.guardrails.bootstrap_qualifier}-cfn-exec-role-*")
    roles.append(f"arn:aws:iam::*:role/{PLATFORM_RESOURCES_ROLE}-*")
    roles.append(STACKSETS_EXECUTION_ROLE_PATTERN)
    return roles


def protected_role_patterns(org: Organization) -> list[str]:
    return [
        f"arn:aws:iam::*:role/{PREFIX}-*",
        "arn:aws:iam::*:role/AgentZone-*",  # roles CloudFormation names after AgentZone stacks
        f"arn:aws:iam::*:role/cdk-{org.guardrails.bootstrap_qualifier}-*",
        # Exempt above: nobody else may make it assumable. StackSets manages it through its service-linked role,
        # which SCPs do not restrict.
        STACKSETS_EXECUTION_ROLE_PATTERN,
    ]


def baseline_protection(org: Organization) -> Policy:
    unless_exempt = {"ArnNotLike": {"aws:PrincipalARN": exempt_principals(org)}}
    return Policy(
        name=f"{PREFIX}-baseline-protection",
        description="AgentZone: stay in the organization; keep audit, detection, observability and platform roles "
        "intact",
        document=_document(
            {
                "Sid": "DenyLeaveOrganization",
                "Effect": "Deny",
                "Action": "organizations:LeaveOrganization",
                "Resource": "*",
            },
            {
                "Sid": "ProtectAuditAndDetection",
                "Effect": "Deny",
                "Action": BASELINE_PROTECTED_ACTIONS,
                "Resource": "*",
                "Condition": unless_exempt,
            },
            {
                "Sid": "ProtectPlatformBudgets",
                "Effect": "Deny",
                "Action": "budgets:ModifyBudget",
                "Resource": f"arn:aws:budgets::*:budget/{PREFIX}-*",
                "Condition": unless_exempt,
            },
            {
                "Sid": "ProtectPlatformRoles",
                "Effect": "Deny",
                "Action": ROLE_MUTATING_ACTIONS,
                "Resource": protected_role_patterns(org),
                # The safety roles stop agents by attaching deny policies; agentzone-safety-roles limits them to that.
                "Condition": {
                    "ArnNotLike": {"aws:PrincipalARN": [*exempt_principals(org), role_arn_pattern(SAFETY_ROLE_PREFIX)]}
                },
            },
            {
                "Sid": "ProtectPlatformPolicies",
                "Effect": "Deny",
                "Action": POLICY_MUTATING_ACTIONS,
                "Resource": [f"arn:aws:iam::*:policy/{PREFIX}-*", "arn:aws:iam::*:policy/AgentZone-*"],
                "Condition": unless_exempt,
            },
        ),
    )


def safety_roles() -> Policy:
    """The budget action and incident playbook roles (agentzone-safety-*, exempt from ProtectPlatformRoles) may attach
    and detach the agentzone-*-deny policies, and change nothing else about any role."""
    safety = {"ArnLike": {"aws:PrincipalARN": role_arn_pattern(SAFETY_ROLE_PREFIX)}}
    return Policy(
        name=f"{PREFIX}-safety-roles",
        description="AgentZone: the budget action and incident playbooks attach the agent deny policies, nothing else",
        document=_document(
            {
                "Sid": "SafetyRolesAttachOnlyDenyPolicies",
                "Effect": "Deny",
                "Action": ROLE_ATTACHMENT_ACTIONS,
                "Resource": "*",
                "Condition": {**safety, "ArnNotLike": {"iam:PolicyARN": DENY_POLICY_PATTERN}},
            },
            {
                "Sid": "SafetyRolesChangeNoRole",
                "Effect": "Deny",
                "Action": [a for a in ROLE_MUTATING_ACTIONS if a not in ROLE_ATTACHMENT_ACTIONS],
                "Resource": "*",
                "Condition": safety,
            },
        ),
    )


def region_restriction(org: Organization) -> Policy:
    return Policy(
        name=f"{PREFIX}-region-restriction",
        description="AgentZone: deny requests outside allowed_regions, except global services",
        document=_document(
            {
                "Sid": "DenyOutsideAllowedRegions",
                "Effect": "Deny",
                "NotAction": GLOBAL_SERVICE_ACTIONS,
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:RequestedRegion": sorted(org.allowed_regions)},
                    "ArnNotLike": {"aws:PrincipalARN": exempt_principals(org)},
                },
            }
        ),
    )


REQUIRE_GUARDRAIL: Statement = {
    "Sid": "DenyModelCallsWithoutGuardrail",
    "Effect": "Deny",
    "Action": MODEL_INVOKE_ACTIONS,
    "Resource": "*",
    "Condition": {
        "Null": {"bedrock:GuardrailIdentifier": "true"},
        # The FM gateway applies its own guardrail; knowledge-base roles only embed (next statement).
        "ArnNotLike": {
            "aws:PrincipalARN": [
                f"arn:aws:iam::*:role/{FM_GATEWAY_ROLE_PREFIX}*",
                role_arn_pattern(KNOWLEDGE_BASE_ROLE_PREFIX),
            ]
        },
    },
}
# Knowledge-base service roles (exempt above: embedding calls take no guardrail) may call embedding
# models and nothing else. Their names are platform-protected (agentzone-*), so only stacks create them.
KNOWLEDGE_BASE_EMBEDDING_ONLY: Statement = {
    "Sid": "DenyKnowledgeBaseRolesNonEmbeddingModels",
    "Effect": "Deny",
    "Action": MODEL_INVOKE_ACTIONS,
    "NotResource": "arn:aws:bedrock:*::foundation-model/*embed*",
    "Condition": {"ArnLike": {"aws:PrincipalARN": role_arn_pattern(KNOWLEDGE_BASE_ROLE_PREFIX)}},
}


def evaluation_judge_only(judge: str) -> Statement:
    """Bedrock evaluation jobs judge with the configured model and cannot pass a guardrail: their role
    (agentzone-eval-*, platform-protected) is exempt from the guardrail rule and limited to that model.
    AgentCore online evaluation roles share the prefix; with built-in evaluators they call no model."""
    return {
        "Sid": "DenyEvaluationRolesOtherModels",
        "Effect": "Deny",
        "Action": MODEL_INVOKE_ACTIONS,
        "NotResource": [foundation_model_arn(judge), "arn:aws:bedrock:*:*:inference-profile/*"],
        "Condition": {"ArnLike": {"aws:PrincipalARN": role_arn_pattern(EVALUATION_ROLE_PREFIX)}},
    }


def memory_extraction_models(tenant: Tenant) -> list[str]:
    """Models the tenant's memories run custom extraction with (``custom_strategies[].model``), sorted."""
    return sorted(
        {s.model for memory in tenant.blueprints.memory.values() for s in memory.custom_strategies if s.model}
    )


def memory_extraction_only(models: list[str]) -> Statement:
    """AgentCore Memory calls a custom strategy's model as the memory's service role and cannot pass a guardrail:
    those roles (agentzone-memory-*, platform-protected) are exempt from the guardrail rule and limited to the
    tenant's extraction models (a cross-region profile resolves to its base model, which this list decides)."""
    resources = sorted({foundation_model_arn(m) for m in models})
    if any(split_profile(m)[0] for m in models):
        resources.append("arn:aws:bedrock:*:*:inference-profile/*")
    return {
        "Sid": "DenyMemoryRolesOtherModels",
        "Effect": "Deny",
        "Action": MODEL_INVOKE_ACTIONS,
        "NotResource": resources,
        "Condition": {"ArnLike": {"aws:PrincipalARN": role_arn_pattern(MEMORY_ROLE_PREFIX)}},
    }


def foundation_model_arn(model_id: str) -> str:
    """Cross-region inference profile ids ("eu.amazon.nova-pro-v1:0", "global.anthropic...") resolve to the base
    model."""
    _, base = split_profile(model_id)
    return f"arn:aws:bedrock:*::foundation-model/{base}"


def tenant_guardrails(tenant: Tenant) -> Policy:
    """Attached to the tenant's OUs: only its allow-listed models, and (unless it has
    direct_model_access) only with a guardrail named in the call or through the FM gateway."""
    allowed = sorted({foundation_model_arn(m) for m in tenant.models})
    statements: list[Statement] = [
        {
            "Sid": "DenyModelsNotOnAllowList",
            "Effect": "Deny",
            "Action": MODEL_INVOKE_ACTIONS,
            # Inference profiles pass here because Bedrock also authorizes the underlying
            # foundation model in each destination region, which this list decides.
            "NotResource": [
                *allowed,
                "arn:aws:bedrock:*:*:inference-profile/*",
                "arn:aws:bedrock:*:*:application-inference-profile/*",
            ],
        }
    ]
    if not tenant.direct_model_access:
        # Service roles that cannot pass a guardrail are exempt from the guardrail rule only together with a
        # statement limiting them to the models they need, and only when the tenant has such a role.
        guardrail = copy.deepcopy(REQUIRE_GUARDRAIL)
        exempt = guardrail["Condition"]["ArnNotLike"]["aws:PrincipalARN"]
        limits = [KNOWLEDGE_BASE_EMBEDDING_ONLY]
        judge = tenant.blueprints.eval_pipeline.evaluator_model if tenant.blueprints.eval_pipeline else None
        if judge:
            exempt.append(role_arn_pattern(EVALUATION_ROLE_PREFIX))
            limits.append(evaluation_judge_only(judge))
        extraction = memory_extraction_models(tenant)
        if extraction:
            exempt.append(role_arn_pattern(MEMORY_ROLE_PREFIX))
            limits.append(memory_extraction_only(extraction))
        statements += [guardrail, *limits]
    access = "direct model access allowed" if tenant.direct_model_access else "guardrail or FM gateway required"
    return Policy(
        name=f"{PREFIX}-tenant-{tenant.tenant}",
        description=f"AgentZone: {tenant.tenant} may invoke only its allow-listed models; {access}",
        document=_document(*statements),
    )


def tag_policy(
    name: str, description: str, cost_centers: list[str], use_case_ids: list[str], owners: list[str]
) -> Policy:
    """Standardize the three cost tags; values pinned to what config allows for that OU."""
    values = {"owner": owners, "cost-center": cost_centers, "use-case-id": use_case_ids}
    return Policy(
        name=name,
        description=description,
        kind="TAG_POLICY",
        document={
            "tags": {
                key: {"tag_key": {"@@assign": key}, "tag_value": {"@@assign": sorted(set(values[key]))}}
                for key in REQUIRED_TAG_KEYS
            }
        },
    )
