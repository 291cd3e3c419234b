"""Freeze policy, LoRA with trainable projectors, gradient checkpointing, bf16, guarded GPU paths."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from conftest import make_batch

from affect_llm.modeling.tiny import tiny_model_and_processor
from affect_llm.modeling.training_modes import (
    add_lora,
    apply_freeze_policy,
    quantization_config,
    resolve_attn_implementation,
)


def _grad_names(model) -> set[str]:
    return {n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}


def test_lora_trains_adapters_and_projectors_only(tmp_path):
    model, processor = tiny_model_and_processor("clip", "whisper")
    peft_model = add_lora(model, r=4, alpha=8)
    batch = make_batch(processor, "clip", count=2)
    peft_model(**batch, labels=batch["input_ids"]).loss.backward()
    with_grad = _grad_names(peft_model)
    # B starts at zero (so A's first gradient is zero too): B must get a gradient
    assert any("lora_B" in n for n in with_grad)
    assert any("face_projector" in n for n in with_grad)
    assert any("audio_projector" in n for n in with_grad)
    assert not any("face_encoder" in n or "audio_encoder" in n for n in with_grad)
    trainable = {n for n, p in peft_model.named_parameters() if p.requires_grad}
    assert any("lora_A" in n for n in trainable)
    assert not any(
        "embed_tokens" in n or ("language_model" in n and "lora" not in n) for n in trainable
    )
    # the adapter checkpoint carries the projectors (modules_to_save)
    peft_model.save_pretrained(tmp_path)
    from safetensors.torch import load_file

    saved = load_file(str(tmp_path / "adapter_model.safetensors"))
    assert any("face_projector" in k for k in saved) and any("lora_A" in k for k in saved)


def test_lora_keeps_the_light_encoders_trainable():
    model, processor = tiny_model_and_processor("au", "prosody")
    peft_model = add_lora(model, r=4, alpha=8)
    batch = make_batch(processor, "au", count=2)
    peft_model(**batch, labels=batch["input_ids"]).loss.backward()
    with_grad = _grad_names(peft_model)
    assert any("face_encoder" in n for n in with_grad)
    assert any("audio_encoder" in n for n in with_grad)


def test_freeze_policy_full_llm_frozen_encoders():
    model, _ = tiny_model_and_processor("siglip", "hubert")
    apply_freeze_policy(model, llm="full")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any(n.startswith("model.language_model") for n in trainable)
    assert not any("face_encoder" in n or "audio_encoder" in n for n in trainable)
    apply_freeze_policy(model, llm="frozen", train_face_encoder=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any("face_encoder" in n for n in trainable)
    assert not any(n.startswith("model.language_model") for n in trainable)


def test_gradient_checkpointing_and_bf16_forward():
    model, processor = tiny_model_and_processor("au", "whisper")
    model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    batch = make_batch(processor, "au", count=2)
    out = model(**batch, labels=batch["input_ids"])
    out.loss.backward()
    assert model.model.face_projector.proj[0].weight.grad is not None
    model = model.to(torch.bfloat16).eval()
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.dtype == torch.bfloat16 and torch.isfinite(logits.float()).all()


@pytest.mark.skipif(importlib.util.find_spec("bitsandbytes") is not None, reason="bnb installed")
def test_quantisation_without_bitsandbytes_is_a_clear_error():
    with pytest.raises(ImportError, match="bitsandbytes"):
        quantization_config(4)


@pytest.mark.skipif(
    importlib.util.find_spec("flash_attn") is not None, reason="flash-attn installed"
)
def test_attention_kernel_falls_back_to_sdpa_and_flash_is_guarded():
    assert resolve_attn_implementation("auto") == "sdpa"
    with pytest.raises(ImportError, match="flash-attn"):
        resolve_attn_implementation("flash_attention_2")
