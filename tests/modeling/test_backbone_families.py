"""Pretrained backbone families: detection, loading with transformers' classes, prompts and inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from affect_llm.errors import InputError
from affect_llm.modeling.backbones import (
    completion_suffix,
    encode_prompts,
    load_backbone,
    media_token_counts,
    render_prompt,
)
from affect_llm.modeling.families import AUDIO_FAMILY, OMNI, VL, family_of, is_backbone_checkpoint
from affect_llm.modeling.tiny_backbones import TINY_FRAMES, save_tiny_backbone

FAMILIES = {"omni": OMNI, "vl": VL, "audio": AUDIO_FAMILY}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("backbones")
    return {name: save_tiny_backbone(name, root / name) for name in FAMILIES}


def _media(frames: int = 6, seconds: float = 3.0, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "video": rng.integers(0, 255, (frames, 60, 80, 3), dtype=np.uint8),
        "video_fps": frames / seconds,
        "video_max_pixels": TINY_FRAMES.max_pixels,
        "audio": rng.standard_normal(int(16000 * seconds)).astype(np.float32) * 0.1,
    }


def test_family_comes_from_the_checkpoints_model_type(checkpoints):
    for name, family in FAMILIES.items():
        assert family_of(checkpoints[name]) is family
        assert is_backbone_checkpoint(checkpoints[name])


def test_another_model_type_stops_with_one_line_naming_the_families(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llava"}))
    with pytest.raises(InputError) as error:
        family_of(tmp_path)
    message = str(error.value)
    assert "'llava'" in message and "\n" not in message
    for title in ("Qwen2.5-Omni", "Qwen2.5-VL", "Qwen2-Audio", "AffectLLM"):
        assert title in message


def test_full_omni_checkpoint_loads_its_thinker_only(checkpoints, tmp_path):
    """A released Qwen2.5-Omni folder holds thinker, talker and token2wav (keys `thinker.*`,
    `talker.*`, `token2wav.*`; config with `thinker_config`): only the thinker is loaded."""
    thinker_dir = checkpoints["omni"]
    thinker_config = json.loads((thinker_dir / "config.json").read_text())
    full = {
        "model_type": "qwen2_5_omni",
        "architectures": ["Qwen2_5OmniForConditionalGeneration"],
        "thinker_config": thinker_config,
        "talker_config": {"model_type": "qwen2_5_omni_talker"},
        "token2wav_config": {"model_type": "qwen2_5_omni_token2wav"},
        "enable_audio_output": True,
    }
    (tmp_path / "config.json").write_text(json.dumps(full))
    weights = {f"thinker.{k}": v for k, v in load_file(thinker_dir / "model.safetensors").items()}
    weights["talker.codec_head.weight"] = torch.zeros(4, 4)
    weights["token2wav.code2wav_dit_model.proj.weight"] = torch.zeros(4, 4)
    save_file(weights, tmp_path / "model.safetensors", metadata={"format": "pt"})
    for name in ("tokenizer.json", "tokenizer_config.json", "processor_config.json"):
        (tmp_path / name).write_bytes((thinker_dir / name).read_bytes())
    (tmp_path / "chat_template.jinja").write_bytes(
        (thinker_dir / "chat_template.jinja").read_bytes()
    )

    model, _, family = load_backbone(tmp_path)
    reference, _, _ = load_backbone(thinker_dir)
    assert family is OMNI
    assert type(model).__name__ == "Qwen2_5OmniThinkerForConditionalGeneration"
    assert not any(name.startswith(("talker", "token2wav")) for name, _ in model.named_parameters())
    loaded, expected = model.state_dict(), reference.state_dict()
    assert loaded.keys() == expected.keys()
    assert all(torch.equal(loaded[k], expected[k]) for k in expected)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_prompt_uses_the_familys_template_and_media_parts(checkpoints, name):
    _, processor, family = load_backbone(checkpoints[name])
    text = render_prompt(processor, family, "What is she feeling?", has_video=True, has_audio=True)
    video_block = {"omni": "<|VIDEO|>", "vl": "<|video_pad|>", "audio": None}[name]
    audio_block = {"omni": None, "vl": None, "audio": "<|AUDIO|>"}[name]
    if video_block:
        assert video_block in text
    if audio_block:
        assert audio_block in text
    assert text.endswith("<|im_start|>assistant\n")
    assert completion_suffix(processor, family, "<answer>sad</answer>") == (
        "<answer>sad</answer><|im_end|>\n"
    )


def test_omni_interleaves_the_clips_audio_with_its_frames(checkpoints):
    """use_audio_in_video: one video part, the clip's audio placed among its frames in time."""
    _, processor, family = load_backbone(checkpoints["omni"])
    media = _media(frames=8, seconds=4.0)
    text = render_prompt(processor, family, "Feeling?", has_video=True, has_audio=True)
    batch = encode_prompts(processor, family, [text], [media])
    ids = batch["input_ids"][0].tolist()
    tokens = processor.tokenizer
    video_id = tokens.convert_tokens_to_ids("<|VIDEO|>")
    audio_id = tokens.convert_tokens_to_ids("<|AUDIO|>")
    counts = media_token_counts(processor, batch["input_ids"][0])
    grid = batch["video_grid_thw"][0]
    assert counts["video"] == int(grid.prod()) // 4  # 2 x 2 merge
    assert counts["audio"] > 0
    # 4 s at 2 s chunks: video, audio, video, audio ... not all video first
    first_audio = ids.index(audio_id)
    last_video = len(ids) - 1 - ids[::-1].index(video_id)
    assert first_audio < last_video
    # the true sampling rate: seconds per temporal grid = temporal patch / fps
    assert batch["video_second_per_grid"][0].item() == pytest.approx(2 / media["video_fps"])


@pytest.mark.parametrize("name", list(FAMILIES))
def test_batch_of_rows_with_different_media_generates(checkpoints, name):
    model, processor, family = load_backbone(checkpoints[name])
    media = [_media(6, 3.0, seed=1), _media(4, 2.0, seed=2)]
    texts = [render_prompt(processor, family, "Feeling?", True, True) for _ in media]
    batch = encode_prompts(processor, family, texts, media)
    assert batch["attention_mask"][1, 0] == 0 or batch["attention_mask"][0, 0] == 0  # left padded
    out = model.generate(**batch, max_new_tokens=3, do_sample=False)
    assert out.shape == (2, batch["input_ids"].shape[1] + 3)


def test_a_folder_with_weights_but_no_processor_files_is_one_line(checkpoints, tmp_path):
    """A half-copied checkpoint (config and weights only) names what is missing, no traceback."""
    for name in ("config.json", "model.safetensors"):
        (tmp_path / name).write_bytes((checkpoints["omni"] / name).read_bytes())
    with pytest.raises(InputError, match=r"no processor of a Qwen2\.5-Omni") as error:
        load_backbone(tmp_path)
    assert "\n" not in str(error.value)
