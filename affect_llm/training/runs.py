"""The SFT and GRPO runs behind recipes/sft.py and recipes/grpo.py (and the quickstart).

Each takes the parsed configs, builds model, data and rewards, trains with TRL (SFTTrainer with the
multimodal collator; `AffectGRPOTrainer`), resumes from a checkpoint when asked, and saves the
model with its processor so the output folder loads with `from_pretrained`.
"""

from __future__ import annotations

import os
from typing import Any

from affect_llm.training.config import AffectDataConfig, AffectModelConfig, AffectRewardConfig


def resolve_checkpoint(resume: str | bool | None, output_dir: str) -> str | None:
    """A checkpoint folder for `resume_from_checkpoint`: a path, or "last"/"true" for the newest
    complete one (a run killed while saving leaves a folder without trainer_state.json)."""
    if resume in (None, False, "", "false", "False"):
        return None
    if resume in (True, "true", "True", "last"):
        from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

        from affect_llm.training.guards import is_complete_checkpoint

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


def _dataset(rows: list[dict[str, Any]]):
    from datasets import Dataset

    return Dataset.from_list(rows)


def sft_trainer(
    model_config: AffectModelConfig,
    data_config: AffectDataConfig,
    args,
    model=None,
    processor=None,
    rows: list[dict] | None = None,
    media_loader=None,
):
    """A TRL `SFTTrainer` over AffectLLM rows: prompt tokens masked, media added per batch."""
    from trl import SFTTrainer

    from affect_llm.modeling.processing_affect_llm import AffectLLMDataCollator
    from affect_llm.training.data import MediaCollator
    from affect_llm.training.setup import build_model_and_processor, build_training_data

    if model is None:
        model, processor = build_model_and_processor(model_config)
    if rows is None:
        rows, media_loader = build_training_data(data_config, processor)
    # rows are rendered chat messages and the collator does the tokenising
    args.remove_unused_columns = False
    args.dataset_kwargs = {**(args.dataset_kwargs or {}), "skip_prepare_dataset": True}
    if data_config is not None and data_config.use_cached_features:
        from affect_llm.training.cached_features import CachedFeatureCollator

        base = CachedFeatureCollator(processor, args.max_length)
    else:
        base = AffectLLMDataCollator(processor, args.max_length)
    collator = MediaCollator(base, media_loader)
    return SFTTrainer(
        model=model,
        args=args,
        train_dataset=_dataset(rows),
        processing_class=processor,
        data_collator=collator,
    )


def grpo_trainer(
    model_config: AffectModelConfig,
    data_config: AffectDataConfig,
    reward_config: AffectRewardConfig,
    args,
    model=None,
    processor=None,
    rows: list[dict] | None = None,
    media_loader=None,
    callbacks: list | None = None,
):
    """An `AffectGRPOTrainer` with the configured rewards (weights: `args.reward_weights`)."""
    from affect_llm.training.grpo_trainer import AffectGRPOTrainer
    from affect_llm.training.preflight import check_answer_blocks, check_reference_model
    from affect_llm.training.setup import (
        build_model_and_processor,
        build_rewards,
        build_training_data,
    )

    if model is None:
        model, processor = build_model_and_processor(model_config)
    if rows is None:
        rows, media_loader = build_training_data(data_config, processor)
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
        train_dataset=_dataset(rows),
        processing_class=processor,
        reward_funcs=rewards,
        media_loader=media_loader,
        callbacks=callbacks,
    )


def train_and_save(trainer, args) -> dict:
    """Train (resuming when asked), save model + processor to `args.output_dir`, return metrics.

    A LoRA run saves its adapter there and also a merged standalone model to `OUTPUT_DIR-merged`.
    """
    from affect_llm.training.guards import guarded_run, save_final

    with guarded_run(trainer, args):  # one run per output_dir; stops on NaN/inf (guards.py)
        checkpoint = resolve_checkpoint(args.resume_from_checkpoint, args.output_dir)
        result = trainer.train(resume_from_checkpoint=checkpoint)
        save_final(trainer, args.output_dir)  # save_trained aside, then renamed into place
    return result.metrics
