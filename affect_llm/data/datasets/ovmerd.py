"""OV-MERD+: ovlabel.csv (name, openset; empty = neutral, as AffectGPT reads it) and
subtitle_eng.csv (name, sentence), in ovmerdplus-process/ or the release folder."""

from __future__ import annotations

import os
from pathlib import Path

from affect_llm.data.datasets.reading import (
    attach_media,
    labelled_item,
    media_index,
    need_columns,
    read_csv,
    subtitles,
)
from affect_llm.data.datasets.spec import DatasetSpec, LayoutRule, detect
from affect_llm.data.items import SourceItem
from affect_llm.data.labels import parse_openset

LAYOUTS = (
    LayoutRule("processed", ("ovmerdplus-process/ovlabel.csv",)),
    LayoutRule("original", ("ovlabel.csv",), "ovlabel.csv (name, openset)"),
)


def openset_fields(row: dict[str, str]) -> dict:
    """An open-vocabulary label list; an empty one means neutral (AffectGPT's reading)."""
    return {"openset": parse_openset(row.get("openset")) or ["neutral"]}


def ovmerd_items(root: str | os.PathLike, split: str = "test") -> list[SourceItem]:
    root = Path(root)
    path = detect("ovmerd", LAYOUTS, root).labels
    header, rows = read_csv(path)
    need_columns(path, header, "name", "openset")
    subtitle = subtitles(path.parent)
    media = media_index([root])
    items = []
    for _, row in rows:
        item = labelled_item(
            openset_fields, row, id=row["name"], source="ovmerd", split=split, task="openset"
        )
        item.subtitle = subtitle.get(item.id) or None
        if not item.error:
            attach_media(item, media, [item.id])
        items.append(item)
    return items


SPECS = (
    DatasetSpec("ovmerd", ovmerd_items, "OV-MERD(+) (ovlabel.csv, subtitle_eng.csv)", LAYOUTS),
)
