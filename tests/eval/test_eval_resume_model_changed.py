"""Resuming an eval checks the model itself, not only its path: after the --model folder is
retrained in place, the old answers are not reused (they would be mixed with the new model's)."""

from __future__ import annotations

import pytest
from eval_fixtures import EVAL, FAST

from affect_llm.evaluation.closed_set import main
from affect_llm.modeling.tiny import tiny_model_and_processor


def _save_tiny(folder, seed: int) -> None:
    model, processor = tiny_model_and_processor(seed=seed)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)


@pytest.mark.slow
def test_resuming_after_the_model_was_retrained_in_place_is_refused(tmp_path, capsys):
    model = tmp_path / "model"
    _save_tiny(model, seed=0)
    out = tmp_path / "out"
    flags = [a for a in FAST if a not in ("--model", "tiny")] + ["--model", str(model)]
    argv = ["--config", str(EVAL / "dfew_mafw.yaml"), "--out", str(out), "--datasets", "dfew"]
    argv += ["--folds", "1", "--limit", "2", *flags]
    assert main(argv) == 0
    assert main(argv) == 0  # the same model: every answer is reused
    _save_tiny(model, seed=1)  # retrained in place
    capsys.readouterr()
    assert main(argv) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "model_fingerprint" in errors[0], errors
    assert "weights changed since" in errors[0]
    assert main([*argv, "--overwrite"]) == 0
