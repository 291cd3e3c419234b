"""Data: the versioned sample schema, instruction templates, builders and the feature cache.

The names below load on first use (PEP 562): importing a submodule such as
`affect_llm.data.datasets`, which the `affect-llm build` parser lists, must not pull in numpy and
perception through the builder.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "BuildConfig": "affect_llm.data.builder",
    "BuildSummary": "affect_llm.data.builder",
    "build_samples": "affect_llm.data.builder",
    "SourceItem": "affect_llm.data.items",
    "build_folder": "affect_llm.data.folder",
    "SCHEMA_VERSION": "affect_llm.data.schema",
    "Sample": "affect_llm.data.schema",
    "load_samples": "affect_llm.data.schema",
    "render": "affect_llm.data.templates",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
