"""Merge LoRA adapters into the model and export a standalone folder `from_pretrained` loads."""

from __future__ import annotations

import os
from pathlib import Path


def merge_and_export(model, processor, out_dir: str | os.PathLike) -> Path:
    """Save `model` (a PEFT model is merged first: adapters folded into the decoder weights,
    `modules_to_save` copies put back in place) and its processor to `out_dir`.

    The folder holds a plain AffectLLM checkpoint: `AffectLLMForConditionalGeneration
    .from_pretrained(out_dir)` and `AffectLLMProcessor.from_pretrained(out_dir)` load it without
    PEFT or the base checkpoint.
    """
    out = Path(out_dir)
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def merged_dir(output_dir: str | os.PathLike) -> Path:
    """Where a LoRA run's merged export goes: next to its output folder, suffixed `-merged`."""
    return Path(f"{os.fspath(output_dir).rstrip('/')}-merged")
