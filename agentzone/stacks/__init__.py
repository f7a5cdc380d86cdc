"""One stack class per account role."""

from .base import REQUIRED_TAGS, AgentZoneStack, StackTarget
from .data_lake import DataLakeStack, TenantDataStack
from .logging import LoggingStack
from .organization import OrganizationStack, TenantGovernanceStack
from .platform import SharedServicesStack
from .security import SecurityStack
from .tenant_services import TenantServicesStack
from .use_case import UseCaseStack

PLATFORM_STACKS = {
    "shared_services": SharedServicesStack,
    "logging": LoggingStack,
    "security": SecurityStack,
    "data_lake": DataLakeStack,
}

__all__ = [
    "PLATFORM_STACKS",
    "REQUIRED_TAGS",
    "AgentZoneStack",
    "DataLakeStack",
    "LoggingStack",
    "OrganizationStack",
    "SecurityStack",
    "SharedServicesStack",
    "StackTarget",
    "TenantDataStack",
    "TenantGovernanceStack",
    "TenantServicesStack",
    "UseCaseStack",
]
