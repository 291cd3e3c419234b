"""Audio: the soundtrack of a clip as mono float32 at 16 kHz, prosody statistics, and optional ASR.

Decoding and resampling go through PyAV (FFmpeg's resampler), so no ffmpeg binary is needed.
Prosody is summarised as pitch, energy and speaking rate and rendered as a sentence for prompts.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np

from affect_llm.perception.video import MediaError, _open

SAMPLE_RATE = 16000


def load_audio(
    path: str | os.PathLike, sample_rate: int = SAMPLE_RATE, max_seconds: float | None = None
) -> np.ndarray:
    """The first audio stream of a file, downmixed to mono float32 at `sample_rate`.

    Raises MediaError when the file has no audio stream or none of it decodes.
    """
    import av

    with _open(path) as container:
        if not container.streams.audio:
            raise MediaError(f"no audio stream in {os.path.basename(os.fspath(path))}")
        stream = container.streams.audio[0]
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


@dataclass
class Prosody:
    """Clip-level prosody: pitch (Hz), energy (dB re full scale), speaking rate, voicing."""

    duration: float
    pitch_mean: float | None
    pitch_std: float | None
    pitch_range: float | None
    energy_mean_db: float
    energy_std_db: float
    voiced_fraction: float
    syllable_rate: float  # energy peaks (syllable nuclei) per second of voiced speech

    def to_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _frames(signal: np.ndarray, size: int, hop: int) -> np.ndarray:
    if signal.size < size:
        signal = np.pad(signal, (0, size - signal.size))
    count = 1 + (signal.size - size) // hop
    return np.lib.stride_tricks.sliding_window_view(signal, size)[::hop][:count]


def _pitch_track(frames: np.ndarray, sr: int, fmin: float = 70.0, fmax: float = 400.0):
    """Autocorrelation pitch per frame (Hz) and its voicing strength (normalised peak, 0-1)."""
    windowed = (frames - frames.mean(axis=1, keepdims=True)) * np.hanning(frames.shape[1])
    spectrum = np.fft.rfft(windowed, n=2 * frames.shape[1], axis=1)
    acf = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, : frames.shape[1]]
    acf /= acf[:, :1] + 1e-12
    lo, hi = int(sr / fmax), min(int(sr / fmin), frames.shape[1] - 1)
    lag = lo + np.argmax(acf[:, lo:hi], axis=1)
    strength = acf[np.arange(len(acf)), lag]
    return sr / lag, strength


def prosody(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Prosody:
    """Pitch, energy and rate statistics of a mono signal (25 ms frames, 10 ms hop)."""
    size, hop = int(0.04 * sample_rate), int(0.01 * sample_rate)
    frames = _frames(np.asarray(audio, dtype=np.float32), size, hop)
    rms = np.sqrt(np.mean(frames**2, axis=1) + 1e-12)
    energy_db = 20 * np.log10(rms + 1e-9)
    loud = energy_db > max(energy_db.max() - 35.0, -60.0)
    f0, strength = _pitch_track(frames, sample_rate)
    voiced = loud & (strength > 0.45)
    pitch = f0[voiced]
    # Syllable nuclei: local maxima of smoothed energy in voiced regions, at least 100 ms apart.
    smooth = np.convolve(energy_db, np.ones(5) / 5, mode="same")
    peaks = [
        i
        for i in range(1, len(smooth) - 1)
        if voiced[i] and smooth[i] >= smooth[i - 1] and smooth[i] > smooth[i + 1]
        and smooth[i] > np.median(smooth[loud]) - 3.0
    ]  # fmt: skip
    nuclei = [p for k, p in enumerate(peaks) if k == 0 or p - peaks[k - 1] >= 10]
    voiced_seconds = max(voiced.sum() * hop / sample_rate, 1e-3)
    has_pitch = pitch.size >= 3
    return Prosody(
        duration=len(audio) / sample_rate,
        pitch_mean=float(np.median(pitch)) if has_pitch else None,
        pitch_std=float(np.std(pitch)) if has_pitch else None,
        pitch_range=float(np.percentile(pitch, 95) - np.percentile(pitch, 5))
        if has_pitch
        else None,
        energy_mean_db=float(energy_db[loud].mean()) if loud.any() else float(energy_db.mean()),
        energy_std_db=float(energy_db[loud].std()) if loud.any() else 0.0,
        voiced_fraction=float(voiced.mean()),
        syllable_rate=len(nuclei) / voiced_seconds if voiced.any() else 0.0,
    )


def describe_prosody(stats: Prosody) -> str:
    """One sentence on pitch, loudness and tempo, for text prompts (Emotion-LLaMA-style audio cue)."""
    if stats.voiced_fraction < 0.05 or stats.pitch_mean is None:
        return f"The {stats.duration:.1f} s audio has almost no voiced speech."
    pitch = "high" if stats.pitch_mean > 220 else "low" if stats.pitch_mean < 130 else "medium"
    variation = stats.pitch_std / stats.pitch_mean
    melody = "lively" if variation > 0.2 else "flat" if variation < 0.08 else "moderately varied"
    loud = (
        "loud"
        if stats.energy_mean_db > -18
        else "quiet"
        if stats.energy_mean_db < -32
        else "moderate"
    )
    tempo = (
        "fast" if stats.syllable_rate > 5.0 else "slow" if stats.syllable_rate < 3.0 else "moderate"
    )
    return (
        f"The voice is {pitch}-pitched (median {stats.pitch_mean:.0f} Hz) with {melody} intonation, "
        f"{loud} in volume ({stats.energy_mean_db:.0f} dBFS), at a {tempo} pace "
        f"({stats.syllable_rate:.1f} syllables/s); speech fills {stats.voiced_fraction:.0%} of "
        f"{stats.duration:.1f} s."
    )


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
