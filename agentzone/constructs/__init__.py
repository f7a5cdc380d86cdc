"""Reusable L3 constructs with secure defaults, shared by stacks and blueprints."""

from .account_budget import AccountBudget
from .encryption_key import BaselineKey
from .observability import BedrockInvocationLogging, ObservabilityLink
from .platform_resource import PlatformResourceProvider
from .secure_bucket import AccessLogsBucket, SecureBucket

__all__ = ["AccessLogsBucket", "AccountBudget", "BaselineKey", "BedrockInvocationLogging", "ObservabilityLink", "PlatformResourceProvider", "SecureBucket"]
