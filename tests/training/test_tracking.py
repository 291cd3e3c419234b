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


@pytest.mark.slow
def test_tiny_sft_with_wandb_offline_writes_its_metrics(tmp_path):
    pytest.importorskip("wandb")  # the `wandb` extra
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    env |= {"WANDB_SILENT": "true", "WANDB_PROJECT": "affect-tiny"}
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
            "wandb",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # the offline run's record file, read as `wandb sync` would read it before uploading
    from wandb.proto import wandb_internal_pb2
    from wandb.sdk.internal import datastore

    (records,) = (tmp_path / "wandb").glob("offline-run-*/run-*.wandb")
    store = datastore.DataStore()
    store.open_for_scan(str(records))
    losses = []
    while (data := store.scan_data()) is not None:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(data)
        if record.WhichOneof("record_type") == "history":
            row = {
                item.key or "/".join(item.nested_key): json.loads(item.value_json)
                for item in record.history.item
            }
            if "train/loss" in row:
                losses.append((row["train/global_step"], row["train/loss"]))
    assert [step for step, _ in losses] == list(range(1, STEPS + 1))
    assert all(loss > 0 for _, loss in losses)
