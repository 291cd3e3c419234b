"""Cold-start SFT of AffectLLM: `accelerate launch recipes/sft.py --config recipes/tiny/sft.yaml`.

Configs: `AffectModelConfig`, `AffectDataConfig` (affect_llm/training/config.py) and TRL's
`SFTConfig`, all in one YAML; command-line flags (e.g. `--max_steps 3 --output_dir X`) override it.
"""

from trl import SFTConfig, TrlParser

from affect_llm.training.config import AffectDataConfig, AffectModelConfig
from affect_llm.training.runs import sft_trainer, train_and_save


def main() -> None:
    parser = TrlParser((AffectModelConfig, AffectDataConfig, SFTConfig))
    model_config, data_config, args = parser.parse_args_and_config()
    trainer = sft_trainer(model_config, data_config, args)
    metrics = train_and_save(trainer, args)
    trainer.accelerator.print(f"SFT done: {metrics} -> {args.output_dir}")


if __name__ == "__main__":
    main()
