"""Tiny random Qwen2.5-Omni thinker, Qwen2.5-VL and Qwen2-Audio checkpoints, built offline.

Tests, CI and a CPU laptop run the whole pretrained-backbone path (data, SFT, GRPO, export,
benchmarks, chat) on these: each is built from its transformers config (sizes after transformers'
own `*ModelTester`s), with the family's real processor classes and a tokenizer carrying the
family's special tokens (the committed tiny BPE tokenizer plus those tokens), then saved to a
folder that every command takes by path, exactly like a downloaded checkpoint. Nothing is
downloaded. `python -m affect_llm.modeling.tiny_backbones omni runs/tiny-omni` builds one.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
from transformers import AutoTokenizer, WhisperFeatureExtractor

from affect_llm.data.frames import FrameSettings
from affect_llm.modeling.families import AUDIO_FAMILY, OMNI, VL
from affect_llm.modeling.tiny import TINY_TOKENIZER_DIR
from affect_llm.native_logs import quiet_third_party

# Frames of the tiny models: 56 x 56 pixels (2 x 2 merged patches of 14) at 2 fps, at most 8.
TINY_FRAMES = FrameSettings(fps=2.0, max_frames=8, max_pixels=56 * 56)
TINY_AUDIO_SECONDS = 10  # Whisper-style features are padded to this window (real models: 30 s)
TINY_HIDDEN = 64

# The chat templates of the real checkpoints (Qwen2-VL style: one placeholder block per part).
_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nSYSTEM<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content %}IMAGE"
    "{% elif content['type'] == 'audio' or 'audio' in content %}AUDIO"
    "{% elif content['type'] == 'video' or 'video' in content %}VIDEO"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
OMNI_SYSTEM = (
    "You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of "
    "perceiving auditory and visual inputs, as well as generating text and speech."
)


def _template(system: str, image: str, audio: str, video: str) -> str:
    return (
        _TEMPLATE.replace("SYSTEM", system)
        .replace("IMAGE", image)
        .replace("AUDIO", audio)
        .replace("VIDEO", video)
    )


OMNI_TEMPLATE = _template(
    OMNI_SYSTEM,
    "<|vision_bos|><|IMAGE|><|vision_eos|>",
    "<|audio_bos|><|AUDIO|><|audio_eos|>",
    "<|vision_bos|><|VIDEO|><|vision_eos|>",
)
VL_TEMPLATE = _template(
    "You are a helpful assistant.",
    "<|vision_start|><|image_pad|><|vision_end|>",
    "",
    "<|vision_start|><|video_pad|><|vision_end|>",
)
AUDIO_TEMPLATE = _template(
    "You are a helpful assistant.", "", "<|audio_bos|><|AUDIO|><|audio_eos|>\n", ""
)

# Special tokens per family: attribute name on the tokenizer -> token (as the processors read them).
OMNI_TOKENS = {
    "image_token": "<|IMAGE|>",
    "audio_token": "<|AUDIO|>",
    "video_token": "<|VIDEO|>",
    "vision_bos_token": "<|vision_bos|>",
    "vision_eos_token": "<|vision_eos|>",
    "audio_bos_token": "<|audio_bos|>",
    "audio_eos_token": "<|audio_eos|>",
}
VL_TOKENS = {
    "image_token": "<|image_pad|>",
    "video_token": "<|video_pad|>",
    "vision_bos_token": "<|vision_start|>",
    "vision_eos_token": "<|vision_end|>",
}
AUDIO_TOKENS = {
    "audio_token": "<|AUDIO|>",
    "audio_bos_token": "<|audio_bos|>",
    "audio_eos_token": "<|audio_eos|>",
}


def tiny_tokenizer(tokens: dict[str, str], chat_template: str):
    """The committed tiny BPE tokenizer with the family's special tokens as named attributes."""
    # named extra special tokens become tokenizer attributes (`tokenizer.video_token`, `..._id`)
    # and are saved with it, as in the released checkpoints
    tokenizer = AutoTokenizer.from_pretrained(str(TINY_TOKENIZER_DIR), extra_special_tokens=tokens)
    tokenizer.chat_template = chat_template
    tokenizer.padding_side = "left"
    return tokenizer


def _text_config(tokenizer, mrope: bool = True) -> dict:
    rope = {"rope_type": "default", "rope_theta": 1e6}
    if mrope:  # multimodal rotary positions (M-RoPE / TMRoPE): time, height, width sections
        rope["mrope_section"] = [4, 2, 2]  # sums to head_dim / 2
    return {
        "vocab_size": len(tokenizer),
        "hidden_size": TINY_HIDDEN,
        "intermediate_size": 2 * TINY_HIDDEN,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "hidden_act": "silu",
        "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-6,
        "rope_parameters": rope,
        "tie_word_embeddings": False,
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": None,
        "eos_token_id": tokenizer.eos_token_id,
    }


def _vision_processors(frames: FrameSettings):
    from transformers import Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    size = {"shortest_edge": 28 * 28, "longest_edge": frames.max_pixels}
    common = dict(patch_size=14, temporal_patch_size=2, merge_size=2, size=size)
    return Qwen2VLImageProcessor(**common), Qwen2VLVideoProcessor(**common)


