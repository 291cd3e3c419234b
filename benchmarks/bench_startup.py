"""Benchmark: how long `affect-llm` takes to start, against bare `python -c pass`, in one run.

Each command runs in a fresh process (as a person types it); the figure is the median wall time of
`--runs` runs after one warm-up, next to the interpreter's own start-up in the same run. Target:
every command under 0.5 s on a quiet 2-core machine (the package import must not load torch).

    python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.5


def cli_prefix() -> list[str]:
    """The installed `affect-llm` script beside this interpreter, else `python -m affect_llm.cli`."""
    script = Path(sys.executable).with_name("affect-llm")
    if script.is_file():
        return [str(script)]
    found = shutil.which("affect-llm")
    return [found] if found else [sys.executable, "-m", "affect_llm.cli"]


def small_files(folder: Path) -> tuple[Path, Path]:
    """An OV-MERD+-style gt and prediction CSV of 20 samples."""
    labels = ["happy", "sad", "angry", "worried", "surprise"]
    gt, pred = folder / "gt.csv", folder / "pred.csv"
    for path, shift in ((gt, 0), (pred, 1)):
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["name", "openset"])
            for i in range(20):
                chosen = [labels[i % 5], labels[(i + shift) % 5]]
                writer.writerow([f"sample_{i:05d}", "[" + ", ".join(chosen) + "]"])
    return gt, pred


def median_seconds(command: list[str], runs: int) -> float:
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:  # the first run warms the file cache
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command")
    args = parser.parse_args()
    cli = cli_prefix()
    with tempfile.TemporaryDirectory() as tmp:
        gt, pred = small_files(Path(tmp))
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "affect-llm --help": [*cli, "--help"],
            "affect-llm score --help": [*cli, "score", "--help"],
            "affect-llm score ov (20 samples)": [*cli, "score", "ov", "--gt", gt, "--pred", pred],
        }
        results = {name: median_seconds(cmd, args.runs) for name, cmd in commands.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"median of {args.runs} runs; {os.cpu_count()} CPUs, load average {load:.2f}")
    baseline = results["python -c pass"]
    for name, seconds in results.items():
        verdict = (
            ""
            if name.startswith("python")
            else ("  ok" if seconds < TARGET_S else f"  over the {TARGET_S} s target")
        )
        print(f"{name:36s} {seconds:6.3f} s  ({seconds / baseline:4.1f}x python -c pass){verdict}")


if __name__ == "__main__":
    main()
