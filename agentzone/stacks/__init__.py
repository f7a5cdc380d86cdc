"""One stack class per account role."""

from .base import REQUIRED_TAGS, AgentZoneStack, StackTarget
from .bootstrap import BootstrapStack
from .data_lake import DataLakeStack, TenantDataStack
from .logging import LoggingStack
from .organization import OrganizationStack, TenantGovernanceStack
from .platform import SharedServicesStack
from .roles import PLATFORM_ACCOUNTS, PLATFORM_STACKS, PlatformRole, UnknownPlatformRole, platform_role
from .security import SecurityStack
from .tenant_identity import TenantIdentityStack
from .tenant_observability import TenantObservabilityStack
from .tenant_services import TenantServicesStack
from .use_case import UseCaseStack

__all__ = [
    "PLATFORM_ACCOUNTS",
    "PLATFORM_STACKS",
    "REQUIRED_TAGS",
    "AgentZoneStack",
    "BootstrapStack",
    "DataLakeStack",
    "LoggingStack",
    "OrganizationStack",
    "PlatformRole",
    "SecurityStack",
    "SharedServicesStack",
    "StackTarget",
    "TenantDataStack",
    "TenantGovernanceStack",
    "TenantIdentityStack",
    "TenantObservabilityStack",
    "TenantServicesStack",
    "UnknownPlatformRole",
    "UseCaseStack",
    "platform_role",
]
