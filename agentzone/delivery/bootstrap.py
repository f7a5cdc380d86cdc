"""`agentzone bootstrap-policy`: a CloudFormation execution policy per account, instead of AdministratorAccess.

`cdk bootstrap` gives CloudFormation AdministratorAccess unless told
otherwise. This reads a synthesized assembly, finds the resource types the
stacks of one account deploy, and writes the policy that allows exactly
those services, IAM limited to roles and policies (no users, groups or access
keys), and nothing else. Create it in the account and pass it to
``cdk bootstrap --cloudformation-execution-policies``. Run it again after a
change adds a new kind of resource (the synth summary shows new types).

Accounts in the AgentZone OUs need none of this: the Bootstrap stack's StackSet bootstraps them with one such
policy. It is for accounts outside the organization's automation, such as the management account.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..command import run_alone
from .execution_policy import BootstrapError, execution_policy


def resource_types(assembly: Path, account: str) -> dict[str, list[str]]:
    """Resource types per stack of ``account`` in an assembly (`agentzone synth` output)."""
    found: dict[str, list[str]] = {}
    manifest = json.loads((assembly / "manifest.json").read_text())
    for name, artifact in sorted(manifest.get("artifacts", {}).items()):
        if (
            artifact.get("type") != "aws:cloudformation:stack"
            or artifact.get("environment", "").split("/")[2] != account
        ):
            continue
        template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
        found[artifact.get("displayName", name)] = sorted({r["Type"] for r in template.get("Resources", {}).values()})
    if not found:
        raise BootstrapError(
            f"no stack of account {account} in {assembly}; check --account, or synthesize first (`make synth`)"
        )
    return found


def cmd_bootstrap_policy(args) -> int:
    try:
        stacks = resource_types(Path(args.assembly), args.account)
        policy = execution_policy(sorted({t for types in stacks.values() for t in types}))
    except (BootstrapError, FileNotFoundError, json.JSONDecodeError) as exc:
        print(f"agentzone bootstrap-policy: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(policy, indent=2))
    print(f"# {args.account}: {', '.join(stacks)}", file=sys.stderr)
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bootstrap-policy",
        help="least-privilege CloudFormation execution policy for one account's stacks",
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--account", required=True, help="12-digit account id")
    p.add_argument("--assembly", default="cdk.out", help="synthesized assembly (default: %(default)s)")
    p.set_defaults(func=cmd_bootstrap_policy)


def main(argv: list[str] | None = None) -> int:
    return run_alone("bootstrap-policy", add_parser, argv)
