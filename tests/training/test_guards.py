"""A training run never loses or corrupts another's work: one run per output_dir (real parallel
processes), a finished folder is not trained over by accident, a diverging run stops before saving,
resume skips a checkpoint cut short, and a final save cut short leaves no loadable mix."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from affect_llm.errors import InputError, require_model_dir
from affect_llm.training.guards import TrainingDiverged, commit_model_folder
from affect_llm.training.trainers import resolve_checkpoint

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--config", str(ROOT / "recipes/tiny/sft.yaml"), "--synthetic_samples", "16"]
TINY += ["--per_device_train_batch_size", "4", "--use_cpu", "true", "--report_to", "none"]


def _sft_main():
    spec = importlib.util.spec_from_file_location("sft_recipe", ROOT / "recipes" / "sft.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("guards") / "run"
    _sft_main()([*TINY, "--output_dir", str(out), "--max_steps", "2", "--save_steps", "2"])
    return out


@pytest.mark.slow
def test_a_second_run_is_refused_while_the_first_trains_into_the_folder(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, str(ROOT / "recipes" / "sft.py"), *TINY, "--output_dir", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    # the first run is stopped once the second has been answered, however fast training is
    first = subprocess.Popen(
        [*command, "--max_steps", "100000", "--save_steps", "2", "--save_total_limit", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not (out / "checkpoint-2" / "trainer_state.json").exists():
            assert first.poll() is None, first.stderr.read()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.1)
        second = subprocess.run(
            [*command, "--max_steps", "2"], env=env, capture_output=True, text=True, timeout=300
        )
        assert first.poll() is None, first.stderr.read()[-3000:]
    finally:
        first.terminate()
        first.communicate(timeout=600)
    errors = [line for line in second.stderr.splitlines() if line.startswith("error:")]
    assert second.returncode == 2 and len(errors) == 1, second.stderr[-3000:]
    assert errors[0].startswith(f"error: output_dir {out}: another training run is writing")
    assert "Traceback" not in second.stderr
    saved = [path / "trainer_state.json" for path in out.glob("checkpoint-*")]
    states = [json.loads(path.read_text()) for path in saved if path.exists()]
    assert states and all(state["max_steps"] == 100000 for state in states)  # the first run's


def test_a_folder_holding_a_run_is_refused_unless_resumed_or_overwritten(finished_run):
    main = _sft_main()
    with pytest.raises(InputError, match=r"already holds a run .*--overwrite_output_dir true"):
        main([*TINY, "--output_dir", str(finished_run), "--max_steps", "1"])


def test_a_diverging_run_stops_naming_the_step_and_keeps_the_good_model(finished_run):
    weights = finished_run / "model.safetensors"
    before = _digest(weights)
    argv = [*TINY, "--output_dir", str(finished_run), "--overwrite_output_dir", "true"]
    with pytest.raises(TrainingDiverged, match=r"^training stopped at step \d+: "):
        _sft_main()([*argv, "--learning_rate", "1e6", "--max_steps", "6", "--save_steps", "1"])
    assert _digest(weights) == before  # the good model was not replaced
    assert all(torch.isfinite(t).all() for t in load_file(weights).values())
    for checkpoint in finished_run.glob("checkpoint-*"):
        saved = load_file(checkpoint / "model.safetensors")
        assert all(torch.isfinite(t).all() for t in saved.values()), checkpoint


def test_resume_skips_a_checkpoint_whose_state_a_full_disk_left_empty(finished_run, tmp_path):
    # What ENOSPC during a save leaves: the folder, weights, and an empty trainer_state.json.
    run = tmp_path / "run"
    (run / "checkpoint-2").mkdir(parents=True)
    for name in ("model.safetensors", "trainer_state.json"):
        (run / "checkpoint-2" / name).write_bytes(
            (finished_run / "checkpoint-2" / name).read_bytes()
        )
    (run / "checkpoint-4").mkdir()
    (run / "checkpoint-4" / "model.safetensors").write_bytes(b"")
    (run / "checkpoint-4" / "trainer_state.json").write_bytes(b"")
    (run / "checkpoint-6").mkdir()
    (run / "checkpoint-6" / "trainer_state.json").write_text('{"global_step": 6, "log_hist')
    assert resolve_checkpoint("last", str(run)) == str(run / "checkpoint-2")


def _new_model(staging: Path) -> Path:
    staging.mkdir()
    (staging / "config.json").write_text('{"model_type": "affect_llm", "new": true}')
    (staging / "model-00001-of-00002.safetensors").write_bytes(b"new weights 1")
    (staging / "model-00002-of-00002.safetensors").write_bytes(b"new weights 2")
    (staging / "model.safetensors.index.json").write_text("{}")
    return staging


def test_a_final_save_cut_short_leaves_the_old_model_or_none_never_a_mix(finished_run, tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    for path in finished_run.iterdir():
        if path.is_file():
            (target / path.name).write_bytes(path.read_bytes())
    staging = _new_model(tmp_path / "staging")
    real_replace, moved = os.replace, []

    def killed_after_two(source, destination):
        if len(moved) == 2:
            raise KeyboardInterrupt  # the kill arrives mid-commit
        moved.append(destination)
        real_replace(source, destination)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "replace", killed_after_two)
        with pytest.raises(KeyboardInterrupt):
            commit_model_folder(staging, target)
    with pytest.raises(InputError, match=r"no config\.json"):
        require_model_dir(target)  # not the new config beside the old weights
    assert not (target / "model.safetensors").exists()  # the old single file is gone too
    staging = _new_model(tmp_path / "staging-again")  # the save done again, to the end
    commit_model_folder(staging, target)
    assert json.loads((target / "config.json").read_text())["new"] is True
    assert (target / "model-00002-of-00002.safetensors").read_bytes() == b"new weights 2"
    assert not staging.exists()


@pytest.mark.slow
def test_a_full_disk_during_a_checkpoint_is_one_line_and_resume_skips_the_torn_one(
    tmp_path, capsys
):
    from affect_llm.errors import report_user_errors

    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a small tmpfs, which needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(disk)]).returncode:
        pytest.skip("mounting a tmpfs is not allowed here (a container without CAP_SYS_ADMIN)")
    try:
        out = disk / "run"  # checkpoint-2 (about 8 MB) fits, checkpoint-4 does not
        argv = [*TINY, "--output_dir", str(out), "--max_steps", "4", "--save_steps", "2"]
        main = _sft_main()
        assert report_user_errors(lambda: main(argv)) == 2
        errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
        assert len(errors) == 1 and "error: no space left on the device" in errors[0], errors
        assert resolve_checkpoint("last", str(out)) == str(out / "checkpoint-2")
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)  # space freed
        main([*argv, "--resume_from_checkpoint", "last"])
        state = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())
        assert state["global_step"] == 4
        require_model_dir(out)
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=True)
