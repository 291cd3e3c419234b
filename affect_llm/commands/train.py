"""`affect-llm sft|grpo --config YAML [flags]`: a recipe launched through accelerate's launcher.

The same run as `accelerate launch --config_file CFG recipes/sft.py --config YAML [flags]`, with
accelerate's own flags (`--num_processes 2`, `--machine_rank 1`, ...) and `--accelerate-config CFG`
(a file, or a name in recipes/accelerate such as `zero3`) taken out of the command line and every
other flag left to the recipe. A user error in any rank is one line and exit code 2: each rank
prints its line, the copies from the other ranks are dropped, and the launcher's own traceback
(`CalledProcessError`, torch elastic's `ChildFailedError`) becomes the ranks' exit code.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
LAUNCH_CONFIGS = RECIPES / "accelerate"
# Flags both accelerate's launcher and the recipes take: the recipe's meaning wins.
RECIPE_FLAGS = frozenset({"debug", "gradient_accumulation_steps"})
COMMANDS = {
    "sft": "cold-start SFT (recipes/sft.py) through accelerate's launcher",
    "grpo": "emotion-wheel GRPO (recipes/grpo.py) through accelerate's launcher",
}
USAGE = """usage: affect-llm {name} --config YAML [recipe flags] [accelerate flags]

{help}.
  --config YAML              the recipe config (e.g. recipes/tiny/{name}.yaml); recipe flags such
                             as --max_steps 3 override it (python recipes/{name}.py --help lists them)
  --accelerate-config CFG    accelerate config: a file or a name in recipes/accelerate (default
                             single_process; ddp, or cpu_2proc without GPUs, when --num_processes > 1)
  accelerate flags           any flag of `accelerate launch`, e.g. --num_processes 2, --num_machines 2
                             --machine_rank 0 --main_process_ip HOST --main_process_port 29500
"""


def split_command_line(argv: list[str], launcher: argparse.ArgumentParser) -> tuple[list, list]:
    """(accelerate launch flags, recipe flags) of `argv`, each in the order given."""
    from affect_llm.errors import InputError

    actions = {
        option: action
        for action in launcher._actions
        for option in action.option_strings
        if option.startswith("--") and action.dest not in RECIPE_FLAGS
    }
    launch, recipe = [], []
    index = 0
    while index < len(argv):
        token = argv[index]
        name, has_value, _ = token.partition("=")
        if name in ("--accelerate-config", "--accelerate_config"):
            if not has_value and index + 1 >= len(argv):
                raise InputError(f"{name} needs a value (a config file or a name such as zero3)")
            value = token.split("=", 1)[1] if has_value else argv[index + 1]
            launch += ["--config_file", str(launch_config_file(value))]
            index += 1 if has_value else 2
            continue
        action = actions.get(name)
        if action is None:
            recipe.append(token)
            index += 1
            continue
        taken = 1 if has_value or action.nargs == 0 else 2
        launch += argv[index : index + taken]
        index += taken
    return launch, recipe


def launch_config_file(value: str) -> Path:
    """An accelerate config: the file `value`, or recipes/accelerate/`value`.yaml."""
    from affect_llm.errors import InputError, closest

    if Path(value).is_file():
        return Path(value)
    named = LAUNCH_CONFIGS / f"{value}.yaml"
    if named.is_file():
        return named
    names = sorted(path.stem for path in LAUNCH_CONFIGS.glob("*.yaml"))
    raise InputError(
        f"--accelerate-config {value}: no such file and not a config in recipes/accelerate"
        f"{closest(value, names)} (one of {', '.join(names)})"
    )


def default_launch_config(launch: argparse.Namespace) -> Path:
    """The config when none is given, so accelerate names every setting instead of guessing."""
    processes = launch.num_processes or 1
    if processes == 1:
        return LAUNCH_CONFIGS / "single_process.yaml"
    import torch

    return LAUNCH_CONFIGS / ("ddp.yaml" if torch.cuda.is_available() else "cpu_2proc.yaml")


def failed_exit_code(error: BaseException) -> int:
    """The ranks' exit code behind a launcher exception (2 when any rank stopped on bad input)."""
    import subprocess

    from affect_llm.errors import EXIT_USER_ERROR

    if isinstance(error, subprocess.CalledProcessError):
        return error.returncode if error.returncode > 0 else 1
    codes = [getattr(failure, "exitcode", 1) for failure in getattr(error, "failures", {}).values()]
    if EXIT_USER_ERROR in codes:
        return EXIT_USER_ERROR
    return next((code for code in codes if code > 0), 1)


def launch(name: str, argv: list[str], debug: bool = False) -> int:
    """Run recipes/`name`.py under accelerate's launcher; the ranks' exit code."""
    import logging
    import sys

    from accelerate.commands.launch import launch_command, launch_command_parser

    from affect_llm.errors import InputError

    script = RECIPES / f"{name}.py"
    if not script.is_file():
        raise InputError(f"affect-llm {name} runs {script}, which is missing (use a checkout)")
    if debug:
        os.environ["AFFECT_LLM_DEBUG"] = "1"  # the ranks show tracebacks too
    parser = launch_command_parser()
    launch_flags, recipe_flags = split_command_line(argv, parser)
    given = parser.parse_args([*launch_flags, str(script)])
    if given.config_file is None:
        launch_flags = ["--config_file", str(default_launch_config(given)), *launch_flags]
    launch_args = parser.parse_args([*launch_flags, str(script), *recipe_flags])
    # torch elastic logs each failed rank and the ranks it stops (the exit code says it), and that
    # it set OMP_NUM_THREADS. Imported first: its loggers set their level when their module loads.
    import torch.distributed.run  # noqa: F401

    for logger in ("torch.distributed.elastic", "torch.distributed.run"):
        logging.getLogger(logger).setLevel(logging.CRITICAL)
    try:
        launch_command(launch_args)
    except Exception as error:  # the launcher's report of a rank's exit code
        code = failed_exit_code(error)
        if debug:
            raise
        if code != 2:
            print(f"error: {name} stopped with exit code {code}", file=sys.stderr)
        return code
    return 0


def run(args: argparse.Namespace) -> int:
    from affect_llm.native_logs import filtered_stderr, filtered_stdout

    name = args.command
    if any(flag in ("-h", "--help") for flag in args.options):
        print(USAGE.format(name=name, help=COMMANDS[name]), end="")
        return 0
    # The ranks share this stderr: each prints its one-line error, the copies are dropped. They
    # share this stdout too, where DeepSpeed prints from each CPU rank; unbuffered, the ranks' own
    # lines pass the filter as they are written.
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    with filtered_stdout(), filtered_stderr(drop_repeated_errors=True):
        return launch(name, list(args.options), debug=args.debug)


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, help_text in COMMANDS.items():
        # prefix_chars="+": no options of its own, so every "--x" reaches `args.options`
        parser = subparsers.add_parser(name, help=help_text, add_help=False, prefix_chars="+")
        parser.add_argument("options", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        parser.set_defaults(func=run)
