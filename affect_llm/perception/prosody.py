"""Prosody, once: frame-level features for the audio encoder and clip statistics for the prompt text.

Eight features per 10 ms frame (25 ms Hann window at 16 kHz), each scaled to roughly unit range so
the encoder needs no normalisation statistics: log energy, zero-crossing rate, spectral centroid,
bandwidth, 85 % roll-off, flatness, log pitch (autocorrelation, 60-500 Hz) and voicing strength.
The clip statistics (`prosody`) are summaries of the same frames, so the text a prompt carries and
the features the model reads never disagree. Frames are computed in fixed-size chunks: memory does
not grow with clip length beyond the samples themselves and the small (frames, 8) result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

SAMPLE_RATE = 16_000  # the one sample rate of every audio input (decoding, prosody, encoders)
FRAME_LENGTH = 400  # 25 ms
HOP_LENGTH = 160  # 10 ms -> 100 frames per second
MIN_PROSODY_SECONDS = 0.08  # shorter audio holds too few frames for pitch or rate
PROSODY_FEATURES = (
    "log_energy",
    "zero_crossing_rate",
    "spectral_centroid",
    "spectral_bandwidth",
    "spectral_rolloff",
    "spectral_flatness",
    "log_pitch",
    "voicing",
)
_N_FFT = 512
_MIN_F0, _MAX_F0 = 60.0, 500.0
_CHUNK_FRAMES = 1024  # frames per chunk: about 10 s of audio, a few MB of scratch space
_WINDOW = np.hanning(FRAME_LENGTH)
_FREQS = np.fft.rfftfreq(_N_FFT, 1.0 / SAMPLE_RATE)
_WINDOW_AC = np.fft.irfft(np.abs(np.fft.rfft(_WINDOW, n=2 * _N_FFT)) ** 2)
_LAG_LO, _LAG_HI = int(SAMPLE_RATE / _MAX_F0), int(SAMPLE_RATE / _MIN_F0)


def num_prosody_frames(num_samples: int) -> int:
    """Frames produced for a clip of `num_samples` samples (at least one)."""
    return 1 + max(0, num_samples - FRAME_LENGTH) // HOP_LENGTH


def _chunk_features(frames: np.ndarray) -> np.ndarray:
    """(n, 8) features of n frames (float64 n x FRAME_LENGTH)."""
    frames = frames - frames.mean(axis=1, keepdims=True)
    windowed = frames * _WINDOW

    energy = np.mean(frames**2, axis=1)
    log_energy = (10 * np.log10(energy + 1e-10) + 50.0) / 20.0
    signs = np.signbit(frames)
    zcr = np.mean(signs[:, 1:] != signs[:, :-1], axis=1)

    power = np.abs(np.fft.rfft(windowed, n=_N_FFT)) ** 2 + 1e-12
    total = power.sum(axis=1)
    centroid = (power * _FREQS).sum(axis=1) / total
    bandwidth = np.sqrt((power * (_FREQS - centroid[:, None]) ** 2).sum(axis=1) / total)
    cumulative = np.cumsum(power, axis=1)
    rolloff = _FREQS[np.argmax(cumulative >= 0.85 * total[:, None], axis=1)]
    flatness = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)

    # Autocorrelation pitch: the strongest normalised peak between the 60 and 500 Hz lags.
    autocorr = np.fft.irfft(np.abs(np.fft.rfft(windowed, n=2 * _N_FFT)) ** 2, axis=1)
    autocorr = autocorr / np.maximum(autocorr[:, :1], 1e-12)
    # Divide out the window's own autocorrelation so long lags (low voices) are not penalised.
    autocorr = autocorr / np.maximum(_WINDOW_AC / _WINDOW_AC[0], 1e-3)
    span = autocorr[:, _LAG_LO - 1 : _LAG_HI + 2]
    inner = span[:, 1:-1]
    peaks = (inner >= span[:, :-2]) & (inner >= span[:, 2:])
    # The shortest lag whose peak is nearly as strong as the best one (avoids octave errors).
    strong = peaks & (inner >= 0.9 * inner.max(axis=1, keepdims=True))
    lag = _LAG_LO + np.argmax(strong, axis=1)
    voicing = np.clip(autocorr[np.arange(len(lag)), lag], 0.0, 1.0)
    voiced = (voicing > 0.45) & (energy > 1e-6)
    log_pitch = np.where(voiced, np.log2(SAMPLE_RATE / lag / 150.0), 0.0)

    nyquist = SAMPLE_RATE / 2
    columns = (
        log_energy,
        zcr,
        centroid / nyquist,
        bandwidth / nyquist,
        rolloff / nyquist,
        flatness,
        log_pitch,
        voicing * voiced,
    )
    return np.stack(columns, axis=1).astype(np.float32)


def prosody_features(waveform: np.ndarray, sampling_rate: int = SAMPLE_RATE) -> np.ndarray:
    """(frames, 8) float32 prosody features of a mono waveform at 16 kHz, computed chunk by chunk."""
    if sampling_rate != SAMPLE_RATE:
        raise ValueError(f"prosody features need {SAMPLE_RATE} Hz audio, got {sampling_rate} Hz")
    x = np.asarray(waveform).reshape(-1)
    if x.size < FRAME_LENGTH:
        x = np.pad(x, (0, FRAME_LENGTH - x.size))
    count = num_prosody_frames(x.size)
    out = np.empty((count, len(PROSODY_FEATURES)), dtype=np.float32)
    for first in range(0, count, _CHUNK_FRAMES):
        last = min(first + _CHUNK_FRAMES, count)
        piece = x[first * HOP_LENGTH : (last - 1) * HOP_LENGTH + FRAME_LENGTH].astype(np.float64)
        frames = np.lib.stride_tricks.sliding_window_view(piece, FRAME_LENGTH)[::HOP_LENGTH]
        out[first:last] = _chunk_features(frames)
    return out


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


def prosody(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Prosody:
    """Pitch, energy and rate statistics of a mono signal, summarised from `prosody_features`."""
    features = prosody_features(audio, sample_rate)
    energy_db = 20.0 * features[:, 0].astype(np.float64) - 50.0  # back from the scaled log energy
    loud = energy_db > max(energy_db.max() - 35.0, -60.0)
    voiced = loud & (features[:, 7] > 0)
    pitch = 150.0 * np.exp2(features[voiced, 6].astype(np.float64))
    # Syllable nuclei: local maxima of smoothed energy in voiced regions, at least 100 ms apart.
    width = min(5, len(energy_db))
    smooth = np.convolve(energy_db, np.ones(width) / width, mode="same")[: len(energy_db)]
    floor = np.median(smooth[loud]) - 3.0 if loud.any() else np.inf
    inside = smooth[1:-1]
    is_peak = (inside >= smooth[:-2]) & (inside > smooth[2:]) & voiced[1:-1] & (inside > floor)
    peaks = np.flatnonzero(is_peak) + 1
    nuclei = [p for k, p in enumerate(peaks) if k == 0 or p - peaks[k - 1] >= 10]
    voiced_seconds = max(voiced.sum() * HOP_LENGTH / sample_rate, 1e-3)
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
