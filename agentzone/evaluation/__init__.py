"""Evaluation of agent versions: the promotion gate, its result records and the `agentzone eval` commands.

``gate`` and ``record`` use the standard library only: they are shipped in the
pipeline's gate Lambda (``agentzone/handlers/eval_gate.py``) as well as used by
the CLI. Keep this ``__init__`` free of imports so the Lambda stays small.
"""
