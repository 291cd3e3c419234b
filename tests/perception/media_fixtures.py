"""Short clips generated on the fly for perception and builder tests (PyAV only, no system tools)."""

from __future__ import annotations

from fractions import Fraction
from importlib import resources
from pathlib import Path

import av
import numpy as np

SAMPLES = Path(str(resources.files("affect_llm") / "resources" / "samples"))
HAPPY = SAMPLES / "hopper_happy.mp4"


def hopper_frames(count: int = 12) -> np.ndarray:
    """Real face frames decoded from a bundled clip (every frame, in order)."""
    with av.open(str(HAPPY)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return np.stack([frames[i % len(frames)] for i in range(count)])


def tone(seconds: float, sr: int = 16000, hz: float = 200.0, syllables: float = 4.0) -> np.ndarray:
    """A voiced-like harmonic tone, amplitude-modulated into `syllables` bursts per second."""
    t = np.arange(int(seconds * sr)) / sr
    voice = sum(np.sin(2 * np.pi * hz * k * t) / k for k in range(1, 5))
    envelope = np.clip(np.sin(np.pi * syllables * t), 0, None) ** 2
    return (0.3 * voice * envelope).astype(np.float32)


def write_clip(
    path: Path,
    frames: np.ndarray | None,
    fps: int = 10,
    audio: np.ndarray | None = None,
    sr: int = 16000,
    gop: int = 10,
    rotation: int | None = None,
    pts_ms: list[int] | None = None,
) -> Path:
    """mp4 (h264 + aac) or audio-only m4a; `pts_ms` gives variable frame timing in milliseconds."""
    with av.open(str(path), "w", format="mp4") as container:
        video = None
        if frames is not None:
            video = container.add_stream("libx264", rate=fps)
            video.height, video.width = frames.shape[1:3]
            video.pix_fmt = "yuv420p"
            video.codec_context.gop_size = gop
            video.options = {"crf": "28", "preset": "ultrafast", "bf": "0"}
            if pts_ms is not None:
                video.codec_context.time_base = Fraction(1, 1000)
            if rotation is not None:
                video.set_display_rotation(rotation)
        sound = container.add_stream("aac", rate=sr, layout="mono") if audio is not None else None
        if video is not None:
            for index, image in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
                if pts_ms is not None:
                    frame.pts, frame.time_base = pts_ms[index], Fraction(1, 1000)
                container.mux(video.encode(frame))
            container.mux(video.encode())
        if sound is not None:
            for start in range(0, len(audio), 1024):
                chunk = av.AudioFrame.from_ndarray(
                    audio[None, start : start + 1024], format="flt", layout="mono"
                )
                chunk.sample_rate, chunk.pts, chunk.time_base = sr, start, Fraction(1, sr)
                container.mux(sound.encode(chunk))
            container.mux(sound.encode())
    return path


def counter_frames(count: int, size: int = 64) -> np.ndarray:
    """Frames whose brightness encodes their index (index * 4), to check which frame was decoded."""
    return np.stack([np.full((size, size, 3), (4 * i) % 256, dtype=np.uint8) for i in range(count)])


def no_face_frames(count: int, size: int = 128) -> np.ndarray:
    """Smooth coloured gradients: a scene with no face in it."""
    y, x = np.mgrid[0:size, 0:size]
    return np.stack(
        [
            np.dstack([(x + 5 * i) % 256, (y * 2) % 256, np.full_like(x, 90)]).astype(np.uint8)
            for i in range(count)
        ]
    )
