"""Audio: the soundtrack of a clip as mono float32 at 16 kHz, and optional ASR.

Decoding and resampling go through PyAV (FFmpeg's resampler), so no ffmpeg binary is needed.
Prosody (features and the sentence for prompts) lives in `affect_llm.perception.prosody`.
"""

from __future__ import annotations

import os

import numpy as np

from affect_llm.perception.prosody import SAMPLE_RATE
from affect_llm.perception.video import MediaError, open_container


def load_audio(
    path: str | os.PathLike,
    sample_rate: int = SAMPLE_RATE,
    max_seconds: float | None = None,
    limit_seconds: float | None = None,
) -> np.ndarray:
    """The first audio stream of a file, downmixed to mono float32 at `sample_rate`.

    `max_seconds` keeps only the start; a file longer than `limit_seconds` is refused before
    decoding. Raises MediaError when the file has no audio stream or none of it decodes.
    """
    import av

    with open_container(path) as container:
        if not container.streams.audio:
            raise MediaError(f"no audio stream in {os.path.basename(os.fspath(path))}")
        stream = container.streams.audio[0]
        if stream.codec_context is None:
            raise MediaError(
                f"audio stream of {os.path.basename(os.fspath(path))} has a codec FFmpeg cannot decode"
            )
        duration = container.duration / 1e6 if container.duration else None
        if limit_seconds and duration and duration > limit_seconds:
            raise MediaError(
                f"{duration:.1f} s long, over the {limit_seconds:g} s limit (max_seconds)"
            )
        # FFmpeg's downmix: stereo to mono is (L + R) / sqrt(2), as `ffmpeg -ac 1` does.
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        limit = int(max_seconds * sample_rate) if max_seconds else None
        samples = _Samples(int((duration or 10.0) * sample_rate * 1.02) + sample_rate, limit)
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler count samples; damaged pts must not stop it
                for out in resampler.resample(frame):
                    samples.add(out.to_ndarray().reshape(-1))
                if samples.full:
                    break
            for out in resampler.resample(None):
                samples.add(out.to_ndarray().reshape(-1))
        except av.FFmpegError as error:
            if not samples.size:
                raise MediaError(f"audio decoding failed: {error}") from error
    if not samples.size:
        raise MediaError(f"audio stream of {os.path.basename(os.fspath(path))} decodes to nothing")
    return samples.array()


class _Samples:
    """Decoded samples in one preallocated float32 buffer (grown if the header's duration was
    short), so peak memory is about the samples themselves, not a list of chunks plus their copy."""

    def __init__(self, expected: int, limit: int | None):
        self.limit = limit
        self.buffer = np.empty(min(expected, limit) if limit else expected, dtype=np.float32)
        self.size = 0

    @property
    def full(self) -> bool:
        return self.limit is not None and self.size >= self.limit

    def add(self, piece: np.ndarray) -> None:
        if self.limit is not None:
            piece = piece[: max(self.limit - self.size, 0)]
        end = self.size + piece.size
        if end > self.buffer.size:
            grown = np.empty(max(end, int(self.buffer.size * 1.5)), dtype=np.float32)
            grown[: self.size] = self.buffer[: self.size]
            self.buffer = grown
        self.buffer[self.size : end] = piece
        self.size = end

    def array(self) -> np.ndarray:
        return self.buffer[: self.size]


def transcribe(audio: np.ndarray, model: str, sample_rate: int = SAMPLE_RATE) -> str:
    """Subtitle from a user-supplied local ASR model (a transformers checkpoint directory).

    Only used when the dataset ships no subtitle; `model` must be a local folder (no download).
    """
    from transformers import pipeline

    asr = _asr_pipeline(model, pipeline)
    return str(asr({"raw": audio, "sampling_rate": sample_rate})["text"]).strip()


_ASR_CACHE: dict[str, object] = {}


def _asr_pipeline(model: str, pipeline):
    if not os.path.isdir(model):
        raise ValueError(
            f"ASR model must be a local checkpoint folder (nothing is downloaded): {model}"
        )
    if model not in _ASR_CACHE:
        _ASR_CACHE[model] = pipeline(
            "automatic-speech-recognition", model=model, trust_remote_code=False
        )
    return _ASR_CACHE[model]
