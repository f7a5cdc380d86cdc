"""The four platform account roles of one platform environment (seed 000, figure 2).

Each starts from the shared baseline; later capabilities (FM gateway, log
archive controls, GuardDuty, Lake Formation, ...) build on these classes.
"""

from __future__ import annotations

from constructs import Construct

from .base import AgentZoneStack, StackTarget


class SharedServicesStack(AgentZoneStack):
    """FM gateway, catalogs, shared tool gateway, ECR and experiment tracking live here."""

    ROLE = "SharedServices"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget) -> None:
        super().__init__(scope, construct_id, target=target, description="AgentZone shared services: tooling shared by all use-case teams")
        self.artifacts = self.secure_bucket("Artifacts")


class LoggingStack(AgentZoneStack):
    """Central log archive, organization trail destination and cross-account observability."""

    ROLE = "Logging"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget) -> None:
        super().__init__(scope, construct_id, target=target, description="AgentZone logging: central, immutable log archive")
        # Object Lock can only be chosen at creation without a migration, so the archive has it from day one.
        self.log_archive = self.secure_bucket("LogArchive", object_lock=True, noncurrent_version_days=365)


class SecurityStack(AgentZoneStack):
    """Agent identity, GuardDuty, Security Hub, Access Analyzer and the Config aggregator."""

    ROLE = "Security"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget) -> None:
        super().__init__(scope, construct_id, target=target, description="AgentZone security: identity and threat detection")


class DataLakeStack(AgentZoneStack):
    """S3 zones, Glue catalog, Lake Formation permissions and tenant namespaces."""

    ROLE = "DataLake"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget) -> None:
        super().__init__(scope, construct_id, target=target, description="AgentZone data lake: governed data for agents")
        self.raw_zone = self.secure_bucket("RawZone")
