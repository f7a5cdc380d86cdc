"""Reusable L3 constructs with secure defaults, shared by stacks and blueprints."""

from .encryption_key import BaselineKey
from .secure_bucket import AccessLogsBucket, SecureBucket

__all__ = ["AccessLogsBucket", "BaselineKey", "SecureBucket"]
