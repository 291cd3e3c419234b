"""`affect-llm sft|grpo`: the recipes through accelerate's launcher, bad input one line at any rank.

Under plain `accelerate launch` a rank's one-line error came followed by the launcher's
`CalledProcessError` traceback and exit code 1; the command shows the line once and exits 2.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AFFECT_LLM = Path(sys.executable).parent / "affect-llm"


def launcher():
    from accelerate.commands.launch import launch_command_parser

    return launch_command_parser()


def test_accelerate_flags_go_to_the_launcher_and_the_rest_to_the_recipe():
    from affect_llm.commands.train import split_command_line

    argv = [
        "--config",
        "recipes/tiny/sft.yaml",
        "--num_processes",
        "2",
        "--max_steps=3",
        "--accelerate-config",
        "zero3",
        "--cpu",
        "--gradient_accumulation_steps",
        "4",
        "--machine_rank=1",
        "--debug",
        "underflow_overflow",
    ]
    launch, recipe = split_command_line(argv, launcher())
    config = str(ROOT / "recipes/accelerate/zero3.yaml")
    assert launch == ["--num_processes", "2", "--config_file", config, "--cpu", "--machine_rank=1"]
    assert recipe == [
        "--config",
        "recipes/tiny/sft.yaml",
        "--max_steps=3",
        "--gradient_accumulation_steps",
        "4",
        "--debug",
        "underflow_overflow",
    ]


def test_the_flags_both_take_are_exactly_the_ones_left_to_the_recipe():
    """A new accelerate or TRL release that adds a shared flag fails here, not on a user's run."""
    from trl import GRPOConfig, SFTConfig

    from affect_llm.commands.train import RECIPE_FLAGS
    from affect_llm.training.config import AffectDataConfig, AffectModelConfig, AffectRewardConfig

    configs = (SFTConfig, GRPOConfig, AffectModelConfig, AffectDataConfig, AffectRewardConfig)
    recipe = {field.name for config in configs for field in dataclasses.fields(config)}
    shared = {action.dest for action in launcher()._actions if action.option_strings} & recipe
    assert shared == RECIPE_FLAGS


def test_an_unknown_launch_config_name_is_one_line():
    from affect_llm.commands.train import launch_config_file
    from affect_llm.errors import InputError

    assert launch_config_file("zero2") == ROOT / "recipes/accelerate/zero2.yaml"
    with pytest.raises(InputError, match=r"zero4: .*did you mean 'zero3'"):
        launch_config_file("zero4")


def bad_yaml(tmp_path: Path, key: str, value: str) -> list[str]:
    """recipes/tiny/sft.yaml with one key set to `value` (or added when missing)."""
    lines = (ROOT / "recipes/tiny/sft.yaml").read_text().splitlines()
    lines = [line for line in lines if not line.startswith(f"{key}:")] + [f"{key}: {value}"]
    path = tmp_path / "sft.yaml"
    path.write_text("\n".join(lines) + "\n")
    return ["--config", str(path)]


CASES = {
    "flag": (
        lambda tmp: ["--config", "recipes/tiny/sft.yaml", "--learning_rat", "1"],
        "unknown flag --learning_rat (did you mean 'learning_rate'?)",
    ),
    "key": (
        lambda tmp: bad_yaml(tmp, "learning_rat", "1"),
        "unknown key 'learning_rat' (did you mean 'learning_rate'?)",
    ),
    "path": (
        lambda tmp: bad_yaml(tmp, "dataset_paths", f"[{tmp / 'nowhere'}]"),
        "nowhere has no samples.jsonl",
    ),
    "value": (
        lambda tmp: bad_yaml(tmp, "learning_rate", "fast"),
        "invalid float value: 'fast'",
    ),
    # the ZeRO configs ask for bf16, the CPU recipe turns it off: it was every rank's traceback
    "precision": (
        lambda tmp: ["--config", "recipes/tiny/sft.yaml", "--accelerate-config", "zero2"],
        "the accelerate config asks for mixed_precision bf16, the recipe for no (bf16: false): "
        "pass --mixed_precision no",
    ),
}


def launch_bad(tmp_path: Path, case: str, processes: int) -> str:
    """`affect-llm sft` with one bad input: exit 2, one line, no traceback; returns the line."""
    argv, expected = CASES[case]
    done = subprocess.run(
        [str(AFFECT_LLM), "sft", *argv(tmp_path), "--num_processes", str(processes)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr[-3000:]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert done.stdout == ""
    return lines[0]


def test_a_mistyped_flag_is_one_line_and_exit_2(tmp_path):
    launch_bad(tmp_path, "flag", 1)


# Every case at one rank (the flag: the fast test above); at two ranks one error of each stage
# each rank goes through, parsing (flag; key and value fail at the same place) and loading data
@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "processes"), [("key", 1), ("value", 1), ("path", 1), ("flag", 2), ("path", 2)]
)
def test_bad_input_is_one_line_and_exit_2_at_any_rank_count(tmp_path, case, processes):
    launch_bad(tmp_path, case, processes)


@pytest.mark.slow
def test_a_zero_launch_whose_precision_is_not_the_recipes_is_one_line_at_two_ranks(tmp_path):
    launch_bad(tmp_path, "precision", 2)


@pytest.mark.slow
def test_a_run_prints_no_third_party_noise(tmp_path):
    """DeepSpeed's "Setting accelerator to CPU" and transformers' special-token alignment notice
    are not the user's to act on; the recipe's own lines and the progress bar remain."""
    flags = ["--max_steps", "1", "--synthetic_samples", "8", "--per_device_train_batch_size", "4"]
    flags += ["--save_strategy", "no", "--output_dir", str(tmp_path / "run")]
    done = subprocess.run(
        [str(AFFECT_LLM), "sft", "--config", "recipes/tiny/sft.yaml", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "SFT done" in done.stdout
    for noise in ("Setting accelerator to CPU", "PAD/BOS/EOS", "Traceback", "Warning"):
        assert noise not in done.stderr + done.stdout, done.stderr[-3000:]


def test_quiet_third_party_drops_only_the_known_lines():
    import logging

    from affect_llm.native_logs import QUIET_LOGS, quiet_third_party

    class Keep(logging.Handler):
        def __init__(self):
            super().__init__(logging.INFO)
            self.lines: list[str] = []

        def emit(self, record):
            self.lines.append(record.getMessage())

    quiet_third_party()
    quiet_third_party()  # twice: still one filter each
    for name, start in QUIET_LOGS.items():
        logger, kept = logging.getLogger(name), Keep()
        logger.addHandler(kept)
        try:
            logger.warning(f"{start} and the rest of the line")
            logger.warning("a warning that matters")
        finally:
            logger.removeHandler(kept)
        assert len(logger.filters) == 1
        assert kept.lines == ["a warning that matters"], name
