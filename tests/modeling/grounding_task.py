"""Synthetic 4-class tasks whose label is carried only by the face (AUs) or only by the voice."""

from __future__ import annotations

import numpy as np
import torch

from affect_llm.action_units import EMOTION_PROTOTYPES, OPENFACE_INTENSITY_AUS
from affect_llm.modeling.processing_affect_llm import AffectLLMDataCollator

CLASSES = ("happy", "sad", "surprise", "angry")
PROMPT_TEXT = "<|face|><|audio|> Which emotion? Answer:"


def au_clip(label: str, rng: np.random.Generator, frames: int = 16) -> np.ndarray:
    """AU intensities: low noise everywhere, the label's prototype AUs peaking mid-clip."""
    aus = rng.uniform(0.0, 1.0, size=(frames, len(OPENFACE_INTENSITY_AUS)))
    envelope = np.sin(np.linspace(0, np.pi, frames)) ** 2
    for code in EMOTION_PROTOTYPES[label][0]:
        aus[:, OPENFACE_INTENSITY_AUS.index(code)] += rng.uniform(2.5, 4.0) * envelope
    return np.clip(aus, 0.0, 5.0).astype(np.float32)


def voice_clip(label: str, rng: np.random.Generator, seconds: float = 0.8) -> np.ndarray:
    """A harmonic 'voice' whose pitch level / contour and loudness encode the label."""
    n = int(seconds * rng.uniform(0.85, 1.15) * 16000)
    t = np.linspace(0, 1, n)
    base = rng.uniform(0.9, 1.1)
    f0, amp = {
        "happy": (170 + 60 * t, 0.2),  # mid pitch, rising, moderate
        "sad": (110 + 0 * t, 0.03),  # low, quiet
        "surprise": (340 + 0 * t, 0.2),  # high, moderate
        "angry": (200 + 0 * t, 0.8),  # mid pitch, loud
    }[label]
    phase = 2 * np.pi * np.cumsum(f0 * base) / 16000
    wave = sum(np.sin(k * phase) / k for k in (1, 2, 3))
    wave = amp * rng.uniform(0.8, 1.25) * wave + 0.005 * rng.standard_normal(n)
    return wave.astype(np.float32)


def make_rows(modality: str, count: int, seed: int) -> list[dict]:
    """Rows with identical prompts; only the `modality` input differs with the label."""
    rng = np.random.default_rng(seed)
    neutral_aus = lambda: rng.uniform(0.0, 1.0, size=(16, 17)).astype(np.float32)  # noqa: E731
    neutral_voice = lambda: (0.01 * rng.standard_normal(12800)).astype(np.float32)  # noqa: E731
    rows = []
    for i in range(count):
        label = CLASSES[i % len(CLASSES)]
        rows.append(
            {
                "prompt": PROMPT_TEXT,
                "completion": f" {label}",
                "aus": au_clip(label, rng) if modality == "face" else neutral_aus(),
                "audio": voice_clip(label, rng) if modality == "audio" else neutral_voice(),
                "label": label,
            }
        )
    return rows


def train_and_evaluate(
    model, processor, modality: str, max_steps: int = 150, seed: int = 0, lr: float = 3e-3
) -> tuple[float, int]:
    """Train the whole tiny model until its training loss is low (or `max_steps`), then return the
    greedy-decoding accuracy on held-out rows and the number of steps taken."""
    torch.manual_seed(seed)
    train_rows = make_rows(modality, 256, seed=seed)
    test_rows = make_rows(modality, 80, seed=seed + 1000)
    collate = AffectLLMDataCollator(processor)
    batches = [collate(train_rows[i : i + 32]) for i in range(0, len(train_rows), 32)]
    for batch in batches:
        # identical prompts and one-token labels: no padding, the answer is the last 2 tokens, so
        # only the last 3 positions need logits (the LM head dominates the tiny model's cost)
        assert bool(batch["attention_mask"].all())
        batch["labels"] = batch["labels"][:, -3:]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    low_loss_streak, step = 0, 0
    for step in range(1, max_steps + 1):
        loss = model(**batches[step % len(batches)], logits_to_keep=3).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        low_loss_streak = low_loss_streak + 1 if loss.item() < 0.05 else 0
        if low_loss_streak == len(batches):  # a whole epoch of near-zero loss
            break
    model.eval()
    processor.tokenizer.padding_side = "left"
    texts = [r["prompt"] for r in test_rows]
    inputs = processor(
        text=texts, aus=[r["aus"] for r in test_rows], audio=[r["audio"] for r in test_rows]
    )
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=2, do_sample=False)
    answers = processor.batch_decode(
        out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True
    )
    hits = [a.strip().split(" ")[0] == r["label"] for a, r in zip(answers, test_rows)]
    return float(np.mean(hits)), step
