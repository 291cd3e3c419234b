"""The light audio encoder's input: frame-level prosody features (see `affect_llm.perception.prosody`).

One implementation serves both the prompt text and the encoder; this module only names it for
the modeling code. A saved checkpoint gets the implementation file itself as `prosody.py`
(`AffectLLMProcessor.save_pretrained`), because a checkpoint's code cannot import `affect_llm`.
"""

from affect_llm.perception.prosody import (
    FRAME_LENGTH,
    HOP_LENGTH,
    PROSODY_FEATURES,
    SAMPLE_RATE,
    num_prosody_frames,
    prosody_features,
)

__all__ = [
    "FRAME_LENGTH",
    "HOP_LENGTH",
    "PROSODY_FEATURES",
    "SAMPLE_RATE",
    "num_prosody_frames",
    "prosody_features",
]
