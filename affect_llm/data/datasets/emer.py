"""EMER (explainable multimodal emotion reasoning) references as items with a reason.

EMER V1 `gt-eng.csv`: names, emotions, subtitles, reasons. EMER V2 `final-EMER-reason.csv`:
name, chinese, english (the reason; labels are its emotion words). Our CSV: name, reason (or
description / english), optional openset and subtitle. Clips are matched by stem under ROOT.
"""

from __future__ import annotations

import os
from pathlib import Path

from affect_llm.data.datasets.reading import attach_media, media_index, read_csv
from affect_llm.data.datasets.spec import BuildOption, DatasetSpec, LayoutRule
from affect_llm.data.items import SourceItem
from affect_llm.errors import InputError
from affect_llm.parsing import extract_labels
from affect_llm.taxonomy import WHEELS, get_taxonomy, parse_label_list

EMER_FILES = ("gt-eng.csv", "final-EMER-reason.csv")  # EMER V1, EMER V2
LAYOUTS = (
    LayoutRule(
        "original",
        (*EMER_FILES, "*.csv"),
        "gt-eng.csv (EMER V1), final-EMER-reason.csv (EMER V2) or one reference CSV",
    ),
)


def emotion_words(text: str) -> list[str]:
    """The labels the extractor reads from an explanation that name an emotion-wheel emotion."""
    taxonomy = get_taxonomy()
    return [
        label
        for label in extract_labels(text)
        if any(taxonomy.cluster(label, wheel, "level1") for wheel in WHEELS)
    ]


def reference_file(root: Path, reference: str | os.PathLike | None = None) -> Path:
    """The reference CSV: `reference` if given, else EMER V1's or V2's file, else ROOT's one CSV."""
    if reference:
        if not Path(reference).is_file():
            raise InputError(f"EMER reference {os.fspath(reference)} does not exist")
        return Path(reference)
    for pattern in LAYOUTS[0].patterns:  # in ROOT itself: clip folders may hold AU CSVs
        found = sorted(root.glob(pattern))
        if len(found) == 1:
            return found[0]
    shown = ", ".join(p.name for p in sorted(root.glob("*.csv"))) or "none"
    raise InputError(f"{root}: expected {LAYOUTS[0].expected}; found CSVs: {shown}")


def emer_items(
    root: str | os.PathLike, split: str = "test", reference: str | os.PathLike | None = None
) -> list[SourceItem]:
    """One "reason" item per reference row: its explanation as `reason`, its labels as `openset`
    (the row's emotions, else the emotion words of the explanation). A labels.csv's own `split`
    column wins over `split` (an empty cell is train, as the folder builder reads it)."""
    root = Path(root)
    path = reference_file(root, reference)
    header, rows = read_csv(path)
    v1 = {"names", "emotions", "reasons"} <= set(header)
    if not v1 and "name" not in header:
        raise InputError(
            f"{path}: expected columns names,emotions,subtitles,reasons (EMER V1) or name,... (found: {', '.join(header)})"
        )
    media = media_index([root])
    items: list[SourceItem] = []
    seen: set[str] = set()
    for line, row in rows:
        name = row.get("names" if v1 else "name", "")
        text = (
            row.get("reasons")
            if v1
            else row.get("reason") or row.get("description") or row.get("english")
        )
        if not name or not (text or "").strip():
            raise InputError(f"{path}: line {line}: a row without a name or a reason")
        if name in seen:
            raise InputError(f"{path}: line {line}: name '{name}' appears a second time")
        seen.add(name)
        given = row.get("emotions" if v1 else "openset")
        labels = [x.strip().lower() for x in parse_label_list(given)] if given else None
        own_split = (row.get("split") or "train").strip() if "split" in header else split
        item = SourceItem(
            id=name,
            source="emer",
            split=own_split,
            task="reason",
            reason=text.strip(),
            openset=labels if labels is not None else emotion_words(text),
            subtitle=row.get("subtitles" if v1 else "subtitle") or None,
        )
        attach_media(item, media, [name])
        items.append(item)
    if not items:
        raise InputError(f"{path}: no rows")
    return items


SPECS = (
    DatasetSpec(
        "emer",
        emer_items,
        "EMER references (gt-eng.csv V1, final-EMER-reason.csv V2, or name,reason CSV)",
        LAYOUTS,
        options=(
            BuildOption(
                "--reference",
                "Reference CSV (default: gt-eng.csv, final-EMER-reason.csv or ROOT's one CSV).",
            ),
        ),
    ),
)
