"""Test lists and labels of the benchmark datasets, read from their public layouts.

Every dataset but IEMOCAP is read by the data builders (`affect_llm.data.datasets`); IEMOCAP's
EmoEvaluation files are read here. Items keep their labels even when their media is missing, so a
scoring-only run needs the label files but not the videos.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from affect_llm.data.builder import SourceItem
from affect_llm.data.datasets import DATASETS
from affect_llm.data.folder import attach_media, index_media

# IEMOCAP four-class protocol: excited is merged into happy; other classes are left out.
IEMOCAP_FOUR_CLASSES = {"neu": "neutral", "hap": "happy", "exc": "happy", "sad": "sad", "ang": "angry"}  # fmt: skip
_IEMOCAP_LINE = re.compile(r"^\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\s+(\S+)\s+(\w+)\s+\[")


def iemocap_items(root: str | os.PathLike, split: str = "Session5") -> list[SourceItem]:
    """IEMOCAP (four classes): `{split}/dialog/EmoEvaluation/*.txt` summary lines
    "[start - end]<TAB>Ses05F_impro01_F000<TAB>neu<TAB>[v, a, d]"; media matched by utterance stem
    anywhere under the root (cut utterance videos, or `sentences/wav/*/*.wav`)."""
    root = Path(root)
    folders = sorted(p for p in root.rglob("EmoEvaluation") if p.is_dir() and split in p.parts)
    if not folders:
        raise FileNotFoundError(f"no {split}/dialog/EmoEvaluation folder under {root}")
    items = []
    for path in sorted(folders[0].glob("*.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = _IEMOCAP_LINE.match(line.strip())
            if not match or match.group(2) not in IEMOCAP_FOUR_CLASSES:
                continue
            label = IEMOCAP_FOUR_CLASSES[match.group(2)]
            items.append(
                SourceItem(
                    id=match.group(1),
                    source="iemocap",
                    split=split,
                    task="onehot",
                    label=label,
                    openset=[label],
                    candidates=sorted(set(IEMOCAP_FOUR_CLASSES.values())),
                )
            )
    media = index_media(root)
    for item in items:
        attach_media(item, media)
    return items


READERS: dict[str, Callable[..., list[SourceItem]]] = {**DATASETS, "iemocap": iemocap_items}


def load_items(reader: str, root: str | os.PathLike, **kwargs) -> list[SourceItem]:
    """The items of one dataset (test list, labels, media paths) via its reader."""
    if reader not in READERS:
        raise ValueError(f"unknown dataset reader {reader!r}; known: {', '.join(sorted(READERS))}")
    if not Path(root).exists():
        raise FileNotFoundError(f"dataset folder {os.fspath(root)} does not exist")
    return READERS[reader](root, **kwargs)


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
