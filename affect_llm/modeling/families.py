"""Backbone families: which transformers classes load a checkpoint, and what each one sees.

The field's strongest emotion models start from pretrained omni / vision-language checkpoints
(Qwen2.5-Omni, Qwen2.5-VL, Qwen2-Audio), not from encoders glued to a decoder. A checkpoint's
`model_type` picks its family; the family names transformers' own model and processor classes
(nothing is re-implemented here), the media it reads, and how frames are sampled for it. Everything
above this module (data, recipes, rewards, benchmarks, chat) asks the family, never the class.

How frames are sampled for the video families is `affect_llm.data.frames.FrameSettings`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from affect_llm.errors import InputError

# What one family sees; `cues` are the perception cues that still go into the prompt as text.
VIDEO, AUDIO = "video", "audio"


@dataclass(frozen=True)
class Family:
    """A backbone family: its checkpoints' model types, transformers classes and media."""

    name: str  # short name used in recipes and docs: omni, vl, audio, affect
    title: str
    model_classes: dict  # model_type -> transformers model class name
    processor_classes: tuple[str, ...]
    sees: tuple[str, ...]  # media the model reads itself (VIDEO, AUDIO)
    text_cues: tuple[str, ...]  # cues that reach it as prompt text by default

    @property
    def model_types(self) -> tuple[str, ...]:
        return tuple(self.model_classes)

    def model_class(self, model_type: str):
        import transformers

        return getattr(transformers, self.model_classes[model_type])

    @property
    def sees_video(self) -> bool:
        return VIDEO in self.sees

    @property
    def sees_audio(self) -> bool:
        return AUDIO in self.sees


OMNI = Family(
    name="omni",
    title="Qwen2.5-Omni (thinker)",
    model_classes={
        # a full checkpoint: only its thinker is loaded and trained (never talker / token2wav)
        "qwen2_5_omni": "Qwen2_5OmniThinkerForConditionalGeneration",
        "qwen2_5_omni_thinker": "Qwen2_5OmniThinkerForConditionalGeneration",
    },
    processor_classes=("Qwen2_5OmniProcessor",),
    sees=(VIDEO, AUDIO),
    text_cues=("subtitle",),
)
VL = Family(
    name="vl",
    title="Qwen2.5-VL / Qwen2-VL / Qwen3-VL",
    model_classes={
        "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
        "qwen2_vl": "Qwen2VLForConditionalGeneration",
        "qwen3_vl": "Qwen3VLForConditionalGeneration",
    },
    processor_classes=("Qwen2_5_VLProcessor", "Qwen2VLProcessor", "Qwen3VLProcessor"),
    sees=(VIDEO,),
    text_cues=("subtitle", "audio"),
)
AUDIO_FAMILY = Family(
    name="audio",
    title="Qwen2-Audio",
    model_classes={"qwen2_audio": "Qwen2AudioForConditionalGeneration"},
    processor_classes=("Qwen2AudioProcessor",),
    sees=(AUDIO,),
    text_cues=("subtitle", "aus", "body"),
)
AFFECT = Family(
    name="affect",
    title="AffectLLM (face + audio encoders on a Qwen2 / LLaMA decoder)",
    model_classes={"affect_llm": "AffectLLMForConditionalGeneration"},
    processor_classes=("AffectLLMProcessor",),
    sees=(),
    text_cues=("subtitle", "aus", "body", "audio"),
)
FAMILIES = (OMNI, VL, AUDIO_FAMILY, AFFECT)


def supported() -> str:
    """One phrase naming every supported family and its model types (for error lines)."""
    return "; ".join(f"{f.title}: {', '.join(f.model_types)}" for f in FAMILIES)


def family_for_type(model_type: str | None, where: str = "the checkpoint") -> Family:
    """The family of a `model_type`; any other type is one InputError naming the supported ones."""
    for family in FAMILIES:
        if model_type in family.model_types:
            return family
    raise InputError(
        f"{where}: model_type {model_type!r} is not a supported backbone family "
        f"(supported: {supported()})"
    )


def read_model_type(path: str | os.PathLike) -> str | None:
    """`model_type` from a checkpoint folder's config.json (None when the folder has none)."""
    config = Path(path) / "config.json"
    if not config.is_file():
        return None
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as error:
        raise InputError(f"{config}: not a valid JSON config ({error})") from None


def family_of(path: str | os.PathLike) -> Family:
    """The family of a checkpoint folder, from its config.json `model_type`."""
    return family_for_type(read_model_type(path), where=os.fspath(path))


def is_backbone_checkpoint(path: str | os.PathLike | None) -> bool:
    """True for a folder holding a pretrained omni / VL / audio checkpoint (not AffectLLM, and not
    a model type we do not know: its loader says what that folder needs)."""
    if not path or not os.path.isdir(path):
        return False
    model_type = read_model_type(path)
    return any(model_type in f.model_types for f in FAMILIES if f is not AFFECT)


def family_of_processor(processor) -> Family | None:
    """The backbone family whose processor this is; None for AffectLLM's own (or any other)."""
    name = type(processor).__name__
    for family in FAMILIES:
        if family is not AFFECT and name in family.processor_classes:
            return family
    return None


def family_of_model(model) -> Family:
    """The family of a loaded model (PEFT / accelerate wrappers see through `.config`)."""
    return family_for_type(getattr(model.config, "model_type", None), type(model).__name__)
