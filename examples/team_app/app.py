"""A use-case team's own CDK app that imports AgentZone blueprints directly.

This is the second way to use blueprints (docs/blueprints.md): no landing-zone
config, just constructs with typed props. Run it with
``cdk synth --app "python examples/team_app/app.py"`` or import :func:`build`.
cdk-nag runs on every synth, as in the landing zone itself.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms

from agentzone.blueprints import (
    AgentMemory,
    AgentMemoryProps,
    AgentRuntime,
    AgentRuntimeProps,
    CentralIdentity,
    RuntimeImage,
)
from agentzone.config.model import NagSettings
from agentzone.constructs import encrypted_alarm_topic
from agentzone.nag import add_rule_packs

ACCOUNT, REGION = "111111111111", "eu-west-1"
IMAGE = "100000000011.dkr.ecr.eu-west-1.amazonaws.com/agentzone/claims/intake:1.5.0"
IDENTITY = CentralIdentity(
    discovery_url="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AgZnDev01/.well-known/openid-configuration",
    allowed_scopes=("agentzone/claims/invoke",),
)


def build(app: cdk.App) -> cdk.Stack:
    stack = cdk.Stack(app, "ClaimsTeamAgent", env=cdk.Environment(account=ACCOUNT, region=REGION))
    key = kms.Key(
        stack,
        "Key",
        enable_key_rotation=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        description="Claims team agent data",
    )
    memory = AgentMemory(
        stack,
        "Memory",
        props=AgentMemoryProps(
            memory_name="claims_team_dev", encryption_key=key, expiry_days=30, strategies=("semantic", "summary")
        ),
    )
    AgentRuntime(
        stack,
        "Agent",
        props=AgentRuntimeProps(
            runtime_name="claims_team_intake_dev",
            image=RuntimeImage.from_uri(IMAGE),
            endpoints={"DEV": 1},
            protocol="A2A",
            identity=IDENTITY,
            attachments=[memory.for_agent("read_write")],  # grants + AGENTZONE_MEMORY_MEMORY_ID
            encryption_key=key,
            alarm_topic=encrypted_alarm_topic(
                stack,
                "Alarms",
                encryption_key=key,
                display_name="Claims team agent alarms",
                emails=["claims-ai@example.com"],
            ),
        ),
    )
    return stack


if __name__ == "__main__":
    app = cdk.App()
    add_rule_packs(app, NagSettings())
    build(app)
    app.synth()
