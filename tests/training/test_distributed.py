"""Two real CPU processes (gloo): a GRPO step leaves identical parameters on both ranks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("ddp_grpo_worker.py")


@pytest.mark.slow
def test_two_cpu_ranks_end_a_grpo_step_with_identical_parameters(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "true"}
    command = [str(torchrun), "--standalone", "--nproc_per_node", "2", str(WORKER), str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert {r["backend"] for r in ranks} == {"gloo"}
    assert ranks[0]["changed"] > 0  # the step trained something
    assert ranks[0]["checksum"] == ranks[1]["checksum"]
