"""The model and processor a recipe trains: the tiny offline model, a saved folder, or parts composed
from pretrained checkpoints, with the freeze policy or LoRA adapters applied."""

from __future__ import annotations

import torch
from trl import get_peft_config

from affect_llm.modeling import AffectLLMForConditionalGeneration, AffectLLMProcessor
from affect_llm.modeling.families import family_of, is_backbone_checkpoint
from affect_llm.modeling.tiny import tiny_model_and_processor
from affect_llm.modeling.training_modes import add_lora, apply_freeze_policy
from affect_llm.training.backbone_models import build_backbone
from affect_llm.training.config import AffectModelConfig


def _dtype(name: str | None) -> torch.dtype | None:
    return None if name in (None, "auto") else getattr(torch, name)


def build_model_and_processor(config: AffectModelConfig):
    """(model, processor) from the model config, with the freeze policy / LoRA applied."""
    name = config.model_name_or_path
    if is_backbone_checkpoint(name):  # Qwen2.5-Omni / Qwen2.5-VL / Qwen2-Audio
        model, processor, _ = build_backbone(config)
        return model, processor
    if name not in (None, "tiny"):
        family_of(name)  # any model type but ours and the backbone families': one line naming them
    if name == "tiny":
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
        # TRL's LoRA settings, fitted to the decoder; projectors (and from-scratch encoders) are
        # saved in full by PEFT
        model = add_lora(model, get_peft_config(config))
    else:
        apply_freeze_policy(model, llm=config.llm_mode, **encoders)
    return model, processor


def face_input(processor) -> str:
    """What the processor's face encoder reads: "aus" or "faces" (crops); a backbone family's
    processor reads neither ("aus": AU sequences are then only a cue text)."""
    return "faces" if getattr(processor, "face_encoder_type", "au") != "au" else "aus"
