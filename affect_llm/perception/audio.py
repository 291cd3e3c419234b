"""Audio: the soundtrack of a clip as mono float32 at 16 kHz, and optional ASR.

Decoding and resampling go through PyAV (FFmpeg's resampler), so no ffmpeg binary is needed.
Prosody (features and the sentence for prompts) lives in `affect_llm.perception.prosody`.
"""

from __future__ import annotations

import os

import numpy as np

from affect_llm.perception.prosody import SAMPLE_RATE
from affect_llm.perception.video import MediaError, _open


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

    with _open(path) as container:
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
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks: list[np.ndarray] = []
        total, limit = 0, int(max_seconds * sample_rate) if max_seconds else None
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler count samples; damaged pts must not stop it
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    total += chunks[-1].size
                if limit and total >= limit:
                    break
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.FFmpegError as error:
            if not chunks:
                raise MediaError(f"audio decoding failed: {error}") from error
    if not chunks:
        raise MediaError(f"audio stream of {os.path.basename(os.fspath(path))} decodes to nothing")
    audio = np.concatenate(chunks).astype(np.float32, copy=False)
    return audio[:limit] if limit else audio


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
        raise ValueError(f"ASR model must be a local checkpoint folder (nothing is downloaded): {model}")  # fmt: skip
    if model not in _ASR_CACHE:
        _ASR_CACHE[model] = pipeline("automatic-speech-recognition", model=model)
    return _ASR_CACHE[model]
