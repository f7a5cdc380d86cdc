"""The management account: organization-wide controls (OUs, SCPs and tag policies build on this)."""

from __future__ import annotations

from constructs import Construct

from ..config.model import LandingZone
from .base import AgentZoneStack, StackTarget


class OrganizationStack(AgentZoneStack):
    """Deliberately independent of tenants: adding a team never changes the management account."""

    ROLE = "Organization"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone) -> None:
        super().__init__(scope, construct_id, target=target, description="AgentZone organization: guardrails across accounts")
