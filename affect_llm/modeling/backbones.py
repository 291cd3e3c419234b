"""Pretrained omni / VL / audio backbones: load one, render its prompts, turn media into inputs.

The one home of everything that differs between families at run time, so SFT, GRPO, the
benchmark runners and the chat all call the same three functions:

- `load_backbone(path)`: transformers' own model class for the checkpoint's family (a full
  Qwen2.5-Omni checkpoint loads its thinker only) and `AutoProcessor`.
- `render_prompt(processor, family, text, ...)`: the family's own chat template, with `video` /
  `audio` content parts for the media the row has.
- `encode_prompts(processor, family, texts, media)`: the processor's model inputs for a batch:
  token ids with the media placeholders expanded, `pixel_values_videos` + `video_grid_thw` + the
  seconds per temporal grid at the true sampling rate, and `input_features` +
  `feature_attention_mask`. For Qwen2.5-Omni the clip's own audio is interleaved with its frames in
  time (`load_audio_from_video`, the old `use_audio_in_video`).

A media dict is `{"video": uint8 (T, H, W, 3) frames or None, "video_fps": the rate they were
sampled at, "video_max_pixels": the pixel cap per frame, "audio": float32 16 kHz mono waveform or
None}` (`affect_llm.data.frames` samples the frames).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from affect_llm.errors import InputError
from affect_llm.modeling.families import OMNI, Family, family_of, read_model_type

SAMPLE_RATE = 16000
DEFAULT_MAX_PIXELS = 256 * 28 * 28  # per frame (affect_llm.data.frames.FrameSettings)
MIN_PIXELS = 4 * 28 * 28  # smaller frames are scaled up to this many pixels
# Keys of the processor's output that the model reads besides the token ids.
MEDIA_INPUT_KEYS = (
    "pixel_values_videos",
    "video_grid_thw",
    "video_second_per_grid",
    "second_per_grid_ts",
    "input_features",
    "feature_attention_mask",
)


def _dtype(name: str | None):
    import torch

    return None if name in (None, "auto") else getattr(torch, name)


def load_backbone(
    path: str | os.PathLike,
    dtype: str | None = None,
    attn_implementation: str | None = None,
):
    """(model, processor, family) for a pretrained omni / VL / audio checkpoint folder.

    A full Qwen2.5-Omni checkpoint (`model_type` qwen2_5_omni) loads only its thinker: the talker
    and token2wav weights are never read into the model (speech output is not trained here).
    """
    from transformers import AutoProcessor

    family = family_of(path)
    model_type = read_model_type(path)
    cls = family.model_class(model_type)
    kwargs: dict[str, Any] = {"dtype": _dtype(dtype)}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if model_type == "qwen2_5_omni":
        from transformers import Qwen2_5OmniThinkerConfig

        full = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
        kwargs["config"] = Qwen2_5OmniThinkerConfig(**full["thinker_config"])
        kwargs["key_mapping"] = {r"^thinker\.": ""}
    try:
        processor = AutoProcessor.from_pretrained(os.fspath(path), trust_remote_code=False)
    except (OSError, ValueError):  # a folder with the weights but not the processor's files
        raise InputError(
            f"{path}: no processor of a {family.title} checkpoint (expected its tokenizer, "
            "preprocessor and chat template files beside config.json, as the release has them)"
        ) from None
    try:
        model = cls.from_pretrained(os.fspath(path), trust_remote_code=False, **kwargs)
    except OSError as error:
        raise InputError(f"{path}: cannot load the {family.title} checkpoint ({error})") from None
    return model, processor, family


def content_parts(family: Family, text: str, has_video: bool, has_audio: bool) -> list[dict]:
    """The user turn's content parts: the media the family reads, then the text.

    Qwen2.5-Omni hears a clip's audio inside its video part (interleaved in time), so it gets a
    separate audio part only for a clip without frames.
    """
    parts: list[dict] = []
    video = has_video and family.sees_video
    if video:
        parts.append({"type": "video"})
    if has_audio and family.sees_audio and not (family is OMNI and video):
        parts.append({"type": "audio"})
    parts.append({"type": "text", "text": text})
    return parts


def render_prompt(
    processor,
    family: Family,
    text: str,
    has_video: bool = False,
    has_audio: bool = False,
    answer: str | None = None,
) -> str:
    """The prompt in the family's chat template (with the assistant turn opened, or with
    `answer` as the assistant turn when given)."""
    messages = [{"role": "user", "content": content_parts(family, text, has_video, has_audio)}]
    if answer is None:
        return processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    messages.append({"role": "assistant", "content": [{"type": "text", "text": answer}]})
    return processor.apply_chat_template(messages, tokenize=False)


def completion_suffix(processor, family: Family, answer: str) -> str:
    """The text the model must write after the prompt: the answer and the template's turn end."""
    prompt = render_prompt(processor, family, "x")
    full = render_prompt(processor, family, "x", answer=answer)
    if not full.startswith(prompt):
        raise ValueError("the chat template does not extend the prompt with the answer")
    return full[len(prompt) :]


