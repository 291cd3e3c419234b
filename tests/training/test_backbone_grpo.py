"""GRPO on the pretrained backbone families (tiny Qwen2.5-Omni thinker, Qwen2.5-VL, Qwen2-Audio).

The checkpoints are built offline into folders and named by path, the rows come from a build
folder of the bundled clips, as a user's would: the video and audio must reach generation and
every log-prob pass, left-padded batches must behave like single prompts, the rotary positions of
prompt + completion must be the ones generation used, and the frames' positions must follow the
seconds the toolkit sampled them at.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from media_fixtures import SAMPLES, write_clip
from trl import GRPOConfig
from trl.trainer.utils import pad

from affect_llm import rewards
from affect_llm.data.folder import build_folder
from affect_llm.data.frames import decode_frames
from affect_llm.modeling.backbones import encode_prompts, render_prompt
from affect_llm.modeling.tiny_backbones import TINY_FRAMES, save_tiny_backbone
from affect_llm.rewards import completion_text
from affect_llm.training.backbone_grpo import TOKEN_TYPES, completion_token_types
from affect_llm.training.config import AffectDataConfig, AffectModelConfig, AffectRewardConfig
from affect_llm.training.data_loading import load_training_data
from affect_llm.training.grpo_trainer import WithMedia
from affect_llm.training.model_loading import build_model_and_processor
from affect_llm.training.trainers import build_grpo_trainer

FAMILIES = ("omni", "vl", "audio")
TOWERS = {"omni": ("visual", "audio_tower"), "vl": ("visual",), "audio": ("audio_tower",)}


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory):
    """A folder per family, as a downloaded checkpoint would be."""
    root = tmp_path_factory.mktemp("backbones")
    return {family: save_tiny_backbone(family, root / family) for family in FAMILIES}


@pytest.fixture(scope="session")
def clips_folder(tmp_path_factory):
    """`affect-llm build folder` on the bundled clips."""
    out = tmp_path_factory.mktemp("mine")
    summary = build_folder(SAMPLES, out, labels=SAMPLES / "labels.csv")
    assert summary.written == 4
    return out


def text_length(completions, **kwargs) -> list[float]:
    """Test reward: a tenth of each completion's length in characters, so rewards differ within
    a group of the untrained model's completions (the wheel rewards score them all 0)."""
    return [len(completion_text(c)) / 10 for c in completions]


@pytest.fixture
def test_reward(monkeypatch):
    monkeypatch.setitem(rewards.REWARDS, "text_length", text_length)
    monkeypatch.setitem(rewards._FACTORIES, "text_length", lambda: text_length)


def _trainer(checkpoint, folder, out, llm_mode="lora", media_loader=None, **settings):
    model_config = AffectModelConfig(
        model_name_or_path=str(checkpoint), llm_mode=llm_mode, lora_r=4, lora_alpha=8
    )
    data_config = AffectDataConfig(
        dataset_paths=[str(folder)],
        synthetic_samples=0,
        cues=["subtitle"],
        video_max_pixels=TINY_FRAMES.max_pixels,
        video_max_frames=TINY_FRAMES.max_frames,
    )
    model, processor = build_model_and_processor(model_config)
    rows, loader, _ = load_training_data(data_config, processor)
    args = GRPOConfig(
        **{
            "output_dir": str(out),
            "max_steps": 1,
            "per_device_train_batch_size": 4,
            "num_generations": 2,
            "max_completion_length": 4,
            "learning_rate": 1e-2,
            "temperature": 1.0,
            "report_to": [],
            "use_cpu": True,
            "bf16": False,
            "save_strategy": "no",
            "disable_tqdm": True,
            "logging_steps": 1,
            "seed": 0,
            **settings,
        }
    )
    return build_grpo_trainer(
        model_config,
        data_config,
        AffectRewardConfig(rewards=["text_length"]),
        args,
        model,
        processor,
        rows,
        media_loader or loader,
    )


def _tower_calls(model, family) -> list[str]:
    """Records each run of the family's vision / audio tower."""
    calls: list[str] = []
    for name, module in model.named_modules():
        last = name.rsplit(".", 1)[-1]
        if last in TOWERS[family] and not any(p in name for p in ("original_module", "default")):
            module.register_forward_hook(lambda m, i, o, n=last: calls.append(n))
    return calls


