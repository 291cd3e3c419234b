"""Paths and helpers shared by the benchmark tests."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "tests" / "data" / "mini_benchmarks"
EVAL = REPO / "eval"
# Small settings that keep the tiny-model runs fast; the pipeline is the same as a real run's.
FAST = ["--model", "tiny", "--max-new-tokens", "12", "--num-frames", "4", "--no-progress"]


def copy_dataset(name: str, dest: Path) -> Path:
    """A writable copy of a mini dataset (the clips copied, not linked)."""
    target = dest / name
    shutil.copytree(MINI / name, target, symlinks=False)
    return target
