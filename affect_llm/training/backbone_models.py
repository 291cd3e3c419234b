"""Load a pretrained omni / VL / audio backbone for training: freeze policy and LoRA.

By default the language model trains (LoRA adapters, or every weight with `llm_mode: full`) and the
vision and audio towers, with their mergers / projectors, stay frozen, as LLaMA-Factory and
ms-swift do for these models; `train_vision_tower` / `train_audio_tower` unfreeze them.
"""

from __future__ import annotations

import os
from dataclasses import fields

from affect_llm.errors import InputError
from affect_llm.modeling.backbones import load_backbone
from affect_llm.modeling.families import Family

# Module-name parts of the towers (and what projects them into the decoder), per modality.
VISION_PARTS = ("visual",)
AUDIO_PARTS = ("audio_tower", "multi_modal_projector")
LANGUAGE_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# LoRA targets: the decoder's linear layers, never a tower's.
LORA_TARGETS = rf"^(?!.*({'|'.join(VISION_PARTS + AUDIO_PARTS)})).*\.({'|'.join(LANGUAGE_LINEAR)})$"
# AffectModelConfig fields only the AffectLLM assembly reads.
AFFECT_ONLY_KEYS = (
    "llm",
    "face_encoder",
    "audio_encoder",
    "num_face_tokens",
    "num_audio_tokens",
    "num_frames",
    "tiny_hidden_size",
    "tiny_text",
    "model_seed",
    "train_face_encoder",
    "train_audio_encoder",
)


def _is_tower(name: str, parts: tuple[str, ...]) -> bool:
    return any(part in name.split(".") for part in parts)


def build_backbone(config):
    """(model, processor, family) from an `AffectModelConfig` naming a backbone checkpoint."""
    model, processor, family = load_backbone(
        config.model_name_or_path,
        dtype=config.dtype,
        attn_implementation=None
        if config.attn_implementation == "auto"
        else config.attn_implementation,
    )
    if config.llm_mode not in ("full", "lora", "frozen"):
        raise InputError(f"llm_mode must be full, lora or frozen, got {config.llm_mode!r}")
    train_vision = bool(getattr(config, "train_vision_tower", False))
    train_audio = bool(getattr(config, "train_audio_tower", False))
    for name, param in model.named_parameters():
        if _is_tower(name, VISION_PARTS):
            param.requires_grad = train_vision
        elif _is_tower(name, AUDIO_PARTS):
            param.requires_grad = train_audio
        else:
            param.requires_grad = config.llm_mode == "full"
    if config.llm_mode == "lora":
        from peft import LoraConfig, get_peft_model

        towers = [p for p, on in ((VISION_PARTS, train_vision), (AUDIO_PARTS, train_audio)) if on]
        lora = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=LORA_TARGETS,
            # an unfrozen tower trains in full beside the adapters, and is saved with them
            modules_to_save=sorted({part for parts in towers for part in parts}) or None,
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, lora)
        for name, param in model.named_parameters():  # get_peft_model freezes the base
            if (train_vision and _is_tower(name, VISION_PARTS)) or (
                train_audio and _is_tower(name, AUDIO_PARTS)
            ):
                param.requires_grad = True
    ignored = ignored_settings(config, family)
    if ignored and int(os.environ.get("RANK", "0")) == 0:
        print(
            f"note: {config.model_name_or_path} is a {family.title} checkpoint; these "
            f"AffectLLM-only settings are ignored: {', '.join(ignored)}",
            flush=True,
        )
    return model, processor, family


def ignored_settings(config, family: Family) -> list[str]:
    """AffectLLM-only settings the config changed from their defaults (ignored for `family`)."""
    changed = []
    for item in fields(config):
        if item.name in AFFECT_ONLY_KEYS and getattr(config, item.name) != _default(item):
            changed.append(item.name)
    return changed


def _default(item):
    from dataclasses import MISSING

    if item.default is not MISSING:
        return item.default
    if item.default_factory is not MISSING:
        return item.default_factory()
    return None
