"""MELD. Processed: meld-process/label.npz ({train,val,test}_corpus, `emo` an index into
MELD_EMO_INDEX), clips `test_dia0_utt0.mp4`. Original (MELD.Raw): {train,dev,test}_sent_emo.csv
and clips `diaX_uttY.mp4` taken only from the split's own folder (the three folders share stems)."""

from __future__ import annotations

import os
from pathlib import Path

from affect_llm.data.datasets.reading import (
    attach_media,
    indexed,
    label_fields,
    labelled_item,
    media_index,
    need_columns,
    processed_items,
    read_csv,
    repair_text,
)
from affect_llm.data.datasets.spec import DatasetSpec, LayoutRule, detect
from affect_llm.data.items import SourceItem
from affect_llm.data.labels import parse_label
from affect_llm.errors import InputError

MELD_CLASSES = ("neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear")
# MERBench's integer `emo` of meld-process/label.npz.
MELD_EMO_INDEX = ("anger", "joy", "sadness", "neutral", "disgust", "fear", "surprise")
MELD_SPLITS = {  # --split -> (MERBench prefix, release CSV prefix, MELD.Raw clip folder)
    "train": ("train", "train", "train_splits"),
    "dev": ("val", "dev", "dev_splits_complete"),
    "val": ("val", "dev", "dev_splits_complete"),
    "test": ("test", "test", "output_repeated_splits_test"),
}
LAYOUTS = (
    LayoutRule("processed", ("meld-process/label.npz",)),
    LayoutRule("original", ("{release}_sent_emo.csv",), "{release}_sent_emo.csv (MELD.Raw)"),
)
SENTIMENT_VALENCE = {"positive": 1.0, "negative": -1.0, "neutral": 0.0}


def _processed_fields(value: dict) -> dict:
    return label_fields(indexed(value.get("emo"), MELD_EMO_INDEX))


def _release_fields(row: dict[str, str]) -> dict:
    sentiment = (row.get("Sentiment") or "").lower()
    return label_fields(parse_label(row.get("Emotion")), valence=SENTIMENT_VALENCE.get(sentiment))


def meld_items(root: str | os.PathLike, split: str = "test") -> list[SourceItem]:
    root = Path(root)
    if split not in MELD_SPLITS:
        raise InputError(f"MELD split {split!r}: expected one of {', '.join(MELD_SPLITS)}")
    prefix, release, clip_folder = MELD_SPLITS[split]
    layout = detect("meld", LAYOUTS, root, release=release)
    fields = {"source": "meld", "split": split, "task": "onehot", "candidates": MELD_CLASSES}
    if layout.kind == "processed":
        return processed_items(layout.labels, f"{prefix}_corpus", _processed_fields, **fields)
    header, rows = read_csv(layout.labels)
    need_columns(layout.labels, header, "Utterance", "Emotion", "Dialogue_ID", "Utterance_ID")
    folders = [p for p in sorted(root.rglob(clip_folder)) if p.is_dir()]
    media = media_index(folders)
    items = []
    for _, row in rows:
        stem = f"dia{row['Dialogue_ID']}_utt{row['Utterance_ID']}"
        item = labelled_item(_release_fields, row, id=f"{prefix}_{stem}", **fields)
        item.subtitle = repair_text(row.get("Utterance", "")) or None
        if not item.error:
            attach_media(item, media, [stem])
            if item.error and not folders:
                item.error += f" (no {clip_folder}/ folder under {root})"
        items.append(item)
    return items


def meld_aliases(name: str) -> tuple[str, ...]:
    """MELD.Raw's own clip name (`dia0_utt0`) of MER-UniBench's `test_dia0_utt0`."""
    split_prefix, _, stem = name.partition("_")
    return (stem,) if split_prefix in ("train", "val", "test") else ()


SPECS = (
    DatasetSpec(
        "meld",
        meld_items,
        "MELD (MELD.Raw {split}_sent_emo.csv + split clip folder, or meld-process/label.npz)",
        LAYOUTS,
        aliases=meld_aliases,
    ),
)
