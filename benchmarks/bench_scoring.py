"""Benchmark: OV emotion-wheel scoring throughput against the reference style, in one run.

The reference style (benchmarks/reference_scorer.py) re-reads the wheel, form and synonym tables
on every call, as AffectGPT's evaluation does; affect-llm builds them once and memoises labels.
Both score the same OV-MERD+-sized set (532 samples) at levels 1 and 2; the results must agree.

    python benchmarks/bench_scoring.py [--samples 532] [--calls 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_scorer

from affect_llm.metrics import ov_scores
from affect_llm.taxonomy import get_taxonomy


def make_set(rng: random.Random, n: int) -> tuple[dict[str, str], dict[str, str]]:
    vocab = sorted(get_taxonomy().forms)
    gt, pred = {}, {}
    for i in range(n):
        labels = rng.sample(vocab, rng.randint(1, 5))
        guess = rng.sample(labels, rng.randint(0, len(labels))) + rng.sample(
            vocab, rng.randint(0, 3)
        )
        gt[f"sample_{i:05d}"] = "[" + ", ".join(labels) + "]"
        pred[f"sample_{i:05d}"] = str(guess)
    return gt, pred


def timed(fn, calls: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(calls):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=532)
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    gt, pred = make_set(random.Random(0), args.samples)

    def ours():
        return ov_scores(gt, pred)

    def reference():
        return {lv: reference_scorer.wheel_metric(gt, pred, lv) for lv in ("level1", "level2")}

    first_call = time.perf_counter()
    ours()  # includes building the tables once (lazily, on first use)
    first_call = time.perf_counter() - first_call
    ours_time, ours_result = timed(ours, args.calls)
    ref_time, ref_result = timed(reference, max(1, args.calls // 2))
    for level in ("level1", "level2"):
        mine = ours_result[level]
        theirs = ref_result[level]
        assert abs(mine.f1 - theirs[0]) < 1e-9 and abs(mine.precision - theirs[1]) < 1e-9, level
    print(f"OV scoring of {args.samples} samples at levels 1 and 2 (results identical):")
    print(f"  reference style (tables re-read per call): {args.samples / ref_time:10.0f} samples/s")
    print(
        f"  affect-llm (tables cached):                {args.samples / ours_time:10.0f} samples/s"
    )
    print(f"  affect-llm first call, building tables:    {first_call * 1e3:10.1f} ms")
    print(f"  speed-up: {ref_time / ours_time:.1f}x")


if __name__ == "__main__":
    main()
