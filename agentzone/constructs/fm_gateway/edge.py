"""How requests reach the tasks: PrivateLink NLB (TCP 443) → internal ALB (HTTPS with the ACM certificate, WAF).

Tenants connect through an interface endpoint to the endpoint service;
inside the gateway VPC a private hosted zone maps the gateway's domain to
the ALB, so TLS verifies against the certificate there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as elbv2_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ...nag import acknowledge_compliance
from ...naming import PREFIX
from ..secure_bucket import AccessLogsBucket
from .base import GatewayPartProps
from .network import GatewayNetwork
from .props import CONTAINER_PORT, HEALTH_PATH, HTTPS_PORT
from .service import CONTAINER_NAME

# AWSManagedRulesCommonRuleSet rules that would block legitimate LLM traffic; counted, not blocked.
WAF_COUNT_ONLY_RULES = {
    "SizeRestrictions_BODY": "Prompts routinely exceed the rule's 8 KB body limit; "
    "LiteLLM enforces its own request limits.",
    "CrossSiteScripting_BODY": "Prompts legitimately carry HTML and code; "
    "the gateway is a JSON API, never rendered by a browser.",
}

_WAF = wafv2.CfnWebACL


@dataclass(frozen=True)
class EdgeProps(GatewayPartProps):
    """The service behind the edge, and the bucket both load balancers log to."""

    network: GatewayNetwork
    service: ecs.FargateService
    access_logs: AccessLogsBucket


@dataclass(frozen=True)
class GatewayEdge:
    """Both load balancers, the ALB's listener and target group, its private zone, WAF and the endpoint service."""

    load_balancer: elbv2.ApplicationLoadBalancer
    listener: elbv2.ApplicationListener
    target_group: elbv2.ApplicationTargetGroup
    hosted_zone: route53.PrivateHostedZone
    web_acl: wafv2.CfnWebACL
    network_load_balancer: elbv2.NetworkLoadBalancer
    endpoint_service: ec2.VpcEndpointService


def build_edge(scope: Construct, props: EdgeProps) -> GatewayEdge:
    """The ALB and its private zone, its web ACL, then the PrivateLink NLB and endpoint service in front."""
    load_balancer = _load_balancer(scope, props)
    listener, target_group = _listener(scope, props, load_balancer)
    hosted_zone = _private_zone(scope, props, load_balancer)
    web_acl = _firewall(scope, props, load_balancer)
    network_load_balancer, endpoint_service = _private_link(scope, props, listener)
    return GatewayEdge(
        load_balancer=load_balancer,
        listener=listener,
        target_group=target_group,
        hosted_zone=hosted_zone,
        web_acl=web_acl,
        network_load_balancer=network_load_balancer,
        endpoint_service=endpoint_service,
    )


# ------------------------------------------------------------------------ ALB


def _load_balancer(scope: Construct, props: EdgeProps) -> elbv2.ApplicationLoadBalancer:
    gateway = props.gateway
    load_balancer = elbv2.ApplicationLoadBalancer(
        scope,
        "LoadBalancer",
        vpc=props.network.vpc,
        vpc_subnets=props.network.subnets,
        internet_facing=False,
        security_group=props.network.alb_security_group,
        deletion_protection=True,
        drop_invalid_header_fields=True,
        desync_mitigation_mode=elbv2.DesyncMitigationMode.DEFENSIVE,
        # Streaming completions can stay open up to the request timeout.
        idle_timeout=cdk.Duration.seconds(min(4000, gateway.request_timeout_seconds + 60)),
    )
    load_balancer.log_access_logs(props.access_logs.bucket, prefix=f"fm-gateway-{gateway.name}/alb")
    return load_balancer


