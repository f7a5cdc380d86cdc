"""Model and component catalogs: entry specs, the boto3 library and the `agentzone catalog` commands.

Modules: ``tables`` (table layout shared with the CDK construct), ``spec``
(pydantic spec model and YAML loading), ``store`` (boto3 ``Catalog``),
``cli`` (argparse commands). Names below are imported on first use, so the
CDK construct can read the table layout without loading boto3 or pydantic.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "EntrySpec": "spec",
    "load_spec": "spec",
    "load_specs": "spec",
    "Catalog": "store",
    "CatalogError": "store",
    "Entry": "store",
    "Ref": "store",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_EXPORTS)
