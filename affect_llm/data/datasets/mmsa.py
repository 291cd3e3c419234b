"""CMU-MOSI, CMU-MOSEI, CH-SIMS, CH-SIMS v2. Processed: <ds>-process/label.npz
({train,val,test}_corpus, `val` the valence). Original (MMSA): label.csv (CH-SIMS v2: meta.csv)
with video_id, clip_id, label, mode (column order differs per dataset) and Raw/{video_id}/{clip_id}.mp4."""

from __future__ import annotations

import os
from pathlib import Path

from affect_llm.data.datasets.reading import (
    MediaIndex,
    attach_media,
    labelled_item,
    media_index,
    need_columns,
    processed_items,
    read_csv,
    valence,
)
from affect_llm.data.datasets.spec import DatasetSpec, LayoutRule, detect
from affect_llm.data.items import SourceItem
from affect_llm.data.labels import parse_valence
from affect_llm.errors import InputError

MMSA_COLUMNS = (
    "video_id",
    "clip_id",
    "text",
    "label",
    "label_T",
    "label_A",
    "label_V",
    "annotation",
    "mode",
)
MMSA_MODES = {"train": "train", "val": "valid", "valid": "valid", "test": "test"}
PROCESSED_FOLDERS = {
    "mosi": "cmumosi-process",
    "mosei": "cmumosei-process",
    "sims": "sims-process",
    "simsv2": "simsv2-process",
}
RELEASE_FILES = {"simsv2": ("meta.csv", "label.csv")}  # the others: label.csv
LAYOUTS = {
    source: (
        LayoutRule("processed", (f"{folder}/label.npz",)),
        LayoutRule(
            "original",
            RELEASE_FILES.get(source, ("label.csv",)),
            f"{' / '.join(RELEASE_FILES.get(source, ('label.csv',)))} (MMSA)",
        ),
    )
    for source, folder in PROCESSED_FOLDERS.items()
}


def mmsa_name(source: str, video_id: str, clip_id: str) -> str:
    """MER-UniBench's name of an MMSA clip: `k5Y_838nuGo_1`, or `video_0003_0006` for CH-SIMS."""
    clip = clip_id.zfill(4) if source in ("sims", "simsv2") else clip_id
    return f"{video_id}_{clip}"


def _mmsa_rows(path: Path, source: str) -> list[tuple[int, dict[str, str]]]:
    header, rows = read_csv(path)
    if "video_id" in header:
        need_columns(path, header, "video_id", "clip_id", "label", "mode")
        return rows
    # Copies of CH-SIMS label.csv without a header line circulate: the MMSA columns, in order.
    first = list(header)
    if source in ("sims", "simsv2") and len(first) == len(MMSA_COLUMNS) and first[-1] in MMSA_MODES:
        return [
            (1, dict(zip(MMSA_COLUMNS, first))),
            *((n, dict(zip(MMSA_COLUMNS, r.values()))) for n, r in rows),
        ]
    raise InputError(
        f"{path}: expected a header video_id,clip_id,text,label,...,mode; found: {','.join(first)}"
    )


def _processed_fields(value: dict) -> dict:
    return {"valence": valence(value.get("val"))}


def _release_fields(row: dict[str, str]) -> dict:
    return {"valence": parse_valence(row.get("label"))}


def _raw_media(source: str, root: Path) -> MediaIndex:
    """Clips `Raw/{video_id}/{clip}.mp4` indexed by the item's name."""
    media: MediaIndex = {}
    for stem, entry in media_index([root]).items():
        for kind, paths in entry.items():
            for path in paths:
                name = mmsa_name(source, Path(path).parent.name, stem.lstrip("0") or "0")
                media.setdefault(name, {}).setdefault(kind, []).append(path)
    return media


def mmsa_items(
    root: str | os.PathLike, split: str = "test", source: str = "mosi"
) -> list[SourceItem]:
    """The sentiment items of one MMSA dataset (`source`) and split, from either layout."""
    root = Path(root)
    if split not in MMSA_MODES:
        raise InputError(f"{source} split {split!r}: expected one of train, val, test")
    layout = detect(source, LAYOUTS[source], root)
    fields = {"source": source, "split": split, "task": "sentiment"}
    if layout.kind == "processed":
        key = f"{'val' if split == 'valid' else split}_corpus"
        return processed_items(layout.labels, key, _processed_fields, **fields)
    media = _raw_media(source, root)
    items = []
    for _, row in _mmsa_rows(layout.labels, source):
        if row.get("mode") != MMSA_MODES[split]:
            continue
        clip = row.get("clip_id", "").lstrip("0") or "0"
        name = mmsa_name(source, row.get("video_id", ""), clip)
        item = labelled_item(_release_fields, row, id=name, **fields)
        item.subtitle = row.get("text") or None
        if not item.error:
            attach_media(item, media, [item.id])
        items.append(item)
    return items


def mmsa_aliases(name: str) -> tuple[str, ...]:
    """Our earlier `video_id/clip` names of MER-UniBench's `video_id_clip` (padded or not)."""
    video_id, _, clip = name.rpartition("_")
    if not video_id:
        return ()
    return (f"{video_id}/{clip}", f"{video_id}/{clip.lstrip('0') or '0'}")


def mosi_items(root: str | os.PathLike, split: str = "test") -> list[SourceItem]:
    return mmsa_items(root, split, "mosi")


def mosei_items(root: str | os.PathLike, split: str = "test") -> list[SourceItem]:
    return mmsa_items(root, split, "mosei")


def sims_items(root: str | os.PathLike, split: str = "test") -> list[SourceItem]:
    return mmsa_items(root, split, "sims")


def simsv2_items(root: str | os.PathLike, split: str = "test") -> list[SourceItem]:
    return mmsa_items(root, split, "simsv2")


SPECS = (
    DatasetSpec(
        "mosi", mosi_items, "CMU-MOSI (MMSA label.csv, Raw/)", LAYOUTS["mosi"], mmsa_aliases
    ),
    DatasetSpec(
        "mosei", mosei_items, "CMU-MOSEI (MMSA label.csv, Raw/)", LAYOUTS["mosei"], mmsa_aliases
    ),
    DatasetSpec(
        "sims", sims_items, "CH-SIMS (MMSA label.csv, Raw/)", LAYOUTS["sims"], mmsa_aliases
    ),
    DatasetSpec(
        "simsv2",
        simsv2_items,
        "CH-SIMS v2 (MMSA label.csv, Raw/)",
        LAYOUTS["simsv2"],
        mmsa_aliases,
    ),
)
