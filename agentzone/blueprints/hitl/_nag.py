"""How grants' wildcards are named in cdk-nag findings, and acknowledged where the grantee's policy lives."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from ...nag import acknowledge


def nag_text(scope: IConstruct, value: str) -> str:
    """A (tokenized) ARN as cdk-nag prints it in finding ids: Refs as <LogicalId>, GetAtts as <LogicalId.Attr>."""
    return _render(cdk.Stack.of(scope).resolve(value))


def _render(part: Any) -> str:
    if isinstance(part, str):
        return part
    if "Ref" in part:
        return f"<{part['Ref']}>"
    if "Fn::GetAtt" in part:
        return f"<{'.'.join(part['Fn::GetAtt'])}>"
    if "Fn::Join" in part:
        separator, parts = part["Fn::Join"]
        return str(separator).join(_render(p) for p in parts)
    raise ValueError(f"cannot render {part!r} for a nag finding id")


def acknowledge_on_grantee(grantee: iam.IGrantable, finding: str, reason: str) -> None:
    """A grant's own wildcard, acknowledged on the grantee's policy when it lives in this app (a DefaultPolicy)."""
    node = getattr(grantee.grant_principal, "node", None)
    policy = node.try_find_child("DefaultPolicy") if node is not None else None
    if policy is not None:
        acknowledge(policy, finding, reason)
