"""Glue job scripts, uploaded as-is: each module is self-contained (standard library and boto3 only)."""
