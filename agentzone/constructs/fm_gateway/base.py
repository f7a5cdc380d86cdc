"""What every part of the FM gateway is built from, and the helpers the parts share.

Each part (network, data stores, config deployment, service, edge, alarms) is
a module function ``build_<part>(scope, props)`` taking a frozen props
dataclass derived from :class:`GatewayPartProps` and returning a frozen
dataclass of what it built. The parts create their resources directly in
``scope``, the :class:`~agentzone.constructs.fm_gateway.FmGateway` construct,
never in a scope of their own: construct paths, and so logical ids, stay
those of the gateway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from ...nag import acknowledge, acknowledge_compliance
from ..retention import retained_log_group
from .props import FmGatewayProps


@dataclass(frozen=True)
class GatewayPartProps:
    """The gateway's props and the key that encrypts its state: what every part needs."""

    gateway: FmGatewayProps
    encryption_key: kms.IKey

    def log_group(self, scope: Construct, construct_id: str, log_group_name: str | None = None) -> logs.LogGroup:
        """A retained log group encrypted with the gateway's key, kept for its log retention."""
        return retained_log_group(
            scope,
            construct_id,
            log_group_name=log_group_name,
            encryption_key=self.encryption_key,
            retention_days=self.gateway.log_retention_days,
        )


def no_rotation(secret: IConstruct, reason: str) -> None:
    """Acknowledge both packs' rotation findings on a secret that must not rotate unattended."""
    acknowledge(secret, "AwsSolutions-SMG4", reason)
    acknowledge_compliance(secret, "SecretsManagerRotationEnabled", reason)


def finding_arn(arn: str) -> str:
    """An ARN as cdk-nag prints it in finding ids (an unresolved partition as <AWS::Partition>)."""
    return re.sub(r"\$\{Token\[AWS\.Partition\.\d+\]\}", "<AWS::Partition>", arn)
