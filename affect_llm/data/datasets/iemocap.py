"""IEMOCAP four classes, Session 5 as test. Processed: iemocap-process/label_4way.npz
(`whole_corpus` only; `emo` an index into IEMOCAP_EMO_INDEX; the session is read from the name,
Ses05* = Session5). Original: `{split}/dialog/EmoEvaluation/*.txt` lines
"[start - end]<TAB>name<TAB>neu<TAB>[v, a, d]"."""

from __future__ import annotations

import os
import re
from pathlib import Path

from affect_llm.data.datasets.reading import (
    attach_media,
    indexed,
    label_fields,
    labelled_item,
    media_index,
    processed_items,
)
from affect_llm.data.datasets.spec import DatasetSpec, LayoutRule, detect
from affect_llm.data.items import SourceItem
from affect_llm.errors import InputError

IEMOCAP_CLASSES = ("angry", "happy", "neutral", "sad")
# MERBench's integer `emo` of iemocap-process/label_4way.npz.
IEMOCAP_EMO_INDEX = ("happy", "sad", "neutral", "angry")
# IEMOCAP four-class protocol: excited is merged into happy; other classes are left out.
IEMOCAP_FOUR_CLASSES = {
    "neu": "neutral",
    "hap": "happy",
    "exc": "happy",
    "sad": "sad",
    "ang": "angry",
}
LAYOUTS = (
    LayoutRule("processed", ("label_4way.npz",), "iemocap-process/label_4way.npz"),
    LayoutRule(
        "original",
        ("{split}/dialog/EmoEvaluation/*.txt",),
        "{split}/dialog/EmoEvaluation/ (IEMOCAP_full_release)",
        folder=True,
    ),
)
_LINE = re.compile(r"^\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\s+(\S+)\s+(\w+)\s+\[")


def _processed_fields(value: dict) -> dict:
    return label_fields(indexed(value.get("emo"), IEMOCAP_EMO_INDEX))


def _evaluation_labels(folder: Path) -> list[tuple[str, str]]:
    """(name, four-class label) of every EmoEvaluation line in one of the four classes."""
    found = []
    for path in sorted(folder.glob("*.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = _LINE.match(line.strip())
            if match and match.group(2) in IEMOCAP_FOUR_CLASSES:
                found.append((match.group(1), IEMOCAP_FOUR_CLASSES[match.group(2)]))
    return found


def iemocap_items(root: str | os.PathLike, split: str = "Session5") -> list[SourceItem]:
    root = Path(root)
    match = re.fullmatch(r"Session([1-5])", split)
    if not match:
        raise InputError(f"IEMOCAP split {split!r}: expected Session1 ... Session5")
    fields = {"source": "iemocap", "split": split, "task": "onehot", "candidates": IEMOCAP_CLASSES}
    layout = detect("iemocap", LAYOUTS, root, split=split)
    if layout.kind == "processed":
        session = f"Ses0{match.group(1)}"
        return processed_items(
            layout.labels, "whole_corpus", _processed_fields, prefix=session, **fields
        )
    items = [
        labelled_item(label_fields, label, id=name, **fields)
        for name, label in _evaluation_labels(layout.labels)
    ]
    media = media_index([root])
    for item in items:
        attach_media(item, media, [item.id])
    return items


SPECS = (
    DatasetSpec(
        "iemocap",
        iemocap_items,
        "IEMOCAP four classes (EmoEvaluation, or iemocap-process/label_4way.npz)",
        LAYOUTS,
    ),
)
