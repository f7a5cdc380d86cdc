"""Delivery: pipelines, canary releases."""
