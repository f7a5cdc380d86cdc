"""Incident playbooks: SSM Automation documents for a runaway loop, a suspected prompt injection, a cost explosion.

Each document is plain SSM Automation content (schema 0.3) in which every
step is one ``aws:executeAwsApi`` call; :class:`agentzone.blueprints.safety.SafetyControls`
deploys them and runs them as a role that may make exactly these calls.
"""

from __future__ import annotations

from typing import Any

from . import killswitch as ks

Document = dict[str, Any]

_RUNTIME = {
    "type": "String",
    "description": "ARN of the agent runtime (AgentCore)",
    "allowedPattern": r"^arn:aws[a-z-]*:bedrock-agentcore:[a-z0-9-]+:\d{12}:runtime/[A-Za-z0-9_-]+$",
}
_SESSION = {
    "type": "String",
    "description": "The runtime session id (33-256 characters)",
    "allowedPattern": r"^[A-Za-z0-9_-]{33,256}$",
}
_AGENT_ROLE = {
    "type": "String",
    "description": "Name of the agent's execution role (must carry the protection tag)",
    "allowedPattern": r"^[\w+=,.@-]{1,64}$",
}


def _step(name: str, service: str, api: str, inputs: dict, outputs: list | None = None) -> dict:
    out = {
        "name": name,
        "action": "aws:executeAwsApi",
        "onFailure": "Abort",
        "inputs": {"Service": service, "Api": api, **inputs},
    }
    if outputs:
        out["outputs"] = outputs
    return out


def _steps(kill_switch_parameter: str, kill_switch_policy_arn: str) -> dict[str, dict]:
    """The API calls the playbooks are made of, by short name."""
    return {
        "record": _step(
            "RecordKillSwitch",
            "ssm",
            "GetParameter",
            {"Name": kill_switch_parameter},
            [{"Name": "PreviousValue", "Selector": "$.Parameter.Value", "Type": "String"}],
        ),
        "flip": _step(
            "FlipKillSwitch",
            "ssm",
            "PutParameter",
            {"Name": kill_switch_parameter, "Value": ks.ON, "Type": "String", "Overwrite": True},
        ),
        "stop": _step(
            "StopSession",
            "bedrock-agentcore",
            "StopRuntimeSession",
            {"agentRuntimeArn": "{{ AgentRuntimeArn }}", "runtimeSessionId": "{{ SessionId }}"},
        ),
        "snapshot": _step(
            "SnapshotAgentRolePolicies",
            "iam",
            "ListAttachedRolePolicies",
            {"RoleName": "{{ AgentRoleName }}"},
            [{"Name": "AttachedPolicies", "Selector": "$.AttachedPolicies", "Type": "MapList"}],
        ),
        "deny": _step(
            "DenyAgentRole",
            "iam",
            "AttachRolePolicy",
            {"RoleName": "{{ AgentRoleName }}", "PolicyArn": kill_switch_policy_arn},
        ),
    }


def _document(description: str, role_arn: str, parameters: dict, steps: list[dict]) -> Document:
    role = {"type": "String", "description": "Role the automation runs as", "default": role_arn}
    return {
        "schemaVersion": "0.3",
        "description": description,
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": {"AutomationAssumeRole": role, **parameters},
        "mainSteps": steps,
        "outputs": [f"{s['name']}.{o['Name']}" for s in steps for o in s.get("outputs", [])],
    }


def playbook_documents(
    *,
    tenant: str,
    environment: str,
    automation_role_arn: str,
    kill_switch_parameter: str,
    kill_switch_policy_arn: str,
) -> dict[str, Document]:
    """The content of each playbook, by name (``RunawayLoop``, ``PromptInjection``, ``CostExplosion``)."""
    s = _steps(kill_switch_parameter, kill_switch_policy_arn)
    who = f"{tenant} agents ({environment})"
    return {
        "RunawayLoop": _document(
            f"Runaway loop in {who}: record and turn on the kill switch (every agent refuses its next step), "
            "then stop the looping session.",
            automation_role_arn,
            {"AgentRuntimeArn": _RUNTIME, "SessionId": _SESSION},
            [s["record"], s["flip"], s["stop"]],
        ),
        "PromptInjection": _document(
            f"Suspected prompt injection in {who}: kill switch on, stop the session, snapshot the agent role's "
            "policies, then deny the role model and agent calls until `agentzone killswitch off`.",
            automation_role_arn,
            {"AgentRuntimeArn": _RUNTIME, "SessionId": _SESSION, "AgentRoleName": _AGENT_ROLE},
            [s["record"], s["flip"], s["stop"], s["snapshot"], s["deny"]],
        ),
        "CostExplosion": _document(
            f"Cost explosion in {who}: kill switch on, snapshot the agent role's policies, then deny it model "
            "and agent calls until `agentzone killswitch off`.",
            automation_role_arn,
            {"AgentRoleName": _AGENT_ROLE},
            [s["record"], s["flip"], s["snapshot"], s["deny"]],
        ),
    }
