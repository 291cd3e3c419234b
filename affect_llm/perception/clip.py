"""Everything the model needs from one clip: sampled frames, tracked face crops, AU sequence and its
description, 16 kHz audio with prosody text, optional body cues, and which modalities are missing.

`perceive_clip` is what the builders cache per sample and what the chat demo calls on an upload.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import numpy as np

from affect_llm.perception.audio import SAMPLE_RATE, Prosody, describe_prosody, load_audio, prosody
from affect_llm.perception.aus import (
    AUSequence,
    AUSummary,
    estimate_aus_from_landmarks,
    read_au_csv,
    summarize_aus,
)
from affect_llm.perception.body import BodyCues, body_cues, pose_landmarks
from affect_llm.perception.faces import face_landmarks, track_faces
from affect_llm.perception.video import MediaError, VideoInfo, sample_frames

MODALITIES = ("video", "face", "aus", "audio", "text")


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
            sampled = sample_frames(path, config.num_frames, config.decode_mode)
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
        sequence = read_au_csv(au_csv, fps=(result.info.fps if result.info else None) or 30.0)
        if result.timestamps is not None and len(sequence.values):
            sequence = sequence.at(result.timestamps)
        result.aus = sequence
    elif config.estimate_aus and result.face_present is not None and result.face_present.any():
        points, found = face_landmarks(result.face_crops[result.face_present])
        times = result.timestamps[result.face_present][found]
        result.aus = estimate_aus_from_landmarks(points[found], times)
    if result.aus is None or len(result.aus.values) == 0:
        result.aus = None
        result.missing["aus"] = "no AU file and no face landmarks"
    else:
        result.au_summary = summarize_aus(result.aus)


def _perceive_audio(result: ClipPerception, path, config: PerceptionConfig) -> None:
    if path is None:
        result.missing["audio"] = "no audio file"
        return
    try:
        audio = load_audio(path, SAMPLE_RATE, config.max_audio_seconds)
    except MediaError as error:
        result.missing["audio"] = str(error)
        return
    result.audio = audio
    result.prosody = prosody(audio, SAMPLE_RATE)
    result.prosody_text = describe_prosody(result.prosody)
