"""Physical names other accounts refer to.

Cross-account references cannot use CloudFormation exports, so the producer
and every consumer derive the same name from config here. Changing a function
below renames (replaces) a deployed resource.
"""

from __future__ import annotations

PREFIX = "agentzone"

# Role names the SCPs single out; see organization_policies.py.
FM_GATEWAY_ROLE_PREFIX = f"{PREFIX}-fm-gateway"
# The custom-resource role in member accounts; SCPs exempt it (it sets protected settings).
PLATFORM_RESOURCES_ROLE = f"{PREFIX}-platform-resources"
ORGANIZATION_TRAIL = f"{PREFIX}-organization"
OAM_SINK = f"{PREFIX}-observability"
ARCHIVE_KEY_ALIAS = f"alias/{PREFIX}/log-archive"
BEDROCK_LOG_PREFIX = "bedrock"


def archive_bucket_name(account: str, region: str) -> str:
    """The log archive of one logging account (account id keeps it globally unique)."""
    return f"{PREFIX}-logs-{account}-{region}"


def archive_key_alias_arn(account: str, region: str, partition: str = "aws") -> str:
    return f"arn:{partition}:kms:{region}:{account}:{ARCHIVE_KEY_ALIAS}"


def organization_trail_arn(management_account: str, region: str, partition: str = "aws") -> str:
    return f"arn:{partition}:cloudtrail:{region}:{management_account}:trail/{ORGANIZATION_TRAIL}"


def tenant_reader_role(tenant: str) -> str:
    """Read-only role for one tenant in a logging account."""
    return f"{PREFIX}-{tenant}-observability-reader"


PLATFORM_OPERATOR_ROLE = f"{PREFIX}-platform-observability-operator"


def tenant_dashboard(tenant: str, environment: str) -> str:
    return f"{PREFIX}-{tenant}-{environment}"


def platform_dashboard(environment: str) -> str:
    return f"{PREFIX}-platform-{environment}"


def workloads_ou_parameter(environment: str) -> str:
    """SSM parameter (management account) holding the id of AgentZone-Workloads/<environment>."""
    return f"/{PREFIX}/organization/workloads-ou/{environment}"
