"""Gateway target and tool names: the rules every gateway shares.

Manifests (``agentzone tools``), the tenant tool gateway's config checks and
the gateway constructs all apply them, so this module imports no config and
no aws-cdk-lib.
"""

from __future__ import annotations

import re

from ..patterns import WORDS_PATTERN

SHARED = "shared"  # the owner of platform tools, on the shared gateway
# Prefix = gateway target name. AgentCore allows ([0-9a-zA-Z][-]?){1,100}; we keep a lowercase,
# single-hyphen subset and at most 40 characters, because agents see tools as
# "<prefix>___<tool>" and model tool APIs (e.g. Bedrock Converse toolSpec.name) stop at 64.
PREFIX_PATTERN = re.compile(WORDS_PATTERN)
PREFIX_MAX = 40
TOOL_NAME_MAX = 64
TOOL_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"  # one tool of a target, before the prefix
TOOL_SEPARATOR = "___"  # agents see gateway tools as <target>___<tool>


def prefix_problems(prefix: str, owner: str) -> list[str]:
    """Why a prefix is not acceptable for this owner ('shared' or a tenant slug); empty if fine."""
    out = []
    if not PREFIX_PATTERN.match(prefix):
        out.append(
            f"{prefix!r} must be lowercase letters and digits in words joined by single '-', starting with a letter"
        )
    if len(prefix) > PREFIX_MAX:
        out.append(
            f"{prefix!r} is {len(prefix)} characters; at most {PREFIX_MAX} so '<prefix>___<tool>' fits the "
            f"{TOOL_NAME_MAX}-character tool name limit"
        )
    need = f"{owner}-"
    if not prefix.startswith(need) or len(prefix) == len(need):
        who = "platform tools" if owner == SHARED else f"tenant {owner!r}"
        out.append(
            f"{prefix!r} must start with '{need}' followed by a name (prefix rule for {who}), e.g. '{need}lookup'"
        )
    if owner != SHARED and prefix.startswith(f"{SHARED}-"):
        out.append(f"'{SHARED}-' is reserved for platform tools")
    return out
