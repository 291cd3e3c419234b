"""MAFW (closed set, 5 folds) single-label split files:
`.../single/no_caption/set_{fold}/{split}.txt`, lines "00025.mp4 anger"."""

from __future__ import annotations

import os
from pathlib import Path

from affect_llm.data.datasets.dfew import FOLD_OPTION
from affect_llm.data.datasets.reading import (
    attach_media,
    clip_number_aliases,
    label_fields,
    labelled_item,
    media_index,
)
from affect_llm.data.datasets.spec import DatasetSpec, LayoutRule, detect
from affect_llm.data.items import SourceItem
from affect_llm.data.labels import LabelError

MAFW_CLASSES = (
    "anger",
    "disgust",
    "fear",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
    "contempt",
    "anxiety",
    "helplessness",
    "disappointment",
)
LAYOUTS = (
    LayoutRule(
        "original",
        ("no_caption/set_{fold}/{split}.txt", "set_{fold}/{split}.txt"),
        "Train & Test Set/single/no_caption/set_{fold}/{split}.txt",
    ),
)


def _fields(number: int, parts: list[str]) -> dict:
    if len(parts) != 2 or parts[1].lower() not in MAFW_CLASSES:
        raise LabelError(f"line {number}: expected '<clip> <one of 11 classes>'")
    return label_fields(parts[1].lower())


def mafw_items(root: str | os.PathLike, fold: int = 1, split: str = "test") -> list[SourceItem]:
    root = Path(root)
    path = detect("mafw", LAYOUTS, root, split=split, fold=fold).labels
    media = media_index([root])
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        item = labelled_item(
            _fields,
            number,
            parts,
            id=Path(parts[0]).stem,
            source="mafw",
            split=f"{split}{fold}",
            task="onehot",
            candidates=MAFW_CLASSES,
        )
        if not item.error:
            attach_media(item, media, [item.id])
        items.append(item)
    return items


SPECS = (
    DatasetSpec(
        "mafw",
        mafw_items,
        "MAFW (single-label set_N/{train,test}.txt)",
        LAYOUTS,
        aliases=clip_number_aliases,
        options=(FOLD_OPTION,),
    ),
)
