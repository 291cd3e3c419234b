"""The light audio encoder's input: frame-level prosody features (see `affect_llm.perception.prosody`).

One implementation serves both the prompt text and the encoder; this module only names it for
the modeling code.
"""

from affect_llm.perception.prosody import (
    FRAME_LENGTH,
    HOP_LENGTH,
    PROSODY_FEATURES,
    num_prosody_frames,
    prosody_features,
)
from affect_llm.perception.prosody import SAMPLE_RATE as SAMPLING_RATE

__all__ = [
    "FRAME_LENGTH",
    "HOP_LENGTH",
    "PROSODY_FEATURES",
    "SAMPLING_RATE",
    "num_prosody_frames",
    "prosody_features",
]
