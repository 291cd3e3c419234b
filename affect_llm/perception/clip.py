"""Everything the model needs from one clip: sampled frames, tracked face crops, AU sequence and its
description, 16 kHz audio with prosody text, optional body cues, and which modalities are missing.

`perceive_clip` is what the builders cache per sample and what the chat demo calls on an upload.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import numpy as np

from affect_llm.errors import InputError
from affect_llm.perception.audio import load_audio
from affect_llm.perception.aus import (
    AUFileError,
    AUSequence,
    AUSummary,
    estimate_aus_from_landmarks,
    read_au_csv,
    summarize_aus,
)
from affect_llm.perception.body import BodyCues, body_cues, pose_landmarks
from affect_llm.perception.faces import face_landmarks, track_faces
from affect_llm.perception.prosody import (
    MIN_PROSODY_SECONDS,
    SAMPLE_RATE,
    Prosody,
    describe_prosody,
    prosody,
)
from affect_llm.perception.video import MediaError, VideoInfo, sample_frames

MODALITIES = ("video", "face", "aus", "audio", "text")


class ConfigError(InputError, ValueError):
    """Settings that no clip could satisfy (e.g. 0 frames): reported once, before any work."""


@dataclass
class PerceptionConfig:
    """How a clip is turned into model inputs; every field is part of the feature-cache key."""

    num_frames: int = field(default=8, metadata={"help": "Frames sampled uniformly per clip."})
    face_size: int = field(default=224, metadata={"help": "Side of the square face crops (px)."})
    face_detector: str = field(
        default="mediapipe", metadata={"help": "'mediapipe' (BlazeFace) or 'opencv' (Haar)."}
    )
    min_face_confidence: float = field(default=0.5, metadata={"help": "Detector score threshold."})
    face_margin: float = field(default=1.3, metadata={"help": "Crop side / face box side."})
    decode_mode: str = field(
        default="seek",
        metadata={"help": "'seek' (sampled decoding) or 'sequential' (every frame)."},
    )
    estimate_aus: bool = field(
        default=True, metadata={"help": "Estimate AUs from face-mesh landmarks when no AU CSV."}
    )
    body: bool = field(default=False, metadata={"help": "Also compute body cues (pose model)."})
    max_audio_seconds: float | None = field(
        default=None, metadata={"help": "Keep at most this much audio (None: all)."}
    )
    asr_model: str | None = field(
        default=None, metadata={"help": "Local ASR checkpoint for clips without a subtitle."}
    )
    max_side: int = field(
        default=1920,
        metadata={"help": "Frames larger than this (px, longer side) are downscaled at decoding."},
    )
    max_pixels: int = field(
        default=10_000_000,
        metadata={"help": "Clips with more pixels per frame (about 4K) are rejected per sample."},
    )
    max_seconds: float = field(
        default=3600.0, metadata={"help": "Clips longer than this (s) are rejected per sample."}
    )

    def __post_init__(self) -> None:
        """Reject impossible settings up front, before any clip is blamed for them."""
        checks = [
            (self.num_frames >= 1, f"frames per clip must be at least 1 (got {self.num_frames})"),
            (self.face_size >= 8, f"face size must be at least 8 px (got {self.face_size})"),
            (
                self.face_detector in ("mediapipe", "opencv"),
                f"face detector must be 'mediapipe' or 'opencv' (got {self.face_detector!r})",
            ),
            (
                0.0 <= self.min_face_confidence <= 1.0,
                f"face confidence must be in [0, 1] (got {self.min_face_confidence})",
            ),
            (self.face_margin > 0, f"face margin must be positive (got {self.face_margin})"),
            (
                self.decode_mode in ("seek", "sequential"),
                f"decode mode must be 'seek' or 'sequential' (got {self.decode_mode!r})",
            ),
            (
                self.max_audio_seconds is None or self.max_audio_seconds > 0,
                f"max audio seconds must be positive (got {self.max_audio_seconds})",
            ),
            (self.max_side >= 64, f"max side must be at least 64 px (got {self.max_side})"),
            (
                self.max_pixels >= 64 * 64,
                f"max pixels must be at least 4096 (got {self.max_pixels})",
            ),
            (self.max_seconds > 0, f"max seconds must be positive (got {self.max_seconds})"),
        ]
        problems = [message for ok, message in checks if not ok]
        if problems:
            raise ConfigError("; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ClipPerception:
    """One clip's inputs. Arrays are None when the modality is missing; `missing` says why."""

    path: str | None
    info: VideoInfo | None = None
    frames: np.ndarray | None = None  # uint8 T x H x W x 3
    timestamps: np.ndarray | None = None
    face_crops: np.ndarray | None = None  # uint8 T x S x S x 3, zeros where no face
    face_present: np.ndarray | None = None  # bool T
    aus: AUSequence | None = None  # on the frames that have a face (or CSV rows at frame times)
    au_summary: AUSummary | None = None
    audio: np.ndarray | None = None  # float32 mono at 16 kHz
    prosody: Prosody | None = None
    prosody_text: str | None = None
    body: BodyCues | None = None
    subtitle: str | None = None
    missing: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # usable but damaged input, e.g. truncation

    def has(self, modality: str) -> bool:
        return modality not in self.missing

    def model_inputs(self) -> dict:
        """Keyword arguments for the processor: faces (present frames), aus (T x 17), audio (16 kHz)."""
        faces = None
        if (
            self.face_crops is not None
            and self.face_present is not None
            and self.face_present.any()
        ):
            faces = self.face_crops[self.face_present]
        return {
            "faces": faces,
            "aus": self.aus.values if self.aus is not None and len(self.aus.values) else None,
            "audio": self.audio,
        }


