"""Shared builders for the modeling tests: tiny models and random media for every encoder pair."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest
import torch

FACES = ("au", "clip", "siglip")
AUDIOS = ("prosody", "whisper", "hubert")
ENCODER_PAIRS = list(itertools.product(FACES, AUDIOS))
PROMPT = "<|face|><|audio|> How does the person feel?"


def random_media(face: str, count: int, seed: int = 0, missing: bool = False) -> dict:
    """Per-sample media for `count` samples; with `missing`, sample 1 lacks audio, 2 lacks a face."""
    rng = np.random.default_rng(seed)
    if face == "au":
        faces = None
        aus = [rng.uniform(0, 5, size=(int(rng.integers(6, 20)), 17)) for _ in range(count)]
    else:
        aus = None
        faces = [
            rng.integers(0, 256, (int(rng.integers(2, 9)), 40, 36, 3), np.uint8)
            for _ in range(count)
        ]
    audio = [
        (0.1 * rng.standard_normal(int(rng.integers(6000, 20000)))).astype(np.float32)
        for _ in range(count)
    ]
    if missing:
        audio[1] = None
        (aus if aus is not None else faces)[2] = None
    return {"faces": faces, "aus": aus, "audio": audio}


def prompts_for(media: dict) -> list[str]:
    """Prompts whose placeholders match the media each sample has."""
    face_list = media["aus"] if media["aus"] is not None else media["faces"]
    return [
        ("<|face|>" if f is not None else "") + ("<|audio|>" if a is not None else "") + " Feel?"
        for f, a in zip(face_list, media["audio"])
    ]


def make_batch(processor, face: str, count: int = 3, seed: int = 0, missing: bool = False):
    media = random_media(face, count, seed, missing)
    return processor(text=prompts_for(media), **media, return_tensors="pt")


@pytest.fixture(autouse=True)
def _known_threads():
    """A fixed thread count per test (tests that save and reload compare logits exactly); one
    under `make test`'s workers (see tests/conftest.py)."""
    torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else 2)
