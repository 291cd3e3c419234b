"""Peak memory of building one clip, for a short and a long clip: it must not grow with clip length
beyond the decoded audio samples themselves (4 bytes x 16,000 per second, 38 MB for 10 minutes).

Each build runs in a fresh process (its peak RSS is that process's own); prints both figures, their
ratio, and what the decoded samples alone account for.

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

from bench_decoding import make_clip


def child(clip: str, out: str) -> None:
    """Build one clip the way `affect-llm build` does and print this process's peak RSS."""
    from affect_llm.data import BuildConfig, SourceItem, build_samples
    from affect_llm.perception import PerceptionConfig

    start = time.perf_counter()
    config = BuildConfig(perception=PerceptionConfig(num_frames=8, face_size=224))
    summary = build_samples([SourceItem(id="clip", video=clip)], out, config)
    assert summary.written == 1, (Path(out) / "errors.jsonl").read_text()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"peak_rss_mb": peak_mb, "seconds": time.perf_counter() - start}))


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
    ratio = results[1]["peak_rss_mb"] / results[0]["peak_rss_mb"]
    print(f"peak RSS ratio {args.minutes[1]:g} min / {args.minutes[0]:g} min: {ratio:.2f}")


if __name__ == "__main__":
    main()
