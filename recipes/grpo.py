"""Emotion-wheel GRPO of AffectLLM: `accelerate launch recipes/grpo.py --config recipes/tiny/grpo.yaml`.

Configs: `AffectModelConfig`, `AffectDataConfig`, `AffectRewardConfig` (rewards by name from
`affect_llm.rewards.REWARDS`) and TRL's `GRPOConfig` (`reward_weights`, `beta`, `num_generations`,
...), all in one YAML; command-line flags override it. Before the first step it prints what it
trains on and checks that `max_completion_length` fits the task's answers.
"""

import sys

from trl import GRPOConfig

from affect_llm.errors import report_user_errors
from affect_llm.native_logs import quiet_third_party
from affect_llm.training.config import (
    AffectDataConfig,
    AffectModelConfig,
    AffectRewardConfig,
    parse_recipe_args,
)
from affect_llm.training.console import done_line, use_short_logs
from affect_llm.training.data_loading import (
    check_completion_length,
    load_training_data,
    print_report,
)
from affect_llm.training.model_loading import build_model_and_processor
from affect_llm.training.trainers import build_grpo_trainer, train_and_save


def main(argv: list[str] | None = None) -> None:
    quiet_third_party()
    model_config, data_config, reward_config, args = parse_recipe_args(
        (AffectModelConfig, AffectDataConfig, AffectRewardConfig, GRPOConfig), argv
    )
    model, processor = build_model_and_processor(model_config)
    rows, media_loader, report = load_training_data(data_config, processor)
    note = check_completion_length(rows, processor.tokenizer, args.max_completion_length)
    print_report(report, note)
    trainer = build_grpo_trainer(
        model_config, data_config, reward_config, args, model, processor, rows, media_loader
    )
    use_short_logs(trainer)
    metrics = train_and_save(trainer, args)
    trainer.accelerator.print(done_line("GRPO", metrics, args.output_dir))


if __name__ == "__main__":
    sys.exit(report_user_errors(main))
