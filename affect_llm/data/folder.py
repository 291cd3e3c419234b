"""The folder builder: a directory of videos (or audio files) plus a labels CSV.

Labels are `name,openset` or `name,label` (optionally also valence, reason, subtitle, split, task);
media and OpenFace/py-feat AU CSVs are matched to a row by file stem, anywhere under VIDEO_DIR.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from affect_llm.data.builder import BuildConfig, BuildSummary, SourceItem, build_samples
from affect_llm.data.labels import LabelError, parse_label, parse_openset, parse_valence

VIDEO_EXTENSIONS = (
    ".mp4",
    ".avi",
    ".mkv",
    ".mov",
    ".webm",
    ".flv",
    ".m4v",
    ".mpg",
    ".mpeg",
    ".wmv",
)
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".m4a", ".ogg", ".aac", ".opus")


def index_media(root: str | os.PathLike) -> dict[str, dict[str, str]]:
    """{stem: {"video": path, "audio": path, "aus": path}} for media and AU CSVs under `root`."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(Path(root).rglob("*")):
        suffix = path.suffix.lower()
        kind = (
            "video" if suffix in VIDEO_EXTENSIONS
            else "audio" if suffix in AUDIO_EXTENSIONS
            else "aus" if suffix == ".csv" and path.name != "labels.csv"
            else None
        )  # fmt: skip
        if kind and path.is_file():
            found.setdefault(path.stem, {}).setdefault(kind, str(path.resolve()))
    return found


def attach_media(
    item: SourceItem, media: dict[str, dict[str, str]], stem: str | None = None
) -> None:
    """Fill in the item's video/audio/AU paths from the media index, or mark it missing."""
    entry = media.get(stem or item.id)
    if not entry or ("video" not in entry and "audio" not in entry):
        item.error = item.error or f"no video or audio file named {stem or item.id}.* found"
        return
    item.video = entry.get("video")
    item.audio = entry.get("audio")  # a separate soundtrack with the same stem, if any
    item.au_csv = entry.get("aus")


def read_labels(path: str | os.PathLike, source: str = "folder") -> list[SourceItem]:
    """Items from a labels CSV; rows that cannot be parsed become items carrying an error."""
    items: list[SourceItem] = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        if "name" not in header or not {"openset", "label", "valence"} & set(header):
            raise LabelError(f"{os.fspath(path)}: header must have name and openset, label or valence")  # fmt: skip
        for number, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            values = dict(zip(header, (cell.strip() for cell in row)))
            name = values.get("name", "")
            item = SourceItem(id=name or f"row{number}", source=source)
            if not name:
                item.error = f"line {number}: empty name"
            elif len(row) != len(header):
                item.error = f"line {number}: {len(row)} fields, header has {len(header)}"
            else:
                try:
                    item.openset = parse_openset(values.get("openset"))
                    item.label = parse_label(values.get("label"))
                    item.valence = parse_valence(values.get("valence"))
                except LabelError as error:
                    item.error = f"line {number}: malformed label: {error}"
                item.reason = values.get("reason") or None
                item.subtitle = values.get("subtitle") or None
                item.split = values.get("split") or "train"
                item.task = values.get("task") or ("reason" if item.reason else "openset")
            items.append(item)
    return items


def folder_items(
    video_dir: str | os.PathLike, labels: str | os.PathLike | None
) -> list[SourceItem]:
    """Items for every labelled row (or, without labels, every media file) of a folder."""
    media = index_media(video_dir)
    if labels is None:
        items = [SourceItem(id=stem) for stem, entry in media.items() if {"video", "audio"} & set(entry)]  # fmt: skip
    else:
        items = read_labels(labels)
    for item in items:
        if not item.error:
            attach_media(item, media)
    return items


def build_folder(
    video_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    labels: str | os.PathLike | None = None,
    config: BuildConfig | None = None,
    progress: bool = False,
) -> BuildSummary:
    """`affect-llm build folder`: samples.jsonl + errors.jsonl for a folder of clips and a CSV."""
    return build_samples(folder_items(video_dir, labels), out_dir, config, progress)
