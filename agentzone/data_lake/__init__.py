"""Data lake: raw, curated and masked zones of the landing zone's data namespaces."""
