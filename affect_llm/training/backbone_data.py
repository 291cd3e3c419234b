"""Training rows, media and SFT batches for pretrained omni / VL / audio backbones.

The same build folders (`samples.jsonl` + feature cache) feed every family. A row's prompt is its
instruction text (cues as text, no AffectLLM placeholders) and the family's processor adds the media
it reads: full frames sampled by `affect_llm.data.frames` (decoded once, then read from the
feature cache) and the clip's 16 kHz audio from its cache entry.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from affect_llm.data.cache import load_features
from affect_llm.data.frames import FrameCache, FrameSettings
from affect_llm.data.schema import read_samples, samples_path
from affect_llm.modeling.backbones import (
    completion_suffix,
    encode_prompts,
    media_flags,
    render_prompt,
)
from affect_llm.modeling.families import Family


class BackboneMedia:
    """Media loader over build folders: a row's frames (and their rate) and audio, by row id."""

    def __init__(
        self,
        paths: list[str | os.PathLike],
        family: Family,
        frames: FrameSettings,
    ):
        self.family = family
        self.frames = frames
        self._samples: dict[str, tuple[Path, dict]] = {}
        self._frame_caches: dict[Path, FrameCache] = {}
        for path in paths:
            file = Path(samples_path(path))
            self._frame_caches[file.parent] = FrameCache(file.parent, frames)
            for sample in read_samples(file):
                self._samples[str(sample["id"])] = (file, sample)

    def __contains__(self, sample_id: str) -> bool:
        return str(sample_id) in self._samples

    def __call__(self, row: dict) -> dict[str, Any]:
        sample_id = str(row["id"])
        if sample_id not in self._samples:
            raise KeyError(f"sample {sample_id!r}: not in the build folders")
        file, sample = self._samples[sample_id]
        media: dict[str, Any] = {"video": None, "audio": None}
        if self.family.sees_video:
            decoded = self._frame_caches[file.parent](sample)
            if decoded is not None:
                media["video"], media["video_fps"] = decoded
                media["video_max_pixels"] = self.frames.max_pixels
        if self.family.sees_audio and (sample.get("modalities") or {}).get("audio", True):
            media["audio"] = load_features(file, sample).get("audio")
        return media


def backbone_row(row: dict, media: BackboneMedia) -> dict:
    """A training row with the media flags the family's prompt needs (`has_video`, `has_audio`)."""
    sample = media._samples.get(str(row["id"]), (None, {}))[1]
    modalities = sample.get("modalities") or {}
    return {
        **row,
        "has_video": bool(
            media.family.sees_video and sample.get("video") and modalities.get("video", True)
        ),
        "has_audio": bool(media.family.sees_audio and modalities.get("audio")),
    }


def prompt_text(row: dict) -> str:
    """The user turn's text of a row (chat messages or a plain string)."""
    prompt = row["prompt"]
    return prompt[-1]["content"] if isinstance(prompt, list) else str(prompt)


def answer_text(row: dict) -> str:
    completion = row["completion"]
    return completion[-1]["content"] if isinstance(completion, list) else str(completion)


class BackboneSFTCollator:
    """SFT batches for a family: prompt through the processor (media expanded), then the answer.

    Prompt tokens (and padding) are masked out of the loss with -100: the model learns only the
    answer and the template's end-of-turn tokens.
    """

    def __init__(self, processor, family: Family, media: BackboneMedia, max_length: int | None):
        self.processor = processor
        self.family = family
        self.media = media
        self.max_length = max_length

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        media = [self.media(row) for row in rows]
        texts = [
            render_prompt(
                self.processor, self.family, prompt_text(row), *media_flags(self.family, m)
            )
            for row, m in zip(rows, media)
        ]
        batch = encode_prompts(self.processor, self.family, texts, media, padding_side="right")
        tokenizer = self.processor.tokenizer
        pad = tokenizer.pad_token_id
        sequences, labels = [], []
        for i, row in enumerate(rows):
            prompt = batch["input_ids"][i][batch["attention_mask"][i].bool()]
            answer = completion_suffix(self.processor, self.family, answer_text(row))
            target = torch.tensor(tokenizer(answer, add_special_tokens=False)["input_ids"])
            if self.max_length:  # cut the answer, never the prompt (its media tokens must stay)
                target = target[: max(0, self.max_length - len(prompt))]
            ids = torch.cat([prompt, target])
            label = torch.cat([torch.full_like(prompt, -100), target])
            sequences.append(ids)
            labels.append(label)
        length = max(len(s) for s in sequences)
        input_ids = torch.full((len(rows), length), pad, dtype=torch.long)
        attention = torch.zeros((len(rows), length), dtype=torch.long)
        label_ids = torch.full((len(rows), length), -100, dtype=torch.long)
        for i, (ids, label) in enumerate(zip(sequences, labels)):
            input_ids[i, : len(ids)] = ids
            attention[i, : len(ids)] = 1
            label_ids[i, : len(ids)] = label
        out = {k: v for k, v in batch.items() if k not in ("input_ids", "attention_mask")}
        if "mm_token_type_ids" in out:  # per-token: pad to the new length
            types = torch.zeros_like(input_ids)
            for i in range(len(rows)):
                n = int(batch["attention_mask"][i].sum())
                types[i, :n] = batch["mm_token_type_ids"][i][batch["attention_mask"][i].bool()]
            out["mm_token_type_ids"] = types
        return {**out, "input_ids": input_ids, "attention_mask": attention, "labels": label_ids}


@torch.no_grad()
def backbone_greedy_answers(
    model,
    processor,
    family: Family,
    rows: list[dict],
    media_loader,
    max_new_tokens: int = 8,
    batch_size: int = 16,
) -> list[str]:
    """Greedy answers of a backbone model to each row's prompt, given its media (left padded)."""
    was_training = model.training
    model.eval()
    answers = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        media = [media_loader(row) for row in chunk]
        texts = [
            render_prompt(processor, family, prompt_text(row), *media_flags(family, m))
            for row, m in zip(chunk, media)
        ]
        inputs = encode_prompts(processor, family, texts, media).to(model.device)
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        new = out[:, inputs["input_ids"].shape[1] :]
        answers.extend(processor.batch_decode(new, skip_special_tokens=True))
    model.train(was_training)
    return answers
