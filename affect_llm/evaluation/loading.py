"""Test lists and labels of the benchmark datasets, read by the dataset readers.

Items keep their labels even when their media is missing, so a scoring-only run needs the label
files but not the videos.
"""

from __future__ import annotations

import os

from affect_llm.data.builder import SourceItem
from affect_llm.data.datasets import DATASETS, read_dataset

READERS = DATASETS


def load_items(reader: str, root: str | os.PathLike, **kwargs) -> list[SourceItem]:
    """The items of one dataset (test list, labels, media paths) via its reader."""
    return read_dataset(reader, root, **kwargs)


def has_media(item: SourceItem) -> bool:
    return bool(item.video or item.audio)


def ground_truth(items: list[SourceItem], metric: str) -> dict[str, object]:
    """{name: gt} in the form `affect-llm score METRIC` reads: label, valence or open-set list.

    Items without a usable label for the metric (malformed rows, unknown valence) are left out.
    """
    gt: dict[str, object] = {}
    for item in items:
        if metric == "hitrate" and item.label:
            gt[item.id] = item.label
        elif metric == "sentiment" and item.valence is not None:
            gt[item.id] = item.valence
        elif metric == "ov" and (item.openset or not (item.error or "").startswith("malformed")):
            gt[item.id] = list(item.openset)
    return gt
