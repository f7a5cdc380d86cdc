"""AgentCore Memory blueprint (seed 001: one memory resource per account and environment)."""

from __future__ import annotations

from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..config.model import MemoryBlueprint
from ..nag import acknowledge, acknowledge_compliance

_STRATEGIES = {
    "semantic": agentcore.MemoryStrategy.using_built_in_semantic,
    "summary": agentcore.MemoryStrategy.using_built_in_summarization,
    "user_preference": agentcore.MemoryStrategy.using_built_in_user_preference,
    "episodic": agentcore.MemoryStrategy.using_built_in_episodic,
}


@dataclass(frozen=True)
class AgentMemoryProps:
    memory_name: str
    encryption_key: kms.IKey
    expiry_days: int = 90
    strategies: tuple[str, ...] = field(default=("semantic", "summary"))
    description: str | None = None


class AgentMemory(Construct):
    """A CMK-encrypted, retained AgentCore Memory with built-in extraction strategies.

    Usable from a tenant YAML file (``blueprints: {memory: ...}``) or directly::

        memory = AgentMemory(stack, "Memory", props=AgentMemoryProps(memory_name="claims_dev", encryption_key=key))
        memory.grant_read_long_term(runtime_role)
    """

    REGISTRY_NAME = "memory"

    def __init__(self, scope: Construct, construct_id: str, *, props: AgentMemoryProps) -> None:
        super().__init__(scope, construct_id)
        unknown = sorted(set(props.strategies) - set(_STRATEGIES))
        if unknown:
            raise ValueError(f"unknown memory strategies {unknown}; valid: {sorted(_STRATEGIES)}")
        self.memory = agentcore.Memory(
            self,
            "Memory",
            memory_name=props.memory_name,
            description=props.description,
            expiration_duration=cdk.Duration.days(props.expiry_days),
            kms_key=props.encryption_key,
            # Sorted so reordering the YAML list never changes the template.
            memory_strategies=[_STRATEGIES[name]() for name in sorted(props.strategies)],
        )
        # Memories hold user context: keep them if the stack goes away.
        # The L2 has no default child, so the policy goes on its CfnMemory.
        cfn_memory = self.memory.node.find_child("Memory")
        assert isinstance(cfn_memory, cdk.CfnResource)
        cfn_memory.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        service_policy = self.memory.node.find_child("ServiceRole").node.find_child("DefaultPolicy")
        acknowledge(
            service_policy,
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
            "The memory service role re-encrypts under this memory's own CMK only (resource is the key ARN); "
            "ReEncrypt* covers ReEncryptFrom/To on that single key.",
        )
        acknowledge_compliance(
            service_policy,
            "IAMNoInlinePolicy",
            "The AgentCore Memory L2 writes its service role's key grant as a policy attached only to that role; "
            "it grants KMS use on this memory's key and nothing else.",
        )

    @classmethod
    def from_config(cls, scope: Construct, *, tenant: str, environment: str, encryption_key: kms.IKey, config: MemoryBlueprint) -> "AgentMemory":
        name = f"{tenant}_{environment}".replace("-", "_")
        return cls(
            scope,
            "Memory",
            props=AgentMemoryProps(
                memory_name=name,
                encryption_key=encryption_key,
                expiry_days=config.expiry_days,
                strategies=tuple(config.strategies),
                description=f"Agent memory for {tenant} ({environment})",
            ),
        )

    @property
    def memory_arn(self) -> str:
        return self.memory.memory_arn

    @property
    def memory_id(self) -> str:
        return self.memory.memory_id

    def grant_read_short_term(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.memory.grant_read_short_term_memory(grantee)

    def grant_read_long_term(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.memory.grant_read_long_term_memory(grantee)

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.memory.grant_write(grantee)

    def metric_errors(self, operation: str = "CreateEvent", **kwargs) -> cloudwatch.Metric:
        return self.memory.metric_errors_for_api_operation(operation, **kwargs)
