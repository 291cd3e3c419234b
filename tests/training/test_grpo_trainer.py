"""AffectGRPOTrainer: LoRA with beta > 0 (reference = adapters off), rewards by name and weight,
per-reward means and sample completions logged to TensorBoard, cached encoder features."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from trl import GRPOConfig

from affect_llm.modeling.model_io import RAW_MEDIA_KEYS
from affect_llm.training.collators import render_prompt
from affect_llm.training.config import AffectDataConfig, AffectModelConfig, AffectRewardConfig
from affect_llm.training.data_loading import load_training_data
from affect_llm.training.model_loading import build_model_and_processor
from affect_llm.training.trainers import build_grpo_trainer


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _args(tmp_path, **overrides) -> GRPOConfig:
    settings = dict(
        output_dir=str(tmp_path),
        max_steps=1,
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=3,
        learning_rate=1e-3,
        report_to=[],
        use_cpu=True,
        bf16=False,
        activation_checkpointing=False,
        save_strategy="no",
        disable_tqdm=True,
        logging_steps=1,
        seed=0,
    )
    return GRPOConfig(**{**settings, **overrides})


@pytest.mark.slow
def test_lora_grpo_with_kl_logs_per_reward_means_and_completions_to_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model_config = AffectModelConfig(
        llm_mode="lora", lora_r=4, lora_alpha=8, num_face_tokens=2, num_audio_tokens=2
    )
    args = _args(
        tmp_path,
        beta=0.04,
        reward_weights=[1.0, 0.5],
        report_to=["tensorboard"],
        log_completions=True,
    )
    rewards = AffectRewardConfig(rewards=["ew_f1:level=level1", "length_penalty:mode=ratio"])
    trainer = build_grpo_trainer(model_config, AffectDataConfig(synthetic_samples=8), rewards, args)
    assert trainer.ref_model is None  # the reference is the same model with adapters disabled
    # ... not a frozen "ref" copy of the fresh adapter (ZeRO-3's save drops its weights)
    assert list(trainer.model.peft_config) == ["default"]
    assert not any(".ref." in name for name, _ in trainer.model.named_parameters())
    trainer.train()
    logged = {k for entry in trainer.state.log_history for k in entry}
    assert {"rewards/ew_f1_answer_level1/mean", "rewards/length_penalty_ratio/mean", "kl"} <= logged
    (run_dir,) = {p.parent for p in tmp_path.rglob("events.out.tfevents.*")}
    events = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    events.Reload()
    assert any("completions" in tag for tag in events.Tags()["tensors"])


@pytest.mark.slow
def test_cached_features_give_the_same_completions_as_running_the_encoders(tmp_path):
    """The tiny CLIP + Whisper model's frozen encoder outputs, cached, replace the raw inputs."""
    model_config = AffectModelConfig(
        face_encoder="clip", audio_encoder="whisper", num_face_tokens=2, num_audio_tokens=2
    )
    model, processor = build_model_and_processor(model_config)
    rng = np.random.default_rng(0)
    rows, raw = [], {}
    for i in range(2):
        raw[f"s{i}"] = {
            "faces": rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8),
            "aus": None,
            "audio": (0.1 * rng.standard_normal(16000)).astype(np.float32),
        }
        rows.append(
            {
                "id": f"s{i}",
                "prompt": [{"role": "user", "content": "<|face|><|audio|>Feel?"}],
                "openset": ["happy"],
            }
        )
    cached = {}
    for key, media in raw.items():
        inputs = processor(
            text=["<|face|><|audio|>"], faces=[media["faces"]], audio=[media["audio"]]
        )
        with torch.no_grad():
            feats = model.encode_media(**{k: v for k, v in inputs.items() if k in RAW_MEDIA_KEYS})
        cached[key] = {
            "face_features": feats["face_features"][0][feats["face_features_mask"][0]].numpy(),
            "audio_features": feats["audio_features"][0][feats["audio_features_mask"][0]].numpy(),
        }
    completions = {}
    for name, store in (("raw", raw), ("cached", cached)):
        torch.manual_seed(0)
        trainer = build_grpo_trainer(
            model_config,
            None,
            AffectRewardConfig(rewards=["ew_f1"]),
            _args(tmp_path / name, learning_rate=0.0),
            model=model,
            processor=processor,
            rows=rows,
            media_loader=lambda row, s=store: s[row["id"]],
        )
        batch = trainer._generate_and_score_completions([{**rows[0]}] * 4 + [{**rows[1]}] * 4)
        completions[name] = batch["completion_ids"], batch["face_features"]
        # frozen encoders: raw media are encoded once per clip, then every pass reads features
        assert not set(RAW_MEDIA_KEYS) & set(batch)
    assert torch.equal(completions["raw"][0], completions["cached"][0])
    torch.testing.assert_close(completions["raw"][1], completions["cached"][1])


