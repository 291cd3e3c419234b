"""Inputs and recorded outputs of the processor before its sub-processors became attributes.

`processor_golden.json` holds, for each encoder pair, a `summary` of every output tensor that
`AffectLLMProcessor` (commit 41e6512, sub-processors built by hand) returned for `golden_media`;
`fixtures/processor_config_v1/` holds the `processor_config.json` that commit saved for each pair.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from conftest import prompts_for


def golden_media(face: str) -> dict:
    """Samples that reach every branch: a missing face / audio, AU values outside 0-5, more AU
    frames than `max_au_frames`, audio longer than `max_audio_seconds`, clips of unequal length."""
    rng = np.random.default_rng(21)
    if face == "au":
        aus = [
            rng.uniform(-1, 6, size=(300, 17)),
            rng.uniform(0, 5, size=(9, 17)),
            None,
            rng.uniform(0, 5, size=(1, 17)).astype(np.float64),
        ]
        faces = None
    else:
        sizes = [(12, 40, 36), (3, 30, 50), None, (1, 33, 33)]
        faces = [None if s is None else rng.integers(0, 256, (*s, 3), np.uint8) for s in sizes]
        aus = None
    lengths = [5 * 16000, None, 7000, 12345]
    audio = [
        None if n is None else (0.1 * rng.standard_normal(n)).astype(np.float32) for n in lengths
    ]
    return {"faces": faces, "aus": aus, "audio": audio}


def summary(batch) -> dict[str, dict]:
    """Key -> shape, dtype and, for integers and masks, the SHA-256 of the bytes; for floats, the
    sum, the sum of magnitudes and 32 values spread over the tensor, compared with a tolerance
    (numpy's float kernels may round a last bit differently on another CPU)."""
    out = {}
    for key, value in sorted(batch.items()):
        array = value.contiguous().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        entry = {"shape": list(array.shape), "dtype": str(array.dtype)}
        if np.issubdtype(array.dtype, np.floating):
            flat = array.astype(np.float64).ravel()
            picks = np.linspace(0, flat.size - 1, 32).round().astype(int)
            entry["sums"] = [float(flat.sum()), float(np.abs(flat).sum())]
            entry["sampled"] = flat[picks].tolist()
        else:
            entry["sha256"] = hashlib.sha256(array.tobytes()).hexdigest()
        out[key] = entry
    return out


def assert_matches(batch, expected: dict[str, dict], where: str = "") -> None:
    """`batch` is the recorded output: the same keys, shapes, dtypes and integer / mask bytes, and
    float values within 1e-5 (relative) of the recorded ones."""
    got = summary(batch)
    assert got.keys() == expected.keys(), where
    for key, want in expected.items():
        have = got[key]
        assert (have["shape"], have["dtype"]) == (want["shape"], want["dtype"]), (where, key)
        if "sha256" in want:
            assert have["sha256"] == want["sha256"], (where, key)
        else:
            np.testing.assert_allclose(
                [*have["sums"], *have["sampled"]],
                [*want["sums"], *want["sampled"]],
                rtol=1e-5,
                atol=1e-6,
                err_msg=f"{where} {key}",
            )


def golden_batch(processor, face: str):
    media = golden_media(face)
    return processor(text=prompts_for(media), **media, return_tensors="pt")
