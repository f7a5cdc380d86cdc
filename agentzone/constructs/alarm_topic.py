"""An encrypted SNS topic CloudWatch alarms can publish to."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


def encrypted_alarm_topic(
    scope: Construct,
    construct_id: str,
    *,
    encryption_key: kms.IKey,
    display_name: str,
    emails: list[str] | tuple[str, ...] = (),
) -> sns.Topic:
    """A CMK-encrypted, TLS-only topic; the key lets CloudWatch (this account only) publish to it."""
    topic = sns.Topic(scope, construct_id, display_name=display_name, master_key=encryption_key, enforce_ssl=True)
    encryption_key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToPublishEncrypted",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(scope).account}},
        )
    )
    for email in sorted(set(emails)):
        topic.add_subscription(subscriptions.EmailSubscription(email))
    return topic
