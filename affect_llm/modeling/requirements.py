"""What a saved AffectLLM folder's own code needs installed: the model card's `pip install` line.

The code `auto_map` names (configuration, modeling, processing, encoders, projectors, prosody)
imports torch, transformers and numpy. A CLIP or SigLIP face encoder's image processor is
transformers' PIL backend, so those folders need Pillow too; the Whisper / HuBERT feature
extractors and the prosody and AU encoders need nothing more. tests/modeling/test_isolated_load.py
installs exactly this list into a fresh virtual environment and loads every encoder pair there.
"""

from __future__ import annotations

from importlib.metadata import version

BASE_PACKAGES = ("torch", "transformers", "numpy")
# Beyond BASE_PACKAGES, by face encoder type (the audio encoders need none).
FACE_PACKAGES = {"au": (), "clip": ("pillow",), "siglip": ("pillow",)}


def checkpoint_requirements(face_encoder_type: str) -> list[str]:
    """`name>=version` for each package the saved code imports; the bound is the version this
    process has, the one the folder was saved (and its logits computed) with."""
    names = (*BASE_PACKAGES, *FACE_PACKAGES[face_encoder_type])
    # a local build label (`2.13.0+cpu`) is not part of the bound
    return [f"{name}>={version(name).split('+')[0]}" for name in names]


def pip_install_line(face_encoder_type: str) -> str:
    """One shell line installing `checkpoint_requirements` (quoted: `>` is a shell redirect)."""
    return "pip install " + " ".join(f'"{r}"' for r in checkpoint_requirements(face_encoder_type))
