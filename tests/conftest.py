"""Shared fixtures: where the worked metric examples and the reference-style scorer live."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# `make test` runs the suite on one pytest worker per core (pytest-xdist). Each worker then
# computes on one thread: two workers of two threads each on a 2-core machine spin against each
# other (a test that takes 27 s alone took 217 s so). Subprocesses inherit the setting.
WORKER_THREADS = 1 if os.environ.get("PYTEST_XDIST_WORKER") else None


def pytest_collection_modifyitems(config, items):
    """Slow tests first: on `make test`'s workers the long trainings start at once and the quick
    tests fill in beside them, instead of all of them waiting at the end (tests/training is
    collected last) while one worker runs the last long test alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_configure(config):
    if WORKER_THREADS:
        import torch

        os.environ["OMP_NUM_THREADS"] = str(WORKER_THREADS)
        torch.set_num_threads(WORKER_THREADS)


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
