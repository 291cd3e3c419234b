"""DFEW (closed set, 5 folds): EmoLabel_DataSplit/{train,test}(single-labeled)/set_{fold}.csv
(the zip names the folder `single_labeled`), header video_name,label (1-7). Names are unpadded
(`1`); the original clips are `1.mp4`, only the 224x224 derivatives are zero-padded (`00001`),
used when no original."""

from __future__ import annotations

import os
from pathlib import Path

from affect_llm.data.datasets.reading import (
    attach_media,
    clip_number_aliases,
    label_fields,
    labelled_item,
    media_index,
    need_columns,
    read_csv,
)
from affect_llm.data.datasets.spec import BuildOption, DatasetSpec, LayoutRule, detect
from affect_llm.data.items import SourceItem
from affect_llm.data.labels import LabelError

DFEW_CLASSES = ("happy", "sad", "neutral", "angry", "surprise", "disgust", "fear")  # labels 1..7
LAYOUTS = (
    LayoutRule(
        "original",
        ("{split}(single-labeled)/set_{fold}.csv", "{split}(single_labeled)/set_{fold}.csv"),
        "EmoLabel_DataSplit/{split}(single-labeled)/set_{fold}.csv",
    ),
)
FOLD_OPTION = BuildOption("--fold", "Cross-validation fold 1-5.", type=int, default=1)


def _fields(line: int, row: dict[str, str]) -> dict:
    value = row["label"]
    if not value.isdigit() or not 1 <= int(value) <= 7:
        raise LabelError(f"line {line}: DFEW label {value!r} is not 1-7")
    return label_fields(DFEW_CLASSES[int(value) - 1])


def dfew_items(root: str | os.PathLike, fold: int = 1, split: str = "test") -> list[SourceItem]:
    root = Path(root)
    path = detect("dfew", LAYOUTS, root, split=split, fold=fold).labels
    header, rows = read_csv(path)
    need_columns(path, header, "video_name", "label")
    media = media_index([root])
    items = []
    for line, row in rows:
        name = row["video_name"]
        item = labelled_item(
            _fields,
            line,
            row,
            id=name,
            source="dfew",
            split=f"{split}{fold}",
            task="onehot",
            candidates=DFEW_CLASSES,
        )
        if not item.error:
            attach_media(item, media, [name, name.zfill(5)] if name.isdigit() else [name])
        items.append(item)
    return items


SPECS = (
    DatasetSpec(
        "dfew",
        dfew_items,
        "DFEW (EmoLabel_DataSplit set_N.csv)",
        LAYOUTS,
        aliases=clip_number_aliases,
        options=(FOLD_OPTION,),
    ),
)