def test_rows_from_a_build_folder_render_chat_prompts_with_placeholders(tmp_path):
    import json

    from affect_llm.data.cache import FeatureCache

    entry = FeatureCache(tmp_path / "cache").put(
        "a", "k", {"aus": np.ones((5, 17), np.float32), "audio": np.zeros(800, np.float32)}, {}
    )
    sample = {
        "id": "a",
        "split": "train",
        "task": "openset",
        "features": str(entry.relative_to(tmp_path)),
        "modalities": {"aus": True, "audio": True, "face": True},
        "openset": ["happy", "excited"],
        "label": None,
        "subtitle": "hello",
    }
    bad = {"id": "b", "split": "train", "task": "onehot", "modalities": {}, "openset": []}
    (tmp_path / "samples.jsonl").write_text(json.dumps(sample) + "\n" + json.dumps(bad) + "\n")
    config = AffectDataConfig(dataset_paths=[str(tmp_path)], cues=["subtitle"])
    _, processor = build_model_and_processor(AffectModelConfig())
    rows, media, _ = load_training_data(config, processor)
    assert [r["id"] for r in rows] == ["a"]  # "b" cannot be rendered (no label): skipped
    content = rows[0]["prompt"][0]["content"]
    assert content.startswith("<|face|><|audio|>\nSubtitle: hello\n")
    assert "happy, excited" in rows[0]["completion"][0]["content"]
    loaded = media(rows[0])
    assert loaded["aus"].shape == (5, 17) and loaded["audio"].shape == (800,)
    with pytest.raises(KeyError, match=r"zzz.*no loader has its media"):
        media({"id": "zzz"})


def test_encoder_outputs_cached_in_a_build_folder_are_served_instead_of_raw_media(tmp_path):
    import json

    from affect_llm.data.cache import FeatureCache
    from affect_llm.training.data import CachedMedia, cache_encoder_features

    model_config = AffectModelConfig(
        face_encoder="clip", audio_encoder="whisper", num_face_tokens=2, num_audio_tokens=2
    )
    model, processor = build_model_and_processor(model_config)
    rng = np.random.default_rng(0)
    cache = FeatureCache(tmp_path / "cache")
    lines = []
    for i, has_audio in enumerate((True, False)):
        arrays = {
            "faces": rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8),
            "face_present": np.array([1, 0, 1], np.uint8),
        }
        if has_audio:
            arrays["audio"] = (0.1 * rng.standard_normal(12000)).astype(np.float32)
        entry = cache.put(f"s{i}", "k", arrays, {})
        lines.append(json.dumps({"id": f"s{i}", "features": str(entry.relative_to(tmp_path))}))
    (tmp_path / "samples.jsonl").write_text("\n".join(lines) + "\n")
    assert cache_encoder_features(tmp_path, model, processor) == 4
    assert cache_encoder_features(tmp_path, model, processor) == 0  # already there: resumable
    raw = CachedMedia(tmp_path, "faces")({"id": "s0"})
    assert len(raw["faces"]) == 2  # frames without a face are dropped
    served = CachedMedia(tmp_path, "faces", use_cached_features=True)
    inputs = processor(text=["<|face|><|audio|>"], faces=[raw["faces"]], audio=[raw["audio"]])
    with torch.no_grad():
        expected = model.encode_media(
            **{k: v for k, v in inputs.items() if k != "input_ids" and k != "attention_mask"}
        )
    got = served({"id": "s0"})
    np.testing.assert_allclose(
        got["face_features"], expected["face_features"][0].numpy(), atol=1e-6
    )
    assert "audio_features" not in served({"id": "s1"})  # s1 has no audio track


def test_sft_batches_from_cached_features_give_the_raw_media_loss():
    from affect_llm.training.cached_features import CachedFeatureCollator
    from affect_llm.training.collators import AffectLLMDataCollator

    model_config = AffectModelConfig(
        face_encoder="siglip", audio_encoder="hubert", num_face_tokens=2, num_audio_tokens=2
    )
    model, processor = build_model_and_processor(model_config)
    model.eval()
    rng = np.random.default_rng(1)
    rows = [
        {
            "prompt": [{"role": "user", "content": "<|face|><|audio|>Feel?"}],
            "completion": [{"role": "assistant", "content": "happy" if i else "sad, angry"}],
            "faces": rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8),
            "aus": None,
            "audio": (0.1 * rng.standard_normal(8000 + 4000 * i)).astype(np.float32) if i else None,
        }
        for i in range(2)
    ]
    raw_batch = AffectLLMDataCollator(processor)(rows)
    cached_rows = []
    for row in rows:
        media = {k: [row[k]] for k in ("faces", "audio")}
        inputs = processor(
            text=["<|face|>" + ("<|audio|>" if row["audio"] is not None else "")], **media
        )
        with torch.no_grad():
            feats = model.encode_media(
                **{k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}
            )
        cached = {k: None for k in ("faces", "aus", "audio")}
        for name in ("face", "audio"):
            if f"{name}_features" in feats:
                cached[f"{name}_features"] = feats[f"{name}_features"][0][
                    feats[f"{name}_features_mask"][0]
                ].numpy()
        cached_rows.append({**row, **cached})
    cached_batch = CachedFeatureCollator(processor)(cached_rows)
    assert torch.equal(cached_batch["labels"], raw_batch["labels"])
    with torch.no_grad():
        torch.testing.assert_close(
            model(**cached_batch).loss, model(**raw_batch).loss, atol=1e-5, rtol=1e-5
        )


