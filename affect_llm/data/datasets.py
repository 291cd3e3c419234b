"""Builders for public emotion datasets in their published layouts (see docs/data.md).

Each `*_items(root, ...)` reads the dataset's own label files and returns SourceItems whose media
are matched by file stem under the dataset folder; `build_samples` does the rest.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path

from affect_llm.data.builder import SourceItem
from affect_llm.data.folder import attach_media, index_media
from affect_llm.data.labels import LabelError, parse_label, parse_openset, parse_valence

MER_CLASSES = ("neutral", "angry", "happy", "sad", "worried", "surprise")
MELD_CLASSES = ("neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear")
DFEW_CLASSES = ("happy", "sad", "neutral", "angry", "surprise", "disgust", "fear")  # labels 1..7
MAFW_CLASSES = ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise",
                "contempt", "anxiety", "helplessness", "disappointment")  # fmt: skip


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]  # fmt: skip


def _find(root: Path, *names: str) -> Path:
    for name in names:
        hits = sorted(root.rglob(name))
        if hits:
            return hits[0]
    raise FileNotFoundError(f"none of {', '.join(names)} under {root}")


def _column(row: dict[str, str], *names: str) -> str:
    for name in names:
        if name in row:
            return row[name]
    lowered = {k.lower(): v for k, v in row.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return ""


def _finish(
    items: list[SourceItem], root: Path, stems: dict[str, str] | None = None
) -> list[SourceItem]:
    media = index_media(root)
    for item in items:
        if not item.error:
            attach_media(item, media, (stems or {}).get(item.id))
    return items


def _guard(item: SourceItem, parse: Callable[[], None]) -> SourceItem:
    try:
        parse()
    except LabelError as error:
        item.error = f"malformed label: {error}"
    return item


def _subtitles(root: Path, *names: str, column: str = "english") -> dict[str, str]:
    """name -> text column of an optional side file (subtitles, reasons)."""
    try:
        path = _find(root, *names)
    except FileNotFoundError:
        return {}
    return {r["name"]: _column(r, column, "sentence", "english", "text") for r in _rows(path)}


def mer_caption_plus_items(root: str | os.PathLike, split: str = "train") -> list[SourceItem]:
    """MER-Caption+: track2_train_mercaptionplus.csv (name, openset; empty = neutral),
    track3_train_mercaptionplus.csv (name, reason), subtitle_chieng.csv (name, english)."""
    root = Path(root)
    reasons = _subtitles(root, "track3_train_mercaptionplus.csv", column="reason")
    subtitles = _subtitles(root, "subtitle_chieng.csv")
    items = []
    for row in _rows(_find(root, "track2_train_mercaptionplus.csv")):
        item = SourceItem(id=row["name"], source="mer-caption+", split=split)

        def parse(item=item, row=row) -> None:
            item.openset = parse_openset(_column(row, "openset")) or ["neutral"]

        items.append(_guard(item, parse))
        item.reason = reasons.get(item.id) or None
        item.subtitle = subtitles.get(item.id) or None
        item.task = "reason" if item.reason else "openset"
    return _finish(items, root)


def ovmerd_items(root: str | os.PathLike, split: str = "test") -> list[SourceItem]:
    """OV-MERD(+): ovlabel.csv (name, openset), subtitle_eng.csv (name, sentence)."""
    root = Path(root)
    subtitles = _subtitles(root, "subtitle_eng.csv", column="sentence")
    items = []
    for row in _rows(_find(root, "ovlabel.csv")):
        item = SourceItem(id=row["name"], source="ovmerd", split=split, task="openset")

        def parse(item=item, row=row) -> None:
            item.openset = parse_openset(_column(row, "openset"))

        items.append(_guard(item, parse))
        item.subtitle = subtitles.get(item.id) or None
    return _finish(items, root)


def merr_items(root: str | os.PathLike, split: str = "train") -> list[SourceItem]:
    """MERR (Emotion-LLaMA) JSON keyed by sample: pseu_emotion, smp_reason_caption / caption."""
    root = Path(root)
    path = root if root.is_file() else _find(root, "MERR*.json", "*.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    items = []
    for name, entry in data.items():
        item = SourceItem(id=str(name), source="merr", split=split)

        def parse(item=item, entry=entry) -> None:
            item.label = parse_label(entry.get("pseu_emotion"))
            item.openset = [item.label] if item.label else []

        items.append(_guard(item, parse))
        item.reason = entry.get("smp_reason_caption") or entry.get("caption") or None
        item.task = "reason" if item.reason else "onehot"
    return _finish(items, root if root.is_dir() else root.parent)


def mer_items(
    root: str | os.PathLike, split: str = "test1", source: str = "mer2023"
) -> list[SourceItem]:
    """MER2023/MER2024: label-6way.npz ({split}_corpus: name -> {emo, val}) or a label CSV
    (name, discrete/emotion[, valence]); subtitles from transcription.csv / subtitle_chieng.csv."""
    root = Path(root)
    subtitles = _subtitles(root, "subtitle_chieng.csv", "transcription.csv")
    labels: dict[str, tuple[str, str]] = {}
    npz = sorted(root.rglob("label-6way.npz"))
    if npz:
        import numpy as np

        corpus = np.load(npz[0], allow_pickle=True)[f"{split}_corpus"].tolist()
        labels = {k: (v.get("emo", ""), str(v.get("val", ""))) for k, v in corpus.items()}
    else:
        for row in _rows(_find(root, f"label-{split}.csv", "label-disdim.csv", "label*.csv")):
            labels[row["name"]] = (_column(row, "discrete", "emotion", "label"), _column(row, "valence", "val"))  # fmt: skip
    items = []
    for name, (emotion, valence) in labels.items():
        item = SourceItem(id=name, source=source, split=split, task="onehot", candidates=list(MER_CLASSES))  # fmt: skip

        def parse(item=item, emotion=emotion, valence=valence) -> None:
            item.label = parse_label(emotion)
            item.openset = [item.label] if item.label else []
            item.valence = parse_valence(valence) if valence not in ("", "-10", "None") else None

        items.append(_guard(item, parse))
        item.subtitle = subtitles.get(name) or None
    return _finish(items, root)


def dfew_items(root: str | os.PathLike, fold: int = 1, split: str = "test") -> list[SourceItem]:
    """DFEW: EmoLabel_DataSplit/{train,test}(single-labeled)/set_{fold}.csv (video_name, label 1-7)."""
    root = Path(root)
    path = _find(root, f"{split}(single-labeled)/set_{fold}.csv", f"*{split}*set_{fold}.csv")
    items = []
    for row in _rows(path):
        name = _column(row, "video_name", "name").zfill(5)
        item = SourceItem(id=name, source="dfew", split=f"{split}{fold}", task="onehot", candidates=list(DFEW_CLASSES))  # fmt: skip

        def parse(item=item, row=row) -> None:
            value = _column(row, "label")
            if not value.isdigit() or not 1 <= int(value) <= 7:
                raise LabelError(f"DFEW label {value!r} is not 1-7")
            item.label = DFEW_CLASSES[int(value) - 1]
            item.openset = [item.label]

        items.append(_guard(item, parse))
    return _finish(items, root)


def mafw_items(root: str | os.PathLike, fold: int = 1, split: str = "test") -> list[SourceItem]:
    """MAFW single-label split files: `.../single/.../set_{fold}/{split}.txt`, lines "00025.mp4 anger"."""
    root = Path(root)
    path = _find(root, f"set_{fold}/{split}.txt")
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        name = Path(parts[0]).stem
        item = SourceItem(id=name, source="mafw", split=f"{split}{fold}", task="onehot", candidates=list(MAFW_CLASSES))  # fmt: skip

        def parse(item=item, parts=parts, number=number) -> None:
            if len(parts) != 2 or parts[1].lower() not in MAFW_CLASSES:
                raise LabelError(f"line {number}: expected '<clip> <one of 11 classes>'")
            item.label = parts[1].lower()
            item.openset = [item.label]

        items.append(_guard(item, parse))
    return _finish(items, root)


def meld_items(root: str | os.PathLike, split: str = "test") -> list[SourceItem]:
    """MELD: {train,dev,test}_sent_emo.csv; clips dia{Dialogue_ID}_utt{Utterance_ID}.mp4."""
    root = Path(root)
    items, stems = [], {}
    for row in _rows(_find(root, f"{split}_sent_emo.csv")):
        name = f"dia{row['Dialogue_ID']}_utt{row['Utterance_ID']}"
        item = SourceItem(id=name, source="meld", split=split, task="onehot", candidates=list(MELD_CLASSES))  # fmt: skip

        def parse(item=item, row=row) -> None:
            item.label = parse_label(row.get("Emotion"))
            item.openset = [item.label] if item.label else []
            sentiment = (row.get("Sentiment") or "").lower()
            item.valence = {"positive": 1.0, "negative": -1.0, "neutral": 0.0}.get(sentiment)

        items.append(_guard(item, parse))
        item.subtitle = row.get("Utterance") or None
        stems[name] = name
    return _finish(items, root, stems)


def mmsa_items(
    root: str | os.PathLike, split: str = "test", source: str = "mosi"
) -> list[SourceItem]:
    """CMU-MOSI, CMU-MOSEI, SIMS and SIMS v2 in the MMSA layout: label.csv (video_id, clip_id, text,
    label, ..., mode) and Raw/{video_id}/{clip_id}.mp4; `label` is the valence."""
    root = Path(root)
    media = index_media(root)  # matches "video_0001/0001" to Raw/video_0001/0001.mp4
    items = []
    for row in _rows(_find(root, "label.csv")):
        if split and row.get("mode", split) != split:
            continue
        name = f"{row['video_id']}/{row['clip_id']}"
        item = SourceItem(id=name, source=source, split=split, task="sentiment")

        def parse(item=item, row=row) -> None:
            item.valence = parse_valence(row.get("label"))

        items.append(_guard(item, parse))
        item.subtitle = row.get("text") or None
        if not item.error:
            attach_media(item, media)
    return items


DATASETS: dict[str, Callable[..., list[SourceItem]]] = {
    "mer-caption+": mer_caption_plus_items,
    "ovmerd": ovmerd_items,
    "merr": merr_items,
    "mer2023": lambda root, split="test1": mer_items(root, split, "mer2023"),
    "mer2024": lambda root, split="test1": mer_items(root, split, "mer2024"),
    "dfew": dfew_items,
    "mafw": mafw_items,
    "meld": meld_items,
    "mosi": lambda root, split="test": mmsa_items(root, split, "mosi"),
    "mosei": lambda root, split="test": mmsa_items(root, split, "mosei"),
    "sims": lambda root, split="test": mmsa_items(root, split, "sims"),
    "simsv2": lambda root, split="test": mmsa_items(root, split, "simsv2"),
}