@pytest.mark.parametrize(
    "family,llm_mode,beta",
    [
        ("omni", "lora", 0.04),
        ("vl", "lora", 0.04),
        ("audio", "lora", 0.04),
        ("omni", "full", 0.0),
        ("vl", "full", 0.0),
        ("audio", "full", 0.0),
    ],
)
def test_grpo_moves_the_weights_with_media_in_every_pass(
    family, llm_mode, beta, checkpoints, clips_folder, tmp_path, test_reward
):
    trainer = _trainer(checkpoints[family], clips_folder, tmp_path, llm_mode, beta=beta)
    model = trainer.model
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    calls = _tower_calls(model, family)
    trainer.train()
    (logged,) = [entry for entry in trainer.state.log_history if "reward_std" in entry]
    assert logged["frac_reward_zero_std"] < 1  # rewards vary within a group: a real update
    moved = [
        n for n, p in model.named_parameters() if n in before and not torch.equal(p, before[n])
    ]
    assert moved, "no trainable weight moved"
    if llm_mode == "lora":
        assert all("lora_" in name for name in moved)
        assert model.active_adapters == ["default"] and "ref" not in model.peft_config
    # the towers see the media in generation, in the reference pass (beta > 0) and in the loss
    passes = 3 if beta else 2
    assert sorted(calls) == sorted([tower for tower in TOWERS[family]] * passes)


def _shorter_clip(loader, sample_id, frames):
    """Loader giving one clip fewer frames: rows of a batch then have different patch counts."""

    def load(row):
        media = loader(row)
        if str(row["id"]) == sample_id and media.get("video") is not None:
            media = {**media, "video": media["video"][:frames]}
        return media

    return load


