"""MER-Caption+: track2_train_mercaptionplus.csv (name, openset; empty = neutral),
track3_train_mercaptionplus.csv (name, reason), subtitle_chieng.csv (name, english)."""

from __future__ import annotations

import os
from pathlib import Path

from affect_llm.data.datasets.ovmerd import openset_fields
from affect_llm.data.datasets.reading import (
    attach_media,
    labelled_item,
    media_index,
    need_columns,
    one_file,
    read_csv,
    subtitles,
)
from affect_llm.data.datasets.spec import DatasetSpec, LayoutRule, detect
from affect_llm.data.items import SourceItem

LAYOUTS = (
    LayoutRule(
        "original",
        ("track2_train_mercaptionplus.csv",),
        "track2_train_mercaptionplus.csv (name, openset)",
    ),
)
REASONS_FILE = "track3_train_mercaptionplus.csv"


def _reasons(root: Path) -> dict[str, str]:
    path = one_file(root, REASONS_FILE)
    if path is None:
        return {}
    header, rows = read_csv(path)
    need_columns(path, header, "name", "reason")
    return {r["name"]: r["reason"] for _, r in rows}


def mer_caption_plus_items(root: str | os.PathLike, split: str = "train") -> list[SourceItem]:
    root = Path(root)
    path = detect("mer-caption+", LAYOUTS, root).labels
    header, rows = read_csv(path)
    need_columns(path, header, "name", "openset")
    reasons = _reasons(root)
    subtitle = subtitles(path.parent)
    media = media_index([root])
    items = []
    for _, row in rows:
        reason = reasons.get(row["name"]) or None
        item = labelled_item(
            openset_fields,
            row,
            id=row["name"],
            source="mer-caption+",
            split=split,
            reason=reason,
            task="reason" if reason else "openset",
        )
        item.subtitle = subtitle.get(item.id) or None
        if not item.error:
            attach_media(item, media, [item.id])
        items.append(item)
    return items


SPECS = (
    DatasetSpec(
        "mer-caption+",
        mer_caption_plus_items,
        "MER-Caption+ (track2/track3 CSVs, subtitle_chieng.csv)",
        LAYOUTS,
    ),
)
