"""Model inputs from cached encoder outputs: placeholders expanded, features padded with masks.

The processor turns raw media into encoder inputs; rows that carry frozen-encoder outputs
instead (`face_features` / `audio_features`, (steps, dim) each) are batched here, for GRPO prompts
and for SFT rows alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from affect_llm.modeling.processing_affect_llm import completion_text, render_prompt


def has_cached_features(media: dict[str, Any]) -> bool:
    """Whether a media dict carries cached encoder outputs rather than raw media."""
    return media.get("face_features") is not None or media.get("audio_features") is not None


def trim_padding(features: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop trailing steps that no sample uses (e.g. Whisper's padding to 30 s); the projector
    reads only valid steps, so its output is unchanged and each pass reads fewer steps."""
    used = mask.bool().any(0).nonzero()
    length = int(used.max()) + 1 if used.numel() else 1
    return features[:, :length], mask[:, :length]


def encode_cached_prompts(processor, texts: list[str], media: list[dict]):
    """(token id lists, {face_features, face_features_mask, audio_features, ...}) for the texts.

    Each `<|face|>` / `<|audio|>` becomes the model's token count when the row has that feature,
    and is removed when it has not (as the processor does for raw media).
    """
    expanded = []
    for text, row in zip(texts, media):
        for token, count, key in (
            (processor.face_token, processor.num_face_tokens, "face_features"),
            (processor.audio_token, processor.num_audio_tokens, "audio_features"),
        ):
            text = text.replace(token, token * count if row.get(key) is not None else "")
        expanded.append(text)
    ids = processor.tokenizer(expanded, add_special_tokens=False)["input_ids"]
    tensors = {}
    for name in ("face", "audio"):
        feats = [m.get(f"{name}_features") for m in media]
        present = [np.asarray(f) for f in feats if f is not None]
        if not present:
            continue
        steps = max(f.shape[0] for f in present)
        values = torch.zeros(len(feats), steps, present[0].shape[-1])
        mask = torch.zeros(len(feats), steps, dtype=torch.bool)
        for i, f in enumerate(feats):
            if f is not None:
                f = torch.as_tensor(np.asarray(f), dtype=torch.float32)
                values[i, : len(f)] = f
                mask[i, : len(f)] = True
        tensors[f"{name}_features"], tensors[f"{name}_features_mask"] = values, mask
    return ids, tensors


class CachedFeatureCollator:
    """SFT batches from rows with cached encoder outputs; prompt tokens masked from `labels`."""

    def __init__(self, processor, max_length: int | None = None):
        self.processor = processor
        self.max_length = max_length

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        tokenizer = self.processor.tokenizer
        prompts = [render_prompt(self.processor, row["prompt"]) for row in rows]
        prompt_ids, tensors = encode_cached_prompts(self.processor, prompts, rows)
        sequences, label_rows = [], []
        for ids, row in zip(prompt_ids, rows):
            answer = tokenizer(completion_text(self.processor, row["completion"]), add_special_tokens=False)["input_ids"]  # fmt: skip
            seq, labels = list(ids) + answer, [-100] * len(ids) + answer
            if self.max_length is not None:
                seq, labels = seq[: self.max_length], labels[: self.max_length]
            sequences.append(seq)
            label_rows.append(labels)
        length = max(len(s) for s in sequences)
        input_ids = torch.full((len(rows), length), tokenizer.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros(len(rows), length, dtype=torch.long)
        labels = torch.full((len(rows), length), -100, dtype=torch.long)
        for i, (seq, lab) in enumerate(zip(sequences, label_rows)):
            input_ids[i, : len(seq)] = torch.tensor(seq)
            attention_mask[i, : len(seq)] = 1
            labels[i, : len(lab)] = torch.tensor(lab)
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "labels": labels,
            **tensors,
        }
