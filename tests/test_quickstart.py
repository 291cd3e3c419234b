"""The README's main job runs offline and writes a readable report."""

from __future__ import annotations

import json

from affect_llm.training.quickstart import run_quickstart


def test_quickstart_scores_bundled_examples(tmp_path, capsys):
    report = run_quickstart(tmp_path, train=False)  # the training stages: tests/training
    written = json.loads((tmp_path / "report.json").read_text())
    assert written == json.loads(json.dumps(report))
    scores = written["scores"]
    assert 0.5 < scores["ovmerd"]["level1"]["f1"] <= 1.0
    assert 0.0 < scores["mer2023_hit_rate"] <= 1.0
    assert scores["mosi"]["samples"] == 7  # the zero-valence sample is dropped
    assert (tmp_path / "ovmerd_pred.csv").read_text().startswith("name,openset\n")
    printed = " ".join(capsys.readouterr().out.split())  # rich wraps the title
    assert "OV-MERD+" in printed
    assert "bundled example answers (not this model's)" in printed
