"""AWS Agent Registry: the catalog of agents, MCP servers, tools and skills, with its approval workflow.

How the service defines the workflow (AgentCore developer guide, "Record
lifecycle"; Agent Registry Control API, SubmitRegistryRecordForApproval and
UpdateRegistryRecordStatus)::

    create -> DRAFT -> submit -> PENDING_APPROVAL -> approve -> APPROVED (discoverable)
                                       |  reject -> REJECTED (edit -> DRAFT, or approve directly)
    any status -> DEPRECATED (terminal, no longer discoverable)

The registry's ``ApprovalConfiguration.AutoApprovalRules`` decides what happens
on submit: empty means a curator must approve (the only other value is
``APPROVE_ALL``). Only APPROVED records are returned by the discovery APIs
(Search/List/BatchGetDiscoverableRegistryRecord(s)).

What CloudFormation can and cannot do here:

- ``AWS::AgentRegistry::Registry`` sets the approval configuration (this
  construct: manual review unless ``auto_approve=True``), the CMK and the
  discovery authorizer.
- ``AWS::AgentRegistry::RegistryRecord`` creates records, which start as DRAFT;
  its ``Status`` is read-only and its handlers never call
  SubmitRegistryRecordForApproval or UpdateRegistryRecordStatus. Submitting and
  approving are API calls by people or pipelines (``grant_publish`` /
  ``grant_curate``), on purpose outside the deployment: a stack that could
  approve its own records would not be governed.
- There is no CloudFormation property for "who may approve": that is IAM.
  ``approvers`` get ``agent-registry:UpdateRegistryRecordStatus`` and publishers
  do not; EventBridge announces each submission (detail type "Registry Record
  State changed to Pending Approval", source ``aws.agent-registry``), which this
  construct routes to an encrypted SNS topic for the approvers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import aws_cdk as cdk
from aws_cdk import aws_agentregistry as agentregistry
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from ..nag import acknowledge
from ..patterns import EMAIL_PATTERN

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_\-./]{0,63}$")
_RECORD_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_\-./]{0,254}$")
_RECORD_VERSION = re.compile(r"^[a-zA-Z0-9.-]{1,255}$")
_EMAIL = re.compile(EMAIL_PATTERN)

RecordKind = Literal["agent", "mcp-server", "tool", "skill"]
# AgentZone's record kinds -> CloudFormation RecordType (each has its Descriptors member, see _descriptors).
# The service has no TOOL type: a stand-alone tool is a CUSTOM record (tools an
# MCP server offers belong in that server's record, see add_record(tools=...)).
RECORD_TYPES: dict[str, str] = {"agent": "AGENT", "mcp-server": "MCP", "tool": "CUSTOM", "skill": "SKILL"}

PENDING_APPROVAL_EVENT = "Registry Record State changed to Pending Approval"
EVENT_SOURCE = "aws.agent-registry"

# IAM actions (Service Authorization Reference, agent-registry; botocore agent-registry-control).
READ_ACTIONS = ("agent-registry:GetRegistry", "agent-registry:GetRegistryRecord", "agent-registry:ListRegistryRecords")
PUBLISH_ACTIONS = (
    "agent-registry:CreateRegistryRecord",
    "agent-registry:DeleteRegistryRecord",
    "agent-registry:SubmitRegistryRecordForApproval",
    "agent-registry:UpdateRegistryRecord",
)
CURATE_ACTIONS = ("agent-registry:UpdateRegistryRecordStatus",)
DISCOVER_ACTIONS = (
    "agent-registry:GetDiscoverableRegistryRecord",
    "agent-registry:ListDiscoverableRegistryRecords",
    "agent-registry:SearchDiscoverableRegistryRecords",
)


def _json(value: Mapping[str, Any] | Sequence[Any] | str) -> str:
    """Descriptor payloads are strings; dicts are serialized deterministically."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class AgentRegistryProps:
    """See :class:`AgentRegistry` for what each prop does."""

    name: str
    description: str
    encryption_key: kms.IKey
    approvers: Sequence[iam.IRole] = ()
    approval_emails: Sequence[str] = ()
    auto_approve: bool = False
    jwt_authorizer: agentregistry.CfnRegistry.CustomJWTAuthorizerConfigurationProperty | None = None
    metadata_schema: Mapping[str, Any] | None = None


