"""SFT of pretrained backbone families through the recipe's own steps, on the bundled clips.

A researcher changes only `model_name_or_path` in recipes/own_data/sft.yaml to a Qwen2.5-Omni /
Qwen2.5-VL / Qwen2-Audio folder: the recipe builds that family's model (LoRA on the language model
by default, towers frozen), reads the same build folder, says what each sample costs in media
tokens, and trains with prompt tokens masked.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
import torch

from affect_llm.data.folder import build_folder
from affect_llm.modeling.tiny_backbones import save_tiny_backbone
from affect_llm.training.config import parse_recipe_args
from affect_llm.training.data_loading import load_training_data, print_report
from affect_llm.training.model_loading import build_model_and_processor
from affect_llm.training.trainers import build_sft_trainer

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(str(resources.files("affect_llm") / "resources" / "samples"))
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("backbone-sft")
    clips = root / "clips"
    shutil.copytree(SAMPLES, clips)
    build_folder(clips, root / "data", clips / "labels.csv")
    models = {
        name: save_tiny_backbone(name, root / f"tiny-{name}") for name in ("omni", "vl", "audio")
    }
    return root, models


def _argv(root: Path, model: Path, *flags: str) -> list[str]:
    return [
        "--config",
        str(ROOT / "recipes" / "own_data" / "sft.yaml"),
        "--model_name_or_path",
        str(model),
        "--dataset_paths",
        str(root / "data"),
        "--output_dir",
        str(root / "out"),
        "--video_max_pixels",
        "3136",
        "--video_max_frames",
        "4",
        "--cues",
        "subtitle",
        "--max_steps",
        "5",
        "--per_device_train_batch_size",
        "4",
        "--learning_rate",
        "1e-2",
        "--logging_steps",
        "1",
        *flags,
    ]


def _train(root, model, capsys, *flags):
    from trl import SFTConfig

    from affect_llm.training.config import AffectDataConfig, AffectModelConfig

    model_config, data_config, args = parse_recipe_args(
        (AffectModelConfig, AffectDataConfig, SFTConfig), _argv(root, model, *flags)
    )
    net, processor = build_model_and_processor(model_config)
    rows, media_loader, report = load_training_data(data_config, processor)
    print_report(report)
    trainer = build_sft_trainer(model_config, data_config, args, net, processor, rows, media_loader)
    before = {k: v.detach().clone() for k, v in trainer.model.named_parameters() if v.requires_grad}
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return trainer, before, losses, capsys.readouterr().out


def _tower(name: str) -> bool:
    return bool({"visual", "audio_tower"} & set(name.split(".")))


@pytest.mark.parametrize("family", ["omni", "vl", "audio"])
def test_lora_sft_trains_the_language_model_only_and_the_loss_falls(workspace, capsys, family):
    root, models = workspace
    trainer, before, losses, out = _train(root, models[family], capsys, "--llm_mode", "lora")
    assert losses[-1] < losses[0]
    trained = {k for k, v in trainer.model.named_parameters() if v.requires_grad}
    assert trained and all("lora_" in name for name in trained)
    assert not any(_tower(name) for name in trained)
    moved = [k for k, v in trainer.model.named_parameters() if k in before]
    assert any(not torch.equal(before[k], dict(trainer.model.named_parameters())[k]) for k in moved)
    # the summary: what the family sees, and its media tokens per sample
    sees = {"omni": ("video 4/4", "audio 4/4"), "vl": ("video 4/4",), "audio": ("audio 4/4",)}
    for part in sees[family]:
        assert part in out
    assert "media tokens per sample" in out
    # AffectLLM-only keys of the own-data recipe are ignored with one note
    assert "AffectLLM-only settings are ignored: num_face_tokens, num_audio_tokens" in out


def test_full_fine_tune_keeps_the_towers_frozen_unless_asked(workspace, capsys):
    root, models = workspace
    trainer, _, losses, _ = _train(root, models["omni"], capsys, "--llm_mode", "full")
    trained = [k for k, v in trainer.model.named_parameters() if v.requires_grad]
    assert losses[-1] < losses[0]
    assert any(".layers." in k and not _tower(k) for k in trained)
    assert not any(_tower(k) for k in trained)
    trainer, _, _, _ = _train(
        root, models["omni"], capsys, "--llm_mode", "full", "--train_vision_tower", "true"
    )
    trained = [k for k, v in trainer.model.named_parameters() if v.requires_grad]
    assert any("visual" in k.split(".") for k in trained)
    assert not any("audio_tower" in k.split(".") for k in trained)


def test_prompt_tokens_are_masked_and_the_answer_ends_the_turn(workspace, capsys):
    root, models = workspace
    trainer, _, _, _ = _train(root, models["omni"], capsys, "--max_steps", "1")
    rows = list(trainer.train_dataset)[:2]
    batch = trainer.data_collator(rows)
    tokenizer = trainer.processing_class
    for i in range(2):
        labels = batch["labels"][i]
        taught = labels[labels != -100]
        text = tokenizer.decode(taught)
        assert text.endswith("<|im_end|>\n") and "<answer>" in text
        video = tokenizer.convert_tokens_to_ids("<|VIDEO|>")
        assert (batch["input_ids"][i] == video).sum() > 0
        assert not (taught == video).any()
