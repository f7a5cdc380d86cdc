"""A VPC with no way out but its own interface endpoints.

Isolated subnets only (no internet gateway, no NAT), all traffic flow-logged
to a CMK-encrypted log group, the default security group stripped of rules,
and one interface endpoint per AWS service its workload calls, reachable on
HTTPS from inside the VPC. A workload's security group then needs exactly one
egress rule, HTTPS to the VPC CIDR (:meth:`IsolatedVpc.https_only_security_group`).

S3 is an *interface* endpoint here, with private DNS for every resolver in
the VPC: ``s3.<region>.amazonaws.com`` and ``<bucket>.s3.<region>...`` (ECR
image layers are presigned URLs of that form) resolve to addresses inside the
VPC. A gateway endpoint would route to S3's public addresses instead, and a
security group can only allow those through the S3 managed prefix list, whose
id differs per region and cannot be read at synth without a lookup.

Availability zones are named (``<region><letter>``), never looked up, so
synth needs no credentials. Zone letters map to different physical zones in
each account; check that the service using the VPC supports the zones chosen.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from constructs import Construct

from ..patterns import ZONE_PATTERN
from .retention import retained_log_group

HTTPS_PORT = 443
_ZONE = re.compile(ZONE_PATTERN)


@dataclass(frozen=True)
class PrivateService:
    """A PrivateLink endpoint service of another account (e.g. the shared FM gateway's), reached from the VPC by
    ``domain``. ``service_name`` may be a deploy-time token (a shared SSM parameter read by the template)."""

    construct_id: str
    service_name: str
    domain: str


@dataclass(frozen=True)
class IsolatedVpcProps:
    """``purpose`` names the VPC in descriptions and errors; ``zones`` are two or three zone letters (a-f);
    ``interface_endpoints`` maps construct ids to the services the workload calls."""

    purpose: str
    cidr: str
    zones: Sequence[str]
    encryption_key: kms.IKey
    interface_endpoints: Mapping[str, ec2.IInterfaceVpcEndpointService]
    log_retention_days: int = 365


class IsolatedVpc(Construct):
    """Isolated subnets, flow logs, interface endpoints (``interface_endpoints``: construct id -> service).

    Attributes: ``vpc``, ``subnets`` (the isolated subnet selection),
    ``endpoint_security_group``, ``endpoints`` (construct id -> endpoint),
    ``flow_log_group``, ``cidr``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: IsolatedVpcProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        if cdk.Token.is_unresolved(stack.region) or cdk.Token.is_unresolved(stack.account):
            raise ValueError(
                f"{props.purpose}: an isolated VPC needs a stack with an explicit env (account and region): "
                "zones are named, not looked up"
            )
        problems = _problems(props.cidr, props.zones)
        if problems:
            raise ValueError(f"{props.purpose} VPC: " + "; ".join(problems))
        self.cidr = props.cidr
        self.flow_log_group: logs.LogGroup = retained_log_group(
            self, "FlowLogs", encryption_key=props.encryption_key, retention_days=props.log_retention_days
        )
        self.vpc = isolated_subnets_vpc(self, "Vpc", cidr=props.cidr, zones=props.zones)
        self._flow_log(props.purpose)
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description=f"{props.purpose} VPC interface endpoints: HTTPS from inside the VPC",
            allow_all_outbound=False,
        )
        # A literal CIDR, not the VPC's Fn::GetAtt: nag's port rules cannot evaluate the attribute.
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(props.cidr), ec2.Port.tcp(HTTPS_PORT), "HTTPS from the VPC"
        )
        self.endpoints = {name: self._endpoint(name, service) for name, service in props.interface_endpoints.items()}

    def _flow_log(self, purpose: str) -> None:
        """All traffic to the flow log group, written by a role that can do nothing else."""
        flow_log_role = iam.Role(
            self,
            "FlowLogRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}}
            ),
            description=f"Writes the {purpose} VPC's flow logs to its log group",
        )
        iam.ManagedPolicy(
            self,
            "FlowLogPolicy",
            roles=[flow_log_role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[self.flow_log_group.log_group_arn],
                )
            ],
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                self.flow_log_group, flow_log_role.without_policy_updates()
            ),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

    def _endpoint(self, name: str, service: ec2.IInterfaceVpcEndpointService) -> ec2.InterfaceVpcEndpoint:
        s3 = isinstance(service, ec2.InterfaceVpcEndpointAwsService) and service.short_name == "s3"
        return self.vpc.add_interface_endpoint(
            name,
            service=service,
            private_dns_enabled=True,
            subnets=self.subnets,
            security_groups=[self.endpoint_security_group],
            open=False,
            # S3 resolves to this endpoint for the VPC's own resolver too (by default S3 traffic from the VPC
            # would be sent to a gateway endpoint).
            private_dns_only_for_inbound_resolver_endpoint=(
                ec2.VpcEndpointPrivateDnsOnlyForInboundResolverEndpoint.ALL_RESOLVERS if s3 else None
            ),
        )

    def add_private_service(self, service: PrivateService) -> ec2.InterfaceVpcEndpoint:
        """An interface endpoint to ``service``, and a private hosted zone of this VPC mapping its domain to the
        endpoint: the service's own certificate then matches the name clients call (the endpoint service has no
        verified private DNS name to turn on)."""
        endpoint = self.vpc.add_interface_endpoint(
            service.construct_id,
            service=ec2.InterfaceVpcEndpointService(service.service_name, HTTPS_PORT),
            private_dns_enabled=False,
            subnets=self.subnets,
            security_groups=[self.endpoint_security_group],
            open=False,
        )
        zone = route53.PrivateHostedZone(
            self, f"{service.construct_id}Zone", zone_name=service.domain, vpc=self.vpc,
            comment=f"{service.domain} through the VPC's endpoint to {service.construct_id}",
        )  # fmt: skip
        route53.ARecord(
            zone,
            "Endpoint",
            zone=zone,
            target=route53.RecordTarget.from_alias(route53_targets.InterfaceVpcEndpointTarget(endpoint)),
        )
        self.endpoints[service.construct_id] = endpoint
        return endpoint

    def https_only_security_group(self, scope: Construct, construct_id: str, *, description: str) -> ec2.SecurityGroup:
        """A security group whose only rule is HTTPS egress to this VPC's CIDR (its endpoints); no ingress."""
        group = ec2.SecurityGroup(scope, construct_id, vpc=self.vpc, description=description, allow_all_outbound=False)
        group.add_egress_rule(
            ec2.Peer.ipv4(self.cidr), ec2.Port.tcp(HTTPS_PORT), "HTTPS to the VPC's interface endpoints"
        )
        return group


