"""Readers for public emotion datasets, in the layouts researchers download (see docs/data.md).

Each `*_items(root, ...)` returns SourceItems: the dataset's labels and the media matched to each
item. The MER-UniBench datasets are read from either layout, detected from the files on disk:

- "processed": MERTools `MERBench/dataset/<ds>-process/` folders (what AffectGPT evaluates on):
  `label.npz` / `label-6way.npz` / `label_4way.npz` corpora `{name: {"emo", "val"}}`, subtitles in
  `transcription-engchi-polish.csv`, clips named by the corpus name;
- "original": the dataset's own release (MELD.Raw CSVs, MMSA `label.csv`, IEMOCAP EmoEvaluation, ...).

Item ids are MER-UniBench's names in both layouts (`test_dia0_utt0`, `k5Y_838nuGo_1`,
`video_0003_0006`), so results of the two layouts and AffectGPT's prediction files line up;
`prediction_aliases` lists the other names a prediction file may use for an item.
A file or folder that is not what a layout needs is an InputError (one line); a row that cannot be
used is an item with an `error`; two clips that could both be an item's are an error, never a pick.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from affect_llm.action_units import AU_NAMES, normalize_au
from affect_llm.data.builder import SourceItem
from affect_llm.data.folder import media_kind
from affect_llm.data.labels import LabelError, parse_label, parse_openset, parse_valence
from affect_llm.errors import InputError

MER_CLASSES = ("neutral", "angry", "happy", "sad", "worried", "surprise")
MELD_CLASSES = ("neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear")
# MERBench's integer `emo` of meld-process/label.npz and iemocap-process/label_4way.npz.
MELD_EMO_INDEX = ("anger", "joy", "sadness", "neutral", "disgust", "fear", "surprise")
IEMOCAP_EMO_INDEX = ("happy", "sad", "neutral", "angry")
IEMOCAP_CLASSES = ("angry", "happy", "neutral", "sad")
# IEMOCAP four-class protocol: excited is merged into happy; other classes are left out.
IEMOCAP_FOUR_CLASSES = {
    "neu": "neutral",
    "hap": "happy",
    "exc": "happy",
    "sad": "sad",
    "ang": "angry",
}
DFEW_CLASSES = ("happy", "sad", "neutral", "angry", "surprise", "disgust", "fear")  # labels 1..7
MAFW_CLASSES = (
    "anger",
    "disgust",
    "fear",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
    "contempt",
    "anxiety",
    "helplessness",
    "disappointment",
)
NO_VALENCE = -10  # MERBench's "no valence" value
SUBTITLE_FILES = (
    "transcription-engchi-polish.csv",
    "transcription_merge.csv",
    "transcription-merge.csv",
    "subtitle_chieng.csv",
    "subtitle_eng.csv",
)


@dataclass(frozen=True)
class Layout:
    """Which layout a dataset folder is in, and the label file it is read from."""

    dataset: str
    kind: str  # "processed" (MERBench <ds>-process) or "original" (the dataset's release)
    labels: Path

    def describe(self) -> str:
        name = (
            "MERBench processed layout" if self.kind == "processed" else "original release layout"
        )
        return f"{self.dataset}: {name} (labels from {self.labels})"


# ---------------------------------------------------------------------------------------------
# Finding files: exactly one match, or an error naming what was expected and found.


def _hits(root: Path, pattern: str) -> list[Path]:
    if root.is_file():
        return [root] if root.match(pattern) else []
    hits = {p for p in root.rglob(pattern) if p.is_file()}
    head, sep, tail = pattern.partition("/")
    if sep and root.name == head and (root / tail).is_file():  # ROOT is the `<ds>-process` folder
        hits.add(root / tail)
    return sorted(hits)


def _one(root: Path, *patterns: str) -> Path | None:
    """The single file matching the first pattern that matches; two matches are an error."""
    for pattern in patterns:
        hits = _hits(root, pattern)
        if len(hits) > 1:
            shown = ", ".join(str(h) for h in hits[:3])
            raise InputError(
                f"{root}: {len(hits)} files match {pattern} ({shown}); point ROOT at one dataset copy"
            )
        if hits:
            return hits[0]
    return None


def _require(root: Path, expected: str, *patterns: str) -> Path:
    if not root.exists():
        raise InputError(f"dataset folder {root} does not exist")
    found = _one(root, *patterns)
    if found is None:
        present = (
            ", ".join(sorted(p.name for p in root.iterdir())[:8]) if root.is_dir() else root.name
        )
        raise InputError(f"{root}: expected {expected}; found: {present or 'an empty folder'}")
    return found


def _detect(
    dataset: str, root: Path, processed: Sequence[str], original: Sequence[str], expected: str
) -> Layout:
    """The layout whose label file is on disk; both layouts in one folder is an error."""
    if not root.exists():
        raise InputError(f"dataset folder {root} does not exist")
    found_processed = _one(root, *processed) if processed else None
    found_original = _one(root, *original) if original else None
    if found_processed and found_original:
        raise InputError(
            f"{root}: holds both the processed ({found_processed.name}) and the original ({found_original.name}) {dataset} layout; point ROOT at one of them"
        )
    if found_processed:
        return Layout(dataset, "processed", found_processed)
    if found_original:
        return Layout(dataset, "original", found_original)
    return Layout(dataset, "original", _require(root, expected, *original))


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
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


def _need_columns(path: Path, header: Sequence[str], *columns: str) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(
            f"{path}: expected columns {', '.join(columns)}; found: {', '.join(header) or 'no header'}"
        )


_C1 = re.compile("[\u0080-\u009f]")


def repair_text(text: str) -> str:
    """Undo cp1252 bytes read as Latin-1 (MELD.Raw 2019's U+0092 apostrophes) and strip."""

    def fix(match: re.Match[str]) -> str:
        try:
            return match.group().encode("latin-1").decode("cp1252")
        except UnicodeDecodeError:
            return ""

    return _C1.sub(fix, text).strip()


def _subtitles(folder: Path) -> dict[str, str]:
    """name -> English subtitle from the first subtitle file found in the folder (not below)."""
    for name in SUBTITLE_FILES:
        path = folder / name
        if path.is_file():
            header, rows = _read_csv(path)
            _need_columns(path, header, "name")
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


def _media_index(folders: Sequence[Path]) -> dict[str, dict[str, list[str]]]:
    index: dict[str, dict[str, list[str]]] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            kind = media_kind(path)
            if kind and path.is_file():
                index.setdefault(path.stem, {}).setdefault(kind, []).append(os.path.abspath(path))
    return index


def _attach(item: SourceItem, index: dict[str, dict[str, list[str]]], stems: Sequence[str]) -> None:
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


def _guard(item: SourceItem, parse: Callable[[], None]) -> SourceItem:
    try:
        parse()
    except LabelError as error:
        item.error = f"malformed label: {error}"
    return item


def _corpus(path: Path, key: str) -> dict[str, dict]:
    """One `{split}_corpus` of a MERBench label npz, checked to be {name: {"emo", "val"}}."""
    from affect_llm.npz import load_npz, plain

    data = load_npz(path)
    if key not in data:
        raise InputError(f"{path}: no key '{key}' (found: {', '.join(data)})")
    corpus = data[key]
    if not isinstance(corpus, dict) or not all(
        isinstance(v, dict) and "emo" in v for v in corpus.values()
    ):
        raise InputError(f"{path}: key '{key}' is not a {{name: {{'emo', 'val'}}}} dict")
    return {str(name): plain(value) for name, value in corpus.items()}


def _valence(value: object) -> float | None:
    if value is None or value == NO_VALENCE or str(value).strip() in ("", str(NO_VALENCE)):
        return None
    return parse_valence(value)


def _indexed(emo: object, classes: Sequence[str]) -> str:
    if isinstance(emo, int) and 0 <= emo < len(classes):
        return classes[emo]
    raise LabelError(f"emo {emo!r} is not an index 0-{len(classes) - 1}")


def _processed_items(
    layout: Layout,
    key: str,
    make: Callable[[str, dict], SourceItem],
    keep: Callable[[str], bool] = lambda name: True,
) -> list[SourceItem]:
    """Items of a MERBench processed folder: corpus, subtitles beside it, clips named by name."""
    folder = layout.labels.parent
    subtitles = _subtitles(folder)
    # MERBench's clip folders (MER2024/config.py): the first of each kind present is used, so a
    # folder holding both `subvideo/` and `subvideo-tgt/` (IEMOCAP) is not ambiguous.
    chosen = [
        next((folder / n for n in names if (folder / n).is_dir()), None)
        for names in (("subvideo-tgt", "subvideo", "video"), ("subaudio", "audio"))
    ]
    media = _media_index([f for f in chosen if f] or [folder])
    items = []
    for name, value in _corpus(layout.labels, key).items():
        if not keep(name):
            continue
        item = make(name, value)
        item.subtitle = subtitles.get(name) or item.subtitle
        if not item.error:
            _attach(item, media, [name])
        items.append(item)
    return items


# ---------------------------------------------------------------------------------------------
# MER2023 / MER2024


def _mer_original_file(source: str) -> tuple[str, ...]:
    return {
        "mer2023": ("train-label.csv",),
        "mer2024": ("label-disdim.csv", "track1_train_disdim.csv"),
    }[source]


def mer_items(
    root: str | os.PathLike, split: str = "test1", source: str = "mer2023"
) -> list[SourceItem]:
    """MER2023 / MER2024. Test labels exist only in the processed `label-6way.npz`
    (`{split}_corpus`: {name: {emo: str, val: float or -10}}); the releases' `train-label.csv` /
    `label-disdim.csv` (name, discrete, valence) are the training sets."""
    root = Path(root)
    originals = _mer_original_file(source)
    layout = _detect(
        source,
        root,
        [f"{source}-dataset-process/label-6way.npz", "label-6way.npz"],
        originals,
        f"{source}-dataset-process/label-6way.npz or {' / '.join(originals)}",
    )

    def onehot(name: str) -> SourceItem:
        return SourceItem(
            id=name, source=source, split=split, task="onehot", candidates=list(MER_CLASSES)
        )

    if layout.kind == "processed":
        corpus = _corpus(layout.labels, f"{split}_corpus")
        if corpus and all(
            v.get("emo") == "neutral" and v.get("val") == NO_VALENCE for v in corpus.values()
        ):
            raise InputError(
                f"{layout.labels}: every {split}_corpus label is the placeholder neutral/-10 (made by normalize_dataset_format without test labels); use MERBench's label-6way.npz"
            )

        def make(name: str, value: dict) -> SourceItem:
            item = onehot(name)

            def parse() -> None:
                item.label = parse_label(value.get("emo"))
                item.openset = [item.label] if item.label else []
                item.valence = _valence(value.get("val"))

            return _guard(item, parse)

        return _processed_items(layout, f"{split}_corpus", make)
    if split != "train":
        raise InputError(
            f"{layout.labels}: holds the {source} training labels; {split} labels are only in {source}-dataset-process/label-6way.npz ({split}_corpus) from MERTools MERBench (or use --split train)"
        )
    header, rows = _read_csv(layout.labels)
    _need_columns(layout.labels, header, "name", "discrete")
    items = []
    for _, row in rows:
        item = onehot(row["name"])

        def parse(item=item, row=row) -> None:
            item.label = parse_label(row.get("discrete"))
            item.openset = [item.label] if item.label else []
            item.valence = _valence(row.get("valence"))

        items.append(_guard(item, parse))
    media = _media_index([root])
    subtitles = _subtitles(layout.labels.parent)
    for item in items:
        item.subtitle = subtitles.get(item.id) or None
        if not item.error:
            _attach(item, media, [item.id])
    return items


# ---------------------------------------------------------------------------------------------
# MELD

MELD_SPLITS = {  # --split -> (MERBench prefix, release CSV prefix, MELD.Raw clip folder)
    "train": ("train", "train", "train_splits"),
    "dev": ("val", "dev", "dev_splits_complete"),
    "val": ("val", "dev", "dev_splits_complete"),
    "test": ("test", "test", "output_repeated_splits_test"),
}


def meld_items(root: str | os.PathLike, split: str = "test") -> list[SourceItem]:
    """MELD. Processed: meld-process/label.npz ({train,val,test}_corpus, `emo` an index into
    MELD_EMO_INDEX), clips `test_dia0_utt0.mp4`. Original (MELD.Raw): {train,dev,test}_sent_emo.csv
    and clips `diaX_uttY.mp4` taken only from the split's own folder (the three folders share stems)."""
    root = Path(root)
    if split not in MELD_SPLITS:
        raise InputError(f"MELD split {split!r}: expected one of {', '.join(MELD_SPLITS)}")
    prefix, csv_prefix, clip_folder = MELD_SPLITS[split]
    csv_name = f"{csv_prefix}_sent_emo.csv"
    layout = _detect(
        "meld",
        root,
        ["meld-process/label.npz"],
        [csv_name],
        f"meld-process/label.npz or {csv_name} (MELD.Raw)",
    )

    def onehot(name: str) -> SourceItem:
        return SourceItem(
            id=name, source="meld", split=split, task="onehot", candidates=list(MELD_CLASSES)
        )

    if layout.kind == "processed":

        def make(name: str, value: dict) -> SourceItem:
            item = onehot(name)

            def parse() -> None:
                item.label = _indexed(value.get("emo"), MELD_EMO_INDEX)
                item.openset = [item.label]

            return _guard(item, parse)

        return _processed_items(layout, f"{prefix}_corpus", make)
    header, rows = _read_csv(layout.labels)
    _need_columns(layout.labels, header, "Utterance", "Emotion", "Dialogue_ID", "Utterance_ID")
    folders = [p for p in sorted(root.rglob(clip_folder)) if p.is_dir()]
    media = _media_index(folders)
    items = []
    for _, row in rows:
        stem = f"dia{row['Dialogue_ID']}_utt{row['Utterance_ID']}"
        item = onehot(f"{prefix}_{stem}")

        def parse(item=item, row=row) -> None:
            item.label = parse_label(row.get("Emotion"))
            item.openset = [item.label] if item.label else []
            sentiment = (row.get("Sentiment") or "").lower()
            item.valence = {"positive": 1.0, "negative": -1.0, "neutral": 0.0}.get(sentiment)

        items.append(_guard(item, parse))
        item.subtitle = repair_text(row.get("Utterance", "")) or None
        if not item.error:
            _attach(item, media, [stem])
            if item.error and not folders:
                item.error += f" (no {clip_folder}/ folder under {root})"
    return items


# ---------------------------------------------------------------------------------------------
# IEMOCAP (four classes, Session 5 as test)

_IEMOCAP_LINE = re.compile(r"^\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\s+(\S+)\s+(\w+)\s+\[")


def iemocap_items(root: str | os.PathLike, split: str = "Session5") -> list[SourceItem]:
    """IEMOCAP four classes. Processed: iemocap-process/label_4way.npz (`whole_corpus` only; `emo`
    an index into IEMOCAP_EMO_INDEX; the session is read from the name, Ses05* = Session5).
    Original: `{split}/dialog/EmoEvaluation/*.txt` lines "[start - end]<TAB>name<TAB>neu<TAB>[v, a, d]"."""
    root = Path(root)
    match = re.fullmatch(r"Session([1-5])", split)
    if not match:
        raise InputError(f"IEMOCAP split {split!r}: expected Session1 ... Session5")
    session = f"Ses0{match.group(1)}"

    def onehot(name: str, label: str | None = None) -> SourceItem:
        return SourceItem(
            id=name,
            source="iemocap",
            split=split,
            task="onehot",
            label=label,
            openset=[label] if label else [],
            candidates=list(IEMOCAP_CLASSES),
        )

    processed = _one(root, "label_4way.npz")
    if processed is not None:
        layout = Layout("iemocap", "processed", processed)

        def make(name: str, value: dict) -> SourceItem:
            item = onehot(name)

            def parse() -> None:
                item.label = _indexed(value.get("emo"), IEMOCAP_EMO_INDEX)
                item.openset = [item.label]

            return _guard(item, parse)

        return _processed_items(layout, "whole_corpus", make, keep=lambda n: n.startswith(session))
    folders = sorted(p for p in root.rglob("EmoEvaluation") if p.is_dir() and split in p.parts)
    if not folders:
        raise InputError(
            f"{root}: expected iemocap-process/label_4way.npz or {split}/dialog/EmoEvaluation/ (IEMOCAP_full_release)"
        )
    if len(folders) > 1:
        raise InputError(
            f"{root}: {len(folders)} {split}/dialog/EmoEvaluation folders ({', '.join(map(str, folders[:2]))}); point ROOT at one copy"
        )
    items = []
    for path in sorted(folders[0].glob("*.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            found = _IEMOCAP_LINE.match(line.strip())
            if found and found.group(2) in IEMOCAP_FOUR_CLASSES:
                items.append(onehot(found.group(1), IEMOCAP_FOUR_CLASSES[found.group(2)]))
    media = _media_index([root])
    for item in items:
        _attach(item, media, [item.id])
    return items


# ---------------------------------------------------------------------------------------------
# CMU-MOSI, CMU-MOSEI, CH-SIMS, CH-SIMS v2

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
_MMSA_PROCESSED = {
    "mosi": "cmumosi-process",
    "mosei": "cmumosei-process",
    "sims": "sims-process",
    "simsv2": "simsv2-process",
}


def mmsa_name(source: str, video_id: str, clip_id: str) -> str:
    """MER-UniBench's name of an MMSA clip: `k5Y_838nuGo_1`, or `video_0003_0006` for CH-SIMS."""
    clip = clip_id.zfill(4) if source in ("sims", "simsv2") else clip_id
    return f"{video_id}_{clip}"


def _mmsa_rows(path: Path, source: str) -> list[tuple[int, dict[str, str]]]:
    header, rows = _read_csv(path)
    if "video_id" in header:
        _need_columns(path, header, "video_id", "clip_id", "label", "mode")
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


def mmsa_items(
    root: str | os.PathLike, split: str = "test", source: str = "mosi"
) -> list[SourceItem]:
    """CMU-MOSI, CMU-MOSEI, CH-SIMS, CH-SIMS v2. Processed: <ds>-process/label.npz
    ({train,val,test}_corpus, `val` the valence). Original (MMSA): label.csv (CH-SIMS v2: meta.csv)
    with video_id, clip_id, label, mode (column order differs per dataset) and Raw/{video_id}/{clip_id}.mp4."""
    root = Path(root)
    if split not in MMSA_MODES:
        raise InputError(f"{source} split {split!r}: expected one of train, val, test")
    originals = ["meta.csv", "label.csv"] if source == "simsv2" else ["label.csv"]
    layout = _detect(
        source,
        root,
        [f"{_MMSA_PROCESSED[source]}/label.npz"],
        originals,
        f"{_MMSA_PROCESSED[source]}/label.npz or {' / '.join(originals)} (MMSA)",
    )

    def sentiment(name: str) -> SourceItem:
        return SourceItem(id=name, source=source, split=split, task="sentiment")

    if layout.kind == "processed":
        key = f"{'val' if split == 'valid' else split}_corpus"

        def make(name: str, value: dict) -> SourceItem:
            item = sentiment(name)
            return _guard(item, lambda: setattr(item, "valence", _valence(value.get("val"))))

        return _processed_items(layout, key, make)
    media: dict[str, dict[str, list[str]]] = {}
    for stem, entry in _media_index([root]).items():
        for kind, paths in entry.items():
            for path in paths:  # Raw/{video_id}/{clip}.mp4 -> the item's name
                name = mmsa_name(source, Path(path).parent.name, stem.lstrip("0") or "0")
                media.setdefault(name, {}).setdefault(kind, []).append(path)
    items = []
    for _, row in _mmsa_rows(layout.labels, source):
        if row.get("mode") != MMSA_MODES[split]:
            continue
        clip = row.get("clip_id", "").lstrip("0") or "0"
        item = sentiment(mmsa_name(source, row.get("video_id", ""), clip))
        items.append(
            _guard(
                item,
                lambda item=item, row=row: setattr(
                    item, "valence", parse_valence(row.get("label"))
                ),
            )
        )
        item.subtitle = row.get("text") or None
        if not item.error:
            _attach(item, media, [item.id])
    return items


# ---------------------------------------------------------------------------------------------
# OV-MERD+ and MER-Caption+ (open vocabulary)


def ovmerd_items(root: str | os.PathLike, split: str = "test") -> list[SourceItem]:
    """OV-MERD+: ovlabel.csv (name, openset; empty = neutral, as AffectGPT reads it) and
    subtitle_eng.csv (name, sentence), in ovmerdplus-process/ or the release folder."""
    root = Path(root)
    path = _require(root, "ovlabel.csv (name, openset)", "ovlabel.csv")
    header, rows = _read_csv(path)
    _need_columns(path, header, "name", "openset")
    subtitles = _subtitles(path.parent)
    media = _media_index([root])
    items = []
    for _, row in rows:
        item = SourceItem(id=row["name"], source="ovmerd", split=split, task="openset")

        def parse(item=item, row=row) -> None:
            item.openset = parse_openset(row.get("openset")) or ["neutral"]

        items.append(_guard(item, parse))
        item.subtitle = subtitles.get(item.id) or None
        if not item.error:
            _attach(item, media, [item.id])
    return items


def mer_caption_plus_items(root: str | os.PathLike, split: str = "train") -> list[SourceItem]:
    """MER-Caption+: track2_train_mercaptionplus.csv (name, openset; empty = neutral),
    track3_train_mercaptionplus.csv (name, reason), subtitle_chieng.csv (name, english)."""
    root = Path(root)
    path = _require(
        root, "track2_train_mercaptionplus.csv (name, openset)", "track2_train_mercaptionplus.csv"
    )
    header, rows = _read_csv(path)
    _need_columns(path, header, "name", "openset")
    reasons_path = _one(root, "track3_train_mercaptionplus.csv")
    reasons = {}
    if reasons_path:
        reason_header, reason_rows = _read_csv(reasons_path)
        _need_columns(reasons_path, reason_header, "name", "reason")
        reasons = {r["name"]: r["reason"] for _, r in reason_rows}
    subtitles = _subtitles(path.parent)
    media = _media_index([root])
    items = []
    for _, row in rows:
        item = SourceItem(id=row["name"], source="mer-caption+", split=split)

        def parse(item=item, row=row) -> None:
            item.openset = parse_openset(row.get("openset")) or ["neutral"]

        items.append(_guard(item, parse))
        item.reason = reasons.get(item.id) or None
        item.subtitle = subtitles.get(item.id) or None
        item.task = "reason" if item.reason else "openset"
        if not item.error:
            _attach(item, media, [item.id])
    return items


# ---------------------------------------------------------------------------------------------
# MERR (Emotion-LLaMA)

MERR_FILES = {"fine": "MERR_fine_grained.json", "coarse": "MERR_coarse_grained.json"}


def _merr_codes(entry: dict, key: str) -> list[str]:
    """A MERR AU list ("AU06" or OpenFace's "AU06_r"), every entry an AU code."""
    value = entry.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"MERR key '{key}': expected a list of AU codes, got {value!r}")
    codes = [normalize_au(code) if isinstance(code, str | int) else None for code in value]
    bad = [value[i] for i, code in enumerate(codes) if code is None]
    if bad:
        raise ValueError(f"MERR key '{key}': {bad[0]!r} is not an AU code")
    return list(dict.fromkeys(codes))


def _merr_cues(item: SourceItem, entry: dict) -> None:
    """MERR's own cues -> the item's AU text (peak frame and its AUs, all AUs, visual priors) and
    voice text (`audio_prior_list`, a string), rendered into prompts like extracted cues."""
    aus, peak_aus = _merr_codes(entry, "AU_list"), _merr_codes(entry, "peak_AU_list")
    visual = entry.get("visual_prior_list") or []
    if not isinstance(visual, list) or not all(isinstance(v, str) for v in visual):
        raise ValueError(f"MERR key 'visual_prior_list': expected a list of texts, got {visual!r}")
    audio = entry.get("audio_prior_list") or ""
    if not isinstance(audio, str):
        raise ValueError(f"MERR key 'audio_prior_list': expected a text, got {audio!r}")
    peak = entry.get("peak_index")
    if peak is not None and not re.fullmatch(r"\d+", str(peak).strip()):
        raise ValueError(f"MERR key 'peak_index': expected a frame number, got {peak!r}")

    def named(codes: list[str]) -> str:
        return ", ".join(f"{code} {AU_NAMES[code]}" if code in AU_NAMES else code for code in codes)

    parts = []
    if peak_aus:
        at = f" (frame {str(peak).strip()})" if peak is not None else ""
        parts.append(f"At the peak expression{at} the face shows {named(peak_aus)}.")
    if aus:
        parts.append(f"Action units found: {named(aus)}.")
    if visual:
        parts.append(f"Visual cues: {', '.join(v.strip() for v in visual)}.")
    item.au_description = " ".join(parts) or None
    item.au_peak = peak_aus
    item.voice = audio.strip() or None


def merr_items(
    root: str | os.PathLike, split: str = "train", granularity: str | None = None
) -> list[SourceItem]:
    """MERR JSON keyed by sample: pseu_emotion, smp_reason_caption (fine) / caption (coarse), text
    (subtitle), and the cues AU_list, peak_index, peak_AU_list, visual_prior_list, audio_prior_list.
    With both files present, `granularity` ("fine" or "coarse") must choose one."""
    root = Path(root)
    if granularity not in (None, *MERR_FILES):
        raise InputError(f"MERR granularity {granularity!r}: expected fine or coarse")
    if root.is_file():
        path = root
    else:
        found = {g: _one(root, f) for g, f in MERR_FILES.items()}
        if granularity:
            path = found[granularity] or _require(
                root, MERR_FILES[granularity], MERR_FILES[granularity]
            )
        elif found["fine"] and found["coarse"]:
            raise InputError(
                f"{root}: holds both {MERR_FILES['fine']} and {MERR_FILES['coarse']}; choose one with --merr fine|coarse"
            )
        else:
            path = (
                found["fine"]
                or found["coarse"]
                or _require(root, " or ".join(MERR_FILES.values()), *MERR_FILES.values())
            )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: not a JSON file ({error})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object keyed by sample name")
    media = _media_index([root if root.is_dir() else root.parent])
    items = []
    for name, entry in data.items():
        item = SourceItem(id=str(name), source="merr", split=split)
        entry = entry if isinstance(entry, dict) else {}

        def parse(item=item, entry=entry) -> None:
            item.label = parse_label(entry.get("pseu_emotion"))
            item.openset = [item.label] if item.label else []

        items.append(_guard(item, parse))
        try:
            _merr_cues(item, entry)
        except ValueError as error:
            item.error = item.error or f"{path.name}: {error}"
        item.reason = entry.get("smp_reason_caption") or entry.get("caption") or None
        item.subtitle = entry.get("text") or None
        item.task = "reason" if item.reason else "onehot"
        if not item.error:
            _attach(item, media, [item.id])
    return items


# ---------------------------------------------------------------------------------------------
# DFEW and MAFW (closed set, 5 folds)


def dfew_items(root: str | os.PathLike, fold: int = 1, split: str = "test") -> list[SourceItem]:
    """DFEW: EmoLabel_DataSplit/{train,test}(single-labeled)/set_{fold}.csv (the zip names the
    folder `single_labeled`), header video_name,label (1-7). Names are unpadded (`1`); the original
    clips are `1.mp4`, only the 224x224 derivatives are zero-padded (`00001`), used when no original."""
    root = Path(root)
    expected = f"EmoLabel_DataSplit/{split}(single-labeled)/set_{fold}.csv"
    path = _require(
        root,
        expected,
        f"{split}(single-labeled)/set_{fold}.csv",
        f"{split}(single_labeled)/set_{fold}.csv",
    )
    header, rows = _read_csv(path)
    _need_columns(path, header, "video_name", "label")
    media = _media_index([root])
    items = []
    for line, row in rows:
        name = row["video_name"]
        item = SourceItem(
            id=name,
            source="dfew",
            split=f"{split}{fold}",
            task="onehot",
            candidates=list(DFEW_CLASSES),
        )

        def parse(item=item, row=row, line=line) -> None:
            value = row["label"]
            if not value.isdigit() or not 1 <= int(value) <= 7:
                raise LabelError(f"line {line}: DFEW label {value!r} is not 1-7")
            item.label = DFEW_CLASSES[int(value) - 1]
            item.openset = [item.label]

        items.append(_guard(item, parse))
        if not item.error:
            _attach(item, media, [name, name.zfill(5)] if name.isdigit() else [name])
    return items


def mafw_items(root: str | os.PathLike, fold: int = 1, split: str = "test") -> list[SourceItem]:
    """MAFW single-label split files: `.../single/no_caption/set_{fold}/{split}.txt`, lines "00025.mp4 anger"."""
    root = Path(root)
    path = _require(
        root,
        f"Train & Test Set/single/no_caption/set_{fold}/{split}.txt",
        f"no_caption/set_{fold}/{split}.txt",
        f"set_{fold}/{split}.txt",
    )
    media = _media_index([root])
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        item = SourceItem(
            id=Path(parts[0]).stem,
            source="mafw",
            split=f"{split}{fold}",
            task="onehot",
            candidates=list(MAFW_CLASSES),
        )

        def parse(item=item, parts=parts, number=number) -> None:
            if len(parts) != 2 or parts[1].lower() not in MAFW_CLASSES:
                raise LabelError(f"line {number}: expected '<clip> <one of 11 classes>'")
            item.label = parts[1].lower()
            item.openset = [item.label]

        items.append(_guard(item, parse))
        if not item.error:
            _attach(item, media, [item.id])
    return items


# ---------------------------------------------------------------------------------------------
# R1-Omni / open-r1 GRPO rows

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)


def _r1_rows(path: Path) -> list[tuple[int, object]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append((number, json.loads(line)))
                except json.JSONDecodeError as error:
                    raise InputError(f"{path}: line {number}: invalid JSON ({error.msg})") from None
        return rows
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: invalid JSON at line {error.lineno} ({error.msg})") from None
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of rows")
    return [(index + 1, row) for index, row in enumerate(data)]


def r1_omni_items(root: str | os.PathLike, split: str = "train") -> list[SourceItem]:
    """R1-Omni / open-r1 GRPO rows, JSON list or JSONL: {"video", "problem", "solution":
    "<answer> x </answer>"}, or R1-Omni's LLaVA-style {"video", "conversations": [{from, value}]}.
    Videos are paths relative to the file's folder (e.g. `DFEW/videos/1.mp4`)."""
    root = Path(root)
    path = (
        root
        if root.is_file()
        else _require(root, "one R1-Omni rows file (*.json or *.jsonl)", "*.jsonl", "*.json")
    )
    items: list[SourceItem] = []
    seen: dict[str, int] = {}
    for number, row in _r1_rows(path):
        if not isinstance(row, dict) or not isinstance(row.get("video"), str):
            raise InputError(f"{path}: row {number}: expected an object with a 'video' path")
        solution = row.get("solution")
        if solution is None and isinstance(row.get("conversations"), list):
            turns = [t.get("value", "") for t in row["conversations"] if isinstance(t, dict)]
            solution = turns[-1] if turns else None
        video = Path(row["video"])
        name = video.with_suffix("").as_posix()
        item = SourceItem(id=name, source="r1-omni", split=split, task="onehot")
        if name in seen:
            item.error = f"row {number}: video {row['video']} already on row {seen[name]}"
        seen.setdefault(name, number)
        answer = _ANSWER.search(solution or "")

        def parse(item=item, answer=answer, number=number) -> None:
            if answer is None:
                raise LabelError(f"row {number}: solution has no <answer> ... </answer>")
            item.label = parse_label(answer.group(1))
            item.openset = [item.label] if item.label else []

        if not item.error:
            _guard(item, parse)
        clip = video if video.is_absolute() else path.parent / video
        if not item.error:
            if clip.is_file():
                item.video = os.path.abspath(clip)
            else:
                item.error = f"row {number}: no video file {clip}"
        items.append(item)
    return items


# ---------------------------------------------------------------------------------------------
# Names a prediction file may use for an item (AffectGPT's, ours, the release's).


def prediction_aliases(source: str, name: str) -> tuple[str, ...]:
    """Other names an item `name` of dataset `source` may have in a prediction file."""
    aliases: list[str] = []
    if source == "meld":
        split_prefix, _, stem = name.partition("_")
        if split_prefix in ("train", "val", "test"):
            aliases.append(stem)
    elif source in ("mosi", "mosei", "sims", "simsv2"):
        video_id, _, clip = name.rpartition("_")
        if video_id:
            aliases += [f"{video_id}/{clip}", f"{video_id}/{clip.lstrip('0') or '0'}"]
    elif source in ("dfew", "mafw") and name.isdigit():
        aliases += [name.lstrip("0") or "0", name.zfill(5)]
    aliases += [f"{a}.mp4" for a in (name, *aliases)]
    return tuple(dict.fromkeys(a for a in aliases if a != name))


def read_dataset(name: str, root: str | os.PathLike, **kwargs) -> list[SourceItem]:
    """The items of dataset `name` (a key of DATASETS) from ROOT in either layout."""
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    if not Path(root).exists():
        raise InputError(f"dataset folder {os.fspath(root)} does not exist")
    return DATASETS[name](root, **kwargs)


def describe_layout(name: str, root: str | os.PathLike) -> str:
    """One line saying which layout of dataset `name` is under ROOT (for `build` and `eval`)."""
    root = Path(root)
    processed = {
        "mer2023": ("mer2023-dataset-process/label-6way.npz", "label-6way.npz"),
        "mer2024": ("mer2024-dataset-process/label-6way.npz", "label-6way.npz"),
        "meld": ("meld-process/label.npz",),
        "iemocap": ("label_4way.npz",),
        "ovmerd": ("ovmerdplus-process/ovlabel.csv",),
        **{k: (f"{v}/label.npz",) for k, v in _MMSA_PROCESSED.items()},
    }.get(name, ())
    found = _one(root, *processed) if processed and root.exists() else None
    if found:
        return f"{name}: MERBench processed layout ({found})"
    return f"{name}: original release layout ({root})"


DATASETS: dict[str, Callable[..., list[SourceItem]]] = {
    "mer-caption+": mer_caption_plus_items,
    "ovmerd": ovmerd_items,
    "merr": merr_items,
    "r1-omni": r1_omni_items,
    "mer2023": lambda root, split="test1": mer_items(root, split, "mer2023"),
    "mer2024": lambda root, split="test1": mer_items(root, split, "mer2024"),
    "dfew": dfew_items,
    "mafw": mafw_items,
    "meld": meld_items,
    "iemocap": iemocap_items,
    "mosi": lambda root, split="test": mmsa_items(root, split, "mosi"),
    "mosei": lambda root, split="test": mmsa_items(root, split, "mosei"),
    "sims": lambda root, split="test": mmsa_items(root, split, "sims"),
    "simsv2": lambda root, split="test": mmsa_items(root, split, "simsv2"),
}
