"""The README's main job runs offline and writes a readable report."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from affect_llm.training.quickstart import run_quickstart


def test_quickstart_scores_bundled_examples(tmp_path, capsys):
    report = run_quickstart(tmp_path, train=False)  # the training stages: tests/training
    written = json.loads((tmp_path / "report.json").read_text())
    assert written == json.loads(json.dumps(report))
    scores = written["scores"]
    assert 0.5 < scores["ovmerd"]["level1"]["f1"] <= 1.0
    assert 0.0 < scores["mer2023_hit_rate"] <= 1.0
    assert scores["mosi"]["samples"] == 7  # the zero-valence sample is dropped
    # every score says how many samples it covers: the rows of each ground-truth file
    assert (scores["ovmerd"]["samples"], scores["mer2023_samples"]) == (12, 8)
    assert (tmp_path / "ovmerd_pred.csv").read_text().startswith("name,openset\n")
    printed = " ".join(capsys.readouterr().out.split())  # rich wraps the title
    assert "OV-MERD+" in printed
    assert "bundled example answers (not this model's)" in printed


SMALL_RUN = """
import json, sys
from affect_llm.training.quickstart import QuickstartSettings, run_quickstart
settings = QuickstartSettings(synthetic_train=32, heldout=8, sft_steps=2, grpo_steps=2,
                              grpo_batch=8, num_generations=4, threads=1)
report = run_quickstart(sys.argv[1], settings)
report.pop("seconds")
print("REPORT " + json.dumps(report, sort_keys=True))
"""


@pytest.mark.slow
def test_the_same_seed_gives_the_same_report(tmp_path):
    """Two fresh processes (different hash seeds, as two shells have) train to the same report."""
    reports = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "OMP_NUM_THREADS": "1"}
        command = [sys.executable, "-c", SMALL_RUN, str(tmp_path / hash_seed)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        reports.append(done.stdout.split("REPORT ", 1)[1])
    assert reports[0] == reports[1]
    assert json.loads(reports[0])["train_rows"] == 32 + 4
