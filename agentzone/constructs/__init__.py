"""Reusable L3 constructs with secure defaults, shared by stacks and blueprints."""

from .account_budget import AccountBudget, AccountBudgetProps
from .alarm_topic import encrypted_alarm_topic
from .encryption_key import BaselineKey
from .isolated_vpc import IsolatedVpc, IsolatedVpcProps
from .observability import BedrockInvocationLogging, BedrockInvocationLoggingProps, ObservabilityLink
from .platform_resource import PlatformResourceProvider
from .secure_bucket import AccessLogsBucket, SecureBucket

__all__ = [
    "AccessLogsBucket",
    "AccountBudget",
    "AccountBudgetProps",
    "BaselineKey",
    "BedrockInvocationLogging",
    "BedrockInvocationLoggingProps",
    "IsolatedVpc",
    "IsolatedVpcProps",
    "ObservabilityLink",
    "PlatformResourceProvider",
    "SecureBucket",
    "encrypted_alarm_topic",
]
