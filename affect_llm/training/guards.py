"""What keeps a training run from losing or corrupting work: one run per `output_dir`, a stop on
non-finite weights or loss, complete checkpoints only, and a final model renamed into place.

- Two runs with one `output_dir` would overwrite each other's checkpoints and final model, and
  both report success: the main process holds filelock's OS lock on the folder for the run
  (`affect_llm.files.exclusive_folder`), and a folder that already holds a run is refused unless the
  run resumes (`--resume_from_checkpoint`) or `--overwrite_output_dir true` says to replace it.
- A diverging run (NaN/inf loss) used to log `loss 0` (transformers' `logging_nan_inf_filter`) and
  save NaN weights: `StopOnNonFinite` stops it with one line naming the step, before that step's
  checkpoint or the final model is written (Keras' `TerminateOnNaN`).
- A checkpoint cut short (a full disk, a kill) can leave an empty `trainer_state.json`, which the
  Trainer writes last: `is_complete_checkpoint` is what `--resume_from_checkpoint last` accepts.
- A full disk during a save is reported as one (torch.save's own error says only "iostream
  error"), so the command prints one line (`affect_llm.errors.disk_full_line`).
- The final model is saved into a staging folder inside `output_dir` and renamed into place file
  by file, `config.json` (the file that makes a folder loadable) removed first and put back last:
  a save cut short leaves the old model whole or no loadable model, never new config beside old
  weights.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from transformers import TrainerCallback

from affect_llm.errors import InputError
from affect_llm.files import LOCK_NAME, exclusive_folder

STAGING = ".final-model.partial"
# Files whose presence makes a folder load as a model (full model / LoRA adapter).
MARKERS = ("config.json", "adapter_config.json")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json")


@dataclass
class OutputDirConfig:
    """Flags about the run's `output_dir` (transformers 5 dropped `overwrite_output_dir`)."""

    overwrite_output_dir: bool = field(
        default=False,
        metadata={
            "help": "Train into an output_dir that already holds a run, replacing its final "
            "model (without it such a folder is refused unless --resume_from_checkpoint)."
        },
    )


class TrainingDiverged(InputError):
    """The loss or the weights became NaN/inf: the run is stopped before anything is saved."""


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True  # not a number: nothing to judge


class StopOnNonFinite(TrainerCallback):
    """Stop training when the loss or a trainable weight is NaN/inf (Keras' TerminateOnNaN).

    Checked after every optimizer step (the trainable weights' norms: one small reduction) and on
    every log (the loss, with transformers' filter that hides NaN losses switched off), both before
    the Trainer saves that step's checkpoint. Raises `TrainingDiverged`: one line, exit 2.
    """

    def on_train_begin(self, args, state, control, **kwargs):
        args.logging_nan_inf_filter = False  # a NaN loss is logged as NaN, not as the old mean

    def _stop(self, args, state, what: str):
        raise TrainingDiverged(
            f"training stopped at step {state.global_step}: {what}; the run diverged (learning "
            f"rate too high?). Nothing of this step was saved; lower --learning_rate and resume "
            f"from the last checkpoint in {args.output_dir} (--resume_from_checkpoint last)"
        )

    def on_step_end(self, args, state, control, model=None, **kwargs):
        import torch

        if model is None:
            return
        params = [p.detach() for p in model.parameters() if p.requires_grad and p.numel()]
        if not params:
            return
        norms = torch._foreach_norm(params)
        if not bool(torch.stack([n.float() for n in norms]).isfinite().all()):
            self._stop(args, state, "the trainable weights hold NaN/inf values")

    def on_log(self, args, state, control, logs=None, **kwargs):
        loss = (logs or {}).get("loss")
        if loss is not None and not _finite(loss):
            self._stop(args, state, f"the training loss is {loss}")


def is_complete_checkpoint(path: str | os.PathLike) -> bool:
    """A checkpoint folder whose `trainer_state.json` (written last by the Trainer) is a whole JSON
    object, and whose step, when it records one, is the folder's."""
    path = Path(path)
    try:
        state = json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(state, dict):
        return False
    step = path.name.rpartition("-")[2]
    return "global_step" not in state or not step.isdigit() or state["global_step"] == int(step)


def _resuming(args) -> bool:
    return args.resume_from_checkpoint not in (None, False, "", "false", "False")


def refuse_used_output_dir(args) -> None:
    """InputError when `output_dir` already holds another run and this one neither resumes it
    nor was told to overwrite it."""
    folder = Path(args.output_dir)
    if _resuming(args) or getattr(args, "overwrite_output_dir", False) or not folder.is_dir():
        return
    found = sorted(p.name for p in folder.iterdir() if not p.name.startswith((LOCK_NAME, STAGING)))
    if found:
        shown = ", ".join(found[:4]) + (", ..." if len(found) > 4 else "")
        raise InputError(
            f"output_dir {folder}: already holds a run ({shown}); pass "
            "--resume_from_checkpoint last to continue it, --overwrite_output_dir true to "
            "replace it, or choose another output_dir"
        )


@contextmanager
def guarded_run(trainer, args) -> Iterator[None]:
    """Around `trainer.train()` and the final save: the folder lock (main process), the check for
    a used folder, and `StopOnNonFinite`."""
    main = trainer.args.process_index == 0
    lock = (
        exclusive_folder(args.output_dir, "training run", "output_dir") if main else nullcontext()
    )
    with lock:
        refuse_used_output_dir(args)
        trainer.add_callback(StopOnNonFinite())
        try:
            yield
        except RuntimeError as error:  # torch.save reports a full disk as an iostream error
            if shutil.disk_usage(args.output_dir).free >= 1 << 20:
                raise
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), args.output_dir) from error


def commit_model_folder(staging: Path, target: Path) -> None:
    """Move a completely saved model folder's files over `target`'s: the marker files (config.json,
    adapter_config.json) removed first and put back last; stale weight files removed."""
    target.mkdir(parents=True, exist_ok=True)
    names = {p.name for p in staging.iterdir()}
    for marker in MARKERS:
        (target / marker).unlink(missing_ok=True)
    for old in target.iterdir():  # weights of the old model the new one does not replace
        if old.is_file() and old.name.endswith(WEIGHT_SUFFIXES) and old.name not in names:
            old.unlink()
    for name in sorted(names, key=lambda n: (n in MARKERS, n)):
        source, destination = staging / name, target / name
        if source.is_dir() and destination.is_dir():
            shutil.rmtree(destination)
        os.replace(source, destination)
    shutil.rmtree(staging)


def save_final(trainer, output_dir: str | os.PathLike) -> None:
    """`save_trained` into a staging folder, then renamed into place (the merged LoRA export too).
    Call on every rank, like `save_trained`."""
    from affect_llm.training.export import merged_dir, save_trained

    output_dir = Path(output_dir)
    staging = output_dir / STAGING
    main = trainer.args.process_index == 0
    if main:  # a staging folder left by a killed save
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(merged_dir(staging), ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    save_trained(trainer, staging)
    if main:
        commit_model_folder(staging, output_dir)
        if merged_dir(staging).is_dir():
            commit_model_folder(merged_dir(staging), merged_dir(output_dir))
    trainer.accelerator.wait_for_everyone()
