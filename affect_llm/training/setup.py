"""Build what a recipe needs from its configs: model + processor, rows + media loader, rewards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from affect_llm.modeling.families import is_backbone_checkpoint
from affect_llm.training.backbone_models import build_backbone
from affect_llm.training.config import AffectDataConfig, AffectModelConfig, AffectRewardConfig


def _dtype(name: str | None):
    import torch

    return None if name in (None, "auto") else getattr(torch, name)


def build_model_and_processor(config: AffectModelConfig):
    """(model, processor) from the model config, with the freeze policy / LoRA applied."""
    from affect_llm.modeling import (
        AffectLLMForConditionalGeneration,
        AffectLLMProcessor,
        register_auto_classes,
    )
    from affect_llm.modeling.training_modes import add_lora, apply_freeze_policy

    register_auto_classes()
    name = config.model_name_or_path
    if is_backbone_checkpoint(name):  # Qwen2.5-Omni / Qwen2.5-VL / Qwen2-Audio
        model, processor, _ = build_backbone(config)
        return model, processor
    if name == "tiny":
        from affect_llm.modeling.tiny import tiny_model_and_processor

        model, processor = tiny_model_and_processor(
            config.face_encoder,
            config.audio_encoder,
            seed=config.model_seed,
            text=config.tiny_text,
            num_tokens=config.num_face_tokens,
            hidden_size=config.tiny_hidden_size,
        )
        if config.num_audio_tokens != config.num_face_tokens:
            raise ValueError("tiny model: set num_face_tokens equal to num_audio_tokens")
    elif name:
        model = AffectLLMForConditionalGeneration.from_pretrained(name, dtype=_dtype(config.dtype))
        processor = AffectLLMProcessor.from_pretrained(name)
    else:
        if not config.llm:
            raise ValueError("set model_name_or_path, or llm (+ face_encoder, audio_encoder)")
        processor = AffectLLMProcessor.from_components(
            config.llm,
            config.face_encoder,
            config.audio_encoder,
            num_face_tokens=config.num_face_tokens,
            num_audio_tokens=config.num_audio_tokens,
            num_frames=config.num_frames,
        )
        model = AffectLLMForConditionalGeneration.from_components(
            config.llm,
            config.face_encoder,
            config.audio_encoder,
            tokenizer=processor.tokenizer,
            dtype=_dtype(config.dtype),
            attn_implementation=config.attn_implementation,
            load_in_bits=config.load_in_bits,
            num_face_tokens=config.num_face_tokens,
            num_audio_tokens=config.num_audio_tokens,
        )
    if config.llm_mode not in ("full", "lora", "frozen"):
        raise ValueError(f"llm_mode must be full, lora or frozen, got {config.llm_mode!r}")
    encoders = dict(
        train_face_encoder=config.train_face_encoder, train_audio_encoder=config.train_audio_encoder
    )
    if config.llm_mode == "lora":
        # adapters on the decoder; projectors (and from-scratch encoders) saved in full by PEFT
        model = add_lora(
            model, r=config.lora_r, alpha=config.lora_alpha, dropout=config.lora_dropout
        )
    else:
        apply_freeze_policy(model, llm=config.llm_mode, **encoders)
    return model, processor


def face_input(processor) -> str:
    """What the processor's face encoder reads: "aus" or "faces" (crops); a backbone family's
    processor reads neither ("aus": AU sequences are then only a cue text)."""
    return "faces" if getattr(processor, "face_encoder_type", "au") != "au" else "aus"


def build_training_data(
    config: AffectDataConfig, processor, split: str = "train"
) -> tuple[list[dict[str, Any]], Callable[[dict], dict]]:
    """The rows of every configured build folder plus the synthetic set, and one media loader
    (`affect_llm.training.preflight.load_training_data` also says what was kept and dropped)."""
    from affect_llm.training.preflight import load_training_data

    rows, media_loader, _ = load_training_data(config, processor, split)
    return rows, media_loader


def parse_reward(spec: str):
    """A reward from 'name' or 'name:key=value,key=value' (see `affect_llm.rewards.build_reward`)."""
    from affect_llm.errors import InputError, closest
    from affect_llm.rewards import REWARDS, build_reward

    name, _, params = spec.partition(":")
    name = name.strip()
    if name not in REWARDS:  # a typo in a recipe: one line, not build_reward's KeyError
        raise InputError(
            f"rewards: unknown reward {name!r}{closest(name, REWARDS)}; "
            f"available: {', '.join(sorted(REWARDS))}"
        )
    kwargs = {}
    for item in filter(None, (p.strip() for p in params.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"reward {spec!r}: parameters are key=value, got {item!r}")
        kwargs[key.strip()] = _scalar(value.strip())
    return build_reward(name, **kwargs)


def _scalar(value: str):
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def build_rewards(config: AffectRewardConfig) -> list:
    """The configured reward functions, in order (their weights are GRPOConfig.reward_weights)."""
    return [parse_reward(spec) for spec in config.rewards]
