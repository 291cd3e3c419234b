"""The benchmark datasets: MER-UniBench's nine, DFEW/MAFW and EMER, with metrics and published scores.

Published rows come from the papers (see ../shared/ANCHORS.md); scores are x100. A None cell is a
number the paper does not report for that dataset.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BenchmarkSpec:
    """One MER-UniBench dataset: how to read it, which question to ask, which metric scores it."""

    name: str
    title: str
    reader: str  # key of affect_llm.data.datasets.DATASETS
    split: str
    task: str  # prompt kind: "openset" or "sentiment"
    metric: str  # "hitrate", "sentiment" or "ov" (the `affect-llm score` metric names)
    test_size: int
    target: str


MER_UNIBENCH: dict[str, BenchmarkSpec] = {
    spec.name: spec
    for spec in (
        BenchmarkSpec(
            "mer2023",
            "MER2023 test1",
            "mer2023",
            "test1",
            "openset",
            "hitrate",
            411,
            "neutral, angry, happy, sad, worried, surprise",
        ),
        BenchmarkSpec(
            "mer2024",
            "MER2024 test1",
            "mer2024",
            "test1",
            "openset",
            "hitrate",
            1169,
            "neutral, angry, happy, sad, worried, surprise",
        ),
        BenchmarkSpec(
            "meld",
            "MELD test",
            "meld",
            "test",
            "openset",
            "hitrate",
            2610,
            "neutral, joy, surprise, anger, sadness, disgust, fear",
        ),
        BenchmarkSpec(
            "iemocap",
            "IEMOCAP session 5 (four)",
            "iemocap",
            "Session5",
            "openset",
            "hitrate",
            1241,
            "happy (+excited), sad, neutral, angry",
        ),
        BenchmarkSpec("mosi", "CMU-MOSI", "mosi", "test", "sentiment", "sentiment", 686, "valence"),
        BenchmarkSpec(
            "mosei", "CMU-MOSEI", "mosei", "test", "sentiment", "sentiment", 4659, "valence"
        ),
        BenchmarkSpec("sims", "SIMS", "sims", "test", "sentiment", "sentiment", 457, "valence"),
        BenchmarkSpec(
            "simsv2", "SIMS v2", "simsv2", "test", "sentiment", "sentiment", 1034, "valence"
        ),
        BenchmarkSpec(
            "ovmerd",
            "OV-MERD+",
            "ovmerd",
            "test",
            "openset",
            "ov",
            532,
            "open-vocabulary label sets",
        ),
    )
}

# The number each metric reports as the dataset's score (a key of `affect-llm score`'s JSON).
METRIC_SCORE_KEY = {"hitrate": "hit_rate", "sentiment": "weighted_f1", "ov": "level1.f1"}
METRIC_TITLES = {
    "hitrate": "hit rate",
    "sentiment": "sentiment weighted F1",
    "ov": "wheel F1 (level 1)",
}

# MER-UniBench, x100, in MER_UNIBENCH order, plus the mean over the nine.
PUBLISHED_MER_UNIBENCH: dict[str, dict[str, float | None]] = {
    "AffectGPT (A,V,T)": {
        "mer2023": 78.54,
        "mer2024": 78.80,
        "meld": 55.65,
        "iemocap": 60.54,
        "mosi": 81.30,
        "mosei": 80.90,
        "sims": 88.49,
        "simsv2": 86.18,
        "ovmerd": 62.52,
        "mean": 74.77,
    },
    # AffectGPT's paper reports Emotion-LLaMA's mean and OV-MERD+ score; the rest are not given.
    "Emotion-LLaMA": {**dict.fromkeys(MER_UNIBENCH), "ovmerd": 52.97, "mean": 64.17},
}

DFEW_MAFW = ("dfew", "mafw")
# Closed-set (WAR, UAR) x100 as published.
PUBLISHED_CLOSED_SET: dict[str, dict[str, dict[str, float] | None]] = {
    "R1-Omni": {"dfew": {"war": 65.83, "uar": 56.27}, "mafw": {"war": 57.68, "uar": 40.04}},
    "Emotion-LLaMA": {"dfew": {"war": 59.37, "uar": 45.59}, "mafw": None},
}
# EMER clue / label overlap (1-10, LLM judge) as published.
PUBLISHED_EMER: dict[str, dict[str, float]] = {
    "Emotion-LLaMA": {"clue_overlap": 7.83, "label_overlap": 6.25},
}
# Clips in EMER's official test sets, by reference file: V1 100, V2 332. Any other reference CSV
# (a user's own clips) has no official set, so no published figure is set beside its scores.
EMER_TEST_SIZES: dict[str, int] = {"gt-eng.csv": 100, "final-EMER-reason.csv": 332}


def score_of(metric: str, result: dict) -> float:
    """The headline number of an `affect-llm score` result dict (0-1)."""
    value: object = result
    for part in METRIC_SCORE_KEY[metric].split("."):
        value = value[part]  # type: ignore[index]
    return float(value)  # type: ignore[arg-type]
