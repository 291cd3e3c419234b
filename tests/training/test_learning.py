"""Learning, not just running: the quickstart's training stages at a smaller size."""

from __future__ import annotations

import json

import pytest

from affect_llm.training.quickstart import QuickstartSettings, run_quickstart


@pytest.mark.slow
def test_sft_then_grpo_learns_labels_only_face_and_voice_carry(tmp_path):
    # identical text prompts for all 4 classes: above chance needs the AU / audio tokens
    settings = QuickstartSettings(heldout=40, grpo_steps=20, threads=1)
    report = run_quickstart(tmp_path, settings)
    written = json.loads((tmp_path / "report.json").read_text())
    assert written["accuracy_after"] == report["accuracy_after"]
    assert report["accuracy_before"] <= 0.5
    assert report["accuracy_after"] >= 0.8, report
    assert len(report["reward_curve"]) == 20
    assert report["reward_last"] > report["reward_first"], report["reward_curve"]
    assert (tmp_path / "reward_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "model" / "config.json").exists()
    assert not (tmp_path / "sft").exists() and not (tmp_path / "grpo").exists()  # no empty folders
    assert "scores" in written  # the scoring stage still runs after training
