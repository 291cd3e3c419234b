"""Two-step SFT (TRL SFTTrainer + AffectLLMDataCollator) and GRPO (AffectGRPOTrainer) runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from datasets import Dataset

from affect_llm.modeling.tiny import tiny_model_and_processor
from affect_llm.training.collators import AffectLLMDataCollator
from affect_llm.training.export import save_trained


def _rows(count: int = 4) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(count):
        has_audio = i != 1  # one row without an audio track
        rows.append(
            {
                "prompt": [
                    {
                        "role": "user",
                        "content": "<|face|>" + ("<|audio|>" if has_audio else "") + " Emotion?",
                    }
                ],
                "completion": [{"role": "assistant", "content": "<answer> happy </answer>"}],
                "aus": rng.uniform(0, 5, (12, 17)).astype(np.float32),
                "audio": (0.1 * rng.standard_normal(8000)).astype(np.float32)
                if has_audio
                else None,
            }
        )
    return rows


def _projector_snapshot(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if "projector" in n}


def _changed(model, before) -> list[str]:
    now = dict(model.named_parameters())
    return [n for n, p in before.items() if not torch.equal(now[n].detach(), p)]


@pytest.mark.slow
def test_two_sft_steps_from_a_checkpoint_path_change_the_projectors(tmp_path):
    """SFTTrainer given a saved folder's path loads model and processor through the Auto classes."""
    from trl import SFTConfig, SFTTrainer

    model, processor = tiny_model_and_processor("au", "prosody")
    model.save_pretrained(tmp_path / "base")
    processor.save_pretrained(tmp_path / "base")
    before = _projector_snapshot(model)
    args = SFTConfig(
        output_dir=str(tmp_path / "out"),
        max_steps=2,
        per_device_train_batch_size=2,
        learning_rate=1e-3,
        report_to=[],
        use_cpu=True,
        save_strategy="steps",
        save_steps=2,
        remove_unused_columns=False,
        dataset_kwargs={"skip_prepare_dataset": True},
    )
    trainer = SFTTrainer(
        model=str(tmp_path / "base"),
        args=args,
        train_dataset=Dataset.from_list(_rows()),
        data_collator=AffectLLMDataCollator(processor),
    )
    assert type(trainer.processing_class).__name__ == "AffectLLMProcessor"
    trainer.train()
    assert len(_changed(trainer.model, before)) == len(before)
    # TRL wrote its generic card at the checkpoint; the final save puts ours in its place
    trainer.save_model(args.output_dir)
    save_trained(trainer, args.output_dir)
    card = (tmp_path / "out" / "README.md").read_text()
    assert "fine-tuned version of" not in card and "trust_remote_code=True" in card
    assert "AU-sequence" in card and "prosody" in card


@pytest.mark.slow
@pytest.mark.parametrize(
    ("face", "audio", "lora", "beta"),
    [("au", "prosody", False, 0.0), ("clip", "whisper", True, 0.04)],
)
def test_two_grpo_steps_change_the_projectors(tmp_path, face, audio, lora, beta):
    """beta > 0 with LoRA also runs the reference log-prob pass (adapters off) with the media."""
    from trl import GRPOConfig

    from affect_llm.modeling.training_modes import lora_config
    from affect_llm.training import AffectGRPOTrainer

    def token_hash(prompts, completions, completion_ids, **kwargs):
        # any reward that differs between the sampled completions gives non-zero advantages
        return [(sum(ids) % 97) / 97 for ids in completion_ids]

    model, processor = tiny_model_and_processor(face, audio)
    before = _projector_snapshot(model)
    if not lora:  # a checkpoint path works as well as a model instance
        model.save_pretrained(tmp_path / "base")
        processor.save_pretrained(tmp_path / "base")
        model = str(tmp_path / "base")
    args = GRPOConfig(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=6,
        learning_rate=1e-3,
        beta=beta,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        seed=0,
    )
    rows = [{k: v for k, v in r.items() if k != "completion"} for r in _rows()]
    if face != "au":
        rng = np.random.default_rng(0)
        for row in rows:
            row.pop("aus")
            row["faces"] = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    trainer = AffectGRPOTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=None if isinstance(model, str) else processor,
        reward_funcs=[token_hash],
        peft_config=lora_config(model, r=4, alpha=8) if lora else None,
    )
    trainer.train()
    # projectors only receive gradient through the face / audio tokens of the loss pass
    trained = {
        n.replace("base_model.model.", "").replace(".modules_to_save.default", ""): p
        for n, p in trainer.model.named_parameters()
        if "original_module" not in n
    }
    changed = [n for n, p in before.items() if not torch.equal(trained[n].detach(), p)]
    assert any("face_projector" in n for n in changed)
    assert any("audio_projector" in n for n in changed)


@pytest.mark.slow
def test_plain_trl_grpo_trainer_takes_a_checkpoint_path(tmp_path):
    """TRL's own GRPOTrainer (text only: a stray placeholder without media is plain text)."""
    from trl import GRPOConfig, GRPOTrainer

    model, processor = tiny_model_and_processor("au", "prosody")
    model.save_pretrained(tmp_path / "base")
    processor.save_pretrained(tmp_path / "base")
    args = GRPOConfig(
        output_dir=str(tmp_path / "out"),
        max_steps=1,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=4,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
    )
    rows = [{"prompt": [{"role": "user", "content": "How does <|face|> she feel?"}]}] * 4
    trainer = GRPOTrainer(
        model=str(tmp_path / "base"),
        args=args,
        train_dataset=Dataset.from_list(rows),
        reward_funcs=[lambda prompts, completions, completion_ids, **_: [len(completions[0])] * 4],
    )
    assert type(trainer.processing_class).__name__ == "AffectLLMProcessor"
    trainer.train()
    assert trainer.state.global_step == 1
