"""Paths and helpers shared by the benchmark tests."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "tests" / "data" / "mini_benchmarks"
EVAL = REPO / "eval"
# Small settings that keep the tiny-model runs fast; the pipeline is the same as a real run's.
FAST = ["--model", "tiny", "--max-new-tokens", "12", "--num-frames", "4", "--no-progress"]


# MER-UniBench datasets in the MERBench processed layout (the folder names of MERTools).
PROCESSED = {
    "mer2023": "mer2023-dataset-process",
    "mer2024": "mer2024-dataset-process",
    "meld": "meld-process",
    "iemocap": "iemocap-process",
    "mosi": "cmumosi-process",
    "mosei": "cmumosei-process",
    "sims": "sims-process",
    "simsv2": "simsv2-process",
    "ovmerd": "ovmerdplus-process",
}
# Test labels of MER2023/MER2024 exist only in the processed layout.
ORIGINAL_HAS_TEST_LABELS = {name for name in PROCESSED if name not in ("mer2023", "mer2024")}


def dataset_root(name: str, layout: str = "default") -> Path:
    """A mini dataset folder: `original` release layout, `processed` (MERBench), or the default
    of eval/mer_unibench.yaml (original where it has test labels)."""
    if layout == "processed" or (
        layout == "default" and name not in ORIGINAL_HAS_TEST_LABELS and name in PROCESSED
    ):
        return MINI / "merbench" / PROCESSED[name]
    return MINI / name


def copy_dataset(name: str, dest: Path, layout: str = "default") -> Path:
    """A writable copy of a mini dataset (the clips copied, not linked)."""
    target = dest / name
    shutil.copytree(dataset_root(name, layout), target, symlinks=False)
    return target
