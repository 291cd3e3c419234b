"""`ChatConfig`: how the chat and the demo load their model, read clips and generate.

Its own module so the command line can show these defaults without importing perception or torch;
its fields, with their `help`, are the flags of `affect-llm chat` / `demo` (`affect_llm.chat.options`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class ChatConfig:
    """How the chat loads its model, reads clips and generates."""

    model: str | None = field(
        default=None,
        metadata={
            "metavar": "DIR",
            "help": "Saved AffectLLM checkpoint (model + processor save_pretrained directory) or "
            "a Qwen2.5-Omni / Qwen2.5-VL / Qwen2-Audio checkpoint folder; default: the bundled "
            "tiny random model.",
        },
    )
    trust_remote_code: bool = field(
        default=False,
        metadata={
            "help": "Run Python code that the --model folder ships (auto_map in config.json); "
            "off by default: such a folder is refused with one line instead."
        },
    )
    max_new_tokens: int = field(default=256, metadata={"help": "Most tokens per answer."})
    temperature: float = field(
        default=0.7,
        metadata={"help": "Sampling temperature, seeded so runs repeat; 0 decodes greedily."},
    )
    top_p: float = field(default=0.9, metadata={"help": "Nucleus sampling mass when sampling."})
    num_frames: int = field(default=8, metadata={"help": "Frames sampled from each clip."})
    video_fps: float | None = field(
        default=None,
        metadata={"help": "Omni / VL models: frames sampled per second of video (default: 2)."},
    )
    video_max_frames: int | None = field(
        default=None, metadata={"help": "Omni / VL models: at most this many frames (default: 32)."}
    )
    video_max_pixels: int | None = field(
        default=None,
        metadata={"help": "Omni / VL models: at most this many pixels a frame (default: 200704)."},
    )
    face_detector: Literal["mediapipe", "opencv"] = field(
        default="mediapipe", metadata={"help": "'mediapipe' (BlazeFace) or 'opencv' (Haar)."}
    )
    device: str | None = field(
        default=None, metadata={"help": "torch device (default: cuda when available, else cpu)."}
    )
    seed: int = field(default=0, metadata={"help": "Seed of the bundled tiny model and sampling."})
