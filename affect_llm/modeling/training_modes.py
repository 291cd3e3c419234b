"""Training modes for AffectLLM: freeze policy, PEFT LoRA, bitsandbytes quantisation, attention kernel.

The usual recipe (AffectGPT, Emotion-LLaMA): pretrained encoders frozen, projectors (and the light
from-scratch encoders) trained in full, the LLM tuned by LoRA or in full. `apply_freeze_policy` sets
`requires_grad` for that; `lora_config` targets only the decoder's linear layers and lists the
projectors in `modules_to_save` so PEFT keeps them trainable and saves them with the adapter.
"""

from __future__ import annotations

import importlib.util
from typing import Literal

import torch
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
from torch import nn
from transformers import BitsAndBytesConfig

LLM_LINEAR_LAYERS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def unwrap_peft(model: nn.Module) -> nn.Module:
    """The model inside a PEFT wrapper (LoRA), or the model itself when it has none."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _core(model: nn.Module) -> nn.Module:
    """The `AffectLLMModel` inside a ForConditionalGeneration (or a PEFT wrapper around one)."""
    base = unwrap_peft(model)
    return base.model if hasattr(base, "lm_head") else base


def trainable_modules(model: nn.Module) -> list[str]:
    """Names (relative to the top model) of the multimodal modules trained in full by default."""
    core = _core(model)
    names = ["model.face_projector", "model.audio_projector"]
    if not core.config.freeze_face_encoder:
        names.append("model.face_encoder")
    if not core.config.freeze_audio_encoder:
        names.append("model.audio_encoder")
    return names


def apply_freeze_policy(
    model: nn.Module,
    llm: Literal["full", "frozen", "lora"] = "full",
    train_projectors: bool = True,
    train_face_encoder: bool | None = None,
    train_audio_encoder: bool | None = None,
) -> nn.Module:
    """Set `requires_grad` for the projectors and the LLM; encoders follow the config.

    The encoders' policy has one home, `config.freeze_*_encoder` (applied by
    `AffectLLMModel.apply_encoder_freezing`): an explicit `train_*_encoder` flag is written there
    first, so the saved config records what was trained. `llm="lora"` freezes the LLM here;
    `add_lora` then adds trainable adapters.
    """
    core = _core(model)
    if train_face_encoder is not None:
        core.config.freeze_face_encoder = not train_face_encoder
    if train_audio_encoder is not None:
        core.config.freeze_audio_encoder = not train_audio_encoder
    core.apply_encoder_freezing()
    core.face_projector.requires_grad_(train_projectors)
    core.audio_projector.requires_grad_(train_projectors)
    train_llm = llm == "full"
    core.language_model.requires_grad_(train_llm)
    top = unwrap_peft(model)
    if hasattr(top, "lm_head"):
        top.lm_head.requires_grad_(train_llm)
    return model


def _decoder_pattern(names) -> str:
    """A PEFT `target_modules` regex for the named linear layers of the decoder only (not the
    towers, whose layers share names such as `q_proj`)."""
    names = [names] if isinstance(names, str) else list(names)
    if names == ["all-linear"]:
        names = list(LLM_LINEAR_LAYERS)
    return r".*\.language_model\..*\.(" + "|".join(names) + r")$"


def lora_config(
    model: nn.Module,
    r: int = 16,
    alpha: int = 32,
    dropout: float = 0.05,
    target_modules: tuple[str, ...] = LLM_LINEAR_LAYERS,
) -> LoraConfig:
    """A PEFT `LoraConfig` on the decoder's linear layers that keeps the projectors trainable.

    Defaults follow AffectGPT (r=16, alpha=32 on all decoder linear layers).
    """
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, task_type="CAUSAL_LM")
    return fit_lora_config(model, config, target_modules)


def fit_lora_config(
    model: nn.Module, config: LoraConfig, default_targets=LLM_LINEAR_LAYERS
) -> LoraConfig:
    """A LoRA config (e.g. TRL's `get_peft_config`) fitted to AffectLLM: adapters on the decoder's
    linear layers (those it names, else `default_targets`) and the multimodal modules trained in
    full by default listed in `modules_to_save`, so PEFT trains and saves them with the adapter."""
    config.target_modules = _decoder_pattern(config.target_modules or default_targets)
    extra = [name for name in config.modules_to_save or [] if name not in trainable_modules(model)]
    config.modules_to_save = trainable_modules(model) + extra
    return config


def add_lora(
    model: nn.Module,
    config: LoraConfig | None = None,
    gradient_checkpointing: bool = False,
    **lora_kwargs,
) -> nn.Module:
    """Wrap `model` with LoRA adapters on the decoder; projectors stay fully trainable.

    `config`: a `LoraConfig` to fit (`fit_lora_config`), else one from `lora_kwargs` (`lora_config`).
    A model whose LLM was loaded in 4 / 8 bits (QLoRA) first goes through PEFT's
    `prepare_model_for_kbit_training` (norms in fp32, input gradients enabled).
    """
    fitted = lora_config(model, **lora_kwargs) if config is None else fit_lora_config(model, config)
    if is_quantized(model):
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=gradient_checkpointing
        )
    elif gradient_checkpointing:
        model.activation_checkpointing_enable(
            activation_checkpointing_kwargs={"use_reentrant": False}
        )
    apply_freeze_policy(model, llm="lora")
    return get_peft_model(model, fitted)


def is_quantized(model: nn.Module) -> bool:
    """Whether any layer of `model` is a bitsandbytes 4-bit or 8-bit linear layer."""
    quantized = ("Linear4bit", "Linear8bitLt")
    return any(type(module).__name__ in quantized for module in model.modules())


def quantization_config(bits: Literal[4, 8], compute_dtype: torch.dtype = torch.bfloat16):
    """A bitsandbytes config for QLoRA (4-bit NF4) or 8-bit loading of the LLM only.

    Raises ImportError naming the missing package when bitsandbytes is not installed.
    """
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ImportError(
            f"{bits}-bit loading needs bitsandbytes: pip install 'affect-llm[gpu]' (or bitsandbytes)"
        )
    if bits == 4:
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute_dtype,
        )
    if bits == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    raise ValueError(f"bits must be 4 or 8, got {bits}")


def resolve_attn_implementation(requested: str | None = "auto") -> str:
    """`flash_attention_2` when asked for (or "auto") and installed with a GPU, else `sdpa`.

    Asking explicitly for flash_attention_2 without flash-attn installed raises ImportError.
    """
    if requested in (None, "auto"):
        has_flash = importlib.util.find_spec("flash_attn") is not None
        return "flash_attention_2" if has_flash and torch.cuda.is_available() else "sdpa"
    if requested == "flash_attention_2" and importlib.util.find_spec("flash_attn") is None:
        raise ImportError(
            "attn_implementation='flash_attention_2' needs flash-attn: pip install 'affect-llm[gpu]'"
        )
    return requested
