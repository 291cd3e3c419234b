"""Compose AffectLLM from pretrained parts: a causal LM, a face tower and an audio tower.

The parts are loaded with their own transformers classes (so hub names and local paths both work),
the composite is built on the meta device, and the loaded modules are moved in; only the projectors
and the from-scratch encoders are freshly initialised.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import (
    AutoModelForCausalLM,
    CLIPVisionModel,
    HubertModel,
    SiglipVisionModel,
    WhisperModel,
)

from affect_llm.modeling.configuration_affect_llm import (
    AffectLLMConfig,
    audio_encoder_type,
    face_encoder_type,
)
from affect_llm.modeling.processing_affect_llm import AUDIO_TOKEN, FACE_TOKEN
from affect_llm.modeling.training_modes import quantization_config, resolve_attn_implementation


def _load_face_tower(name: str, kind: str, dtype, hub_kwargs: dict) -> nn.Module:
    cls = CLIPVisionModel if kind == "clip" else SiglipVisionModel
    return cls.from_pretrained(name, dtype=dtype, attn_implementation="sdpa", **hub_kwargs)


def _load_audio_tower(name: str, kind: str, dtype, hub_kwargs: dict) -> nn.Module:
    if kind == "whisper":
        whisper = WhisperModel.from_pretrained(name, dtype=dtype, **hub_kwargs)
        return whisper.get_encoder()
    return HubertModel.from_pretrained(name, dtype=dtype, **hub_kwargs)


def compose_from_components(
    cls,
    llm: str,
    face_encoder: str,
    audio_encoder: str,
    tokenizer,
    dtype: torch.dtype | None,
    attn_implementation: str | None,
    load_in_bits: int | None,
    device_map,
    hub_kwargs: dict,
    **config_kwargs,
):
    """See `AffectLLMForConditionalGeneration.from_components`."""
    face_kind = face_encoder_type(face_encoder, **hub_kwargs)
    audio_kind = audio_encoder_type(audio_encoder, **hub_kwargs)
    attn = resolve_attn_implementation(attn_implementation)
    llm_kwargs = dict(dtype=dtype, attn_implementation=attn, device_map=device_map, **hub_kwargs)
    if load_in_bits is not None:
        llm_kwargs["quantization_config"] = quantization_config(
            load_in_bits, compute_dtype=dtype or torch.bfloat16
        )
    language_model = AutoModelForCausalLM.from_pretrained(llm, **llm_kwargs)
    if (
        tokenizer is not None
        and len(tokenizer) > language_model.get_input_embeddings().num_embeddings
    ):
        language_model.resize_token_embeddings(len(tokenizer))
    face_tower = (
        _load_face_tower(face_encoder, face_kind, dtype, hub_kwargs) if face_kind != "au" else None
    )
    audio_tower = (
        _load_audio_tower(audio_encoder, audio_kind, dtype, hub_kwargs)
        if audio_kind != "prosody"
        else None
    )

    token_ids = {}
    if tokenizer is not None:
        token_ids = {
            "face_token_id": tokenizer.convert_tokens_to_ids(FACE_TOKEN),
            "audio_token_id": tokenizer.convert_tokens_to_ids(AUDIO_TOKEN),
        }
    config = AffectLLMConfig(
        text_config=language_model.config,
        face_config=face_tower.config if face_tower is not None else None,
        audio_config=audio_tower.config if audio_tower is not None else None,
        face_encoder_type=face_kind,
        audio_encoder_type=audio_kind,
        **token_ids,
        **config_kwargs,
    )
    with torch.device("meta"):
        model = cls(config)
    # Move the pretrained parts in; everything still on meta is new and gets initialised below.
    model.model.language_model = language_model.get_decoder()
    model.lm_head = language_model.get_output_embeddings()
    if face_tower is not None:
        model.model.face_encoder.tower = face_tower
    if audio_tower is not None:
        model.model.audio_encoder.tower = audio_tower
    device = language_model.get_input_embeddings().weight.device
    new_dtype = dtype if dtype is not None and load_in_bits is None else torch.float32
    for module in (
        model.model.face_projector,
        model.model.audio_projector,
        model.model.face_encoder,
        model.model.audio_encoder,
    ):
        if any(p.is_meta for p in module.parameters(recurse=True)):
            module.to_empty(device=device)
            module.apply(model._init_weights)
            module.to(new_dtype)
    if face_tower is not None:
        model.model.face_encoder.to(device)
    if audio_tower is not None:
        model.model.audio_encoder.to(device)
    model.config._attn_implementation = attn
    model.generation_config = language_model.generation_config
    model.suppress_placeholders()
    # Trainers read `hf_quantizer` to know the LLM is quantised (QLoRA: train adapters only).
    model.hf_quantizer = getattr(language_model, "hf_quantizer", None)
    model.model.apply_encoder_freezing()
    return model
