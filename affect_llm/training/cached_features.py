"""Model inputs from cached encoder outputs: placeholders expanded, features padded with masks.

The processor turns raw media into encoder inputs; rows that carry frozen-encoder outputs
instead (`face_features` / `audio_features`, (steps, dim) each) are batched here, for GRPO prompts
and for SFT rows alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from affect_llm.training.collators import AffectLLMDataCollator


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


class CachedFeatureCollator(AffectLLMDataCollator):
    """SFT batches from rows with cached encoder outputs; prompt tokens masked from `labels`."""

    def encode_prompts(
        self, prompts: list[str], rows: list[dict]
    ) -> tuple[list[list[int]], dict[str, torch.Tensor]]:
        return encode_cached_prompts(self.processor, prompts, rows)