class AgentRegistry(Construct):
    """A CMK-encrypted, retained registry whose records need a curator's approval.

    - ``approvers``: roles (in this account) that may approve, reject and deprecate records
      (``grant_curate``); nobody else is given that action by this construct.
    - ``approval_emails``: subscribed to ``approval_topic``, which receives every
      submission of a record of this registry.
    - ``auto_approve``: ``APPROVE_ALL`` on submit (for sandboxes; off by default).
    - ``jwt_authorizer``: if given, discovery (search/list/get and the MCP
      endpoint) is authorized by bearer tokens from that OpenID Connect
      provider (e.g. the central agent identity) instead of IAM. The
      authorizer type and the CMK are create-only: changing either replaces
      the registry and deletes its records.
    - ``metadata_schema``: JSON Schema for records' ``custom_metadata`` (string,
      enum, uri and boolean properties; the service only allows adding to it).

    Attributes: ``registry`` (CfnRegistry), ``registry_arn``, ``registry_id``,
    ``approval_topic`` (sns.Topic), ``records`` (name -> CfnRegistryRecord).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: AgentRegistryProps) -> None:
        super().__init__(scope, construct_id)
        _check(props)
        self.encryption_key = props.encryption_key
        self.registry = self._registry(props)
        self.records: dict[str, agentregistry.CfnRegistryRecord] = {}
        self._notify_approvers(props)
        for approver in props.approvers:
            self.grant_curate(approver)

    def _registry(self, props: AgentRegistryProps) -> agentregistry.CfnRegistry:
        jwt = props.jwt_authorizer
        registry = agentregistry.CfnRegistry(
            self,
            "Registry",
            name=props.name,
            description=props.description,
            approval_configuration=agentregistry.CfnRegistry.ApprovalConfigurationProperty(
                auto_approval_rules=["APPROVE_ALL"] if props.auto_approve else []
            ),
            authorizer_type="CUSTOM_JWT" if jwt else "AWS_IAM",
            discovery_configuration=agentregistry.CfnRegistry.DiscoveryConfigurationProperty(
                authorizer_configuration=agentregistry.CfnRegistry.AuthorizerConfigurationProperty(
                    custom_jwt_authorizer=jwt
                )
            )
            if jwt
            else None,
            encryption_configuration=agentregistry.CfnRegistry.EncryptionConfigurationProperty(
                kms_key_arn=props.encryption_key.key_arn
            ),
            custom_metadata_schema_configuration=agentregistry.CfnRegistry.CustomMetadataSchemaConfigurationProperty(
                default_schema=_json(props.metadata_schema)
            )
            if props.metadata_schema
            else None,
        )
        # The catalog and its approval history outlive the stack.
        registry.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        # aws-cdk-lib's built-in CloudFormation validator bundles an older resource schema without
        # EncryptionConfiguration; the L1 (generated from the current CloudFormation schema) and cfn-lint 1.58
        # both have it. agentzone.nag.acknowledge only takes cdk-nag findings, hence the direct call.
        cdk.Validations.of(registry).acknowledge(
            cdk.Acknowledgment(
                id="CloudFormation-Validate::F3002",
                reason="AWS::AgentRegistry::Registry EncryptionConfiguration exists in the current CloudFormation "
                "schema (aws-cdk-lib L1, cfn-lint 1.58); the validator's bundled schema predates it.",
            )
        )
        return registry

    def _notify_approvers(self, props: AgentRegistryProps) -> None:
        """Every submission of a record of this registry reaches the approval topic (and its e-mails)."""
        self.approval_topic = sns.Topic(
            self,
            "ApprovalTopic",
            display_name=f"Agent registry {props.name}: records waiting for approval",
            master_key=props.encryption_key,
            enforce_ssl=True,
        )
        for email in sorted(set(props.approval_emails)):
            self.approval_topic.add_subscription(subscriptions.EmailSubscription(email))
        # The SnsTopic target adds the key-policy statement that lets EventBridge use the CMK for this topic.
        self.pending_approval_rule = events.Rule(
            self,
            "PendingApproval",
            description=f"Records of registry {props.name} submitted for approval",
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE],
                detail_type=[PENDING_APPROVAL_EVENT],
                detail={"registryId": [self.registry_id]},
            ),
            targets=[targets.SnsTopic(self.approval_topic)],
        )

    # ------------------------------------------------------------- attributes

    @property
    def registry_arn(self) -> str:
        return self.registry.attr_registry_arn

    @property
    def registry_id(self) -> str:
        return self.registry.attr_registry_id

    @property
    def record_arns(self) -> str:
        """Every record of this registry (``<registry arn>/record/*``)."""
        return f"{self.registry_arn}/record/*"

    # ----------------------------------------------------------------- grants

    def _grant(
        self, role: iam.IRole, kind: str, actions: Sequence[str], key_actions: Sequence[str]
    ) -> iam.ManagedPolicy:
        """A managed policy (not an inline one) on ``role``: the actions on this registry and its records,
        and the CMK for this registry's content only (the RegistryRecord handlers call kms:Decrypt with the
        caller's credentials)."""
        policy = iam.ManagedPolicy(
            self,
            f"{kind}-{cdk.Names.node_unique_id(role.node)}",
            description=f"{kind} on agent registry {self.registry.name}",
            roles=[role],
            statements=[
                iam.PolicyStatement(sid=kind, actions=sorted(actions), resources=[self.registry_arn, self.record_arns]),
                iam.PolicyStatement(
                    sid=f"{kind}Key", actions=sorted(key_actions), resources=[self.encryption_key.key_arn]
                ),
            ],
        )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::<{cdk.Stack.of(self).get_logical_id(self.registry)}.RegistryArn>/record/*]",
            "Records of this one registry: record ids are assigned by the service when a record is created, so the "
            "grant names the registry's record path, not individual records.",
        )
        return policy

    def grant_publish(self, role: iam.IRole) -> iam.ManagedPolicy:
        """Create, edit, delete and submit records; cannot approve them."""
        return self._grant(role, "Publish", [*READ_ACTIONS, *PUBLISH_ACTIONS], ["kms:Decrypt", "kms:GenerateDataKey"])

    def grant_curate(self, role: iam.IRole) -> iam.ManagedPolicy:
        """Review records and approve, reject or deprecate them (UpdateRegistryRecordStatus)."""
        return self._grant(role, "Curate", [*READ_ACTIONS, *CURATE_ACTIONS], ["kms:Decrypt"])

    def grant_discover(self, role: iam.IRole) -> iam.ManagedPolicy:
        """Search and read approved records (registries with the AWS_IAM authorizer)."""
        return self._grant(role, "Discover", DISCOVER_ACTIONS, ["kms:Decrypt"])

    # ---------------------------------------------------------------- records

    def add_record(
        self,
        construct_id: str,
        *,
        name: str,
        record_type: RecordKind,
        description: str,
        descriptor: Mapping[str, Any] | str,
        version: str | None = None,
        display_name: str | None = None,
        schema_version: str | None = None,
        tools: Mapping[str, Any] | Sequence[Any] | str | None = None,
        custom_metadata: Mapping[str, str | bool] | None = None,
    ) -> agentregistry.CfnRegistryRecord:
        """A record for something the platform itself runs (its MCP servers, shared tools, agents).

        ``descriptor`` is the record's content: an A2A agent card for ``agent``,
        the MCP server description for ``mcp-server`` (its tool list in
        ``tools``), the skill definition for ``skill``, free JSON for ``tool``.
        The record is created as DRAFT; it becomes discoverable only after a
        publisher submits it and an approver approves it.
        """
        self._check_record(name, record_type, version, tools)
        record = agentregistry.CfnRegistryRecord(
            self,
            construct_id,
            registry_id=self.registry_id,
            name=name,
            record_type=RECORD_TYPES[record_type],
            description=description,
            display_name=display_name,
            record_version=version,
            descriptors=_descriptors(record_type, _json(descriptor), schema_version, tools),
            custom_metadata=dict(custom_metadata) if custom_metadata else None,
        )
        self.records[name] = record
        return record

    def _check_record(
        self, name: str, record_type: str, version: str | None, tools: Mapping[str, Any] | Sequence[Any] | str | None
    ) -> None:
        if record_type not in RECORD_TYPES:
            raise ValueError(f"record_type {record_type!r}: valid types are {', '.join(RECORD_TYPES)}")
        if not _RECORD_NAME.match(name):
            raise ValueError(
                f"record name {name!r}: letters, digits, _ - . / (starting with a letter or digit), at most 255"
            )
        if name in self.records:
            raise ValueError(f"record {name!r} is already in registry {self.registry.name}")
        if version is not None and not _RECORD_VERSION.match(version):
            raise ValueError(f"record version {version!r}: letters, digits, . and - only")
        if tools is not None and record_type != "mcp-server":
            raise ValueError("tools: only an mcp-server record lists tools")


def _check(props: AgentRegistryProps) -> None:
    if not _NAME.match(props.name):
        raise ValueError(
            f"registry name {props.name!r}: 1-64 characters, letters, digits, _ - . / (starting with a letter or digit)"
        )
    if not 1 <= len(props.description) <= 4096:
        raise ValueError("registry description: 1-4096 characters")
    bad = [e for e in props.approval_emails if not _EMAIL.match(e)]
    if bad:
        raise ValueError(f"approval_emails: {bad} are not e-mail addresses")


def _descriptors(
    record_type: str, data: str, schema_version: str | None, tools: Mapping[str, Any] | Sequence[Any] | str | None
) -> agentregistry.CfnRegistryRecord.DescriptorsProperty:
    """The record's content in the Descriptors member its type uses (a CUSTOM record has no schema version)."""
    R = agentregistry.CfnRegistryRecord
    if record_type == "agent":
        return R.DescriptorsProperty(
            a2_a_agent_card=R.A2aAgentCardDescriptorProperty(data=data, data_schema_version=schema_version or None)
        )
    if record_type == "mcp-server":
        extra = (
            R.McpServerAdditionalDataProperty(tools=R.McpToolsDescriptorProperty(data=_json(tools)))
            if tools is not None
            else None
        )
        return R.DescriptorsProperty(
            mcp_server=R.McpServerDescriptorProperty(
                data=data, additional_data=extra, data_schema_version=schema_version or None
            )
        )
    if record_type == "skill":
        return R.DescriptorsProperty(
            agent_skills_definition=R.AgentSkillsDefinitionDescriptorProperty(
                data=data, data_schema_version=schema_version or None
            )
        )
    return R.DescriptorsProperty(custom=R.CustomDescriptorProperty(data=data))
