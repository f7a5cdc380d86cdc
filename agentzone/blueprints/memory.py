"""AgentCore Memory blueprint.

Each account (dev, pre-prod, prod) has its own memory resources, and
applications may use several: the fraud and the claims agents each keep
their own memory and share a third one for user details. So a tenant names
its memories, and each agent states which ones it uses and how (read
short-term, read long-term, write); IAM grants exactly that per agent.

A custom strategy with its own ``model`` makes AgentCore call that model as the
memory's service role, without a guardrail. The tenant SCP allows that only to
roles named ``agentzone-memory-*`` (``naming.memory_service_role``), and only
for the tenant's custom-extraction models; such a memory gets a role with that
fixed name, granted its key and those models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .. import naming
from ..config.model import MemoryResource
from ..nag import acknowledge, acknowledge_compliance
from .context import BlueprintContext, retain
from .registry import OFFERED, BlueprintSpec

BUILT_IN_STRATEGIES = {
    "semantic": agentcore.MemoryStrategy.using_built_in_semantic,
    "summary": agentcore.MemoryStrategy.using_built_in_summarization,
    "user_preference": agentcore.MemoryStrategy.using_built_in_user_preference,
    "episodic": agentcore.MemoryStrategy.using_built_in_episodic,
}
_CUSTOM_STRATEGIES = {
    "semantic": agentcore.MemoryStrategy.using_semantic,
    "summary": agentcore.MemoryStrategy.using_summarization,
    "user_preference": agentcore.MemoryStrategy.using_user_preference,
    "episodic": agentcore.MemoryStrategy.using_episodic,
}
ACCESS_LEVELS = ("read", "read_short_term", "read_long_term", "write", "read_write")


@dataclass(frozen=True)
class CustomStrategyProps:
    """A built-in strategy ``type`` with its own namespaces and, optionally, its own extraction.

    ``instructions`` (appended to the built-in extraction prompt) and
    ``model`` (the model that runs the extraction) go together.
    """

    name: str
    type: str
    namespaces: tuple[str, ...]
    instructions: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class AgentMemoryProps:
    """A memory; defaults match ``MemoryResource``. ``tags`` go on the memory (AgentCore tags)."""

    memory_name: str
    encryption_key: kms.IKey
    expiry_days: int = 90
    strategies: tuple[str, ...] = ("semantic", "summary")
    custom_strategies: tuple[CustomStrategyProps, ...] = ()
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


class AgentMemory(Construct):
    """A CMK-encrypted, retained AgentCore Memory with built-in and custom extraction strategies.

    Usable from a tenant YAML file (``blueprints: {memory: {customers: {...}}}``) or directly::

        memory = AgentMemory(stack, "Customers", props=AgentMemoryProps(
            memory_name="claims_customers_dev", encryption_key=key))
        memory.grant_read_long_term(role)
        runtime = AgentRuntime(..., attachments=[memory.for_agent("read_write")])
    """

    REGISTRY_NAME = "memory"

    def __init__(self, scope: Construct, construct_id: str, *, props: AgentMemoryProps) -> None:
        super().__init__(scope, construct_id)
        types = {*props.strategies, *(s.type for s in props.custom_strategies)}
        unknown = sorted(types - set(BUILT_IN_STRATEGIES))
        if unknown:
            raise ValueError(f"unknown memory strategies {unknown}; valid: {sorted(BUILT_IN_STRATEGIES)}")
        if not props.strategies and not props.custom_strategies:
            raise ValueError(f"memory {props.memory_name}: choose at least one built-in or custom strategy")
        if not 7 <= props.expiry_days <= 365:
            raise ValueError(f"memory {props.memory_name}: expiry_days must be 7-365 (got {props.expiry_days})")
        self.name = props.memory_name
        self.encryption_key = props.encryption_key
        # Sorted so reordering the YAML list never changes the template.
        strategies: list[agentcore.IMemoryStrategy] = [BUILT_IN_STRATEGIES[name]() for name in sorted(props.strategies)]
        strategies += [self._custom(strategy) for strategy in sorted(props.custom_strategies, key=lambda s: s.name)]
        # Custom extraction calls its model as the memory's service role, without a guardrail: the tenant SCP
        # exempts only roles named agentzone-memory-* and limits them to the tenant's extraction models, so such
        # a memory gets a role with that fixed, platform-protected name. The L2 grants it this memory's key and
        # InvokeModel on each strategy's model, nothing else. Other memories keep the L2's generated role.
        extraction_models = sorted({s.model for s in props.custom_strategies if s.model})
        self.extraction_role = (
            self._extraction_role(props.memory_name, extraction_models) if extraction_models else None
        )
        self.memory = agentcore.Memory(
            self,
            "Memory",
            memory_name=props.memory_name,
            description=props.description,
            expiration_duration=cdk.Duration.days(props.expiry_days),
            kms_key=props.encryption_key,
            memory_strategies=strategies,
            execution_role=self.extraction_role,
            tags=dict(sorted(props.tags.items())) or None,
        )
        # Memories hold user context: keep them if the stack goes away.
        # The L2 has no default child, so the policy goes on its CfnMemory.
        cfn_memory = self.memory.node.find_child("Memory")
        assert isinstance(cfn_memory, cdk.CfnResource)
        retain(cfn_memory)
        self._acknowledge_service_role(with_models=bool(extraction_models))

    def _acknowledge_service_role(self, *, with_models: bool) -> None:
        service_role = self.extraction_role or self.memory.node.find_child("ServiceRole")
        service_policy = service_role.node.find_child("DefaultPolicy")
        acknowledge(
            service_policy,
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
            "The memory service role re-encrypts under this memory's own CMK only (resource is the key ARN); "
            "ReEncrypt* covers ReEncryptFrom/To on that single key.",
        )
        if with_models:
            acknowledge(
                service_policy,
                "AwsSolutions-IAM5[Action::bedrock:InvokeModel*]",
                "The memory service role runs custom extraction with the models config names; the resource is "
                "each model's ARN and InvokeModel* covers its streaming variant.",
            )
        acknowledge_compliance(
            service_policy,
            "IAMNoInlinePolicy",
            "The AgentCore Memory L2 writes its service role's key grant as a policy attached only to that role; "
            "it grants KMS use on this memory's key (and custom-extraction models) and nothing else.",
        )

    def _extraction_role(self, memory_name: str, models: list[str]) -> iam.Role:
        """The service role of a memory with custom-extraction models (the L2's trust policy, a fixed name)."""
        role_name = naming.memory_service_role(memory_name)
        if len(role_name) > naming.IAM_ROLE_NAME_MAX:
            raise ValueError(
                f"memory {memory_name}: its extraction role name {role_name!r} is longer than "
                f"{naming.IAM_ROLE_NAME_MAX} characters; shorten the memory name"
            )
        stack = cdk.Stack.of(self)
        return iam.Role(
            self,
            "ServiceRole",
            role_name=role_name,
            description=f"AgentCore Memory {memory_name}: its CMK and custom extraction with {', '.join(models)}",
            assumed_by=iam.ServicePrincipal(
                "bedrock-agentcore.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="bedrock-agentcore", resource="memory", resource_name=f"{memory_name}*"
                        )
                    },
                },
            ),
        )

    def _custom(self, strategy: CustomStrategyProps) -> agentcore.IMemoryStrategy:
        override = None
        if strategy.instructions or strategy.model:
            if not (strategy.instructions and strategy.model):
                raise ValueError(
                    f"custom strategy {strategy.name}: instructions and model go together (the override needs both)"
                )
            model = bedrock.FoundationModel.from_foundation_model_id(
                self, f"Model-{strategy.name}", bedrock.FoundationModelIdentifier(strategy.model)
            )
            override = agentcore.OverrideConfig(append_to_prompt=strategy.instructions, model=model)
        return _CUSTOM_STRATEGIES[strategy.type](
            strategy_name=strategy.name, namespaces=list(strategy.namespaces), custom_extraction=override
        )

    @classmethod
    def from_config(
        cls, scope: Construct, construct_id: str, *, context: BlueprintContext, name: str, config: MemoryResource
    ) -> AgentMemory:
        return cls(
            scope,
            construct_id,
            props=AgentMemoryProps(
                memory_name=context.resource_name(name, separator="_"),
                encryption_key=context.encryption_key,
                expiry_days=config.expiry_days,
                strategies=tuple(config.strategies),
                custom_strategies=tuple(
                    CustomStrategyProps(
                        name=s.name,
                        type=s.type,
                        namespaces=tuple(s.namespaces),
                        instructions=s.instructions,
                        model=s.model,
                    )
                    for s in config.custom_strategies
                ),
                description=config.description or f"{name} memory of {context.tenant} ({context.environment})",
                tags=context.tags,
            ),
        )

    # ------------------------------------------------------------ attributes

    @property
    def memory_arn(self) -> str:
        return self.memory.memory_arn

    @property
    def memory_id(self) -> str:
        return self.memory.memory_id

    # ---------------------------------------------------------------- grants

    def _grant_key(self, grantee: iam.IGrantable) -> None:
        """Events and records are encrypted with the CMK; callers use it only through AgentCore."""
        stack = cdk.Stack.of(self)
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resource_arns=[self.encryption_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"bedrock-agentcore.{stack.region}.amazonaws.com"}},
        )

    def grant_read_short_term(self, grantee: iam.IGrantable) -> iam.Grant:
        self._grant_key(grantee)
        return self.memory.grant_read_short_term_memory(grantee)

    def grant_read_long_term(self, grantee: iam.IGrantable) -> iam.Grant:
        self._grant_key(grantee)
        return self.memory.grant_read_long_term_memory(grantee)

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        self._grant_key(grantee)
        return self.memory.grant_write(grantee)

    def grant(self, grantee: iam.IGrantable, access: str) -> None:
        """Grant one of :data:`ACCESS_LEVELS` (``read`` is short- and long-term; ``read_write`` adds write)."""
        if access not in ACCESS_LEVELS:
            raise ValueError(f"unknown memory access {access!r}; valid: {', '.join(ACCESS_LEVELS)}")
        if access in ("read", "read_short_term", "read_write"):
            self.grant_read_short_term(grantee)
        if access in ("read", "read_long_term", "read_write"):
            self.grant_read_long_term(grantee)
        if access in ("write", "read_write"):
            self.grant_write(grantee)

    def for_agent(self, access: str, *, alias: str | None = None) -> MemoryAttachment:
        """This memory as an agent runtime attachment with the given access level."""
        if access not in ACCESS_LEVELS:
            raise ValueError(f"unknown memory access {access!r}; valid: {', '.join(ACCESS_LEVELS)}")
        return MemoryAttachment(self, access, alias or self.node.id)

    # --------------------------------------------------------------- metrics

    def metric_errors(self, operation: str = "CreateEvent", **kwargs) -> cloudwatch.Metric:
        return self.memory.metric_errors_for_api_operation(operation, **kwargs)

    def metric_latency(self, operation: str = "RetrieveMemoryRecords", **kwargs) -> cloudwatch.Metric:
        return self.memory.metric_latency_for_api_operation(operation, **kwargs)

    def metric_events_created(self, **kwargs) -> cloudwatch.Metric:
        return self.memory.metric_event_creation_count(**kwargs)