def _listener(
    scope: Construct, props: EdgeProps, load_balancer: elbv2.ApplicationLoadBalancer
) -> tuple[elbv2.ApplicationListener, elbv2.ApplicationTargetGroup]:
    """HTTPS with the gateway's certificate, forwarding to the tasks' LiteLLM port."""
    gateway = props.gateway
    listener = load_balancer.add_listener(
        "Https",
        port=HTTPS_PORT,
        protocol=elbv2.ApplicationProtocol.HTTPS,
        certificates=[elbv2.ListenerCertificate.from_arn(gateway.certificate_arn)],
        ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
        open=False,
    )
    target_group = listener.add_targets(
        "Gateway",
        port=CONTAINER_PORT,
        protocol=elbv2.ApplicationProtocol.HTTP,
        targets=[props.service.load_balancer_target(container_name=CONTAINER_NAME, container_port=CONTAINER_PORT)],
        health_check=elbv2.HealthCheck(
            path=HEALTH_PATH,
            healthy_http_codes="200",
            interval=cdk.Duration.seconds(15),
            timeout=cdk.Duration.seconds(5),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        ),
        deregistration_delay=cdk.Duration.seconds(min(3600, gateway.request_timeout_seconds)),
    )
    return listener, target_group


def _private_zone(
    scope: Construct, props: EdgeProps, load_balancer: elbv2.ApplicationLoadBalancer
) -> route53.PrivateHostedZone:
    # Inside the gateway VPC (the admin function) the domain resolves to the ALB, so TLS verifies against
    # the certificate; tenants map the same name to their PrivateLink endpoint in their own VPCs.
    gateway = props.gateway
    hosted_zone = route53.PrivateHostedZone(
        scope,
        "Zone",
        zone_name=gateway.domain_name,
        vpc=props.network.vpc,
        comment=f"FM gateway {gateway.name}: the ALB inside the gateway VPC",
    )
    route53.ARecord(
        scope,
        "AlbRecord",
        zone=hosted_zone,
        target=route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(load_balancer)),
    )
    return hosted_zone


# ------------------------------------------------------------------------ WAF


def _firewall(scope: Construct, props: EdgeProps, load_balancer: elbv2.ApplicationLoadBalancer) -> wafv2.CfnWebACL:
    """Per-API-key rate limits and two AWS managed rule groups on the ALB; API keys redacted from the logs."""
    name = props.gateway.name
    web_acl = _WAF(
        scope,
        "WebAcl",
        scope="REGIONAL",
        default_action=_WAF.DefaultActionProperty(allow={}),
        description=f"FM gateway {name}: managed rules and a per-API-key rate limit",
        visibility_config=_visibility(name, "acl"),
        rules=[
            _per_key_rate(name, props.gateway.waf_requests_per_5min, 0, "RatePerApiKey", "authorization"),
            _per_key_rate(name, props.gateway.waf_requests_per_5min, 1, "RatePerAnthropicApiKey", "x-api-key"),
            _managed(name, 2, "AWSManagedRulesCommonRuleSet", WAF_COUNT_ONLY_RULES),
            _managed(name, 3, "AWSManagedRulesKnownBadInputsRuleSet"),
        ],
    )
    wafv2.CfnWebACLAssociation(
        scope,
        "WebAclAssociation",
        resource_arn=load_balancer.load_balancer_arn,
        web_acl_arn=web_acl.attr_arn,
    )
    _firewall_logging(scope, props, web_acl)
    return web_acl


def _firewall_logging(scope: Construct, props: EdgeProps, web_acl: wafv2.CfnWebACL) -> None:
    waf_logs = props.log_group(
        scope, "WafLogs", log_group_name=f"aws-waf-logs-{PREFIX}-fm-gateway-{props.gateway.name}"
    )
    wafv2.CfnLoggingConfiguration(
        scope,
        "WafLogging",
        resource_arn=web_acl.attr_arn,
        # WAF wants the log group ARN without the trailing ':*'.
        log_destination_configs=[
            cdk.Stack.of(scope).format_arn(
                service="logs",
                resource="log-group",
                resource_name=waf_logs.log_group_name,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
        ],
        redacted_fields=[  # API keys never reach the logs
            wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "authorization"}),
            wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "x-api-key"}),
        ],
    )


def _visibility(gateway_name: str, name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return _WAF.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=f"fm-gateway-{gateway_name}-{name}",
        sampled_requests_enabled=True,
    )


