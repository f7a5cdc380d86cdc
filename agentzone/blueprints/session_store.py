"""Session store blueprint: a DynamoDB table where agents keep snapshots of their session state.

An agent writes one item per snapshot: partition key ``session_id``, sort key
``snapshot_at`` (an ISO-8601 UTC time, so the newest snapshot is the last one a
Query returns), and the TTL attribute (``expires_at`` unless config names another)
set to an expiry in epoch seconds. DynamoDB deletes expired snapshots within a few
days of that time, at no cost, so state does not outlive its purpose.

The table is encrypted with a customer-managed key (the account's, or a key of its
own when built from props without one), keeps 35 days of point-in-time recovery, is
protected from deletion and retained if its stack goes away. Agents that use it may
read and write items (never manage the table) and use its key only through DynamoDB.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..config.model import (
    SESSION_STORE_PARTITION_KEY,
    SESSION_STORE_SORT_KEY,
    AgentRuntimeBlueprint,
    SessionStoreBlueprint,
)
from ..constructs.encryption_key import BaselineKey
from ..nag import acknowledge_compliance
from .context import AgentAttachment, BlueprintContext
from .registry import BlueprintSpec, not_offered

ENV_TABLE = "AGENTZONE_SESSION_STORE_TABLE"
ENV_TTL_ATTRIBUTE = "AGENTZONE_SESSION_STORE_TTL_ATTRIBUTE"
ENV_TTL_DAYS = "AGENTZONE_SESSION_STORE_TTL_DAYS"
READ_ACTIONS = ("dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:Query")
WRITE_ACTIONS = ("dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
# DynamoDB uses the table's key with the caller's permissions: reads decrypt, writes also encrypt.
KEY_READ_ACTIONS = ("kms:Decrypt",)
KEY_WRITE_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class SessionStoreProps:
    """``encryption_key`` None: the store creates its own rotating, retained key (``BaselineKey``).

    ``ttl_days`` is what agents are told to keep a snapshot for; DynamoDB only reads ``ttl_attribute``.
    """

    table_name: str
    encryption_key: kms.IKey | None = None
    ttl_attribute: str = "expires_at"
    ttl_days: int = 7
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if not _TABLE_NAME.match(self.table_name):
            problems.append(f"table_name {self.table_name!r}: 3-255 letters, digits, '_', '-' or '.'")
        if not _ATTRIBUTE.match(self.ttl_attribute):
            problems.append(f"ttl_attribute {self.ttl_attribute!r}: letters, digits and '_', at most 64")
        if self.ttl_attribute in (SESSION_STORE_PARTITION_KEY, SESSION_STORE_SORT_KEY):
            problems.append(f"ttl_attribute {self.ttl_attribute!r} is a key attribute (a string); TTL needs a number")
        if not 1 <= self.ttl_days <= 365:
            problems.append(f"ttl_days must be 1-365 (got {self.ttl_days})")
        if problems:
            raise ValueError("session store: " + "; ".join(problems))


class SessionStore(Construct):
    """A CMK-encrypted, retained DynamoDB table for agents' session state snapshots, with TTL and PITR.

    Usable from a tenant YAML file (``blueprints: {session_store: {...}}``) or directly::

        store = SessionStore(stack, "SessionStore", props=SessionStoreProps(table_name="claims-sessions-dev"))
        store.grant_read(reporting_role)
        runtime = AgentRuntime(..., attachments=[store])  # read/write and AGENTZONE_SESSION_STORE_*

    The construct ids ``Table`` and ``Key`` are part of the contract: renaming them replaces the table.
    """

    REGISTRY_NAME = "session_store"

    def __init__(self, scope: Construct, construct_id: str, *, props: SessionStoreProps) -> None:
        super().__init__(scope, construct_id)
        self.ttl_attribute = props.ttl_attribute
        self.ttl_days = props.ttl_days
        self.encryption_key = props.encryption_key or self._own_key(props.table_name)
        string = dynamodb.AttributeType.STRING
        self.table = dynamodb.TableV2(
            self,
            "Table",
            table_name=props.table_name,
            partition_key=dynamodb.Attribute(name=SESSION_STORE_PARTITION_KEY, type=string),
            sort_key=dynamodb.Attribute(name=SESSION_STORE_SORT_KEY, type=string),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(self.encryption_key),
            time_to_live_attribute=props.ttl_attribute,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge_compliance(
            self.table,
            "DynamoDBInBackupPlan",
            "Snapshots are short-lived working state that expires by TTL; point-in-time recovery keeps 35 days "
            "of the table, so no separate AWS Backup plan is attached.",
        )
        for key, value in sorted(props.tags.items()):
            cdk.Tags.of(self).add(key, value)

    def _own_key(self, table_name: str) -> kms.IKey:
        alias = "alias/agentzone/" + table_name.replace(".", "-")
        return BaselineKey(self, "Key", alias=alias, description=f"AgentZone session store {table_name}").key

    @classmethod
    def from_config(
        cls, scope: Construct, construct_id: str, *, context: BlueprintContext, config: SessionStoreBlueprint
    ) -> SessionStore:
        return cls(
            scope,
            construct_id,
            props=SessionStoreProps(
                table_name=context.resource_name("session-store", max_length=255),
                encryption_key=context.encryption_key,
                ttl_attribute=config.ttl_attribute,
                ttl_days=config.ttl_days,
                tags=context.tags,
            ),
        )

    # ------------------------------------------------------------ attributes

    @property
    def table_name(self) -> str:
        return self.table.table_name

    @property
    def table_arn(self) -> str:
        return self.table.table_arn

    # ---------------------------------------------------------------- grants

    def _grant_key(self, grantee: iam.IGrantable, actions: Sequence[str]) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(actions),
            resource_arns=[self.encryption_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{cdk.Stack.of(self).region}.amazonaws.com"}},
        )

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Get and query snapshots, and decrypt them through DynamoDB."""
        return self.table.grant(grantee, *READ_ACTIONS).combine(self._grant_key(grantee, KEY_READ_ACTIONS))

    def grant_read_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """:meth:`grant_read`, and put, update and delete snapshots; never table management."""
        grant = self.table.grant(grantee, *READ_ACTIONS, *WRITE_ACTIONS)
        return grant.combine(self._grant_key(grantee, KEY_WRITE_ACTIONS))

    def attach_to_agent(self, grantee: iam.IGrantable) -> dict[str, str]:
        """:meth:`grant_read_write`, and the table's name, TTL attribute and snapshot lifetime for the agent."""
        self.grant_read_write(grantee)
        return {ENV_TABLE: self.table_name, ENV_TTL_ATTRIBUTE: self.ttl_attribute, ENV_TTL_DAYS: str(self.ttl_days)}

    # --------------------------------------------------------------- metrics

    def metric_latency(self, operation: str = "GetItem", **kwargs: Any) -> cloudwatch.Metric:
        """Successful request latency of one operation (e.g. GetItem, Query, PutItem)."""
        return self.table.metric_successful_request_latency(dimensions_map={"Operation": operation}, **kwargs)

    def metric_throttled_requests(self, **kwargs: Any) -> cloudwatch.IMetric:
        """Throttled reads and writes of snapshots (on-demand tables throttle on sudden peaks)."""
        operations = [dynamodb.Operation.GET_ITEM, dynamodb.Operation.QUERY, dynamodb.Operation.PUT_ITEM]
        return self.table.metric_throttled_requests_for_operations(operations=operations, **kwargs)

    def metric_system_errors(self, **kwargs: Any) -> cloudwatch.IMetric:
        """Requests DynamoDB failed with a server error (HTTP 500)."""
        operations = [dynamodb.Operation.GET_ITEM, dynamodb.Operation.QUERY, dynamodb.Operation.PUT_ITEM]
        return self.table.metric_system_errors_for_operations(operations=operations, **kwargs)


def agent_share(
    store: SessionStore, agent: str, _agent_config: AgentRuntimeBlueprint, config: SessionStoreBlueprint
) -> Sequence[AgentAttachment]:
    """The store for the agents config names (every agent when it names none)."""
    return [store] if not config.agents or agent in config.agents else []


# ------------------------------------------------------------------ registry

SPEC = BlueprintSpec(
    construct=SessionStore,
    config=SessionStoreBlueprint,
    construct_id="SessionStore",
    title="agent session state snapshots",
    summary="DynamoDB table for agent state snapshots: TTL, CMK, point-in-time recovery, retained",
    docs="blueprint-session-store.md",
    to_agents=agent_share,
    catalog=not_offered(
        "Its only users are the account's agents, which get read/write and its name at synth through the registry; "
        "a table launched on its own would be reachable by no agent."
    ),
)
