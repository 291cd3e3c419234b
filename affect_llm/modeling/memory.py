"""Memory estimate (and, on a GPU, measurement) for AffectLLM at the reference 7B shapes.

Reference model: Qwen2.5-7B + CLIP ViT-L/14 + Whisper-large-v3 encoder, attention-pool projectors.
`estimate` is the arithmetic in docs/modeling.md; `measure` builds the same shapes with random weights
(no download), runs training steps on batch 1 and reports peak GPU memory and step time.
The command line is `scripts/estimate_memory.py`.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass

import torch
from transformers import (
    AutoModelForCausalLM,
    CLIPVisionConfig,
    CLIPVisionModel,
    Qwen2Config,
    WhisperConfig,
    WhisperModel,
)

from affect_llm.modeling.configuration_affect_llm import AffectLLMConfig
from affect_llm.modeling.modeling_affect_llm import AffectLLMForConditionalGeneration
from affect_llm.modeling.training_modes import add_lora, apply_freeze_policy

GIB = 2**30
MODES = ("full", "lora", "qlora")
ADAMW_MIXED_BYTES = 16  # fp32 master weight + fp32 gradient + two fp32 Adam moments
NF4_BITS = 4 + 8 / 64 + 32 / (64 * 256)  # NF4 + double-quantised absmax (blocks of 64, then 256)


def reference_config(num_tokens: int = 8) -> AffectLLMConfig:
    """Qwen2.5-7B + CLIP ViT-L/14 (224 px) + Whisper-large-v3, from their published shapes."""

    text = Qwen2Config(
        vocab_size=152064,
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        max_position_embeddings=32768,
        rope_theta=1000000.0,
        tie_word_embeddings=False,
    )
    face = CLIPVisionConfig(
        hidden_size=1024,
        intermediate_size=4096,
        num_hidden_layers=24,
        num_attention_heads=16,
        image_size=224,
        patch_size=14,
    )
    audio = WhisperConfig(
        d_model=1280,
        encoder_layers=32,
        encoder_attention_heads=20,
        encoder_ffn_dim=5120,
        decoder_layers=2,
        num_mel_bins=128,
        max_source_positions=1500,
    )
    return AffectLLMConfig(
        text_config=text,
        face_config=face,
        audio_config=audio,
        face_encoder_type="clip",
        audio_encoder_type="whisper",
        num_face_tokens=num_tokens,
        num_audio_tokens=num_tokens,
    )


@dataclass
class ParameterCounts:
    llm: int
    llm_linear_weights: int  # decoder nn.Linear weights (what NF4 quantises)
    llm_embeddings_and_head: int
    face_encoder: int
    audio_encoder: int
    projectors: int
    lora: int  # LoRA on every decoder linear layer at `lora_rank`


def parameter_counts(config: AffectLLMConfig, lora_rank: int = 16) -> ParameterCounts:
    """Exact counts from instantiating the model on the meta device (no memory used)."""

    with torch.device("meta"):
        model = AffectLLMForConditionalGeneration(config)

    def count(module: torch.nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    core = model.model
    linears = [m for m in core.language_model.modules() if isinstance(m, torch.nn.Linear)]
    head = model.lm_head.weight.numel()
    embeddings = core.language_model.get_input_embeddings().weight.numel()
    tied = config.tie_word_embeddings
    return ParameterCounts(
        llm=count(core.language_model) + (0 if tied else head),
        llm_linear_weights=sum(m.weight.numel() for m in linears),
        llm_embeddings_and_head=embeddings + (0 if tied else head),
        face_encoder=count(core.face_encoder),
        audio_encoder=count(core.audio_encoder),
        projectors=count(core.face_projector) + count(core.audio_projector),
        lora=sum(lora_rank * (m.in_features + m.out_features) for m in linears),
    )


def estimate(
    config: AffectLLMConfig, mode: str, seq_len: int = 2048, gradient_checkpointing: bool = True
) -> dict[str, float]:
    """GiB per component for batch 1 (see docs/modeling.md for the reasoning)."""
    counts = parameter_counts(config)
    text = config.text_config
    encoders = (counts.face_encoder + counts.audio_encoder) * 2
    if mode == "full":
        llm = 0.0  # the LLM is in the trainable state below
        trainable = (counts.llm + counts.projectors) * ADAMW_MIXED_BYTES
    elif mode == "lora":
        llm = counts.llm * 2
        trainable = (counts.lora + counts.projectors) * ADAMW_MIXED_BYTES
    elif mode == "qlora":
        rest = counts.llm - counts.llm_linear_weights
        llm = counts.llm_linear_weights * NF4_BITS / 8 + rest * 2
        trainable = (counts.lora + counts.projectors) * ADAMW_MIXED_BYTES
    else:
        raise ValueError(f"mode must be one of {MODES}")
    per_layer = 55 * seq_len * text.hidden_size  # bf16 activations of one decoder layer
    layers = text.num_hidden_layers
    if gradient_checkpointing:
        activations = layers * seq_len * text.hidden_size * 2 + per_layer
    else:
        activations = layers * per_layer
    parts = {
        "llm_weights": llm,
        "encoders": encoders,
        "trainable_state": trainable,
        "activations": activations,
    }
    parts = {k: v / GIB for k, v in parts.items()}
    parts["total"] = sum(parts.values())
    return parts


def _save_random_parts(config: AffectLLMConfig, root: str, dtype: torch.dtype) -> list[str]:
    """Write random-weight checkpoints of the three parts, so `from_components` loads them."""

    paths = [f"{root}/llm", f"{root}/face", f"{root}/audio"]
    AutoModelForCausalLM.from_config(config.text_config, dtype=dtype).save_pretrained(paths[0])
    CLIPVisionModel(config.face_config).to(dtype).save_pretrained(paths[1])
    WhisperModel(config.audio_config).to(dtype).save_pretrained(paths[2])
    return paths


def measure(
    config: AffectLLMConfig,
    mode: str,
    seq_len: int = 2048,
    steps: int = 3,
    device: str = "cuda",
    num_frames: int = 8,
) -> dict[str, float | None]:
    """Peak memory (GiB, CUDA only), mean step time (s), last loss and trainable parameter count of
    AdamW training steps at batch 1."""

    dtype = torch.bfloat16
    with tempfile.TemporaryDirectory() as root:
        paths = _save_random_parts(config, root, dtype)
        model = AffectLLMForConditionalGeneration.from_components(
            *paths,
            dtype=dtype,
            load_in_bits=4 if mode == "qlora" else None,
            device_map={"": device} if mode == "qlora" else None,
            num_face_tokens=config.num_face_tokens,
            num_audio_tokens=config.num_audio_tokens,
            face_token_id=config.face_token_id,
            audio_token_id=config.audio_token_id,
        )
    if mode != "qlora":  # bitsandbytes placed the quantised model already
        model.to(device)
    model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    if mode == "full":
        apply_freeze_policy(model, llm="full")
    else:
        model = add_lora(model, gradient_checkpointing=True)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5)
    text, face, audio = config.text_config, config.face_config, config.audio_config
    k_face, k_audio = config.num_face_tokens, config.num_audio_tokens
    input_ids = torch.randint(10, text.vocab_size - 10, (1, seq_len), device=device)
    input_ids[0, 1 : 1 + k_face] = config.face_token_id
    input_ids[0, 1 + k_face : 1 + k_face + k_audio] = config.audio_token_id
    mel_frames = 2 * audio.max_source_positions
    batch = {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "labels": input_ids,
        "face_values": torch.randn(
            1, num_frames, 3, face.image_size, face.image_size, device=device
        ),
        "face_mask": torch.ones(1, num_frames, dtype=torch.bool, device=device),
        "input_features": torch.randn(1, audio.num_mel_bins, mel_frames, device=device),
        "audio_mask": torch.ones(1, mel_frames, dtype=torch.bool, device=device),
    }
    on_cuda = device.startswith("cuda")
    if on_cuda:
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(steps + 1):  # the first step warms up kernels and allocates optimizer state
        start = time.perf_counter()
        with torch.autocast(device_type=device.split(":")[0], dtype=dtype):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if on_cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return {
        "mode": mode,
        "seq_len": seq_len,
        "peak_memory_gib": torch.cuda.max_memory_allocated() / GIB if on_cuda else None,
        "step_time_s": sum(times[1:]) / max(len(times) - 1, 1),
        "loss": float(loss.detach()),
        "trainable_parameters": sum(p.numel() for p in params),
        "device": torch.cuda.get_device_name() if on_cuda else device,
    }