def test_each_clip_is_preprocessed_once_per_batch_not_once_per_generation(tmp_path, monkeypatch):
    model_config = AffectModelConfig(num_face_tokens=2, num_audio_tokens=2)
    model, processor = build_model_and_processor(model_config)
    rows, media, _ = load_training_data(AffectDataConfig(synthetic_samples=2), processor)
    prepared = []
    extractor = type(processor.feature_extractor)  # the prosody feature extractor
    original = extractor.__call__

    def counting(self, raw_speech, *args, **kwargs):
        prepared.append(len(raw_speech))
        return original(self, raw_speech, *args, **kwargs)

    monkeypatch.setattr(extractor, "__call__", counting)
    trainer = build_grpo_trainer(
        model_config,
        None,
        AffectRewardConfig(),
        _args(tmp_path, per_device_train_batch_size=8),
        model=model,
        processor=processor,
        rows=rows,
        media_loader=media,
    )
    batch = [{k: v for k, v in r.items() if k != "completion"} for r in rows for _ in range(4)]
    output = trainer._generate_and_score_completions(batch)
    assert prepared == [2]  # two clips, each repeated for 4 generations
    assert output["input_features"].shape[0] == output["completion_ids"].shape[0] == 8
    assert torch.equal(output["input_features"][0], output["input_features"][3])
    assert not torch.equal(output["input_features"][0], output["input_features"][4])


@pytest.mark.slow
def test_resuming_from_any_checkpoint_ends_with_the_weights_of_an_unbroken_run(tmp_path):
    """4 prompts, 2 per step: 2-step epochs; resuming after steps 1, 2 (an epoch boundary: the
    sampler must draw epoch 2's order, not replay epoch 1's) and 3 gives the same final weights."""
    model_config = AffectModelConfig(num_face_tokens=2, num_audio_tokens=2, tiny_hidden_size=32)
    data_config = AffectDataConfig(synthetic_samples=4)
    rewards = AffectRewardConfig(rewards=["ew_f1", "length_penalty"])

    def run(out, resume=None):
        args = _args(out, max_steps=4, save_strategy="steps", save_steps=1, learning_rate=1e-2)
        trainer = build_grpo_trainer(model_config, data_config, rewards, args)
        trainer.train(resume_from_checkpoint=resume)
        return {n: p.detach().clone() for n, p in trainer.model.named_parameters()}

    unbroken = run(tmp_path / "unbroken")
    state = json.loads((tmp_path / "unbroken/checkpoint-4/trainer_state.json").read_text())
    assert state["epoch"] == 2
    for step in (1, 2, 3):
        out = tmp_path / f"killed-after-{step}"
        shutil.copytree(tmp_path / "unbroken" / f"checkpoint-{step}", out / f"checkpoint-{step}")
        resumed = run(out, resume=str(out / f"checkpoint-{step}"))
        for name, value in resumed.items():
            assert torch.equal(value, unbroken[name]), f"resumed after step {step}: {name}"


def test_each_clip_is_projected_once_per_pass_with_the_logits_of_raw_media(tmp_path):
    from affect_llm.training.grpo_trainer import CLIP_INDEX

    model_config = AffectModelConfig(num_face_tokens=2, num_audio_tokens=2, tiny_hidden_size=32)
    rewards = AffectRewardConfig(rewards=["ew_f1"])
    data_config = AffectDataConfig(synthetic_samples=4)
    trainer = build_grpo_trainer(model_config, data_config, rewards, _args(tmp_path))
    model, processor = trainer.model, trainer.processing_class
    rows = [trainer.train_dataset[i] for i in (0, 1)]
    media = [trainer.media_loader(row) for row in rows]
    encoded = processor(
        text=[render_prompt(processor, row["prompt"]) for row in rows],
        aus=[m["aus"] for m in media],
        audio=[m["audio"] for m in media],
        return_tensors="pt",
        padding=True,
    )
    index = torch.tensor([0, 0, 0, 1, 1, 1])  # 3 completions per clip
    batch = {k: v[index] for k, v in encoded.items()}
    calls = []
    hook = model.model.face_projector.register_forward_hook(lambda m, i, o: calls.append(len(o)))
    raw = model(**batch).logits
    media = {k: batch[k] for k in RAW_MEDIA_KEYS if k in batch}
    projected = trainer._project(model, {**media, CLIP_INDEX: index})
    assert calls == [6, 2]  # raw media: once per row; projected: once per distinct clip
    hook.remove()
    text = {k: batch[k] for k in ("input_ids", "attention_mask")}
    torch.testing.assert_close(model(**text, **projected).logits, raw)
