"""GRPO that cannot learn says so: one line when every group's rewards are equal at the start."""

from __future__ import annotations

import pytest
import torch
from transformers import TrainerControl, TrainerState, TrainingArguments

from affect_llm.training.signal import NoSignalWarning


def _logs(callback: NoSignalWarning, values: list[float], max_steps: int = 30) -> None:
    args = TrainingArguments(output_dir="unused", report_to=[])
    state = TrainerState(max_steps=max_steps)
    for step, zero_std in enumerate(values, start=1):
        state.global_step = step
        logs = {"reward": 0.0, "frac_reward_zero_std": zero_std}
        callback.on_log(args, state, TrainerControl(), logs=logs)


def test_the_line_is_printed_once_after_the_first_steps_without_signal():
    lines = []
    _logs(NoSignalWarning(echo=lines.append), [1.0] * 10)
    assert len(lines) == 1
    assert lines[0].startswith("warning: GRPO has no learning signal: in each of the first 3 steps")
    assert "start from an SFT checkpoint" in lines[0] and "a reward for a block" in lines[0]


@pytest.mark.parametrize("values", [[1.0, 0.5, 1.0, 1.0], [0.0, 1.0, 1.0, 1.0], []])
def test_any_group_with_spread_in_the_first_steps_keeps_it_quiet(values):
    lines = []
    _logs(NoSignalWarning(echo=lines.append), values)
    assert lines == []


def test_a_run_shorter_than_the_window_is_judged_on_all_its_steps():
    lines = []
    _logs(NoSignalWarning(echo=lines.append), [1.0, 1.0], max_steps=2)
    assert len(lines) == 1 and "first 2 steps" in lines[0]


@pytest.mark.slow  # three GRPO steps of the tiny model
def test_grpo_from_a_random_model_prints_the_line_and_moves_no_weight(tmp_path, capsys):
    """The README's tiny GRPO used to start from a random model: it never writes <answer>, every
    ew_f1 reward is 0, every advantage 0, and the run ended silently with its start weights."""
    from trl import GRPOConfig

    from affect_llm.training.config import (
        AffectDataConfig,
        AffectModelConfig,
        AffectRewardConfig,
    )
    from affect_llm.training.trainers import build_grpo_trainer as grpo_trainer

    torch.set_num_threads(1)
    model_config = AffectModelConfig(num_face_tokens=2, num_audio_tokens=2)
    data_config = AffectDataConfig(
        synthetic_samples=16, task="onehot", candidates=["happy", "sad", "surprise", "angry"]
    )
    args = GRPOConfig(
        output_dir=str(tmp_path),
        max_steps=3,
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=7,
        learning_rate=1e-3,
        beta=0.0,
        report_to=[],
        use_cpu=True,
        bf16=False,
        save_strategy="no",
        disable_tqdm=True,
        logging_steps=1,
        seed=0,
    )
    rewards = AffectRewardConfig(rewards=["ew_f1"])
    trainer = grpo_trainer(model_config, data_config, rewards, args)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    trainer.train()
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if "no learning signal" in line]
    assert len(warnings) == 1 and "start from an SFT checkpoint" in warnings[0]
    assert all(e["frac_reward_zero_std"] == 1 for e in trainer.state.log_history if "reward" in e)
    after = dict(trainer.model.named_parameters())
    assert all(torch.equal(before[n], after[n]) for n in before)  # what the line warns of
