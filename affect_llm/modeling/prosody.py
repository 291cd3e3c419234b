"""Frame-level prosody features (pitch, voicing, energy, spectral shape) for the light audio encoder.

Eight features per 10 ms frame (25 ms Hann window at 16 kHz), each scaled to roughly unit range so the
encoder needs no normalisation statistics: log energy, zero-crossing rate, spectral centroid,
bandwidth, 85 % roll-off, flatness, log pitch (autocorrelation, 60-500 Hz) and voicing strength.
"""

from __future__ import annotations

import numpy as np

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
SAMPLING_RATE = 16_000
FRAME_LENGTH = 400  # 25 ms
HOP_LENGTH = 160  # 10 ms -> 100 frames per second
_N_FFT = 512
_MIN_F0, _MAX_F0 = 60.0, 500.0


def num_prosody_frames(num_samples: int) -> int:
    """Frames produced for a clip of `num_samples` samples (at least one)."""
    return 1 + max(0, num_samples - FRAME_LENGTH) // HOP_LENGTH


def prosody_features(waveform: np.ndarray, sampling_rate: int = SAMPLING_RATE) -> np.ndarray:
    """(frames, 8) float32 prosody features of a mono float waveform at 16 kHz."""
    if sampling_rate != SAMPLING_RATE:
        raise ValueError(f"prosody features need {SAMPLING_RATE} Hz audio, got {sampling_rate} Hz")
    x = np.asarray(waveform, dtype=np.float64).reshape(-1)
    if x.size < FRAME_LENGTH:
        x = np.pad(x, (0, FRAME_LENGTH - x.size))
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME_LENGTH)[::HOP_LENGTH]
    frames = frames - frames.mean(axis=1, keepdims=True)
    windowed = frames * np.hanning(FRAME_LENGTH)

    energy = np.mean(frames**2, axis=1)
    log_energy = (10 * np.log10(energy + 1e-10) + 50.0) / 20.0
    signs = np.signbit(frames)
    zcr = np.mean(signs[:, 1:] != signs[:, :-1], axis=1)

    power = np.abs(np.fft.rfft(windowed, n=_N_FFT)) ** 2 + 1e-12
    freqs = np.fft.rfftfreq(_N_FFT, 1.0 / SAMPLING_RATE)
    total = power.sum(axis=1)
    centroid = (power * freqs).sum(axis=1) / total
    bandwidth = np.sqrt((power * (freqs - centroid[:, None]) ** 2).sum(axis=1) / total)
    cumulative = np.cumsum(power, axis=1)
    rolloff = freqs[np.argmax(cumulative >= 0.85 * total[:, None], axis=1)]
    flatness = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)

    # Autocorrelation pitch: the strongest normalised peak between the 60 and 500 Hz lags.
    autocorr = np.fft.irfft(np.abs(np.fft.rfft(windowed, n=2 * _N_FFT)) ** 2, axis=1)
    autocorr = autocorr / np.maximum(autocorr[:, :1], 1e-12)
    # Divide out the window's own autocorrelation so long lags (low voices) are not penalised.
    window_ac = np.fft.irfft(np.abs(np.fft.rfft(np.hanning(FRAME_LENGTH), n=2 * _N_FFT)) ** 2)
    autocorr = autocorr / np.maximum(window_ac / window_ac[0], 1e-3)
    lo, hi = int(SAMPLING_RATE / _MAX_F0), int(SAMPLING_RATE / _MIN_F0)
    span = autocorr[:, lo - 1 : hi + 2]
    inner = span[:, 1:-1]
    peaks = (inner >= span[:, :-2]) & (inner >= span[:, 2:])
    # The shortest lag whose peak is nearly as strong as the best one (avoids octave errors).
    strong = peaks & (inner >= 0.9 * inner.max(axis=1, keepdims=True))
    lag = lo + np.argmax(strong, axis=1)
    voicing = np.clip(autocorr[np.arange(len(lag)), lag], 0.0, 1.0)
    voiced = (voicing > 0.45) & (energy > 1e-6)
    log_pitch = np.where(voiced, np.log2(SAMPLING_RATE / lag / 150.0), 0.0)

    nyquist = SAMPLING_RATE / 2
    features = np.stack(
        [
            log_energy,
            zcr,
            centroid / nyquist,
            bandwidth / nyquist,
            rolloff / nyquist,
            flatness,
            log_pitch,
            voicing * voiced,
        ],
        axis=1,
    )
    return features.astype(np.float32)
