"""Data: the versioned sample schema, instruction templates, builders and the feature cache."""

from affect_llm.data.builder import BuildConfig, BuildSummary, SourceItem, build_samples
from affect_llm.data.folder import build_folder
from affect_llm.data.schema import SCHEMA_VERSION, Sample, load_samples
from affect_llm.data.templates import render

__all__ = [
    "SCHEMA_VERSION",
    "BuildConfig",
    "BuildSummary",
    "Sample",
    "SourceItem",
    "build_folder",
    "build_samples",
    "load_samples",
    "render",
]
