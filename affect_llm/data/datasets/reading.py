"""What every reader shares: finding exactly one label file, reading CSVs and MERBench corpora,
matching clips by stem, and turning a row into an item (or an item with an error)."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from affect_llm.data.items import SourceItem, media_kind
from affect_llm.data.labels import LabelError, parse_valence
from affect_llm.errors import InputError

NO_VALENCE = -10  # MERBench's "no valence" value
SUBTITLE_FILES = (
    "transcription-engchi-polish.csv",
    "transcription_merge.csv",
    "transcription-merge.csv",
    "subtitle_chieng.csv",
    "subtitle_eng.csv",
)

# ---------------------------------------------------------------------------------------------
# Finding files: exactly one match, or an error naming what was expected and found.


def hits(root: Path, pattern: str) -> list[Path]:
    """Files under ROOT matching a glob (ROOT itself when it is a matching file)."""
    if root.is_file():
        return [root] if root.match(pattern) else []
    found = {p for p in root.rglob(pattern) if p.is_file()}
    head, sep, tail = pattern.partition("/")
    if sep and root.name == head and (root / tail).is_file():  # ROOT is the `<ds>-process` folder
        found.add(root / tail)
    return sorted(found)


def one_file(root: Path, *patterns: str) -> Path | None:
    """The single file matching the first pattern that matches; two matches are an error."""
    for pattern in patterns:
        found = hits(root, pattern)
        if len(found) > 1:
            shown = ", ".join(str(h) for h in found[:3])
            raise InputError(
                f"{root}: {len(found)} files match {pattern} ({shown}); point ROOT at one dataset copy"
            )
        if found:
            return found[0]
    return None


def missing(root: Path, expected: str) -> InputError:
    """The one-line error for a folder without the file a layout needs."""
    if not root.exists():
        return InputError(f"dataset folder {root} does not exist")
    present = ", ".join(sorted(p.name for p in root.iterdir())[:8]) if root.is_dir() else root.name
    return InputError(f"{root}: expected {expected}; found: {present or 'an empty folder'}")


def require_file(root: Path, expected: str, *patterns: str) -> Path:
    """The single file matching `patterns`, or an InputError saying what was `expected`."""
    found = one_file(root, *patterns) if root.exists() else None
    if found is None:
        raise missing(root, expected)
    return found


def read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs of a UTF-8 CSV (BOM and CRLF allowed)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            rows = []
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
                    raise InputError(
                        f"{path}: line {reader.line_num}: {len(row)} fields, the header has {len(header)}"
                    )
                cells = [c.strip() for c in row] + [""] * (len(header) - len(row))
                rows.append((reader.line_num, dict(zip(header, cells))))
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise InputError(f"{path}: malformed CSV ({error})") from None
    return header, rows


def need_columns(path: Path, header: Sequence[str], *columns: str) -> None:
    missing_columns = [c for c in columns if c not in header]
    if missing_columns:
        raise InputError(
            f"{path}: expected columns {', '.join(columns)}; found: {', '.join(header) or 'no header'}"
        )


_C1 = re.compile("[\u0080-\u009f]")


def _cp1252(match: re.Match[str]) -> str:
    try:
        return match.group().encode("latin-1").decode("cp1252")
    except UnicodeDecodeError:
        return ""


def repair_text(text: str) -> str:
    """Undo cp1252 bytes read as Latin-1 (MELD.Raw 2019's U+0092 apostrophes) and strip."""
    return _C1.sub(_cp1252, text).strip()


def subtitles(folder: Path) -> dict[str, str]:
    """name -> English subtitle from the first subtitle file found in the folder (not below)."""
    for name in SUBTITLE_FILES:
        path = folder / name
        if path.is_file():
            header, rows = read_csv(path)
            need_columns(path, header, "name")
            column = next(
                (c for c in ("english", "sentence", "text", "chinese") if c in header), None
            )
            if column is None:
                raise InputError(
                    f"{path}: expected a subtitle column english or sentence; found: {', '.join(header)}"
                )
            return {r["name"]: repair_text(r.get(column, "")) for _, r in rows}
    return {}


# ---------------------------------------------------------------------------------------------
# Media: indexed by stem; two files of one kind with the same stem make the item an error.

MediaIndex = dict[str, dict[str, list[str]]]  # stem -> kind -> paths


def media_index(folders: Sequence[Path]) -> MediaIndex:
    index: MediaIndex = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            kind = media_kind(path)
            if kind and path.is_file():
                index.setdefault(path.stem, {}).setdefault(kind, []).append(os.path.abspath(path))
    return index


def attach_media(item: SourceItem, index: MediaIndex, stems: Sequence[str]) -> None:
    """Set the item's video/audio from the first stem that has media; ambiguity is an error."""
    for stem in stems:
        entry = index.get(stem)
        if not entry:
            continue
        for kind, paths in entry.items():
            if len(paths) > 1:
                item.error = (
                    item.error or f"{len(paths)} {kind} files named {stem}: {', '.join(paths)}"
                )
                return
        item.video = entry.get("video", [None])[0]
        item.audio = entry.get("audio", [None])[0]
        return
    item.error = item.error or f"no video or audio file named {stems[0]}.* found"


def clip_number_aliases(name: str) -> tuple[str, ...]:
    """DFEW / MAFW clip numbers with and without zero padding (`1`, `00001`)."""
    return (name.lstrip("0") or "0", name.zfill(5)) if name.isdigit() else ()


# ---------------------------------------------------------------------------------------------
# Rows to items: a reader's `parse` is a plain function from a row to label fields.


def labelled_item(parse: Callable[..., dict], *row: object, **fields: object) -> SourceItem:
    """An item of `fields` plus the label fields `parse(*row)` returns. A malformed label keeps
    the item, with the reason as its error, so the row is reported instead of dropped. The
    parsed fields win over `fields`; lists are copied so no two items share one."""
    base = {k: list(v) if isinstance(v, list | tuple) else v for k, v in fields.items()}
    try:
        return SourceItem(**{**base, **parse(*row)})
    except LabelError as error:
        return SourceItem(**base, error=f"malformed label: {error}")


def label_fields(label: str | None, **more: object) -> dict:
    """A single label as the item's label and its one-word open set."""
    return {"label": label, "openset": [label] if label else [], **more}


def valence(value: object) -> float | None:
    """A valence, None for MERBench's -10 or an empty cell."""
    if value is None or value == NO_VALENCE or str(value).strip() in ("", str(NO_VALENCE)):
        return None
    return parse_valence(value)


def indexed(emo: object, classes: Sequence[str]) -> str:
    """The class an integer `emo` of a MERBench corpus stands for."""
    if isinstance(emo, int) and 0 <= emo < len(classes):
        return classes[emo]
    raise LabelError(f"emo {emo!r} is not an index 0-{len(classes) - 1}")


# ---------------------------------------------------------------------------------------------
# MERBench processed folders


def corpus(path: Path, key: str) -> dict[str, dict]:
    """One `{split}_corpus` of a MERBench label npz, checked to be {name: {"emo", "val"}}."""
    # numpy only when an npz is read: listing the readers (the build parser) stays light
    from affect_llm.npz import load_npz, plain

    data = load_npz(path)
    if key not in data:
        raise InputError(f"{path}: no key '{key}' (found: {', '.join(data)})")
    found = data[key]
    if not isinstance(found, dict) or not all(
        isinstance(v, dict) and "emo" in v for v in found.values()
    ):
        raise InputError(f"{path}: key '{key}' is not a {{name: {{'emo', 'val'}}}} dict")
    return {str(name): plain(value) for name, value in found.items()}


def processed_items(
    labels: Path,
    key: str,
    parse: Callable[[dict], dict],
    prefix: str = "",
    **fields: object,
) -> list[SourceItem]:
    """Items of a MERBench processed folder: the corpus `key` of `labels` (names starting with
    `prefix`), each value read by `parse`, subtitles beside it, clips named by the name."""
    folder = labels.parent
    subtitle = subtitles(folder)
    # MERBench's clip folders (MER2024/config.py): the first of each kind present is used, so a
    # folder holding both `subvideo/` and `subvideo-tgt/` (IEMOCAP) is not ambiguous.
    chosen = [
        next((folder / n for n in names if (folder / n).is_dir()), None)
        for names in (("subvideo-tgt", "subvideo", "video"), ("subaudio", "audio"))
    ]
    media = media_index([f for f in chosen if f] or [folder])
    items = []
    for name, value in corpus(labels, key).items():
        if not name.startswith(prefix):
            continue
        item = labelled_item(parse, value, id=name, **fields)
        item.subtitle = subtitle.get(name) or item.subtitle
        if not item.error:
            attach_media(item, media, [name])
        items.append(item)
    return items
