"""The sample schema: one JSON object per line in samples.jsonl, versioned, loadable with `datasets`.

Arrays (face crops, audio) live in the feature cache; a row points at its cache file with `features`
(relative to the samples file) and carries the small things inline (AU sequence, cue texts, labels).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1
TASKS = ("openset", "reason", "onehot", "sentiment")
MEDIA_KEYS = ("video", "audio")


@dataclass
class Sample:
    """One row of samples.jsonl (schema version 1). See docs/data.md for every field."""

    id: str
    source: str = "folder"
    split: str = "train"
    task: str = "openset"
    video: str | None = None
    audio: str | None = None
    subtitle: str | None = None
    features: str | None = None
    frame_times: list[float] = field(default_factory=list)
    face_present: list[bool] = field(default_factory=list)
    aus: list[list[float]] | None = None
    au_source: str | None = None
    au_description: str | None = None
    au_peak: list[str] = field(default_factory=list)
    body: str | None = None
    prosody: str | None = None
    audio_seconds: float | None = None
    modalities: dict[str, bool] = field(default_factory=dict)
    missing: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    openset: list[str] = field(default_factory=list)
    label: str | None = None
    valence: float | None = None
    reason: str | None = None
    candidates: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Sample:
        version = row.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ValueError(
                f"sample {row.get('id')!r} has schema version {version}, expected {SCHEMA_VERSION}"
            )
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in row.items() if k in known})


def features():
    """`datasets.Features` of samples.jsonl, so columns that are all null still get their type."""
    from datasets import Features, Sequence, Value

    modalities = {m: Value("bool") for m in ("video", "face", "aus", "audio", "text")}
    return Features(
        {
            "id": Value("string"),
            "source": Value("string"),
            "split": Value("string"),
            "task": Value("string"),
            "video": Value("string"),
            "audio": Value("string"),
            "subtitle": Value("string"),
            "features": Value("string"),
            "frame_times": Sequence(Value("float64")),
            "face_present": Sequence(Value("bool")),
            "aus": Sequence(Sequence(Value("float32"))),
            "au_source": Value("string"),
            "au_description": Value("string"),
            "au_peak": Sequence(Value("string")),
            "body": Value("string"),
            "prosody": Value("string"),
            "audio_seconds": Value("float64"),
            "modalities": modalities,
            "missing": {m: Value("string") for m in modalities},
            "notes": Sequence(Value("string")),
            "openset": Sequence(Value("string")),
            "label": Value("string"),
            "valence": Value("float64"),
            "reason": Value("string"),
            "candidates": Sequence(Value("string")),
            "schema_version": Value("int32"),
        }
    )


def samples_path(path: str | os.PathLike) -> str:
    """samples.jsonl itself, or the one inside a build folder."""
    path = os.fspath(path)
    return os.path.join(path, "samples.jsonl") if os.path.isdir(path) else path


def media_path(path: str | None, out_dir: str | os.PathLike | None) -> str | None:
    """A clip's path as samples.jsonl stores it: relative to the build folder `out_dir`."""
    if path is None or out_dir is None:
        return path
    return os.path.relpath(os.path.abspath(path), os.path.abspath(out_dir))


def resolve_media(row: dict[str, Any], folder: str | os.PathLike) -> dict[str, Any]:
    """`row` with its media paths usable from here: a relative one is joined to the build
    `folder` (an older samples.jsonl's absolute paths are kept as they are)."""
    for key in MEDIA_KEYS:
        value = row.get(key)
        if isinstance(value, str) and value and not os.path.isabs(value):
            row[key] = os.path.normpath(os.path.join(folder, value))
    return row


def read_samples(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of samples.jsonl (or of a build folder's), each checked for its schema version,
    media paths resolved against the build folder (`resolve_media`).

    A line that is not JSON, or a row of another schema version, raises ValueError naming the file
    and line: a build from another affect-llm version is refused instead of misread.
    """
    path = samples_path(path)
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not a JSON object ({error.msg})") from None
            except RecursionError:
                raise ValueError(
                    f"{path}:{number}: JSON nested too deeply to read (thousands of levels)"
                ) from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{number}: not a JSON object")
            version = row.get("schema_version", SCHEMA_VERSION)
            if version != SCHEMA_VERSION:
                raise ValueError(
                    f"{path}:{number}: sample {row.get('id')!r} has schema version {version}, "
                    f"expected {SCHEMA_VERSION}"
                )
            rows.append(resolve_media(row, os.path.dirname(os.path.abspath(path))))
    return rows


def load_samples(path: str | os.PathLike, split: str = "train"):
    """samples.jsonl (or a build folder holding one) as a `datasets.Dataset`, versions checked."""
    from datasets import load_dataset

    read_samples(path)  # the schema version check, with the file and line of a bad row
    data_files = {split: samples_path(path)}
    return load_dataset("json", data_files=data_files, features=features(), split=split)
