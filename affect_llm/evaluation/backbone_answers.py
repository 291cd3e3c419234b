"""Benchmark answers from a pretrained omni / VL / audio backbone (zero-shot or after training).

The same runners, questions, cue lines, answer reading and scoring as for AffectLLM; what differs is
how an item reaches the model: its clip's full frames (sampled at the family's frame settings,
decoded once into the run's feature cache) and its 16 kHz audio go through the family's own
processor and chat template (`affect_llm.modeling.backbones`), and the prompts of a batch are
left-padded for greedy `generate`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from affect_llm.data.builder import BuildConfig, SourceItem
from affect_llm.data.cache import FeatureCache, content_key
from affect_llm.data.frames import FrameSettings, decode_frames
from affect_llm.evaluation.common import Checkpoint
from affect_llm.evaluation.generation import GenerationConfig, perceive_item
from affect_llm.evaluation.options import RunnerOptions
from affect_llm.modeling.backbone_generation import generate_texts
from affect_llm.modeling.backbones import media_flags, render_prompt
from affect_llm.modeling.families import Family
from affect_llm.perception.clip import PerceptionConfig


def frame_settings(options: RunnerOptions) -> FrameSettings:
    """How a video family's frames are sampled: the runner's flags, else `FrameSettings`' defaults."""
    given = {
        "fps": options.video_fps,
        "max_frames": options.video_max_frames,
        "max_pixels": options.video_max_pixels,
    }
    return FrameSettings(**{k: v for k, v in given.items() if v is not None})


def cached_frames(
    cache: FeatureCache, sample_id: str, path: str | os.PathLike, settings: FrameSettings
) -> tuple[np.ndarray, float]:
    """(frames, fps) of a clip, decoded on the first request and then read from `cache`."""
    key = "frames-" + content_key([path], settings.as_dict())
    hit = cache.get(sample_id, key, load_arrays=True)
    if hit is not None and hit[1] is not None:
        return hit[1]["frames"], float(hit[1]["fps"][0])
    frames, fps = decode_frames(path, settings)
    arrays = {"frames": frames, "fps": np.asarray([fps], np.float64)}
    cache.put(sample_id, key, arrays, {"frames": len(frames), "fps": fps})
    return frames, fps


def item_media(
    item: SourceItem,
    family: Family,
    frames: FrameSettings,
    cache: FeatureCache,
    max_audio_seconds: float | None = None,
) -> dict[str, Any]:
    """The media dict (`affect_llm.modeling.backbones`) of an item, with what the family reads.

    A clip without an audio stream is read without audio (the answer rests on the rest); an
    unreadable video raises, so the item gets an error line.
    """
    from affect_llm.perception.audio import load_audio
    from affect_llm.perception.video import MediaError

    media: dict[str, Any] = {"video": None, "audio": None}
    if family.sees_video and item.video:
        media["video"], media["video_fps"] = cached_frames(cache, item.id, item.video, frames)
        media["video_max_pixels"] = frames.max_pixels
    source = item.audio or item.video
    if family.sees_audio and source:
        try:
            media["audio"] = load_audio(source, max_seconds=max_audio_seconds)
        except MediaError:
            if not (family.sees_video and media["video"] is not None) and item.audio:
                raise  # an audio-only item whose audio cannot be read has nothing left
    return media


class FamilyInputs:
    """How a backbone family reads a benchmark item (see `generation.AffectInputs`)."""

    def __init__(
        self, model, processor, family: Family, frames: FrameSettings, cues: Sequence[str]
    ):
        self.model, self.processor, self.family = model, processor, family
        self.frames = frames
        self.cues = tuple(cues)

    def perceive(self, item: SourceItem, build: BuildConfig, cache: FeatureCache):
        """(meta for the cue lines, media dict); perception runs only for cues beyond the
        subtitle (AUs, body, voice), and its results are cached like an AffectLLM run's."""
        meta: dict[str, Any] = {}
        if set(self.cues) - {"subtitle"}:
            meta, _ = perceive_item(item, build, cache)
        media = item_media(
            item, self.family, self.frames, cache, build.perception.max_audio_seconds
        )
        return meta, media

    def render(self, prompt: str, media: dict[str, Any]) -> str:
        has_video, has_audio = media_flags(self.family, media)
        return render_prompt(self.processor, self.family, prompt, has_video, has_audio)

    def generate(self, texts: list[str], media: list[dict], kwargs: dict[str, Any]) -> list[str]:
        return generate_texts(self.model, self.processor, self.family, texts, media, **kwargs)


class FamilyCheckpoint(Checkpoint):
    """A backbone family checkpoint in the runners: `Checkpoint` with the family's inputs."""

    family: Family
    frames: FrameSettings

    @classmethod
    def load(
        cls,
        path: str,
        options: RunnerOptions,
        generation: GenerationConfig,
        perception: PerceptionConfig,
    ) -> FamilyCheckpoint:
        from affect_llm.modeling.backbones import load_backbone

        model, processor, family = load_backbone(path, dtype=options.dtype)
        model.to(options.device).eval()
        checkpoint = cls(path, model, processor, generation, perception, options)
        checkpoint.family = family
        checkpoint.frames = frame_settings(options)
        return checkpoint

    def resume_settings(self) -> dict[str, Any]:
        """AffectLLM's settings (the model's fingerprint included), plus the family and frames."""
        return {
            **super().resume_settings(),
            "family": self.family.name,
            "frames": self.frames.as_dict(),
        }

    def answer_inputs(self) -> FamilyInputs:
        return FamilyInputs(
            self.model, self.processor, self.family, self.frames, self.generation.cues
        )