@pytest.mark.parametrize("family", FAMILIES)
def test_left_padded_batches_generate_and_score_as_single_prompts(
    family, checkpoints, clips_folder, tmp_path, test_reward
):
    """Greedy generation of a left-padded batch gives each row's tokens and logits (1e-5) alone;
    the log-prob pass over prompt + completion, at every chunk size, gives generation's scores:
    the rotary positions (M-RoPE / TMRoPE) of the completion are the ones generation used."""
    trainer = _trainer(checkpoints[family], clips_folder, tmp_path, "full")
    loader = _shorter_clip(trainer.media_loader, "hopper_sad", 4)
    trainer.media_loader = loader
    model, tokenizer = trainer.model.eval(), trainer.processing_class.tokenizer
    rows = [row for row in trainer.train_dataset if row["id"] in ("hopper_happy", "hopper_sad")]
    prompt_ids, media = trainer._encode_batch(rows)
    assert len(set(map(len, prompt_ids))) == 2  # different lengths: the batch is left-padded
    if "video_grid_thw" in media:
        assert media["video_grid_thw"][0][0, 0] != media["video_grid_thw"][1][0, 0]

    def generate(index):
        from affect_llm.training.backbone_grpo import generation_fields

        fields = generation_fields(media, index, "cpu")
        if TOKEN_TYPES in fields:
            types = [torch.tensor(t) for t in fields[TOKEN_TYPES]]
            fields[TOKEN_TYPES] = pad(types, padding_value=0, padding_side="left")
        ids = [torch.tensor(prompt_ids[i]) for i in index]
        with torch.no_grad():
            out = model.generate(
                input_ids=pad(ids, padding_value=tokenizer.pad_token_id, padding_side="left"),
                attention_mask=pad([torch.ones_like(t) for t in ids], 0, padding_side="left"),
                **fields,
                do_sample=False,
                max_new_tokens=5,
                min_new_tokens=5,
                suppress_tokens=trainer.generation_config.suppress_tokens,
                output_logits=True,
                return_dict_in_generate=True,
            )
        return out.sequences[:, -5:], torch.stack(out.logits, 1)

    tokens, logits = generate([0, 1])
    for i in (0, 1):
        alone, alone_logits = generate([i])
        assert torch.equal(alone[0], tokens[i])
        torch.testing.assert_close(alone_logits[0], logits[i], atol=1e-5, rtol=0)
    assert not set(tokens.flatten().tolist()) & set(trainer.generation_config.suppress_tokens)

    prompts = [torch.tensor(ids) for ids in prompt_ids]
    prompt_mask = pad([torch.ones_like(t) for t in prompts], 0, padding_side="left")
    input_ids = torch.cat(
        [pad(prompts, padding_value=tokenizer.pad_token_id, padding_side="left"), tokens], 1
    )
    mask = torch.cat([prompt_mask, torch.ones_like(tokens)], 1)
    types = completion_token_types(media, prompt_mask, tokens.size(1))
    extra = {} if types is None else {TOKEN_TYPES: types}
    expected = torch.log_softmax(logits, -1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    for chunk in (1, 2):
        with torch.no_grad():
            logps = trainer._get_per_token_logps_and_entropies(
                WithMedia(model, media), input_ids, mask, 5, batch_size=chunk, **extra
            )[0]
        torch.testing.assert_close(logps, expected, atol=1e-5, rtol=0)


def test_an_omni_batch_with_a_silent_clip_hears_its_silence(
    checkpoints, clips_folder, tmp_path, test_reward
):
    """`use_audio_in_video` holds for a whole pass: a clip without an audio track gets zeros over
    its frames' span, so it batches with clips that have sound instead of breaking the batch."""
    trainer = _trainer(checkpoints["omni"], clips_folder, tmp_path)
    loader = trainer.media_loader

    def without_sad_audio(row):
        media = loader(row)
        return {**media, "audio": None} if row["id"] == "hopper_sad" else media

    trainer.media_loader = without_sad_audio
    rows = [row for row in trainer.train_dataset if row["id"] in ("hopper_happy", "hopper_sad")]
    prompt_ids, media = trainer._encode_batch(rows)
    audio = trainer.processing_class.tokenizer.convert_tokens_to_ids("<|AUDIO|>")
    assert all(audio in ids for ids in prompt_ids)
    assert bool(media["media_audio_in_video"].all())


def _timed_clip(path, fps, seconds=2.0):
    """The same moving scene written at `fps`: frame k shows the scene at time k / fps."""
    count = int(round(seconds * fps))
    y, x = np.mgrid[0:64, 0:64]
    frames = [
        np.stack([(x * 4 + 40 * k / fps) % 256, y * 4, np.full_like(x, 128)], -1).astype(np.uint8)
        for k in range(count)
    ]
    return write_clip(path, np.stack(frames), fps=fps)


@pytest.mark.parametrize("family", ["omni", "vl"])
def test_frames_get_the_positions_of_their_seconds_at_any_source_fps(family, checkpoints, tmp_path):
    """The processor's seconds per temporal grid are the interval the toolkit sampled at, and a
    25 fps and a 30 fps clip of the same scene get the same rotary positions per second."""
    model, processor = build_model_and_processor(
        AffectModelConfig(model_name_or_path=str(checkpoints[family]), llm_mode="full")
    )
    from affect_llm.modeling.families import family_of_processor

    backbone = family_of_processor(processor)
    temporal_patch = processor.video_processor.temporal_patch_size
    config = model.config
    per_second = getattr(config, "position_id_per_seconds", None) or getattr(
        config.vision_config, "tokens_per_second", None
    )
    times = {}
    for fps in (25, 30):
        frames, rate = decode_frames(_timed_clip(tmp_path / f"{fps}.mp4", fps), TINY_FRAMES)
        media = {"video": frames, "video_fps": rate, "video_max_pixels": TINY_FRAMES.max_pixels}
        text = render_prompt(processor, backbone, "Feel?", has_video=True)
        batch = encode_prompts(processor, backbone, [text], [media])
        seconds = batch.get("video_second_per_grid", batch.get("second_per_grid_ts"))
        # each temporal grid holds `temporal_patch` frames sampled 1 / rate apart
        assert float(seconds[0]) == pytest.approx(temporal_patch / rate, rel=1e-6)
        if backbone.name == "omni":
            # a silent clip hears its silence, interleaved with the frames (`encode_prompts`)
            positions, _ = model.get_rope_index(
                batch["input_ids"],
                video_grid_thw=batch["video_grid_thw"],
                attention_mask=batch["attention_mask"],
                use_audio_in_video=batch.get("use_audio_in_video", False),
                audio_seqlens=batch["feature_attention_mask"].sum(-1),
                second_per_grids=seconds,
            )
        else:
            positions, _ = model.model.get_rope_index(
                batch["input_ids"],
                batch["mm_token_type_ids"],
                video_grid_thw=batch["video_grid_thw"],
                second_per_grid_ts=seconds,
                attention_mask=batch["attention_mask"],
            )
        video = batch["input_ids"][0] == processor.tokenizer.convert_tokens_to_ids(
            processor.video_token
        )
        temporal = positions[0, 0][video]
        grids = int(batch["video_grid_thw"][0, 0])
        starts = temporal.view(grids, -1)[:, 0] - temporal[0]  # first token of each grid
        grid_seconds = torch.arange(grids) * float(seconds[0])
        times[fps] = starts.tolist()
        assert starts.tolist() == (grid_seconds * per_second).long().tolist()
    assert times[25] == times[30] and len(times[25]) > 1
