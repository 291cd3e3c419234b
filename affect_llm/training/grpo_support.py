"""Parts of GRPO training that need no trainer state: the default media loader, a resumable
sampler, the completions table, and the image-token shim for TRL's set-up."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import torch
from transformers.integrations import TensorBoardCallback
from trl.trainer.utils import RepeatSampler

from affect_llm.rewards import completion_text

MEDIA_COLUMNS = ("faces", "aus", "audio")


def default_media_loader(row: dict[str, Any]) -> dict[str, Any]:
    """A row's in-memory media: `faces` (T, H, W, 3), `aus` (T, 17) and `audio` (16 kHz waveform)."""
    media = {key: row.get(key) for key in MEDIA_COLUMNS}
    if isinstance(media["audio"], str):
        raise ValueError(
            f"sample {row.get('id', '?')}: `audio` is a path; pass media_loader= to load waveforms"
        )
    return media


@contextmanager
def image_token_id_for_trl(config):
    """TRL reads `config.image_token_id` for any multimodal processor (to suppress it); a model
    without images (Qwen2-Audio) has none, so it is None while TRL sets up (we set the tokens to
    suppress ourselves)."""
    if config is None or hasattr(config, "image_token_id"):
        yield
        return
    config.image_token_id = None
    try:
        yield
    finally:
        del config.image_token_id


class EpochRepeatSampler(RepeatSampler):
    """TRL's `RepeatSampler` with `set_epoch`, so a run resumed at epoch e sees epoch e's order.

    TRL seeds the sampler's generator once and lets each epoch draw the next permutation, but a
    resumed run builds a fresh sampler: without `set_epoch` every resumed epoch replays epoch 0's
    order. `set_epoch(e)` reseeds and draws the e permutations an unbroken run drew before epoch
    e, so the order (and the trained weights) match a run that was never stopped.
    """

    def set_epoch(self, epoch: int) -> None:
        if not self.shuffle or self.seed is None:
            return
        self.generator.manual_seed(self.seed)
        for _ in range(epoch):
            torch.randperm(self.num_samples, generator=self.generator)


def tensorboard_writer(trainer):
    """The TensorBoard writer of a trainer that reports to TensorBoard, else None."""
    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, TensorBoardCallback):
            return callback.tb_writer
    return None


def completion_table(logs: dict[str, Any], limit: int = 8) -> str:
    """A Markdown table of the latest prompts, completions and per-reward values."""
    prompts, completions = list(logs["prompt"])[-limit:], list(logs["completion"])[-limit:]
    rewards = {name: list(values)[-limit:] for name, values in logs["rewards"].items()}
    header = ["prompt", "completion", *rewards]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, (prompt, completion) in enumerate(zip(prompts, completions)):
        cells = [completion_text(prompt)[-80:], completion_text(completion)]
        cells += [f"{values[i]:.3f}" if i < len(values) else "" for values in rewards.values()]
        lines.append(
            "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
        )
    return "\n".join(lines)
