"""What every AgentZone stack starts with: explicit env, tags, a baseline CMK."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct

from ..constructs import AccessLogsBucket, BaselineKey, SecureBucket

PLATFORM_USE_CASE = "platform"


@dataclass(frozen=True)
class StackTarget:
    """Where a stack deploys and whom its resources belong to."""

    environment: str
    account: str
    region: str
    owner: str
    cost_center: str
    use_case_id: str

    @property
    def tags(self) -> dict[str, str]:
        return {
            "owner": self.owner,
            "cost-center": self.cost_center,
            "use-case-id": self.use_case_id,
            "environment": self.environment,
            "managed-by": "agentzone",
        }


REQUIRED_TAGS = ("owner", "cost-center", "use-case-id", "environment")


class AgentZoneStack(cdk.Stack):
    """Base for every account-role stack.

    Subclasses set ROLE; the construct ids below are part of the contract:
    renaming them would replace retained resources.
    """

    ROLE = "Base"

    def __init__(self, scope: Construct, construct_id: str, *, target: StackTarget, description: str, tenant: str = "") -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=target.account, region=target.region),
            description=description,
            termination_protection=target.environment == "prod",
        )
        self.target = target
        # Read back by the synth summary and the CI shard tooling.
        self.template_options.metadata = {
            "AgentZone": {"role": self.ROLE, "environment": target.environment, "tenant": tenant}
        }
        for key, value in target.tags.items():
            cdk.Tags.of(self).add(key, value)
        self.baseline_key = BaselineKey(
            self,
            "BaselineKey",
            alias=f"alias/agentzone/{self.ROLE.lower()}",
            description=f"AgentZone {self.ROLE} baseline key ({target.environment})",
        )
        self._access_logs: AccessLogsBucket | None = None

    @property
    def key(self):
        return self.baseline_key.key

    @property
    def access_logs(self) -> AccessLogsBucket:
        """Created on first use so stacks without buckets do not carry an empty log bucket."""
        if self._access_logs is None:
            self._access_logs = AccessLogsBucket(self, "AccessLogs")
        return self._access_logs

    def secure_bucket(self, construct_id: str, **kwargs) -> SecureBucket:
        return SecureBucket(self, construct_id, encryption_key=self.key, access_logs=self.access_logs, **kwargs)
