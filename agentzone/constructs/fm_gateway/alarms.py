"""The gateway's alarms: traffic (ALB and target health) and capacity (tasks, Aurora, Redis), to one SNS topic."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..alarm_topic import encrypted_alarm_topic
from .base import GatewayPartProps

_FIVE_MINUTES = cdk.Duration.minutes(5)
_NOT_BREACHING = cloudwatch.TreatMissingData.NOT_BREACHING


@dataclass(frozen=True)
class AlarmProps(GatewayPartProps):
    """What the alarms watch, and the topic they notify (on alarm and on recovery)."""

    topic: sns.ITopic
    load_balancer: elbv2.ApplicationLoadBalancer
    target_group: elbv2.ApplicationTargetGroup
    service: ecs.FargateService
    database: rds.DatabaseCluster
    cache_nodes: tuple[str, ...]


@dataclass(frozen=True)
class _AlarmSpec:
    metric: cloudwatch.IMetric
    threshold: float
    periods: int
    description: str
    missing: cloudwatch.TreatMissingData = _NOT_BREACHING
    below: bool = False  # alarm when the metric drops under the threshold


def build_alarm_topic(scope: Construct, props: GatewayPartProps) -> sns.Topic:
    """The gateway's own encrypted topic, when the caller passes none."""
    return encrypted_alarm_topic(
        scope,
        "AlarmTopic",
        encryption_key=props.encryption_key,
        display_name=f"FM gateway {props.gateway.name} alarms",
    )


def build_alarms(scope: Construct, props: AlarmProps) -> dict[str, cloudwatch.Alarm]:
    """One alarm per spec, ``<Name>Alarm``, notifying the topic when it fires and when it clears."""
    alarms: dict[str, cloudwatch.Alarm] = {}
    for name, spec in {**_traffic_specs(props), **_capacity_specs(props)}.items():
        alarm = cloudwatch.Alarm(
            scope,
            f"{name}Alarm",
            metric=spec.metric,
            threshold=spec.threshold,
            evaluation_periods=spec.periods,
            comparison_operator=(
                cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
                if spec.below
                else cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
            ),
            treat_missing_data=spec.missing,
            alarm_description=f"FM gateway {props.gateway.name}: {spec.description}",
        )
        alarm.add_alarm_action(cw_actions.SnsAction(props.topic))
        alarm.add_ok_action(cw_actions.SnsAction(props.topic))
        alarms[name] = alarm
    return alarms


def _traffic_specs(props: AlarmProps) -> dict[str, _AlarmSpec]:
    """Errors and latency at the ALB, and the health of the tasks behind it."""
    alb, tg, one_minute = props.load_balancer.metrics, props.target_group.metrics, cdk.Duration.minutes(1)
    return {
        "Alb5xx": _AlarmSpec(
            alb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=_FIVE_MINUTES, statistic="Sum"),
            10,
            1,
            "The ALB itself returned 5xx (no healthy target, timeouts)",
        ),
        "Target5xx": _AlarmSpec(
            alb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=_FIVE_MINUTES, statistic="Sum"),
            25,
            1,
            "LiteLLM returned 5xx (provider errors after retries and fallbacks)",
        ),
        "TargetLatencyP95": _AlarmSpec(
            alb.target_response_time(period=_FIVE_MINUTES, statistic="p95"),
            props.gateway.latency_alarm_seconds,
            3,
            "p95 time to first byte from LiteLLM",
        ),
        "UnhealthyTasks": _AlarmSpec(
            tg.unhealthy_host_count(period=one_minute, statistic="Maximum"),
            1,
            3,
            "A gateway task fails its health check",
        ),
        "NoHealthyTasks": _AlarmSpec(
            tg.healthy_host_count(period=one_minute, statistic="Minimum"),
            1,
            2,
            "No healthy gateway task: the gateway is down",
            missing=cloudwatch.TreatMissingData.BREACHING,
            below=True,
        ),
    }


def _capacity_specs(props: AlarmProps) -> dict[str, _AlarmSpec]:
    """Tasks, Aurora and Redis near their limits."""
    nodes = props.cache_nodes
    return {
        "ServiceCpuHigh": _AlarmSpec(
            props.service.metric_cpu_utilization(period=_FIVE_MINUTES, statistic="Average"),
            85,
            3,
            "Tasks stay above 85% CPU (scaling is at its limit or too slow)",
        ),
        "DatabaseAtMaxCapacity": _AlarmSpec(
            props.database.metric("ServerlessDatabaseCapacity", period=_FIVE_MINUTES, statistic="Maximum"),
            props.gateway.database.max_capacity_acu,
            3,
            "Aurora runs at its maximum ACUs",
        ),
        "CacheCpuHigh": _AlarmSpec(
            _highest_cache_node(nodes, "EngineCPUUtilization", "Maximum"), 80, 3, "Redis engine CPU above 80%"
        ),
        "CacheMemoryHigh": _AlarmSpec(
            _highest_cache_node(nodes, "DatabaseMemoryUsagePercentage", "Maximum"),
            80,
            3,
            "Redis memory above 80%: rate-limit counters are at risk of eviction",
        ),
        "CacheEvictions": _AlarmSpec(
            _highest_cache_node(nodes, "Evictions", "Sum"),
            1,
            1,
            "Redis evicted keys: rate-limit counters may have been lost",
        ),
    }


def _highest_cache_node(nodes: tuple[str, ...], name: str, statistic: str) -> cloudwatch.MathExpression:
    """ElastiCache publishes per node: the highest node's value is the one to alarm on."""
    return cloudwatch.MathExpression(
        expression=f"MAX([{','.join(f'n{i}' for i in range(len(nodes)))}])",
        using_metrics={
            f"n{i}": cloudwatch.Metric(
                namespace="AWS/ElastiCache",
                metric_name=name,
                statistic=statistic,
                dimensions_map={"CacheClusterId": node},
                period=_FIVE_MINUTES,
            )
            for i, node in enumerate(nodes)
        },
        label=f"{name} (highest node)",
        period=_FIVE_MINUTES,
    )
