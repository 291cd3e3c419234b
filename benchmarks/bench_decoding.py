"""Sampled (seeking) decoding vs a decode-every-frame baseline, on generated clips, in one run.

Prints clips/s for frame decoding alone and for the whole builder (faces, AUs, audio), the ratio,
and the ratio of frames decoded, which the decoding speed-up should roughly follow.

    .venv/bin/python benchmarks/bench_decoding.py [--clips 6 --seconds 20 --fps 25 --gop 25]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from fractions import Fraction
from importlib import resources
from pathlib import Path

import av
import numpy as np

from affect_llm.data import BuildConfig, SourceItem, build_samples
from affect_llm.perception import PerceptionConfig
from affect_llm.perception.audio import load_audio
from affect_llm.perception.video import sample_frames

BUNDLED = Path(str(resources.files("affect_llm") / "resources" / "samples" / "hopper_happy.mp4"))


def make_clip(path: Path, seconds: float, fps: int, gop: int, seed: int) -> None:
    """A talking-face clip of the wanted length: the bundled frames and speech, looped and shifted."""
    import cv2

    with av.open(str(BUNDLED)) as container:
        faces = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    frames = []  # 640 x 360, the size of typical MER/MELD clips: the face upscaled on a backdrop
    for face in faces:
        canvas = np.full((360, 640, 3), 70, dtype=np.uint8)
        canvas[:, 140:500] = cv2.resize(face, (360, 360), interpolation=cv2.INTER_LINEAR)
        frames.append(canvas)
    speech = load_audio(BUNDLED)
    count = int(seconds * fps)
    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 640, 360, "yuv420p"
        video.codec_context.gop_size = gop
        video.options = {"crf": "23", "preset": "veryfast", "keyint_min": str(gop)}
        audio = out.add_stream("aac", rate=16000, layout="mono")
        for i in range(count):
            image = np.roll(frames[i % len(frames)], int(rng.integers(-3, 4)), axis=1)
            out.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(video.encode())
        sound = np.resize(speech, int(seconds * 16000)).astype(np.float32)
        for start in range(0, len(sound), 1024):
            chunk = av.AudioFrame.from_ndarray(
                sound[None, start : start + 1024], format="flt", layout="mono"
            )
            chunk.sample_rate, chunk.pts, chunk.time_base = 16000, start, Fraction(1, 16000)
            out.mux(audio.encode(chunk))
        out.mux(audio.encode())


def time_decoding(clips: list[Path], frames: int, mode: str) -> tuple[float, int]:
    start = time.perf_counter()
    decoded = sum(sample_frames(clip, frames, mode).decoded_frames for clip in clips)
    return time.perf_counter() - start, decoded


def time_builder(clips: list[Path], frames: int, mode: str, workdir: Path) -> float:
    out = workdir / f"build-{mode}"
    shutil.rmtree(out, ignore_errors=True)  # no cache: every clip is extracted
    items = [SourceItem(id=clip.stem, video=str(clip), label="happy") for clip in clips]
    config = BuildConfig(perception=PerceptionConfig(num_frames=frames, decode_mode=mode))
    start = time.perf_counter()
    summary = build_samples(items, out, config)
    elapsed = time.perf_counter() - start
    assert summary.written == len(clips), summary
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--gop", type=int, default=25, help="Keyframe interval in frames.")
    parser.add_argument("--frames", type=int, default=8, help="Frames sampled per clip.")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        clips = [workdir / f"clip{i}.mp4" for i in range(args.clips)]
        for i, clip in enumerate(clips):
            make_clip(clip, args.seconds, args.fps, args.gop, seed=i)
        time_builder(clips[:1], args.frames, "seek", workdir)  # warm up imports and models
        results: dict[str, list[float]] = {
            "seek": [],
            "sequential": [],
            "build-seek": [],
            "build-sequential": [],
        }
        decoded: dict[str, int] = {}
        for _ in range(args.repeats):  # interleaved, so both modes see the same machine load
            for mode in ("seek", "sequential"):
                seconds, decoded[mode] = time_decoding(clips, args.frames, mode)
                results[mode].append(seconds)
                results[f"build-{mode}"].append(time_builder(clips, args.frames, mode, workdir))
    rate = {name: len(clips) / statistics.median(times) for name, times in results.items()}
    print(
        f"{len(clips)} clips x {args.seconds:.0f} s at {args.fps} fps (GOP {args.gop}), "
        f"{args.frames} frames sampled per clip, median of {args.repeats} runs"
    )
    print(
        f"frames decoded per clip: sampled {decoded['seek'] / len(clips):.0f}, "
        f"every frame {decoded['sequential'] / len(clips):.0f} "
        f"(ratio {decoded['sequential'] / decoded['seek']:.2f})"
    )
    print(
        f"decoding only : sampled {rate['seek']:.1f} clips/s, every frame {rate['sequential']:.1f} clips/s, "
        f"speed-up {rate['seek'] / rate['sequential']:.2f}x"
    )
    print(
        f"whole builder : sampled {rate['build-seek']:.2f} clips/s, every frame {rate['build-sequential']:.2f} clips/s, "
        f"speed-up {rate['build-seek'] / rate['build-sequential']:.2f}x"
    )


if __name__ == "__main__":
    main()
