"""The logging account of one platform environment: archive, observability sink, tenant read access."""

from __future__ import annotations

from constructs import Construct

from ..config.model import LandingZone
from .base import AgentZoneStack, StackTarget


class LoggingStack(AgentZoneStack):
    """Central log archive, organization trail destination and cross-account observability."""

    ROLE = "Logging"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone) -> None:
        super().__init__(scope, construct_id, target=target, description="AgentZone logging: central, immutable log archive")
        # Object Lock can only be chosen at creation without a migration, so the archive has it from day one.
        self.log_archive = self.secure_bucket("LogArchive", object_lock=True, noncurrent_version_days=365)
