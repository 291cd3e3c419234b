"""Full video frames for pretrained omni / VL backbones, decoded once and kept in the feature cache.

Those models were trained on whole frames (the scene, not face crops) sampled at a fixed rate, so
a clip is sampled at `fps` frames a second (at most `max_frames`, at least `min_frames`), at the
centres of equal segments of the clip, scaled to at most `max_pixels` a frame. The rate returned
is the true one (frames / duration: the interval between two sampled frames), which the processor
needs to place the frames in time. The frames are stored beside the sample's other cached arrays
(content-addressed by the clip's bytes and these settings), so epochs and GRPO steps read them from
the cache instead of decoding the video again.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affect_llm.data.cache import FeatureCache, content_key
from affect_llm.perception.video import probe, sample_frames


@dataclass(frozen=True)
class FrameSettings:
    """How frames are sampled (see the module doc)."""

    fps: float = 2.0
    max_frames: int = 32
    max_pixels: int = 256 * 28 * 28
    min_frames: int = 2

    def frame_count(self, duration: float) -> int:
        wanted = round(duration * self.fps) if duration and duration > 0 else self.min_frames
        return int(min(self.max_frames, max(self.min_frames, wanted)))

    def as_dict(self) -> dict:
        return {
            "fps": self.fps,
            "max_frames": self.max_frames,
            "max_pixels": self.max_pixels,
            "min_frames": self.min_frames,
        }


def decode_frames(path: str | os.PathLike, settings: FrameSettings) -> tuple[np.ndarray, float]:
    """(uint8 T x H x W x 3 frames, their sampling rate in frames per second) of a clip."""
    info = probe(path)
    duration = info.duration or 0.0
    count = settings.frame_count(duration)
    max_side = None
    if info.width and info.height and info.width * info.height > settings.max_pixels:
        scale = math.sqrt(settings.max_pixels / (info.width * info.height))
        max_side = max(2, int(max(info.width, info.height) * scale))
    sampled = sample_frames(path, count, max_side=max_side)
    # uniform_timestamps puts frame k at (k + 0.5) * duration / count: one frame per interval
    rate = count / duration if duration > 0 else settings.fps
    return sampled.frames, float(rate)


class FrameCache:
    """A sample's frames from its build folder's feature cache, decoded on the first request."""

    def __init__(self, samples_dir: str | os.PathLike, settings: FrameSettings):
        self.samples_dir = Path(samples_dir)
        self.settings = settings

    def _cache(self, sample: dict) -> FeatureCache | None:
        features = sample.get("features")
        if not features:
            return None
        return FeatureCache((self.samples_dir / features).parent.parent)

    def video_path(self, sample: dict) -> Path | None:
        video = sample.get("video")
        if not video:
            return None
        path = Path(video)
        return path if path.is_absolute() else self.samples_dir / path

    def __call__(self, sample: dict) -> tuple[np.ndarray, float] | None:
        """(frames, fps) of the sample's clip, or None when it has no video."""
        path = self.video_path(sample)
        if path is None or not (sample.get("modalities") or {}).get("video", True):
            return None
        key = "frames-" + content_key([path], self.settings.as_dict())
        cache = self._cache(sample)
        sample_id = str(sample["id"])
        if cache is not None:
            hit = cache.get(sample_id, key, load_arrays=True)
            if hit is not None:
                return hit[1]["frames"], float(hit[1]["fps"][0])
        frames, fps = decode_frames(path, self.settings)
        if cache is not None:
            arrays = {"frames": frames, "fps": np.asarray([fps], np.float64)}
            cache.put(sample_id, key, arrays, {"frames": len(frames), "fps": fps})
        return frames, fps
