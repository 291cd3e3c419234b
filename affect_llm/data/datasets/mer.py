"""MER2023 / MER2024. Test labels exist only in MERBench's processed `label-6way.npz`
(`{split}_corpus`: {name: {emo: str, val: float or -10}}); the releases' `train-label.csv` /
`label-disdim.csv` (name, discrete, valence) are the training sets."""

from __future__ import annotations

import os
from pathlib import Path

from affect_llm.data.datasets.reading import (
    NO_VALENCE,
    attach_media,
    corpus,
    label_fields,
    labelled_item,
    media_index,
    need_columns,
    processed_items,
    read_csv,
    subtitles,
    valence,
)
from affect_llm.data.datasets.spec import DatasetSpec, LayoutRule, detect
from affect_llm.data.items import SourceItem
from affect_llm.data.labels import parse_label
from affect_llm.errors import InputError

MER_CLASSES = ("neutral", "angry", "happy", "sad", "worried", "surprise")


def _layouts(source: str, *originals: str) -> tuple[LayoutRule, ...]:
    processed = f"{source}-dataset-process/label-6way.npz"
    return (
        LayoutRule("processed", (processed, "label-6way.npz"), expected=processed),
        LayoutRule("original", originals),
    )


LAYOUTS = {
    "mer2023": _layouts("mer2023", "train-label.csv"),
    "mer2024": _layouts("mer2024", "label-disdim.csv", "track1_train_disdim.csv"),
}


def _processed_fields(value: dict) -> dict:
    return label_fields(parse_label(value.get("emo")), valence=valence(value.get("val")))


def _release_fields(row: dict[str, str]) -> dict:
    return label_fields(parse_label(row.get("discrete")), valence=valence(row.get("valence")))


def mer_items(
    root: str | os.PathLike, split: str = "test1", source: str = "mer2023"
) -> list[SourceItem]:
    """MER2023 or MER2024 (`source`) items of `split` from either layout."""
    root = Path(root)
    layout = detect(source, LAYOUTS[source], root)
    fields = {"source": source, "split": split, "task": "onehot", "candidates": MER_CLASSES}
    if layout.kind == "processed":
        key = f"{split}_corpus"
        values = corpus(layout.labels, key).values()
        if values and all(v.get("emo") == "neutral" and v.get("val") == NO_VALENCE for v in values):
            raise InputError(
                f"{layout.labels}: every {key} label is the placeholder neutral/-10 (made by normalize_dataset_format without test labels); use MERBench's label-6way.npz"
            )
        return processed_items(layout.labels, key, _processed_fields, **fields)
    if split != "train":
        raise InputError(
            f"{layout.labels}: holds the {source} training labels; {split} labels are only in {source}-dataset-process/label-6way.npz ({split}_corpus) from MERTools MERBench (or use --split train)"
        )
    header, rows = read_csv(layout.labels)
    need_columns(layout.labels, header, "name", "discrete")
    items = [labelled_item(_release_fields, row, id=row["name"], **fields) for _, row in rows]
    media = media_index([root])
    subtitle = subtitles(layout.labels.parent)
    for item in items:
        item.subtitle = subtitle.get(item.id) or None
        if not item.error:
            attach_media(item, media, [item.id])
    return items


def mer2023_items(root: str | os.PathLike, split: str = "test1") -> list[SourceItem]:
    return mer_items(root, split, "mer2023")


def mer2024_items(root: str | os.PathLike, split: str = "test1") -> list[SourceItem]:
    return mer_items(root, split, "mer2024")


SPECS = (
    DatasetSpec(
        "mer2023", mer2023_items, "MER2023 (label-6way.npz or label CSV)", LAYOUTS["mer2023"]
    ),
    DatasetSpec("mer2024", mer2024_items, "MER2024 (label CSV / npz)", LAYOUTS["mer2024"]),
)
