"""Cold-start SFT of AffectLLM: `accelerate launch recipes/sft.py --config recipes/tiny/sft.yaml`.

Configs: `AffectModelConfig`, `AffectDataConfig` (affect_llm/training/config.py) and TRL's
`SFTConfig`, all in one YAML; command-line flags (e.g. `--max_steps 3 --output_dir X`) override it.
Before the first step it prints what it trains on (rows per source, drops, task, cues, first prompt).
"""

import sys

from trl import SFTConfig

from affect_llm.errors import report_user_errors
from affect_llm.native_logs import quiet_third_party
from affect_llm.training.config import AffectDataConfig, AffectModelConfig, parse_recipe_args
from affect_llm.training.console import done_line, use_short_logs
from affect_llm.training.data_loading import check_schedule, load_training_data, print_report
from affect_llm.training.model_loading import build_model_and_processor
from affect_llm.training.trainers import build_sft_trainer, train_and_save


def main(argv: list[str] | None = None) -> None:
    quiet_third_party()
    model_config, data_config, args = parse_recipe_args(
        (AffectModelConfig, AffectDataConfig, SFTConfig), argv
    )
    model, processor = build_model_and_processor(model_config)
    rows, media_loader, report = load_training_data(data_config, processor)
    print_report(report, check_schedule(len(rows), args))
    trainer = build_sft_trainer(
        model_config, data_config, args, model, processor, rows, media_loader
    )
    use_short_logs(trainer)
    metrics = train_and_save(trainer, args)
    trainer.accelerator.print(done_line("SFT", metrics, args.output_dir))


if __name__ == "__main__":
    sys.exit(report_user_errors(main))
