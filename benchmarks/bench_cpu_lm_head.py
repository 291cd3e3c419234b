"""Benchmark: a tiny SFT and GRPO run on CPU, TRL's fused LM head scoring every position (its
CPU default) against scoring only the labelled ones (`affect_llm.training.cpu_lm_head`).

Both runs start from the same seed on the same rows (the quickstart's synthetic face / voice
set, the quickstart's batch sizes) in this process; the table gives seconds per step, the ratio
and each run's mean loss, which must agree (the same sums, only the unlabelled rows left out).

    python benchmarks/bench_cpu_lm_head.py [--steps 10] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
import time

import torch
from rich.console import Console
from rich.table import Table
from transformers import TrainerCallback
from trl import GRPOConfig, SFTConfig

from affect_llm.native_logs import quiet_third_party
from affect_llm.training.config import AffectModelConfig, AffectRewardConfig
from affect_llm.training.console import use_short_logs
from affect_llm.training.cpu_lm_head import score_only_labelled_positions_on_cpu
from affect_llm.training.model_loading import build_model_and_processor
from affect_llm.training.synthetic import media_lookup, synthetic_rows
from affect_llm.training.trainers import build_grpo_trainer, build_sft_trainer

MODES = {"every position (TRL's CPU default)": False, "labelled positions only": True}


def timed_run(stage: str, labelled_only: bool, steps: int, out_dir: str, model=None):
    """Seconds per step (the first step, with its warm-up, left out), the run's mean loss and the
    trained model. GRPO starts from a copy of `model` (an SFT output: a random model earns no
    reward, so its loss would be 0 whatever the LM head did)."""
    config = AffectModelConfig(num_face_tokens=4, num_audio_tokens=4, model_seed=0)
    processor = None
    if model is not None:
        model, processor = copy.deepcopy(model), build_model_and_processor(config)[1]
    rows, media = synthetic_rows(256, 0)
    common = dict(
        output_dir=out_dir,
        max_steps=steps,
        use_cpu=True,
        bf16=False,
        activation_checkpointing=False,  # as the quickstart and recipes/tiny
        report_to=[],
        save_strategy="no",
        logging_steps=steps,
        seed=0,
    )
    if stage == "SFT":
        args = SFTConfig(per_device_train_batch_size=32, learning_rate=3e-3, **common)
        trainer = build_sft_trainer(config, None, args, model, processor, rows, media_lookup(media))
    else:
        args = GRPOConfig(
            per_device_train_batch_size=64,
            num_generations=8,
            max_completion_length=7,
            learning_rate=1e-3,
            **common,
        )
        rewards = AffectRewardConfig(rewards=["ew_f1"])
        trainer = build_grpo_trainer(
            config, None, rewards, args, model, processor, rows, media_lookup(media)
        )
    score_only_labelled_positions_on_cpu(labelled_only)  # the builders turn it on
    use_short_logs(trainer)
    starts: list[float] = []
    trainer.add_callback(StepClock(starts))
    result = trainer.train()
    seconds = (time.perf_counter() - starts[1]) / (steps - 1)
    return seconds, result.training_loss, trainer.model


class StepClock(TrainerCallback):
    """Notes when each step begins."""

    def __init__(self, starts: list[float]):
        self.starts = starts

    def on_step_begin(self, *args, **kwargs):
        self.starts.append(time.perf_counter())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="steps per run (>= 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    options = parser.parse_args()
    quiet_third_party()
    torch.set_num_threads(options.threads)
    print(f"load average {os.getloadavg()[0]:.1f}, {options.threads} thread(s)")
    table = Table(title=f"Tiny AffectLLM on CPU, {options.steps} steps per run")
    for column in ("stage", "LM head scores", "s / step", "ratio", "mean loss"):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as out_dir:
        # GRPO starts from a model that writes answers (40 SFT steps, as the quickstart's 60 nearly)
        sft_model = timed_run("SFT", True, 40, out_dir)[2]
        for stage in ("SFT", "GRPO"):
            baseline = None
            for label, labelled_only in MODES.items():
                start = sft_model if stage == "GRPO" else None
                seconds, loss, _ = timed_run(stage, labelled_only, options.steps, out_dir, start)
                baseline = baseline or seconds
                ratio = f"{baseline / seconds:.1f}x faster" if labelled_only else "1.0x"
                table.add_row(stage, label, f"{seconds:.3f}", ratio, f"{loss:.6f}")
    Console().print(table)


if __name__ == "__main__":
    main()
