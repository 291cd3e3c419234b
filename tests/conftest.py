"""Shared fixtures: where the worked metric examples and the reference-style scorer live."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _metric_examples_path() -> Path:
    """../shared/metric_examples.json beside the checkout, or the copy kept in tests/data."""
    shared = REPO.parent / "shared" / "metric_examples.json"
    return shared if shared.exists() else REPO / "tests" / "data" / "metric_examples.json"


@pytest.fixture(scope="session")
def metric_examples() -> list[dict]:
    return json.loads(_metric_examples_path().read_text())


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return REPO / "affect_llm" / "resources" / "examples"
