"""GRPO batches for pretrained omni / VL / audio backbones: the processor's outputs, per row.

`AffectGRPOTrainer` carries a batch's media with the batch, as TRL carries images: here each
distinct clip goes through the family's processor once (`encode_prompts`, its own true fps), and
every completion row holds a reference to its clip's tensors (`pixel_values_videos`,
`video_grid_thw`, `input_features`, ...). Per-row lists survive TRL's shuffling and splitting of
the batch unchanged; a pass over rows `start:end` concatenates theirs (`collate_rows`), so rows of
one batch may have different numbers of video patches or no audio at all, at any chunk size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from affect_llm.errors import InputError
from affect_llm.modeling.backbones import (
    MEDIA_INPUT_KEYS,
    encode_prompts,
    media_flags,
    render_prompt,
)
from affect_llm.modeling.families import OMNI, Family
from affect_llm.training.backbone_data import prompt_text

# Per row: whether its clip's audio is interleaved with its frames (Qwen2.5-Omni's
# `use_audio_in_video`, which the model needs to lay out the rotary positions).
AUDIO_IN_VIDEO = "media_audio_in_video"
# The model's per-token types (VL: 0 text, 1 image, 2 video) over prompt + completion, and, per
# row, those of its prompt alone.
TOKEN_TYPES = "mm_token_type_ids"
PROMPT_TOKEN_TYPES = "media_prompt_token_types"
_MEDIA_WORDS = ("image", "video", "audio", "vision")


def encode_rows(
    processor,
    family: Family,
    rows: list[dict[str, Any]],
    media_loader: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[list[list[int]], dict[str, Any]]:
    """(prompt token ids per row, media per row) for a GRPO generation batch.

    Rows sharing an `id` (TRL repeats each prompt `num_generations` times) are loaded, rendered
    and run through the processor once; their rows hold the same tensors.
    """
    keys = [row.get("id", ("row", i)) for i, row in enumerate(rows)]
    encoded: dict[Any, tuple[list[int], dict[str, torch.Tensor], bool]] = {}
    for key, row in zip(keys, rows):
        if key in encoded:
            continue
        media = media_loader(row)
        has_video, has_audio = media_flags(family, media)
        text = render_prompt(processor, family, prompt_text(row), has_video, has_audio)
        batch = encode_prompts(processor, family, [text], [media])
        ids = batch["input_ids"][0][batch["attention_mask"][0].bool()].tolist()
        tensors = {k: batch[k] for k in MEDIA_INPUT_KEYS if k in batch}
        if TOKEN_TYPES in batch:
            tensors[PROMPT_TOKEN_TYPES] = batch[TOKEN_TYPES][0][batch["attention_mask"][0].bool()]
        encoded[key] = ids, tensors, family is OMNI and has_video and has_audio
    prompt_ids = [encoded[key][0] for key in keys]
    names = sorted({name for _, tensors, _ in encoded.values() for name in tensors})
    media: dict[str, Any] = {name: [encoded[key][1].get(name) for key in keys] for name in names}
    flags = [encoded[key][2] for key in keys]
    if family is OMNI and len(set(flags)) > 1:
        # `use_audio_in_video` is one flag per forward pass in the model: it cannot lay out the
        # rotary positions of interleaved and of separate audio in the same batch
        silent = sorted({str(key) for key, (_, _, flag) in encoded.items() if not flag})
        raise InputError(
            f"samples {', '.join(silent)}: a Qwen2.5-Omni GRPO batch mixes clips with and "
            "without an audio track, which the model cannot place in one pass; train on clips "
            "that all have audio (or none), or with one prompt per device batch"
        )
    media[AUDIO_IN_VIDEO] = torch.tensor(flags)
    return prompt_ids, media


def collate_rows(media: dict[str, Any], start: int, end: int, device) -> dict[str, Any]:
    """The model inputs of rows `start:end`: each key's row tensors concatenated in row order
    (rows without that medium hold None and add nothing); per-token keys are left out."""
    out: dict[str, Any] = {}
    for name in MEDIA_INPUT_KEYS:
        parts = [part for part in media.get(name, [])[start:end] if part is not None]
        if parts:
            out[name] = torch.cat(parts).to(device)
    if AUDIO_IN_VIDEO in media and bool(media[AUDIO_IN_VIDEO][start:end].any()):
        out["use_audio_in_video"] = True
    return out


def generation_fields(media: dict[str, Any], rows: list[int], device) -> dict[str, Any]:
    """The media of `rows` as TRL's `_generate_single_turn` takes them (its `multimodal_fields`):
    tensors as they are, per-token lists left-padded there with the prompt ids."""
    picked = {
        name: [values[i] for i in rows]
        for name, values in media.items()
        if name not in (AUDIO_IN_VIDEO, PROMPT_TOKEN_TYPES)
    }
    fields = collate_rows(
        {**picked, AUDIO_IN_VIDEO: media[AUDIO_IN_VIDEO][rows]}, 0, len(rows), device
    )
    if PROMPT_TOKEN_TYPES in media:
        fields[TOKEN_TYPES] = [media[PROMPT_TOKEN_TYPES][i].tolist() for i in rows]
    return fields


def completion_token_types(
    media: dict[str, Any], prompt_mask: torch.Tensor, completion_length: int
) -> torch.Tensor | None:
    """Token types for left-padded prompt + completion (completion and padding are text, 0)."""
    rows = media.get(PROMPT_TOKEN_TYPES)
    if rows is None:
        return None
    types = torch.zeros(
        prompt_mask.size(0), prompt_mask.size(1) + completion_length, dtype=torch.long
    )
    for i, row in enumerate(rows):
        types[i, prompt_mask.size(1) - len(row) : prompt_mask.size(1)] = row
    return types.to(prompt_mask.device)


def media_token_ids(processor) -> list[int]:
    """The tokenizer's media placeholder tokens and their begin / end markers (image, video,
    audio, vision): sampled, they would ask the model for media it was not given."""
    tokenizer = getattr(processor, "tokenizer", processor)
    return sorted(
        token_id
        for token, token_id in tokenizer.get_added_vocab().items()
        if any(word in token.lower() for word in _MEDIA_WORDS)
    )
