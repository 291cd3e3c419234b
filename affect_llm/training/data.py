"""Training rows from a built data folder (samples.jsonl + feature cache) and their media.

A row is what the SFT collator and the GRPO trainer read: `id`, `prompt` (chat messages whose user
turn starts with `<|face|>` / `<|audio|>`), `completion`, and the label columns the rewards use
(`openset`, `label`). Arrays stay out of the `datasets.Dataset` (it would copy them into Arrow
lists); a media loader returns them per row from the feature cache when a batch is built.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from affect_llm.data.cache import cache_encoder_outputs, load_features
from affect_llm.data.schema import read_samples, samples_path
from affect_llm.data.templates import CUES, render
from affect_llm.modeling.model_io import RAW_AUDIO_KEYS, RAW_FACE_KEYS
from affect_llm.modeling.training_modes import unwrap_peft

logger = logging.getLogger(__name__)

FACE_INPUTS = ("aus", "faces")
# Cached encoder outputs written by `cache_encoder_features` (arrays of the cache entry).
CACHED_FACE_KEY, CACHED_AUDIO_KEY = "encoder/face", "encoder/audio"


def _placeholders(row: dict, face_input: str) -> str:
    modalities = row.get("modalities") or {}
    has_face = modalities.get(face_input if face_input == "aus" else "face", False)
    return ("<|face|>" if has_face else "") + ("<|audio|>" if modalities.get("audio") else "")


def training_rows(
    path: str | os.PathLike,
    splits: Sequence[str] | None = ("train",),
    task: str | None = None,
    seed: int = 0,
    cues: Sequence[str] = CUES,
    candidates: Sequence[str] | None = None,
    face_input: str = "aus",
    dropped: list[tuple[str, str]] | None = None,
    placeholders: bool = True,
) -> list[dict[str, Any]]:
    """Chat rows for every sample of `splits` (None: all) rendered with `templates.render`.

    `face_input` is what the model's face encoder reads: "aus" (AU sequences) or "faces" (crops);
    the prompt gets a placeholder only for the modalities the sample has. A sample that cannot be
    rendered is skipped with a warning naming it and the reason, or, given a `dropped` list, is
    appended to it as (id, reason) for one summary (`affect_llm.training.data_loading`).
    Without `placeholders` (pretrained backbones, whose processor adds the media) the prompt is
    the instruction alone.
    """
    if face_input not in FACE_INPUTS:
        raise ValueError(f"face_input must be one of {FACE_INPUTS}, got {face_input!r}")
    rows = []
    for sample in read_samples(path):
        if splits is not None and sample.get("split", "train") not in splits:
            continue
        try:
            instruction = render(sample, task=task, seed=seed, cues=cues, candidates=candidates)
        except ValueError as error:
            if dropped is None:
                logger.warning("sample %s skipped: %s", sample.get("id"), error)
            else:
                dropped.append((str(sample.get("id")), str(error)))
            continue
        marks = _placeholders(sample, face_input) if placeholders else ""
        prompt = f"{marks}\n{instruction.prompt}".lstrip("\n")
        label = sample.get("label") or (sample.get("openset") or [None])[0]
        rows.append(
            {
                "id": sample["id"],
                "prompt": [{"role": "user", "content": prompt}],
                "completion": [{"role": "assistant", "content": instruction.answer}],
                "label": label,
                "openset": list(sample.get("openset") or ([label] if label else [])),
                "split": sample.get("split", "train"),
                "features": sample.get("features"),
            }
        )
    return rows


class CachedMedia:
    """Media loader over a build folder: a row's AUs / face crops / audio from its cache entry.

    With `use_cached_features`, the frozen encoders' outputs stored by `cache_encoder_features`
    are returned instead (`face_features` / `audio_features` and their masks), so training never
    runs the encoders.
    """

    def __init__(
        self, path: str | os.PathLike, face_input: str = "aus", use_cached_features: bool = False
    ):
        self.samples_path = Path(samples_path(path))
        self.face_input = face_input
        self.use_cached_features = use_cached_features
        self._features = {sample["id"]: sample.get("features") for sample in read_samples(path)}

    def __call__(self, row: dict) -> dict[str, Any]:
        sample_id = row["id"]
        if sample_id not in self._features:
            raise KeyError(f"sample {sample_id!r}: not in {self.samples_path}")
        arrays = load_features(
            self.samples_path, {"id": sample_id, "features": self._features[sample_id]}
        )
        if self.use_cached_features:
            return _cached_features(sample_id, arrays)
        media: dict[str, Any] = {"faces": None, "aus": None, "audio": arrays.get("audio")}
        if self.face_input == "aus":
            media["aus"] = arrays.get("aus")
        elif "faces" in arrays:
            present = arrays.get("face_present")
            faces = arrays["faces"]
            if present is not None and present.any():
                faces = faces[present.astype(bool)]
            media["faces"] = faces if present is None or present.any() else None
        return media


def _cached_features(sample_id: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    media: dict[str, Any] = {}
    for key, name in ((CACHED_FACE_KEY, "face"), (CACHED_AUDIO_KEY, "audio")):
        if key in arrays and arrays[key].size:  # an empty array: the sample lacks the modality
            media[f"{name}_features"] = arrays[key]
    if not media:
        raise KeyError(
            f"sample {sample_id!r}: no cached encoder features; run cache_encoder_features first"
        )
    return media


def combine_media(*loaders: Callable[[dict], dict]) -> Callable[[dict], dict]:
    """One media loader that asks each loader in turn (the first that knows the row's id wins)."""

    def load(row: dict) -> dict:
        errors = []
        for loader in loaders:
            try:
                return loader(row)
            except KeyError as error:
                errors.append(str(error))
        raise KeyError(f"sample {row.get('id')!r}: no loader has its media ({'; '.join(errors)})")

    return load


class MediaCollator:
    """Wraps a collator (e.g. `AffectLLMDataCollator`): adds each row's media before batching."""

    def __init__(
        self, collator: Callable[[list[dict]], dict], media_loader: Callable[[dict], dict]
    ):
        self.collator = collator
        self.media_loader = media_loader

    def __call__(self, rows: list[dict]) -> dict:
        return self.collator([{**row, **self.media_loader(row)} for row in rows])


def cache_encoder_features(path: str | os.PathLike, model, processor) -> int:
    """Store the model's frozen face / audio encoder outputs in every sample's cache entry.

    Adds `encoder/face` and `encoder/audio` ((steps, dim) arrays, masked steps dropped) once per
    sample (resumable; see `affect_llm.data.cache.cache_encoder_outputs`); `CachedMedia(...,
    use_cached_features=True)` then serves them, so training never runs the encoders. Only valid
    while those encoders stay frozen. Returns how many arrays were computed.
    """
    core = unwrap_peft(model)
    face_key = "aus" if processor.face_encoder_type == "au" else "faces"
    for name, encoder in (("face", core.model.face_encoder), ("audio", core.model.audio_encoder)):
        if any(p.requires_grad for p in encoder.parameters()):
            raise ValueError(f"the {name} encoder is trainable: its outputs cannot be cached")

    def encode(name: str):
        def run(arrays: dict[str, np.ndarray]) -> np.ndarray:
            if name == "face":
                value = arrays.get(face_key)
                if face_key == "faces" and value is not None and "face_present" in arrays:
                    value = value[arrays["face_present"].astype(bool)]
                media = {face_key: [value if value is not None and len(value) else None]}
            else:
                media = {"audio": [arrays.get("audio")]}
            token = "<|face|>" if name == "face" else "<|audio|>"
            present = media[next(iter(media))][0] is not None
            if not present:
                return np.zeros((0, 0), np.float32)
            inputs = processor(text=[token], **media)
            with torch.no_grad():
                keys = RAW_FACE_KEYS if name == "face" else RAW_AUDIO_KEYS
                out = core.encode_media(**{k: v for k, v in inputs.items() if k in keys})
            feats, mask = out[f"{name}_features"][0], out[f"{name}_features_mask"][0]
            return feats[mask.bool()].float().cpu().numpy()

        return run

    return sum(cache_encoder_outputs(path, encode(name), name) for name in ("face", "audio"))