def perceive_clip(
    path: str | os.PathLike | None,
    config: PerceptionConfig | None = None,
    audio_path: str | os.PathLike | None = None,
    au_csv: str | os.PathLike | None = None,
    subtitle: str | None = None,
) -> ClipPerception:
    """Decode and analyse one clip (video, audio-only file, or video plus a separate audio file).

    Missing or unusable modalities are recorded in `missing`; MediaError is raised only when
    neither pictures nor sound can be read, because then the sample is unusable.
    """
    config = config or PerceptionConfig()
    result = ClipPerception(path=os.fspath(path) if path is not None else None, subtitle=subtitle)
    _perceive_video(result, path, config, au_csv)
    _perceive_audio(result, audio_path or path, config)
    if "video" in result.missing and "audio" in result.missing:
        reasons = dict.fromkeys((result.missing["video"], result.missing["audio"]))
        raise MediaError("; ".join(reasons))
    if not subtitle and config.asr_model and result.audio is not None:
        from affect_llm.perception.audio import transcribe

        result.subtitle = transcribe(result.audio, config.asr_model) or None
    if not result.subtitle:
        result.missing["text"] = "no subtitle"
    return result


def _perceive_video(result: ClipPerception, path, config: PerceptionConfig, au_csv) -> None:
    if path is None:
        result.missing.update(video="no video file", face="no video file")
    else:
        try:
            sampled = sample_frames(
                path,
                config.num_frames,
                config.decode_mode,
                max_side=config.max_side,
                max_pixels=config.max_pixels,
                max_seconds=config.max_seconds,
            )
        except MediaError as error:
            result.missing.update(video=str(error), face=str(error))
        else:
            result.info, result.frames = sampled.info, sampled.frames
            result.timestamps = sampled.timestamps
            if sampled.truncated:
                result.notes.append(
                    f"video ends early (truncated?): {len(sampled.frames)} of {config.num_frames} "
                    f"frames, last at {sampled.timestamps[-1]:.1f} s of {sampled.info.duration:.1f} s"
                )
            track = track_faces(
                sampled.frames,
                config.face_size,
                config.face_detector,
                config.min_face_confidence,
                config.face_margin,
            )
            result.face_crops, result.face_present = track.crops, track.present
            if not track.present.any():
                result.missing["face"] = "no face detected in any sampled frame"
            if config.body:
                result.body = body_cues(*pose_landmarks(sampled.frames))
    if au_csv is not None and os.path.exists(au_csv):
        result.aus = _read_au_file(result, au_csv)
    if (
        result.aus is None
        and config.estimate_aus
        and result.face_present is not None
        and result.face_present.any()
    ):
        points, found = face_landmarks(result.face_crops[result.face_present])
        times = result.timestamps[result.face_present][found]
        result.aus = estimate_aus_from_landmarks(points[found], times)
    if result.aus is None or len(result.aus.values) == 0:
        result.aus = None
        result.missing["aus"] = "no AU file and no face landmarks"
    else:
        result.au_summary = summarize_aus(result.aus)


def _read_au_file(result: ClipPerception, au_csv) -> AUSequence | None:
    """The AU CSV's sequence at the frame times, or None (and a note naming the CSV) if unusable.

    A bad AU file costs only the AU file: the clip is kept and AUs are estimated from landmarks.
    """
    try:
        sequence = read_au_csv(au_csv, fps=(result.info.fps if result.info else None) or 30.0)
    except AUFileError as error:
        result.notes.append(f"AU file not used ({error}); AUs estimated from face landmarks")
        return None
    if len(sequence.values) == 0:
        result.notes.append(
            f"AU file not used ({os.fspath(au_csv)}: no successfully tracked frame); "
            "AUs estimated from face landmarks"
        )
        return None
    return sequence.at(result.timestamps) if result.timestamps is not None else sequence


def _perceive_audio(result: ClipPerception, path, config: PerceptionConfig) -> None:
    if path is None:
        result.missing["audio"] = "no audio file"
        return
    try:
        audio = load_audio(path, SAMPLE_RATE, config.max_audio_seconds, config.max_seconds)
    except MediaError as error:
        result.missing["audio"] = str(error)
        return
    if len(audio) < MIN_PROSODY_SECONDS * SAMPLE_RATE:
        result.missing["audio"] = (
            f"audio too short ({1000 * len(audio) / SAMPLE_RATE:.0f} ms; "
            f"at least {1000 * MIN_PROSODY_SECONDS:.0f} ms needed)"
        )
        return
    result.audio = audio
    result.prosody = prosody(audio, SAMPLE_RATE)
    result.prosody_text = describe_prosody(result.prosody)