def _whisper_features() -> WhisperFeatureExtractor:
    return WhisperFeatureExtractor(
        feature_size=32, sampling_rate=16000, hop_length=160, chunk_length=TINY_AUDIO_SECONDS
    )


def _vision_config(out_hidden_size: int) -> dict:
    return {
        "depth": 2,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_heads": 4,
        "out_hidden_size": out_hidden_size,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "window_size": 56,
        "fullatt_block_indexes": [1],
        "hidden_act": "silu",
    }


def _audio_config(**extra) -> dict:
    return {
        "d_model": 32,
        "encoder_layers": 2,
        "encoder_attention_heads": 4,
        "encoder_ffn_dim": 64,
        "num_mel_bins": 32,
        "max_source_positions": TINY_AUDIO_SECONDS * 50,
        **extra,
    }


def _build_omni(seed: int):
    from transformers import (
        Qwen2_5OmniProcessor,
        Qwen2_5OmniThinkerConfig,
        Qwen2_5OmniThinkerForConditionalGeneration,
    )

    tokenizer = tiny_tokenizer(OMNI_TOKENS, OMNI_TEMPLATE)
    ids = {name: getattr(tokenizer, f"{name}_id") for name in OMNI_TOKENS}
    config = Qwen2_5OmniThinkerConfig(
        audio_config=_audio_config(n_window=50, output_dim=TINY_HIDDEN),
        vision_config=_vision_config(TINY_HIDDEN),
        text_config=_text_config(tokenizer),
        audio_token_index=ids["audio_token"],
        image_token_index=ids["image_token"],
        video_token_index=ids["video_token"],
        audio_start_token_id=ids["audio_bos_token"],
        audio_end_token_id=ids["audio_eos_token"],
        vision_start_token_id=ids["vision_bos_token"],
        vision_end_token_id=ids["vision_eos_token"],
        user_token_id=tokenizer.convert_tokens_to_ids("<|im_start|>"),
        position_id_per_seconds=25,
        seconds_per_chunk=2,
    )
    torch.manual_seed(seed)
    model = Qwen2_5OmniThinkerForConditionalGeneration(config)
    image, video = _vision_processors(TINY_FRAMES)
    processor = Qwen2_5OmniProcessor(
        image_processor=image,
        video_processor=video,
        feature_extractor=_whisper_features(),
        tokenizer=tokenizer,
        chat_template=OMNI_TEMPLATE,
    )
    return model, processor


def _build_vl(seed: int):
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
    )

    tokenizer = tiny_tokenizer(VL_TOKENS, VL_TEMPLATE)
    config = Qwen2_5_VLConfig(
        vision_config=_vision_config(TINY_HIDDEN),
        text_config=_text_config(tokenizer),
        image_token_id=tokenizer.image_token_id,
        video_token_id=tokenizer.video_token_id,
        vision_start_token_id=tokenizer.vision_bos_token_id,
        vision_end_token_id=tokenizer.vision_eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config)
    image, video = _vision_processors(TINY_FRAMES)
    processor = Qwen2_5_VLProcessor(
        image_processor=image, video_processor=video, tokenizer=tokenizer, chat_template=VL_TEMPLATE
    )
    return model, processor


def _build_audio(seed: int):
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
    )

    tokenizer = tiny_tokenizer(AUDIO_TOKENS, AUDIO_TEMPLATE)
    config = Qwen2AudioConfig(
        audio_config=_audio_config(),
        text_config=_text_config(tokenizer, mrope=False),
        audio_token_index=tokenizer.audio_token_id,
    )
    torch.manual_seed(seed)
    model = Qwen2AudioForConditionalGeneration(config)
    processor = Qwen2AudioProcessor(
        feature_extractor=_whisper_features(), tokenizer=tokenizer, chat_template=AUDIO_TEMPLATE
    )
    return model, processor


BUILDERS = {OMNI.name: _build_omni, VL.name: _build_vl, AUDIO_FAMILY.name: _build_audio}


def tiny_backbone(family: str, seed: int = 0):
    """(model, processor) of a tiny random checkpoint of `family` ("omni", "vl" or "audio")."""
    if family not in BUILDERS:
        raise ValueError(f"no tiny backbone for {family!r}; choose from {', '.join(BUILDERS)}")
    return BUILDERS[family](seed)


def save_tiny_backbone(family: str, out_dir: str | os.PathLike, seed: int = 0) -> Path:
    """Build a tiny `family` checkpoint and save model + processor to `out_dir`."""
    model, processor = tiny_backbone(family, seed)
    out = Path(out_dir)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    generation = model.generation_config
    generation.eos_token_id = processor.tokenizer.eos_token_id
    generation.pad_token_id = processor.tokenizer.pad_token_id
    generation.bos_token_id = None
    generation.save_pretrained(out)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("family", choices=sorted(BUILDERS))
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    quiet_third_party()  # the README runs this module directly, not through the affect-llm entry
    print(save_tiny_backbone(args.family, args.out_dir, args.seed))


if __name__ == "__main__":
    main()
