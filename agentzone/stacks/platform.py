"""The four platform account roles of one platform environment (seed 000, figure 2).

Logging and Security have their own modules; these two grow in later issues
(FM gateway and catalogs; Lake Formation).
"""

from __future__ import annotations

from constructs import Construct

from ..config.model import LandingZone
from .base import AgentZoneStack, StackTarget


class SharedServicesStack(AgentZoneStack):
    """FM gateway, catalogs, shared tool gateway, ECR and experiment tracking live here."""

    ROLE = "SharedServices"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone) -> None:
        super().__init__(scope, construct_id, target=target, description="AgentZone shared services: tooling shared by all use-case teams")
        self.artifacts = self.secure_bucket("Artifacts")
        self.observability = self.link_observability(lz, transaction_search=True)


class DataLakeStack(AgentZoneStack):
    """S3 zones, Glue catalog, Lake Formation permissions and tenant namespaces."""

    ROLE = "DataLake"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, lz: LandingZone) -> None:
        super().__init__(scope, construct_id, target=target, description="AgentZone data lake: governed data for agents")
        self.raw_zone = self.secure_bucket("RawZone")
        self.observability = self.link_observability(lz, transaction_search=False)
