"""The tenant environment's kill switch: an SSM parameter agents read, and how operators flip it.

``/agentzone/<tenant>/<environment>/kill-switch`` holds ``off`` or ``on``.
Two mechanisms act on it:

* cooperative: agents read it through :class:`KillSwitch` (cached: Parameter
  Store's default throughput is tens of requests per second per account, too
  little for a read per tool call) and pass it to the circuit breaker, which
  refuses every step while it is ``on``;
* enforced: ``agentzone killswitch on`` also attaches the environment's
  kill-switch deny policy (``bedrock:InvokeModel*``,
  ``bedrock-agentcore:InvokeAgentRuntime``) to every role tagged
  ``agentzone:kill-switch=<tenant>/<environment>`` (``SafetyControls``
  tags the roles it protects), so an agent that ignores the switch is still
  stopped by IAM; ``off`` detaches it from every role it is attached to.

The parameter is a ``String`` (not ``SecureString``): CloudFormation cannot
create SecureString parameters, and the value is not secret, so it is not
encrypted with the tenant's CMK.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from .. import naming

ON, OFF = "on", "off"
VALUES = (ON, OFF)
ENV_PARAMETER = "AGENTZONE_KILL_SWITCH_PARAMETER"
ENV_CACHE_SECONDS = "AGENTZONE_KILL_SWITCH_CACHE_SECONDS"
PROTECTED_ROLE_TAG = f"{naming.PREFIX}:kill-switch"


def kill_switch_parameter(tenant: str, environment: str) -> str:
    return f"/{naming.PREFIX}/{tenant}/{environment}/kill-switch"


def kill_switch_policy_name(tenant: str, environment: str) -> str:
    """Managed policy ``agentzone killswitch on`` attaches (created by SafetyControls)."""
    return f"{naming.PREFIX}-{tenant}-{environment}-kill-switch-deny"


def budget_policy_name(tenant: str, environment: str) -> str:
    """Managed policy the budget action attaches when the monthly budget is spent."""
    return f"{naming.PREFIX}-{tenant}-{environment}-budget-deny"


def protected_role_tag_value(tenant: str, environment: str) -> str:
    return f"{tenant}/{environment}"


class KillSwitch:
    """Cached reader for agent code::

        switch = KillSwitch()            # parameter and TTL from AGENTZONE_* variables
        if switch.is_on():
            stop()

    A value is reused for ``cache_seconds``; after that the next read asks SSM.
    When SSM cannot be read the last value is kept; with no value yet the
    switch reads as ``on`` (fail closed), as does any value other than on/off.
    """

    def __init__(
        self,
        parameter_name: str | None = None,
        *,
        cache_seconds: float | None = None,
        client=None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.parameter_name = parameter_name or os.environ.get(ENV_PARAMETER, "")
        if not self.parameter_name:
            raise ValueError(f"no kill-switch parameter: pass parameter_name or set {ENV_PARAMETER}")
        if cache_seconds is None:
            cache_seconds = float(os.environ.get(ENV_CACHE_SECONDS, "30"))
        if cache_seconds < 0:
            raise ValueError("cache_seconds cannot be negative")
        self.cache_seconds = cache_seconds
        self._client = client
        self._clock = clock
        self._value: str | None = None
        self._read_at: float | None = None

    @property
    def client(self):
        if self._client is None:
            import boto3  # lazy: agents import this module; only a read without a client needs boto3

            self._client = boto3.client("ssm")
        return self._client

    def state(self) -> str:
        now = self._clock()
        if self._read_at is not None and now - self._read_at < self.cache_seconds:
            return self._value or ON
        try:
            value = self.client.get_parameter(Name=self.parameter_name)["Parameter"]["Value"].strip().lower()
        except Exception:  # throttled, no network, no permission: keep the last value, else fail closed
            self._read_at = now  # and do not retry before the TTL is over: retries would only add to throttling
            return self._value or ON
        self._value = value if value in VALUES else ON
        self._read_at = now
        return self._value

    def is_on(self) -> bool:
        return self.state() == ON

    def invalidate(self) -> None:
        self._read_at = None


# ------------------------------------------------------------------ operator side


class KillSwitchError(Exception):
    """A kill-switch change that AWS refused or that cannot be made as asked."""


@dataclass(frozen=True)
class Status:
    parameter: str
    value: str
    deny_policy_arn: str
    denied_roles: tuple[str, ...]

    def render(self) -> str:
        roles = ", ".join(self.denied_roles) or "none"
        return f"kill switch {self.parameter} is {self.value}; deny policy attached to: {roles}"


class KillSwitchOperator:
    """What ``agentzone killswitch`` does, with boto3 clients of the tenant environment's account."""

    def __init__(self, tenant: str, environment: str, *, ssm, iam, account: str, partition: str = "aws") -> None:
        self.tenant, self.environment = tenant, environment
        self.ssm, self.iam = ssm, iam
        self.parameter = kill_switch_parameter(tenant, environment)
        self.policy_arn = f"arn:{partition}:iam::{account}:policy/{kill_switch_policy_name(tenant, environment)}"

    @classmethod
    def for_session(cls, session, tenant: str, environment: str, region: str | None = None) -> KillSwitchOperator:
        identity = session.client("sts", region_name=region).get_caller_identity()
        partition = identity["Arn"].split(":")[1]
        return cls(
            tenant,
            environment,
            ssm=session.client("ssm", region_name=region),
            iam=session.client("iam"),
            account=identity["Account"],
            partition=partition,
        )

    def protected_roles(self) -> list[str]:
        """Names of roles tagged agentzone:kill-switch=<tenant>/<environment>."""
        wanted = protected_role_tag_value(self.tenant, self.environment)
        names = []
        for page in self.iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                tags = self.iam.list_role_tags(RoleName=role["RoleName"])["Tags"]
                if any(t["Key"] == PROTECTED_ROLE_TAG and t["Value"] == wanted for t in tags):
                    names.append(role["RoleName"])
        return sorted(names)

    def denied_roles(self) -> list[str]:
        names = []
        for page in self.iam.get_paginator("list_entities_for_policy").paginate(
            PolicyArn=self.policy_arn, EntityFilter="Role"
        ):
            names += [r["RoleName"] for r in page["PolicyRoles"]]
        return sorted(names)

    def _require_parameter(self) -> str:
        try:
            return self.ssm.get_parameter(Name=self.parameter)["Parameter"]["Value"]
        except self.ssm.exceptions.ParameterNotFound:
            raise KillSwitchError(
                f"no parameter {self.parameter}: is the {self.tenant} {self.environment} stack deployed "
                "in this account and region?"
            ) from None

    def status(self) -> Status:
        value = self._require_parameter()
        return Status(self.parameter, value, self.policy_arn, tuple(self.denied_roles()))

    def turn_on(self, *, deny: bool = True) -> Status:
        self._require_parameter()
        # Parameter first: cooperative agents stop within their cache TTL even if IAM changes fail.
        self.ssm.put_parameter(Name=self.parameter, Value=ON, Type="String", Overwrite=True)
        if deny:
            for name in self.protected_roles():
                self.iam.attach_role_policy(RoleName=name, PolicyArn=self.policy_arn)
        return self.status()

    def turn_off(self) -> Status:
        self._require_parameter()
        # IAM first, then the parameter: agents never see "off" while IAM still denies (no confusing half state).
        for name in self.denied_roles():
            self.iam.detach_role_policy(RoleName=name, PolicyArn=self.policy_arn)
        self.ssm.put_parameter(Name=self.parameter, Value=OFF, Type="String", Overwrite=True)
        return self.status()