def media_flags(family: Family, media: dict) -> tuple[bool, bool]:
    """(has_video, has_audio) as the family will read them from `media`."""
    has_video = family.sees_video and media.get("video") is not None
    has_audio = family.sees_audio and media.get("audio") is not None
    return has_video, has_audio


def encode_prompts(
    processor,
    family: Family,
    texts: list[str],
    media: list[dict],
    padding_side: str = "left",
):
    """The processor's batch (PyTorch tensors) for rendered prompts `texts` and their media.

    Each row goes through the processor on its own, with its own clip's sampling rate (the
    processors take one `fps` per call), and the rows are then padded (token ids, on
    `padding_side`) or concatenated (media tensors) into one batch.
    """
    if family is OMNI:
        media = [_with_soundtrack(item) for item in media]
    rows = [_encode_one(processor, family, text, item) for text, item in zip(texts, media)]
    batch = _merge(rows, processor.tokenizer.pad_token_id, padding_side)
    if family is OMNI and any(item.get("video") is not None for item in media):
        # Qwen2.5-Omni places a video's audio among its frames in time (TMRoPE) only when the
        # forward pass and generate() are told so; the processor's outputs do not carry it
        batch["use_audio_in_video"] = True
    return batch


def _with_soundtrack(item: dict) -> dict:
    """An Omni row's clip with frames but no audio track gets the silence it holds.

    `use_audio_in_video` applies to a whole batch, so every video in it must carry audio: a silent
    clip is given its true soundtrack (zeros over the frames' span) rather than breaking the batch.
    """
    if item.get("video") is None or item.get("audio") is not None:
        return item
    seconds = len(item["video"]) / float(item["video_fps"])
    return {**item, "audio": np.zeros(max(1, round(seconds * SAMPLE_RATE)), np.float32)}


def _encode_one(processor, family: Family, text: str, item: dict):
    has_video, has_audio = media_flags(family, item)
    kwargs: dict[str, Any] = {"text": [text], "return_tensors": "pt"}
    if has_video:
        frames = np.asarray(item["video"])
        fps = float(item["video_fps"])
        kwargs["videos"] = [frames]
        # the true sampling rate of the clip's frames: the processor turns it into seconds per
        # temporal grid (without it Qwen2.5-Omni assumes 2 fps); the frames are not resampled
        max_pixels = int(item.get("video_max_pixels") or DEFAULT_MAX_PIXELS)
        kwargs["videos_kwargs"] = {
            "fps": fps,
            "do_sample_frames": False,
            "size": {"shortest_edge": min(MIN_PIXELS, max_pixels), "longest_edge": max_pixels},
            "cap_pixels_per_frame": True,
        }
        if family is not OMNI:
            from transformers.video_utils import VideoMetadata

            kwargs["videos_kwargs"]["video_metadata"] = [
                VideoMetadata(
                    total_num_frames=len(frames), fps=fps, frames_indices=list(range(len(frames)))
                )
            ]
    if has_audio:
        kwargs["audio"] = [np.asarray(item["audio"], dtype=np.float32)]
        kwargs["sampling_rate"] = SAMPLE_RATE
        if family is OMNI and has_video:
            kwargs["load_audio_from_video"] = True  # interleave the clip's audio with its frames
            kwargs["audio_from_video_indices"] = [0]
    return processor(**kwargs)


# Per-token rows padded to one length (value used for padding); every other tensor is stacked.
_PADDED = {"input_ids": None, "attention_mask": 0, "mm_token_type_ids": 0}


def _merge(rows: list, pad_token_id: int, padding_side: str):
    import torch
    from transformers import BatchFeature

    length = max(row["input_ids"].shape[1] for row in rows)
    merged: dict[str, Any] = {}
    for key in rows[0]:
        values = [row[key] for row in rows]
        if key in _PADDED:
            fill = pad_token_id if _PADDED[key] is None else _PADDED[key]
            padded = []
            for value in values:
                pad = value.new_full((1, length - value.shape[1]), fill)
                padded.append(
                    torch.cat([pad, value] if padding_side == "left" else [value, pad], 1)
                )
            merged[key] = torch.cat(padded)
        elif isinstance(values[0], torch.Tensor):
            merged[key] = torch.cat(values)
        else:
            merged[key] = [v for value in values for v in value]
    return BatchFeature(merged)


def media_token_counts(processor, input_ids) -> dict[str, int]:
    """How many video / audio placeholder tokens a row of ids holds (for summaries)."""
    tokenizer = processor.tokenizer
    counts = {}
    for name in ("video", "audio"):
        token = getattr(processor, f"{name}_token", None) or getattr(
            tokenizer, f"{name}_token", None
        )
        if token is None:
            continue
        token_id = tokenizer.convert_tokens_to_ids(token)
        counts[name] = int((np.asarray(input_ids) == token_id).sum())
    return counts
