"""The security account of one platform environment: agent identity and threat detection."""

from __future__ import annotations

from constructs import Construct

from ..config.model import LandingZone
from .base import AgentZoneStack, StackTarget


class SecurityStack(AgentZoneStack):
    """Agent identity, GuardDuty, Security Hub, Access Analyzer and the Config aggregator."""

    ROLE = "Security"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone) -> None:
        super().__init__(scope, construct_id, target=target, description="AgentZone security: identity and threat detection")
