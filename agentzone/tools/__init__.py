"""Tools behind AgentCore Gateways: manifests, registration, Cedar policies (see docs/tools.md)."""

from .manifest import LoadedManifest, ToolManifest, load_manifests, prefix_problems

__all__ = ["LoadedManifest", "ToolManifest", "load_manifests", "prefix_problems"]
