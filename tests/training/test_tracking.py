"""Experiment tracking: `report_to: trackio` leaves a local trackio project with the loss curve
(no account, nothing sent anywhere)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AFFECT_LLM = Path(sys.executable).parent / "affect-llm"
STEPS = 3


@pytest.mark.slow
def test_tiny_sft_with_trackio_leaves_a_local_project_with_the_loss(tmp_path):
    pytest.importorskip("trackio")  # the `plots` extra
    store = tmp_path / "trackio"
    # the child's own python reads the store the test then queries, from a fresh interpreter
    env = {**os.environ, "TRACKIO_DIR": str(store), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [
            str(AFFECT_LLM),
            "sft",
            "--config",
            "recipes/tiny/sft.yaml",
            "--max_steps",
            str(STEPS),
            "--logging_steps",
            "1",
            "--save_strategy",
            "no",
            "--synthetic_samples",
            "32",
            "--per_device_train_batch_size",
            "8",
            "--output_dir",
            str(tmp_path / "run"),
            "--report_to",
            "trackio",
            "--project",
            "affect-tiny",
            "--run_name",
            "first",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    read = (
        "import json\nfrom trackio.sqlite_storage import SQLiteStorage as S\n"
        "print(json.dumps({'runs': S.get_runs('affect-tiny'),"
        " 'logs': S.get_logs('affect-tiny', 'first')}, default=str))"
    )
    found = subprocess.run(
        [sys.executable, "-c", read], env=env, capture_output=True, text=True, check=True
    )
    stored = json.loads(found.stdout.strip().splitlines()[-1])
    assert stored["runs"] == ["first"]
    losses = [
        (log["train/global_step"], log["train/loss"])
        for log in stored["logs"]
        if "train/loss" in log
    ]
    assert [step for step, _ in losses] == list(range(1, STEPS + 1))
    assert all(loss > 0 for _, loss in losses)
