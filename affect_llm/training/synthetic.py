"""A synthetic 4-class set whose label is carried only by the face (AU sequence) / voice inputs.

Every row has the same text prompt, so a model can only answer above chance (0.25) by reading its
face and audio tokens. Used by the quickstart, the learning tests and the grounding tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from affect_llm.action_units import EMOTION_PROTOTYPES, OPENFACE_INTENSITY_AUS
from affect_llm.parsing import answer_block
from affect_llm.perception.prosody import SAMPLE_RATE

CLASSES = ("happy", "sad", "surprise", "angry")
MODALITIES = ("face", "audio", "both")
SYNTHETIC_QUESTION = (
    "Which one of these emotions best describes the character: happy, sad, surprise, angry? "
    "Answer with one word."
)
# The plain-text prompt of the grounding tests (no chat template).
PROMPT_TEXT = "<|face|><|audio|> Which emotion? Answer:"


def au_clip(label: str, rng: np.random.Generator, frames: int = 16) -> np.ndarray:
    """AU intensities: low noise everywhere, the label's prototype AUs peaking mid-clip."""
    aus = rng.uniform(0.0, 1.0, size=(frames, len(OPENFACE_INTENSITY_AUS)))
    envelope = np.sin(np.linspace(0, np.pi, frames)) ** 2
    for code in sorted(
        EMOTION_PROTOTYPES[label][0]
    ):  # a frozenset: its order follows the hash seed
        aus[:, OPENFACE_INTENSITY_AUS.index(code)] += rng.uniform(2.5, 4.0) * envelope
    return np.clip(aus, 0.0, 5.0).astype(np.float32)


def voice_clip(label: str, rng: np.random.Generator, seconds: float = 0.8) -> np.ndarray:
    """A harmonic 'voice' whose pitch level / contour and loudness encode the label."""
    n = int(seconds * rng.uniform(0.85, 1.15) * SAMPLE_RATE)
    t = np.linspace(0, 1, n)
    base = rng.uniform(0.9, 1.1)
    f0, amp = {
        "happy": (170 + 60 * t, 0.2),  # mid pitch, rising, moderate
        "sad": (110 + 0 * t, 0.03),  # low, quiet
        "surprise": (340 + 0 * t, 0.2),  # high, moderate
        "angry": (200 + 0 * t, 0.8),  # mid pitch, loud
    }[label]
    phase = 2 * np.pi * np.cumsum(f0 * base) / SAMPLE_RATE
    wave = sum(np.sin(k * phase) / k for k in (1, 2, 3))
    wave = amp * rng.uniform(0.8, 1.25) * wave + 0.005 * rng.standard_normal(n)
    return wave.astype(np.float32)


def _media(label: str, modality: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """AUs and audio for one clip; the modality not carrying the label is label-free noise."""
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
    face = modality in ("face", "both")
    voice = modality in ("audio", "both")
    return {
        "aus": au_clip(label, rng) if face else rng.uniform(0.0, 1.0, (16, 17)).astype(np.float32),
        "audio": voice_clip(label, rng)
        if voice
        else (0.01 * rng.standard_normal(12800)).astype(np.float32),
    }


def make_rows(modality: str, count: int, seed: int) -> list[dict]:
    """Plain-text rows (prompt, completion, aus, audio, label) with identical prompts."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        label = CLASSES[i % len(CLASSES)]
        rows.append(
            {
                "prompt": PROMPT_TEXT,
                "completion": f" {label}",
                **_media(label, modality, rng),
                "label": label,
            }
        )
    return rows


def synthetic_rows(
    count: int, seed: int, modality: str = "both", split: str = "train", prefix: str = "synthetic"
) -> tuple[list[dict[str, Any]], dict[str, dict[str, np.ndarray]]]:
    """Chat training rows and their media, kept apart: (rows, {id: {"aus", "audio"}}).

    Rows carry `id`, `prompt`, `completion`, `label`, `openset` and `split`, like `training_rows`;
    the arrays stay out of the dataset and reach the collator / trainer through a media loader.
    """
    rng = np.random.default_rng(seed)
    rows, media = [], {}
    for i in range(count):
        label = CLASSES[i % len(CLASSES)]
        sample_id = f"{prefix}-{split}-{seed}-{i:05d}"
        media[sample_id] = _media(label, modality, rng)
        rows.append(
            {
                "id": sample_id,
                "prompt": [{"role": "user", "content": f"<|face|><|audio|>\n{SYNTHETIC_QUESTION}"}],
                "completion": [{"role": "assistant", "content": answer_block(label)}],
                "label": label,
                "openset": [label],
                "split": split,
            }
        )
    return rows, media


def media_lookup(media: dict[str, dict[str, np.ndarray]]) -> Callable[[dict], dict]:
    """A media loader for rows whose arrays are held in memory under their id."""

    def load(row: dict) -> dict:
        try:
            return media[row["id"]]
        except KeyError:
            raise KeyError(f"sample {row.get('id')!r}: no media for this id") from None

    return load