@dataclass(frozen=True)
class MemoryAttachment:
    """One agent's use of one memory: the grants for its access level and ``AGENTZONE_MEMORY_<ALIAS>_ID``."""

    memory: AgentMemory
    access: str
    alias: str

    @property
    def variable(self) -> str:
        return f"AGENTZONE_MEMORY_{self.alias.upper().replace('-', '_')}_ID"

    def attach_to_agent(self, grantee: iam.IGrantable) -> dict[str, str]:
        self.memory.grant(grantee, self.access)
        return {self.variable: self.memory.memory_id}


def memory_attachments(memories: dict[str, AgentMemory], uses: dict[str, str]) -> Sequence[MemoryAttachment]:
    """An agent's ``memory: {name: access}`` from config, resolved against the tenant's memories (sorted by name)."""
    missing = sorted(set(uses) - set(memories))
    if missing:
        raise ValueError(f"unknown memories {missing}; this tenant defines: {', '.join(sorted(memories)) or 'none'}")
    return [memories[name].for_agent(uses[name], alias=name) for name in sorted(uses)]


# ------------------------------------------------------------------ registry

SPEC = BlueprintSpec(
    construct=AgentMemory,
    config=MemoryResource,
    construct_id="Memory",
    title="AgentCore Memory",
    summary="AgentCore Memory per name: strategies, namespaces, expiry, CMK, retained",
    docs="blueprint-memory.md",
    named=True,
    # Each agent gets the memories its own ``memory:`` names, with the access it asks for.
    to_agents=lambda memories, _agent, agent_config, _config: memory_attachments(memories, dict(agent_config.memory)),
    catalog=OFFERED,
)
