"""Emotion-wheel GRPO of AffectLLM: `accelerate launch recipes/grpo.py --config recipes/tiny/grpo.yaml`.

Configs: `AffectModelConfig`, `AffectDataConfig`, `AffectRewardConfig` (rewards by name from
`affect_llm.rewards.REWARDS`) and TRL's `GRPOConfig` (`reward_weights`, `beta`, `num_generations`,
...), all in one YAML; command-line flags override it.
"""

from trl import GRPOConfig, TrlParser

from affect_llm.training.config import AffectDataConfig, AffectModelConfig, AffectRewardConfig
from affect_llm.training.runs import grpo_trainer, train_and_save


def main() -> None:
    parser = TrlParser((AffectModelConfig, AffectDataConfig, AffectRewardConfig, GRPOConfig))
    model_config, data_config, reward_config, args = parser.parse_args_and_config()
    trainer = grpo_trainer(model_config, data_config, reward_config, args)
    metrics = train_and_save(trainer, args)
    trainer.accelerator.print(f"GRPO done: {metrics} -> {args.output_dir}")


if __name__ == "__main__":
    main()
