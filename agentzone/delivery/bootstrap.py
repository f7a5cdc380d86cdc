"""`agentzone bootstrap-policy`: a CloudFormation execution policy per account, instead of AdministratorAccess.

`cdk bootstrap` gives CloudFormation AdministratorAccess unless told
otherwise. This reads a synthesized assembly, finds the resource types the
stacks of one account deploy, and writes the policy that allows exactly
those services, IAM limited to roles and policies (no users, groups or access
keys), and nothing else. Create it in the account and pass it to
``cdk bootstrap --cloudformation-execution-policies``. Run it again after a
change adds a new kind of resource (the synth summary shows new types).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..command import run_alone

# CloudFormation service name -> IAM action prefix, where they differ from lower case.
SERVICE_PREFIX = {
    "AccessAnalyzer": "access-analyzer",
    "AgentRegistry": "bedrock-agentcore",
    "ApplicationAutoScaling": "application-autoscaling",
    "BedrockAgentCore": "bedrock-agentcore",
    "CertificateManager": "acm",
    "Cognito": "cognito-idp",
    "ElasticLoadBalancingV2": "elasticloadbalancing",
    "KinesisFirehose": "firehose",
    "StepFunctions": "states",
    "WAFv2": "wafv2",
}
# Services a resource type needs beyond its own (CloudFormation creates these alongside).
COMPANIONS = {
    "ApplicationAutoScaling": ["cloudwatch"],
    "ECS": ["application-autoscaling"],
    "Lambda": ["logs"],
    "Cognito": ["cognito-identity"],
    "ElasticLoadBalancingV2": ["ec2"],
    "RDS": ["ec2"],
    "ElastiCache": ["ec2"],
}
IAM_ROLE_ACTIONS = [
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:PassRole",
    "iam:CreateServiceLinkedRole",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListPolicyVersions",
    "iam:TagPolicy",
    "iam:UntagPolicy",
]
IAM_DENIED = [
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:CreateGroup",
    "iam:AddUserToGroup",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:UpdateAccountPasswordPolicy",
    "iam:CreateSAMLProvider",
    "iam:CreateOpenIDConnectProvider",
    "iam:DeleteAccountPasswordPolicy",
]
MANAGED_POLICY_LIMIT = 6144


class BootstrapError(ValueError):
    pass


def _service(resource_type: str) -> tuple[str, list[str]]:
    parts = resource_type.split("::")
    if parts[0] == "Custom" or resource_type == "AWS::CloudFormation::CustomResource":
        return "lambda", []  # CloudFormation invokes the provider function as the execution role
    if parts[0] != "AWS" or len(parts) < 3:
        raise BootstrapError(f"unknown resource type {resource_type!r}")
    name = parts[1]
    return SERVICE_PREFIX.get(name, name.lower()), COMPANIONS.get(name, [])


def resource_types(assembly: Path, account: str) -> dict[str, list[str]]:
    """Resource types per stack of ``account`` in an assembly (`agentzone synth` output)."""
    found: dict[str, list[str]] = {}
    manifest = json.loads((assembly / "manifest.json").read_text())
    for name, artifact in sorted(manifest.get("artifacts", {}).items()):
        if (
            artifact.get("type") != "aws:cloudformation:stack"
            or artifact.get("environment", "").split("/")[2] != account
        ):
            continue
        template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
        found[artifact.get("displayName", name)] = sorted({r["Type"] for r in template.get("Resources", {}).values()})
    if not found:
        raise BootstrapError(
            f"no stack of account {account} in {assembly}; check --account, or synthesize first (`make synth`)"
        )
    return found


def execution_policy(types: list[str], partition: str = "aws") -> dict:
    services: set[str] = set()
    for resource_type in types:
        service, companions = _service(resource_type)
        if service != "iam":
            services.add(service)
        services.update(companions)
    statements = [
        {"Sid": "StackServices", "Effect": "Allow", "Action": [f"{s}:*" for s in sorted(services)], "Resource": "*"}
    ]
    statements.append({"Sid": "RolesAndPolicies", "Effect": "Allow", "Action": IAM_ROLE_ACTIONS, "Resource": "*"})
    statements.append({"Sid": "NoUsersGroupsOrKeys", "Effect": "Deny", "Action": IAM_DENIED, "Resource": "*"})
    policy = {"Version": "2012-10-17", "Statement": statements}
    size = len(json.dumps(policy, separators=(",", ":")))
    if size > MANAGED_POLICY_LIMIT:
        raise BootstrapError(
            f"the policy would be {size} characters (IAM allows {MANAGED_POLICY_LIMIT}); split the account's stacks"
        )
    return policy


def cmd_bootstrap_policy(args) -> int:
    try:
        stacks = resource_types(Path(args.assembly), args.account)
        policy = execution_policy(sorted({t for types in stacks.values() for t in types}))
    except (BootstrapError, FileNotFoundError, json.JSONDecodeError) as exc:
        print(f"agentzone bootstrap-policy: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(policy, indent=2))
    print(f"# {args.account}: {', '.join(stacks)}", file=sys.stderr)
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bootstrap-policy",
        help="least-privilege CloudFormation execution policy for one account's stacks",
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--account", required=True, help="12-digit account id")
    p.add_argument("--assembly", default="cdk.out", help="synthesized assembly (default: %(default)s)")
    p.set_defaults(func=cmd_bootstrap_policy)


def main(argv: list[str] | None = None) -> int:
    return run_alone("bootstrap-policy", add_parser, argv)
