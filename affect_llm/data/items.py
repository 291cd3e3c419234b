"""What a reader hands the builder: `SourceItem`s, and the media kinds it matches files by.

Kept free of numpy and perception so that listing the dataset readers (the `affect-llm build`
parser does) starts as fast as the rest of the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS + AUDIO_EXTENSIONS


def media_kind(path: Path) -> str | None:
    """ "video" or "audio" from a file's extension (any case), else None."""
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    return "audio" if suffix in AUDIO_EXTENSIONS else None


@dataclass
class SourceItem:
    """One sample to build: where its media is and what its labels are (`error`: known bad)."""

    id: str
    video: str | None = None
    audio: str | None = None
    au_csv: str | None = None
    subtitle: str | None = None
    openset: list[str] = field(default_factory=list)
    label: str | None = None
    valence: float | None = None
    reason: str | None = None
    split: str = "train"
    task: str = "openset"
    source: str = "folder"
    candidates: list[str] = field(default_factory=list)
    error: str | None = None
    # Cues a dataset ships with (MERR's AU_list / peak_AU_list / visual and audio priors): they go
    # into the row in place of the clip's own AU and voice text, with a note saying so.
    au_description: str | None = None
    au_peak: list[str] = field(default_factory=list)
    voice: str | None = None
