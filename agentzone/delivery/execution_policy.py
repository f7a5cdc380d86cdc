"""CloudFormation execution policies: least privilege for what an account's stacks deploy, and the CDK
bootstrap template the Bootstrap stack's StackSet runs in every AgentZone account with one.

No CLI here: the Bootstrap stack builds its StackSet from this module; `agentzone bootstrap-policy` prints a policy
for one account from it.
"""

from __future__ import annotations

import json

import yaml

from .. import naming
from ..project import PROJECT_ROOT

# The bootstrap template of the CDK CLI that package.json pins (the same `cdk bootstrap` would deploy).
CDK_BOOTSTRAP_TEMPLATE = (
    PROJECT_ROOT / "node_modules" / "aws-cdk" / "lib" / "api" / "bootstrap" / "bootstrap-template.yaml"
)
EXECUTION_POLICY_ID = "AgentZoneExecutionPolicy"

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
# IAM prefixes of every service an AgentZone stack deploys outside the management account (platform, tenant and
# pipeline stacks): the Bootstrap StackSet's execution policy. tests/delivery checks the sample's assemblies.
ORGANIZATION_SERVICES = (
    "access-analyzer",
    "apigateway",
    "application-autoscaling",
    "bedrock",
    "bedrock-agentcore",
    "budgets",
    "cloudwatch",
    "codebuild",
    "codepipeline",
    "cognito-identity",
    "cognito-idp",
    "config",
    "dynamodb",
    "ec2",
    "ecr",
    "ecs",
    "elasticache",
    "elasticloadbalancing",
    "events",
    "firehose",
    "glue",
    "kms",
    "lakeformation",
    "lambda",
    "logs",
    "oam",
    "ram",
    "rds",
    "route53",
    "s3",
    "s3vectors",
    "sagemaker",
    "scheduler",
    "secretsmanager",
    "securityhub",
    "servicecatalog",
    "sns",
    "ssm",
    "states",
    "wafv2",
    "xray",
)


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


def execution_policy(types: list[str], partition: str = "aws") -> dict:
    """The execution policy that lets CloudFormation deploy exactly these resource types."""
    services: set[str] = set()
    for resource_type in types:
        service, companions = _service(resource_type)
        if service != "iam":
            services.add(service)
        services.update(companions)
    return _policy_for(sorted(services))


def _policy_for(services: list[str]) -> dict:
    statements = [{"Sid": "StackServices", "Effect": "Allow", "Action": [f"{s}:*" for s in services], "Resource": "*"}]
    statements.append({"Sid": "RolesAndPolicies", "Effect": "Allow", "Action": IAM_ROLE_ACTIONS, "Resource": "*"})
    statements.append({"Sid": "NoUsersGroupsOrKeys", "Effect": "Deny", "Action": IAM_DENIED, "Resource": "*"})
    policy = {"Version": "2012-10-17", "Statement": statements}
    size = len(json.dumps(policy, separators=(",", ":")))
    if size > MANAGED_POLICY_LIMIT:
        raise BootstrapError(
            f"the policy would be {size} characters (IAM allows {MANAGED_POLICY_LIMIT}); split the account's stacks"
        )
    return policy


def organization_execution_policy() -> dict:
    """The execution policy the Bootstrap stack's StackSet gives every AgentZone account: every service any
    AgentZone stack outside the management account deploys (a test checks the sample's stacks and pipelines
    against ORGANIZATION_SERVICES), IAM roles and policies, never users, groups or keys."""
    return _policy_for(sorted(ORGANIZATION_SERVICES))


def organization_bootstrap_template(policy: dict) -> dict:
    """The CDK CLI's own bootstrap template (the pinned aws-cdk's), with CloudFormation's execution role given
    ``policy`` (created beside it, one per region) instead of AdministratorAccess or a policy made by hand."""
    if not CDK_BOOTSTRAP_TEMPLATE.is_file():
        raise BootstrapError(f"{CDK_BOOTSTRAP_TEMPLATE} not found; run `make install` (npm ci installs the CDK CLI)")
    template = yaml.safe_load(CDK_BOOTSTRAP_TEMPLATE.read_text())
    resources = template["Resources"]
    resources[EXECUTION_POLICY_ID] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "ManagedPolicyName": {"Fn::Sub": f"{naming.BOOTSTRAP_EXECUTION_POLICY}-${{AWS::Region}}"},
            "Description": "AgentZone: what CloudFormation may deploy in this account (agentzone bootstrap-policy)",
            "PolicyDocument": policy,
        },
    }
    resources["CloudFormationExecutionRole"]["Properties"]["ManagedPolicyArns"] = [{"Ref": EXECUTION_POLICY_ID}]
    template["Description"] = f"AgentZone: {template['Description']}"
    return template
