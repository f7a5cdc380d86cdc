"""Tools behind AgentCore Gateways: manifests, registration, Cedar policies (see docs/tools.md).

The package imports none of its modules: the config checks use ``cedar`` and
``schemas``, which must not load ``manifest`` (it builds on the config loader).
"""
