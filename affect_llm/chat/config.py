"""`ChatConfig`: how the chat and the demo load their model, read clips and generate.

Its own module so the command line can show these defaults without importing perception or torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ChatConfig:
    """How the chat loads its model, reads clips and generates."""

    model: str | None = field(
        default=None,
        metadata={
            "help": "Saved AffectLLM checkpoint directory; None runs the bundled tiny model."
        },
    )
    max_new_tokens: int = field(default=256, metadata={"help": "Most tokens per answer."})
    temperature: float = field(
        default=0.7,
        metadata={"help": "Sampling temperature, seeded so runs repeat; 0 decodes greedily."},
    )
    top_p: float = field(default=0.9, metadata={"help": "Nucleus sampling mass when sampling."})
    num_frames: int = field(default=8, metadata={"help": "Frames sampled from each clip."})
    face_detector: str = field(
        default="mediapipe", metadata={"help": "'mediapipe' (BlazeFace) or 'opencv' (Haar)."}
    )
    device: str | None = field(
        default=None, metadata={"help": "torch device; None picks cuda when available, else cpu."}
    )
    seed: int = field(default=0, metadata={"help": "Seed of the bundled tiny model and sampling."})
