"""benchmarks/gpu_check.py on a machine without CUDA: one clear line and status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the script would run")
def test_gpu_check_says_there_is_no_cuda_and_exits_2():
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "no CUDA device" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.slow
def test_gpu_check_runs_every_check_at_tiny_shapes_on_the_cpu():
    """The same code paths as on a GPU (LoRA SFT step, GRPO step), so they cannot rot unseen."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--cpu-smoke"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert '"grpo_step"' in done.stdout and '"step_s"' in done.stdout
