"""The gateway's network: an isolated VPC with flow logs, the AWS API endpoints, and the security groups.

Everything runs in PRIVATE_ISOLATED subnets: no internet gateway, no NAT.
Port 443 leaves the tasks only towards the VPC endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..isolated_vpc import isolated_subnets_vpc
from .base import GatewayPartProps
from .props import HTTPS_PORT

# Interface endpoints the tasks (and the ECS agent acting for them) need; S3 is a gateway endpoint.
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "Bedrock": ec2.InterfaceVpcEndpointAwsService.BEDROCK,
    "BedrockRuntime": ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
}


@dataclass(frozen=True)
class GatewayNetwork:
    """The VPC, its isolated subnets and the security groups the other parts attach to."""

    vpc: ec2.Vpc
    subnets: ec2.SubnetSelection
    endpoint_security_group: ec2.SecurityGroup
    task_security_group: ec2.SecurityGroup
    alb_security_group: ec2.SecurityGroup
    nlb_security_group: ec2.SecurityGroup
    admin_security_group: ec2.SecurityGroup


def build_network(scope: Construct, props: GatewayPartProps) -> GatewayNetwork:
    """The VPC with flow logs, its endpoints, and the security groups between NLB, ALB, tasks and admin."""
    flow_logs = props.log_group(scope, "FlowLogs")
    vpc = isolated_subnets_vpc(scope, "Vpc", cidr=props.gateway.vpc_cidr, zones=props.gateway.zones)
    _flow_log(scope, vpc, flow_logs)
    subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    cidr = ec2.Peer.ipv4(props.gateway.vpc_cidr)  # literal: nag's port rules cannot evaluate Fn::GetAtt CidrBlock
    endpoint_sg = security_group(
        scope, vpc, "EndpointSecurityGroup", "FM gateway VPC interface endpoints: HTTPS from inside the VPC"
    )
    endpoint_sg.add_ingress_rule(cidr, ec2.Port.tcp(HTTPS_PORT), "HTTPS from the gateway VPC")
    _endpoints(vpc, subnets, endpoint_sg)
    task_sg = security_group(scope, vpc, "TaskSecurityGroup", "FM gateway tasks")
    # Without an internet gateway or NAT, 443 reaches only the VPC endpoints and the S3 gateway endpoint
    # (whose prefix list cannot be named without a lookup).
    task_sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS_PORT), "AWS APIs through the VPC endpoints")
    alb_sg, nlb_sg, admin_sg = _edge_security_groups(scope, vpc, cidr, endpoint_sg)
    return GatewayNetwork(
        vpc=vpc,
        subnets=subnets,
        endpoint_security_group=endpoint_sg,
        task_security_group=task_sg,
        alb_security_group=alb_sg,
        nlb_security_group=nlb_sg,
        admin_security_group=admin_sg,
    )


def security_group(scope: Construct, vpc: ec2.IVpc, construct_id: str, description: str) -> ec2.SecurityGroup:
    """A security group that sends nothing until a rule says so."""
    return ec2.SecurityGroup(scope, construct_id, vpc=vpc, description=description, allow_all_outbound=False)


def _flow_log(scope: Construct, vpc: ec2.Vpc, flow_logs: logs.ILogGroup) -> None:
    """All traffic to the gateway's log group, written by a role only this account's flow logs can assume."""
    flow_log_role = iam.Role(
        scope,
        "FlowLogRole",
        assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com").with_conditions(
            {"StringEquals": {"aws:SourceAccount": cdk.Stack.of(scope).account}}
        ),
        description="Writes the FM gateway VPC's flow logs to its log group",
    )
    iam.ManagedPolicy(
        scope,
        "FlowLogPolicy",
        roles=[flow_log_role],
        statements=[
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[flow_logs.log_group_arn],
            )
        ],
    )
    vpc.add_flow_log(
        "FlowLog",
        destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs, flow_log_role.without_policy_updates()),
        traffic_type=ec2.FlowLogTrafficType.ALL,
    )


def _endpoints(vpc: ec2.Vpc, subnets: ec2.SubnetSelection, endpoint_sg: ec2.ISecurityGroup) -> None:
    """The AWS APIs the tasks call, with private DNS; S3 through a gateway endpoint."""
    for name, service in INTERFACE_ENDPOINTS.items():
        vpc.add_interface_endpoint(
            name,
            service=service,
            private_dns_enabled=True,
            subnets=subnets,
            security_groups=[endpoint_sg],
            open=False,
        )
    vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[subnets])


def _edge_security_groups(
    scope: Construct, vpc: ec2.Vpc, cidr: ec2.IPeer, endpoint_sg: ec2.ISecurityGroup
) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup, ec2.SecurityGroup]:
    """ALB, PrivateLink NLB and admin groups: the ALB admits only the NLB and the admin function."""
    https = ec2.Port.tcp(HTTPS_PORT)
    alb_sg = security_group(
        scope, vpc, "AlbSecurityGroup", "FM gateway ALB: HTTPS from the PrivateLink NLB and the admin function"
    )
    nlb_sg = security_group(scope, vpc, "NlbSecurityGroup", "FM gateway PrivateLink NLB")
    nlb_sg.add_ingress_rule(cidr, https, "HTTPS from PrivateLink and the gateway VPC")
    nlb_sg.add_egress_rule(alb_sg, https, "to the ALB")
    alb_sg.add_ingress_rule(nlb_sg, https, "from the PrivateLink NLB")
    admin_sg = security_group(
        scope,
        vpc,
        "AdminSecurityGroup",
        "Attach to functions that administer the gateway (teams, keys): may reach the ALB and the VPC endpoints",
    )
    admin_sg.add_egress_rule(alb_sg, https, "to the gateway ALB")
    admin_sg.add_egress_rule(endpoint_sg, https, "to the VPC endpoints")
    alb_sg.add_ingress_rule(admin_sg, https, "from the admin function")
    return alb_sg, nlb_sg, admin_sg
