"""The trainers behind recipes/sft.py and recipes/grpo.py (and the quickstart), and the run itself.

`build_sft_trainer` gives TRL's SFTTrainer with the multimodal collator, `build_grpo_trainer` an
`AffectGRPOTrainer` with the configured rewards; `train_and_save` trains (resuming when asked) and
saves the model with its processor so the output folder loads with `from_pretrained`.
"""

from __future__ import annotations

import os
from typing import Any

from datasets import Dataset
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR
from trl import SFTTrainer

from affect_llm.errors import InputError
from affect_llm.modeling.families import family_of_processor
from affect_llm.rewards import parse_reward
from affect_llm.training.backbone_data import BackboneSFTCollator
from affect_llm.training.cached_features import CachedFeatureCollator
from affect_llm.training.collators import AffectLLMDataCollator
from affect_llm.training.config import AffectDataConfig, AffectModelConfig, AffectRewardConfig
from affect_llm.training.cpu_lm_head import score_only_labelled_positions_on_cpu
from affect_llm.training.data import MediaCollator
from affect_llm.training.data_loading import check_answer_blocks, load_training_data
from affect_llm.training.grpo_trainer import AffectGRPOTrainer
from affect_llm.training.guards import guarded_run, is_complete_checkpoint, save_final
from affect_llm.training.model_loading import build_model_and_processor
from affect_llm.training.signal import NoSignalWarning


def resolve_checkpoint(resume: str | bool | None, output_dir: str) -> str | None:
    """A checkpoint folder for `resume_from_checkpoint`: a path, or "last"/"true" for the newest
    complete one (a run killed while saving leaves a folder without trainer_state.json)."""
    if resume in (None, False, "", "false", "False"):
        return None
    if resume in (True, "true", "True", "last"):
        steps = []
        if os.path.isdir(output_dir):
            for name in os.listdir(output_dir):
                prefix, _, step = name.partition(f"{PREFIX_CHECKPOINT_DIR}-")
                path = os.path.join(output_dir, name)
                if (
                    not prefix
                    and step.isdigit()
                    and is_complete_checkpoint(path)  # not one cut short (guards.py)
                ):
                    steps.append((int(step), path))
        return max(steps)[1] if steps else None  # nothing saved yet: start from scratch
    return str(resume)


def build_rewards(config: AffectRewardConfig) -> list:
    """The configured reward functions, in order (their weights are GRPOConfig.reward_weights)."""
    return [parse_reward(spec) for spec in config.rewards]


def check_reference_model(model, beta: float) -> None:
    """Full fine-tuning with `beta > 0` needs a reference model, and TRL loads it again from the
    policy's `config._name_or_path`. A model composed in memory (the tiny one, or `llm` + encoders)
    has no such path, and TRL would stop with an OSError about an empty repo id: refused up front."""
    if beta == 0 or hasattr(model, "peft_config"):  # LoRA: the reference is adapters-off
        return
    if not getattr(model.config, "_name_or_path", ""):
        raise InputError(
            f"beta {beta} with a full fine-tune needs a reference model, which TRL loads from the "
            "starting model's folder, and this model was built in memory (tiny, or llm + "
            "encoders): start from a saved model (e.g. --model_name_or_path runs/<your-sft-run>), "
            "use --llm_mode lora (the reference is the model with adapters off), or set --beta 0"
        )


def build_sft_trainer(
    model_config: AffectModelConfig,
    data_config: AffectDataConfig,
    args,
    model=None,
    processor=None,
    rows: list[dict[str, Any]] | None = None,
    media_loader=None,
) -> SFTTrainer:
    """A TRL `SFTTrainer` over AffectLLM rows: prompt tokens masked, media added per batch."""
    score_only_labelled_positions_on_cpu()
    if model is None:
        model, processor = build_model_and_processor(model_config)
    if rows is None:
        rows, media_loader, _ = load_training_data(data_config, processor)
    # rows are rendered chat messages and the collator does the tokenising
    args.remove_unused_columns = False
    args.dataset_kwargs = {**(args.dataset_kwargs or {}), "skip_prepare_dataset": True}
    family = family_of_processor(processor)
    if family is not None:  # a pretrained backbone: its processor adds the media
        base = BackboneSFTCollator(processor, family, media_loader, args.max_length)
        return SFTTrainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_list(rows),
            processing_class=processor.tokenizer,
            data_collator=base,
        )
    if data_config is not None and data_config.use_cached_features:
        base = CachedFeatureCollator(processor, args.max_length)
    else:
        base = AffectLLMDataCollator(processor, args.max_length)
    return SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=processor,
        data_collator=MediaCollator(base, media_loader),
    )


def build_grpo_trainer(
    model_config: AffectModelConfig,
    data_config: AffectDataConfig,
    reward_config: AffectRewardConfig,
    args,
    model=None,
    processor=None,
    rows: list[dict[str, Any]] | None = None,
    media_loader=None,
    callbacks: list | None = None,
) -> AffectGRPOTrainer:
    """An `AffectGRPOTrainer` with the configured rewards (weights: `args.reward_weights`)."""
    score_only_labelled_positions_on_cpu()
    if model is None:
        model, processor = build_model_and_processor(model_config)
    if rows is None:
        rows, media_loader, _ = load_training_data(data_config, processor)
    rewards = build_rewards(reward_config)
    check_answer_blocks(rows, rewards)
    check_reference_model(model, args.beta)
    if args.reward_weights is not None and len(args.reward_weights) != len(rewards):
        raise ValueError(
            f"{len(args.reward_weights)} reward_weights for {len(rewards)} rewards "
            f"({', '.join(reward_config.rewards)})"
        )
    # completions are plain text for the rewards; keep the label columns
    rows = [{k: v for k, v in row.items() if k != "completion"} for row in rows]
    return AffectGRPOTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=processor,
        reward_funcs=rewards,
        media_loader=media_loader,
        callbacks=[*(callbacks or []), NoSignalWarning()],  # says when no advantage is nonzero
    )


def train_and_save(trainer, args) -> dict:
    """Train (resuming when asked), save model + processor to `args.output_dir`, return metrics.

    A LoRA run saves its adapter there and also a merged standalone model to `OUTPUT_DIR-merged`.
    """
    with guarded_run(trainer, args):  # one run per output_dir; stops on NaN/inf (guards.py)
        checkpoint = resolve_checkpoint(args.resume_from_checkpoint, args.output_dir)
        result = trainer.train(resume_from_checkpoint=checkpoint)
        save_final(trainer, args.output_dir)  # save_trained aside, then renamed into place
    return result.metrics
