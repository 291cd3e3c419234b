"""The folder builder: a directory of videos (or audio files) plus a labels CSV.

Labels are `name,openset` or `name,label` (optionally also valence, reason, subtitle, split, task);
media and OpenFace/py-feat AU CSVs are matched to a row by file stem (or by relative path, e.g.
`s1/clip001`, where a stem occurs in several folders), anywhere under VIDEO_DIR. A name that matches
two files is reported, never resolved by picking one.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from affect_llm.data.builder import BuildConfig, BuildSummary, build_samples
from affect_llm.data.items import MEDIA_EXTENSIONS, SourceItem, media_kind
from affect_llm.data.labels import (
    LabelError,
    LabelFileError,
    parse_label,
    parse_openset,
    parse_valence,
    read_csv_table,
)
from affect_llm.safe_text import printable

logger = logging.getLogger(__name__)


def _nfc(text: str) -> str:
    """Names compared in NFC: macOS writes file names decomposed (NFD), CSVs are usually NFC."""
    return unicodedata.normalize("NFC", text)


@dataclass
class MediaIndex:
    """Media and AU CSVs under a folder, by relative path without suffix ("s1/clip001") and stem."""

    root: Path
    files: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # key -> kind -> paths
    stems: dict[str, list[str]] = field(default_factory=dict)  # stem -> keys
    skipped: list[str] = field(default_factory=list)  # links not followed, and why

    def keys_for(self, name: str) -> list[str]:
        """Keys matching a row's name: by stem, or by trailing path ("video_0001/0001")."""
        name = _nfc(name.replace("\\", "/")).strip("/")
        stem = name.rsplit("/", 1)[-1]
        if Path(stem).suffix.lower() in MEDIA_EXTENSIONS:  # "00025.mp4" names the file itself
            name, stem = name[: -len(Path(stem).suffix)], Path(stem).stem
        keys = self.stems.get(stem, [])
        if "/" in name:
            keys = [k for k in keys if k == name or k.endswith(f"/{name}")]
        return keys

    def has_media(self, key: str) -> bool:
        return bool({"video", "audio"} & set(self.files[key]))

    def sample_names(self) -> list[str]:
        """One name per media key: the stem where it is unique, else the relative path."""
        names = []
        for key in sorted(k for k in self.files if self.has_media(k)):
            stem = key.rsplit("/", 1)[-1]
            unique = sum(self.has_media(k) for k in self.stems[stem]) == 1
            names.append(stem if unique else key)
        return names


def index_media(root: str | os.PathLike, exclude: str | os.PathLike | None = None) -> MediaIndex:
    """Index media files and AU CSVs under `root` (`exclude`: the labels file, if inside)."""
    root = Path(root)
    skip = Path(exclude).resolve() if exclude else None
    index = MediaIndex(root)
    for path in _walk(root, index.skipped):
        kind = media_kind(path) or (
            "aus" if path.suffix.lower() == ".csv" and path.name != "labels.csv" else None
        )
        if not kind or not path.is_file() or (skip is not None and path.resolve() == skip):
            continue
        key = _nfc(path.relative_to(root).with_suffix("").as_posix())
        entry = index.files.setdefault(key, {})
        if not entry:
            index.stems.setdefault(_nfc(path.stem), []).append(key)
        entry.setdefault(kind, []).append(str(path.resolve()))
    return index


def _walk(root: Path, skipped: list[str]) -> list[Path]:
    """Every file under `root`, following symbolic links to folders (a dataset assembled from
    links is common) but never into a folder already walked: a link loop, or a second link to the
    same folder, is skipped and reported, like `find -L` and rsync do. Broken links are reported."""
    seen: set[tuple[int, int]] = set()
    files: list[Path] = []
    for folder, subfolders, names in os.walk(root, followlinks=True):
        here = Path(folder)
        status = here.stat()
        if (status.st_dev, status.st_ino) in seen:
            subfolders[:] = []
            skipped.append(
                f"{here.relative_to(root).as_posix()}: a link to a folder already read "
                f"({here.resolve()}); not read twice"
            )
            continue
        seen.add((status.st_dev, status.st_ino))
        subfolders.sort()
        for name in names:
            path = here / name
            if path.is_symlink() and not path.exists():
                skipped.append(f"{path.relative_to(root).as_posix()}: a broken link")
            files.append(path)
    return sorted(files)


def _listed(paths: list[str], root: Path) -> str:
    return ", ".join(os.path.relpath(p, root) for p in paths)


def attach_media(item: SourceItem, media: MediaIndex, stem: str | None = None) -> None:
    """Fill in the item's video/audio/AU paths from the index, or record why that is impossible.

    Two candidates are never chosen between silently: the same name in two folders, or two videos
    (clip.mp4 and clip.avi) beside each other, make the item an error that lists them.
    """
    name = stem or item.id
    keys = media.keys_for(name)
    with_media = [k for k in keys if media.has_media(k)]
    if not with_media:
        item.error = item.error or f"no video or audio file named {name}.* found"
        return
    if len(with_media) > 1:
        item.error = (
            f"{len(with_media)} files match {name!r} ({', '.join(with_media)}); name the row "
            f"by its relative path (e.g. {with_media[0]}) or remove the extra copies"
        )
        return
    entry = media.files[with_media[0]]
    for kind in ("video", "audio"):
        if len(entry.get(kind, [])) > 1:
            item.error = (
                f"{len(entry[kind])} {kind} files for {name!r} ({_listed(entry[kind], media.root)}); "
                "remove or rename all but one"
            )
            return
    aus = entry.get("aus") or [
        path for key in keys if key not in with_media for path in media.files[key].get("aus", [])
    ]
    if len(aus) > 1:
        item.error = (
            f"{len(aus)} AU files for {name!r} ({_listed(aus, media.root)}); "
            "put the right one beside the clip or remove the others"
        )
        return
    item.video = entry.get("video", [None])[0]
    item.audio = entry.get("audio", [None])[0]  # a separate soundtrack with the same stem, if any
    item.au_csv = aus[0] if aus else None


def read_labels(path: str | os.PathLike, source: str = "folder") -> list[SourceItem]:
    """Items from a labels CSV; rows that cannot be read or parsed become items carrying an error.

    Raises LabelFileError (one line: file, line, likely cause) when the file as a whole is unusable.
    """
    table = read_csv_table(path)
    if not {"openset", "label", "valence"} & set(table.header):
        raise LabelFileError(
            f"{table.path}:1: the header needs openset, label or valence besides name "
            f"(found: {', '.join(table.header)})"
        )
    entries = [(line, cells, None) for line, cells in table.rows]
    entries += [(line, [name], reason) for line, name, reason in table.bad]
    items: list[SourceItem] = []
    for number, cells, problem in sorted(entries, key=lambda entry: entry[0]):
        values = dict(zip(table.header, cells))
        name = values.get("name", "")
        item = SourceItem(id=name or f"line{number}", source=source)
        if problem:
            item.error = problem
        elif not name:
            item.error = f"line {number}: empty name"
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
    media = index_media(video_dir, exclude=labels)
    for reason in media.skipped:  # nothing under the folder is passed over without a word
        logger.warning("%s: skipped %s", printable(video_dir), printable(reason))
    if labels is None:
        items = [SourceItem(id=name) for name in media.sample_names()]
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