def _managed(
    gateway_name: str, priority: int, name: str, count_only: Mapping[str, str] | None = None
) -> wafv2.CfnWebACL.RuleProperty:
    """An AWS managed rule group; ``count_only`` rules are counted instead of blocking."""
    overrides = [
        _WAF.RuleActionOverrideProperty(name=rule, action_to_use=_WAF.RuleActionProperty(count={}))
        for rule in sorted(count_only or {})
    ]
    return _WAF.RuleProperty(
        name=name,
        priority=priority,
        override_action=_WAF.OverrideActionProperty(none={}),
        statement=_WAF.StatementProperty(
            managed_rule_group_statement=_WAF.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=name, rule_action_overrides=overrides or None
            )
        ),
        visibility_config=_visibility(gateway_name, name),
    )


def _per_key_rate(gateway_name: str, limit: int, priority: int, name: str, header: str) -> wafv2.CfnWebACL.RuleProperty:
    # Behind PrivateLink every request comes from the NLB's addresses, so a per-IP limit would throttle
    # all tenants together; the limit applies per API key instead.
    key = _WAF.RateBasedStatementCustomKeyProperty(
        header=_WAF.RateLimitHeaderProperty(
            name=header, text_transformations=[_WAF.TextTransformationProperty(priority=0, type="NONE")]
        )
    )
    return _WAF.RuleProperty(
        name=name,
        priority=priority,
        action=_WAF.RuleActionProperty(block={}),
        statement=_WAF.StatementProperty(
            rate_based_statement=_WAF.RateBasedStatementProperty(
                limit=limit, evaluation_window_sec=300, aggregate_key_type="CUSTOM_KEYS", custom_keys=[key]
            )
        ),
        visibility_config=_visibility(gateway_name, name),
    )


# ---------------------------------------------------------------- PrivateLink


def _private_link(
    scope: Construct, props: EdgeProps, alb_listener: elbv2.ApplicationListener
) -> tuple[elbv2.NetworkLoadBalancer, ec2.VpcEndpointService]:
    """A TCP pass-through NLB to the ALB, published as an endpoint service to the allowed accounts."""
    gateway, stack = props.gateway, cdk.Stack.of(scope)
    nlb = elbv2.NetworkLoadBalancer(
        scope,
        "PrivateLinkLoadBalancer",
        vpc=props.network.vpc,
        vpc_subnets=props.network.subnets,
        internet_facing=False,
        cross_zone_enabled=True,
        deletion_protection=True,
        security_groups=[props.network.nlb_security_group],
        # Who may connect is decided by the endpoint service's allowed principals.
        enforce_security_group_inbound_rules_on_private_link_traffic=False,
    )
    nlb.log_access_logs(props.access_logs.bucket, prefix=f"fm-gateway-{gateway.name}/nlb")
    listener = nlb.add_listener("Tcp443", port=HTTPS_PORT, protocol=elbv2.Protocol.TCP)
    acknowledge_compliance(
        listener,
        "ELBv2ACMCertificateRequired",
        "PrivateLink needs a Network Load Balancer, and an ALB target group on it must be TCP: TLS passes through "
        "unbroken to the internal ALB, whose HTTPS listener terminates it with the ACM certificate.",
    )
    listener.add_targets(
        "Alb",
        port=HTTPS_PORT,
        targets=[elbv2_targets.AlbListenerTarget(alb_listener)],
        health_check=elbv2.HealthCheck(
            protocol=elbv2.Protocol.HTTPS, path=HEALTH_PATH, interval=cdk.Duration.seconds(30)
        ),
    )
    endpoint_service = ec2.VpcEndpointService(
        scope,
        "EndpointService",
        vpc_endpoint_service_load_balancers=[nlb],
        acceptance_required=False,
        allowed_principals=[
            iam.ArnPrincipal(f"arn:{stack.partition}:iam::{account}:root")
            for account in gateway.allowed_principal_accounts
        ],
    )
    cdk.CfnOutput(
        scope,
        "EndpointServiceName",
        value=endpoint_service.vpc_endpoint_service_name,
        description=f"Tenants create an interface endpoint to this service and map {gateway.domain_name} to it",
    )
    return nlb, endpoint_service