def _problems(cidr: str, zones: Sequence[str]) -> list[str]:
    problems = []
    try:
        network = ipaddress.ip_network(cidr)
        if network.version != 4 or not 16 <= network.prefixlen <= 24:
            problems.append(f"cidr {cidr!r}: an IPv4 /16 to /24 block")
    except ValueError:
        problems.append(f"cidr {cidr!r} is not a network address (e.g. 10.80.0.0/22)")
    if not 2 <= len(zones) <= 3 or len(set(zones)) != len(zones) or not all(_ZONE.match(z) for z in zones):
        problems.append(f"zones {list(zones)!r}: two or three distinct zone letters a-f")
    return problems


def isolated_subnets_vpc(scope: Construct, construct_id: str, *, cidr: str, zones: Sequence[str]) -> ec2.Vpc:
    """Isolated subnets only (no NAT, no internet gateway), in zones named from config instead of looked up:
    up to three zones in four equal blocks of ``cidr``, room for every endpoint and the workload's ENIs."""
    region = cdk.Stack.of(scope).region
    return ec2.Vpc(
        scope,
        construct_id,
        ip_addresses=ec2.IpAddresses.cidr(cidr),
        availability_zones=[f"{region}{zone}" for zone in zones],
        nat_gateways=0,
        create_internet_gateway=False,
        restrict_default_security_group=True,
        subnet_configuration=[
            ec2.SubnetConfiguration(
                name="Isolated",
                subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                cidr_mask=int(cidr.rsplit("/", 1)[1]) + 2,
            )
        ],
    )
