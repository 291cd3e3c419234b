"""Tiny random-init AffectLLM models built offline, for tests, the quickstart and the demo.

Every pair of face ("au", "clip", "siglip") and audio ("prosody", "whisper", "hubert") encoders gets a
few-hundred-thousand-parameter model that builds in well under a second from configs and the tokenizer
committed in `affect_llm/resources/tiny_tokenizer`; nothing is downloaded.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch
from transformers import (
    AutoTokenizer,
    CLIPVisionConfig,
    HubertConfig,
    LlamaConfig,
    Qwen2Config,
    SiglipVisionConfig,
    WhisperConfig,
)

from affect_llm.modeling.configuration_affect_llm import AffectLLMConfig
from affect_llm.modeling.feature_extraction_affect_llm import audio_processor, face_processor
from affect_llm.modeling.modeling_affect_llm import AffectLLMForConditionalGeneration
from affect_llm.modeling.processing_affect_llm import (
    AUDIO_TOKEN,
    FACE_TOKEN,
    AffectLLMProcessor,
    default_chat_template,
)

# Built by `scripts/train_tokenizer.py`.
TINY_TOKENIZER_DIR = Path(str(resources.files("affect_llm") / "resources" / "tiny_tokenizer"))

TINY_IMAGE_SIZE = 32
TINY_WHISPER_SECONDS = 2  # tiny Whisper reads 2 s windows (real checkpoints: 30 s)


def load_tiny_tokenizer():
    """The committed offline tokenizer (`<|face|>`, `<|audio|>`, reasoning tags) + our chat template."""
    tokenizer = AutoTokenizer.from_pretrained(str(TINY_TOKENIZER_DIR))
    tokenizer.chat_template = default_chat_template()
    return tokenizer


def tiny_text_config(vocab_size: int, kind: str = "qwen2", hidden_size: int = 64):
    """A 2-layer Qwen2 or LLaMA decoder config."""
    cls = {"qwen2": Qwen2Config, "llama": LlamaConfig}[kind]
    return cls(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
    )


def tiny_face_config(face: str):
    """A 2-layer CLIP or SigLIP vision config over 32x32 crops (None for the AU encoder)."""
    common = dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=TINY_IMAGE_SIZE,
        patch_size=8,
    )
    return {"au": None, "clip": CLIPVisionConfig, "siglip": SiglipVisionConfig}[face] and (
        CLIPVisionConfig(**common) if face == "clip" else SiglipVisionConfig(**common)
    )


def tiny_audio_config(audio: str):
    """A 2-layer Whisper encoder (16 mels, 2 s) or HuBERT config (None for prosody)."""
    if audio == "whisper":
        return WhisperConfig(
            d_model=32,
            encoder_layers=2,
            encoder_attention_heads=2,
            encoder_ffn_dim=64,
            decoder_layers=1,
            decoder_attention_heads=2,
            decoder_ffn_dim=64,
            num_mel_bins=16,
            max_source_positions=50 * TINY_WHISPER_SECONDS,
            vocab_size=64,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
            decoder_start_token_id=1,
        )
    if audio == "hubert":
        return HubertConfig(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            conv_dim=(16, 16, 16),
            conv_kernel=(10, 3, 3),
            conv_stride=(5, 2, 2),
            num_conv_pos_embeddings=16,
            num_conv_pos_embedding_groups=2,
            feat_extract_norm="layer",
            do_stable_layer_norm=True,
            vocab_size=32,
        )
    return None


def _preprocessing(face: str, audio: str) -> tuple[dict | None, dict | None]:
    size = TINY_IMAGE_SIZE
    face_settings = {
        "au": None,
        "clip": {"size": {"shortest_edge": size}, "crop_size": {"height": size, "width": size}},
        "siglip": {"size": {"height": size, "width": size}},
    }[face]
    audio_settings = {
        "prosody": None,
        "whisper": {"feature_size": 16, "chunk_length": TINY_WHISPER_SECONDS},
        "hubert": {"do_normalize": True, "return_attention_mask": True},
    }[audio]
    return face_settings, audio_settings


def tiny_model_and_processor(
    face: str = "au",
    audio: str = "prosody",
    seed: int = 0,
    text: str = "qwen2",
    projector: str = "attention",
    num_tokens: int = 4,
    hidden_size: int = 64,
) -> tuple[AffectLLMForConditionalGeneration, AffectLLMProcessor]:
    """A tiny random-init (model, processor) pair for the given encoders, built offline."""
    tokenizer = load_tiny_tokenizer()
    config = AffectLLMConfig(
        text_config=tiny_text_config(len(tokenizer), text, hidden_size),
        face_config=tiny_face_config(face),
        audio_config=tiny_audio_config(audio),
        face_encoder_type=face,
        audio_encoder_type=audio,
        au_hidden_size=32,
        prosody_hidden_size=32,
        face_projector_type=projector,
        audio_projector_type=projector,
        num_face_tokens=num_tokens,
        num_audio_tokens=num_tokens,
        projector_num_heads=4,
        face_token_id=tokenizer.convert_tokens_to_ids(FACE_TOKEN),
        audio_token_id=tokenizer.convert_tokens_to_ids(AUDIO_TOKEN),
    )
    torch.manual_seed(seed)
    model = AffectLLMForConditionalGeneration(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.config.get_text_config().pad_token_id = tokenizer.pad_token_id
    face_settings, audio_settings = _preprocessing(face, audio)
    processor = AffectLLMProcessor(
        tokenizer=tokenizer,
        image_processor=face_processor(face, face_settings),
        feature_extractor=audio_processor(audio, audio_settings),
        num_face_tokens=num_tokens,
        num_audio_tokens=num_tokens,
        num_frames=4,
        max_audio_seconds=float(TINY_WHISPER_SECONDS if audio == "whisper" else 4),
    )
    return model, processor
