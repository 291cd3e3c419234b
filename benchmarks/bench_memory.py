"""Peak memory of building one clip, for a short and a long clip: it must not grow with clip length
beyond the decoded audio samples themselves (4 bytes x 16,000 per second, 38 MB for 10 minutes).

Each build runs in a fresh process (its peak RSS is that process's own); prints both figures, their
ratio, and what the decoded samples alone account for; then the same for a small H.264 file with
8192x8192 frames, which must be refused per sample before anything is decoded.

    .venv/bin/python benchmarks/bench_memory.py [--minutes 1 10 --fps 5]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from bench_decoding import make_clip


def make_huge_clip(path: Path, side: int = 8192) -> None:
    """A tiny H.264 file with huge frames (two 8192x8192 frames compress to about 0.5 MB)."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=1)
        video.width = video.height = side
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "40"}
        image = np.zeros((side, side, 3), dtype=np.uint8)
        image[::64] = 255
        for _ in range(2):
            out.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(video.encode())


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux carries that over from the parent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB (not Linux)


def child(clip: str, out: str) -> None:
    """Build one clip the way `affect-llm build` does and print this process's peak RSS."""
    from affect_llm.data import BuildConfig, SourceItem, build_samples
    from affect_llm.perception import PerceptionConfig

    start = time.perf_counter()
    config = BuildConfig(perception=PerceptionConfig(num_frames=8, face_size=224))
    summary = build_samples([SourceItem(id="clip", video=clip)], out, config)
    seconds = time.perf_counter() - start
    peak_mb = _peak_rss_mb()
    if summary.written:
        row = json.loads((Path(out) / "samples.jsonl").read_text())
        outcome = f"built; video: {row['missing']['video'] or 'ok'}"
    else:
        outcome = "failed: " + json.loads((Path(out) / "errors.jsonl").read_text())["reason"]
    print(json.dumps({"peak_rss_mb": peak_mb, "seconds": seconds, "outcome": outcome}))


def measure(clip: Path, out: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(clip), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs=2, default=[1.0, 10.0])
    parser.add_argument("--fps", type=int, default=5, help="Frame rate of the generated clips.")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, minutes in enumerate(args.minutes):
            clip = Path(tmp) / f"clip{index}.mp4"
            make_clip(clip, minutes * 60, args.fps, gop=5 * args.fps, seed=index)
            result = measure(clip, Path(tmp) / f"out{index}")
            samples_mb = minutes * 60 * 16000 * 4 / 1e6
            results.append(result)
            print(
                f"{minutes:g} min clip: peak RSS {result['peak_rss_mb']:.0f} MB "
                f"(decoded audio {samples_mb:.0f} MB), built in {result['seconds']:.1f} s"
            )
        huge = Path(tmp) / "huge.mp4"
        make_huge_clip(huge)
        result = measure(huge, Path(tmp) / "out-huge")
        print(
            f"8192x8192 H.264 ({huge.stat().st_size / 1e6:.1f} MB file): peak RSS "
            f"{result['peak_rss_mb']:.0f} MB; {result['outcome']}"
        )
    ratio = results[1]["peak_rss_mb"] / results[0]["peak_rss_mb"]
    print(f"peak RSS ratio {args.minutes[1]:g} min / {args.minutes[0]:g} min: {ratio:.2f}")


if __name__ == "__main__":
    main()
