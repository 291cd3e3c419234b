"""Merge LoRA adapters into the model and export a standalone folder `from_pretrained` loads."""

from __future__ import annotations

import os
from pathlib import Path


def merge_and_export(model, processor, out_dir: str | os.PathLike) -> Path:
    """Save `model` (a PEFT model is merged first: adapters folded into the decoder weights,
    `modules_to_save` copies put back in place) and its processor to `out_dir`.

    The folder holds a plain, self-contained AffectLLM checkpoint (weights, the model's code named
    in `auto_map`, and a model card): `AutoModelForCausalLM.from_pretrained(out_dir,
    trust_remote_code=True)` and `AutoProcessor.from_pretrained(out_dir, trust_remote_code=True)`
    load it without PEFT, the base checkpoint or affect-llm.
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
