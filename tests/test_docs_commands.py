"""Every command the README, docs/ and the YAML headers show must run as written.

Commands are read from the ```bash / ```text blocks of README.md and docs/*.md and from the first
line of every recipe and eval YAML. Each is parsed by the very parser that would run it (the
`affect-llm` CLI and its sub-commands, the chat, demo and eval runners' options dataclasses, TRL's
recipe parser with the YAML's keys checked, accelerate's launcher) and every repository file it
names must exist; placeholders such as DIR only have to parse. The own-data block is run for real
by tests/training/test_own_data.py.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import itertools
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("affect-llm", "python", "accelerate", "make")
EVAL_MODULES = {"mer_unibench": "mer_unibench", "dfew_mafw": "closed_set", "emer": "emer"}
# the options dataclass each runner's command line is built from (affect_llm.evaluation.options)
RUNNER_OPTIONS = {
    "mer_unibench": "MerUniBenchOptions",
    "closed_set": "ClosedSetOptions",
    "emer": "EmerOptions",
}


def runner_parser(module_name: str, prog: str) -> argparse.ArgumentParser:
    """The parser `affect_llm.evaluation.<module_name>.main` reads its options with."""
    from affect_llm.evaluation import options
    from affect_llm.options import build_parser

    module = importlib.import_module(f"affect_llm.evaluation.{module_name}")
    return build_parser(getattr(options, RUNNER_OPTIONS[module_name]), prog, module.__doc__)


def _lines(block: str) -> list[str]:
    """Command lines of a code block: continuations joined, comments and prompts dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    found = []
    for line in joined.splitlines():
        line = re.sub(r"^\$ ", "", line.strip())
        line = re.sub(r"\s+#.*$", "", line).removeprefix(".venv/bin/")
        if line.split(" ", 1)[0] in TOOLS:
            found.append(line)
    return found


def documented_commands() -> list[tuple[str, str]]:
    """(where, command) for every command in the docs and YAML headers."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"```(?:bash|sh|text)\n(.*?)```", text, re.S):
            found += [(path.name, line) for line in _lines(block)]
    for path in sorted([*ROOT.glob("recipes/*/*.yaml"), *ROOT.glob("eval/*.yaml")]):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        found += [(str(path.relative_to(ROOT)), line) for line in _lines(first.lstrip("# "))]
    return found


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse as the command would; an argparse error fails the test with its message."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            return parser.parse_args(argv)
    except SystemExit as exit_:
        if exit_.code:
            pytest.fail(f"{shlex.join(argv)}: {stderr.getvalue().strip().splitlines()[-1]}")
        raise


def _existing(argv: list[str]) -> None:
    """Repository files the command names (scripts, configs) must exist."""
    for arg in argv:
        if re.match(r"^(recipes|eval|benchmarks|data_builders|scripts)/\S+\.(py|yaml)$", arg):
            assert (ROOT / arg).is_file(), f"{arg} does not exist"


def recipe_outputs() -> set[str]:
    """The folders the recipe YAMLs write (a LoRA run also writes OUTPUT_DIR-merged)."""
    import yaml

    found = {"runs/quickstart/model"}  # `affect-llm quickstart --out runs/quickstart`
    for path in ROOT.glob("recipes/*/*.yaml"):
        output_dir = (yaml.safe_load(path.read_text()) or {}).get("output_dir")
        if output_dir:
            found |= {output_dir, f"{output_dir}-merged"}
    return found


def _models_exist(argv: list[str]) -> None:
    """A model under runs/ must be one a recipe writes (not a path no command produces)."""
    for option, value in itertools.pairwise(argv):
        if option in ("--model", "--model_name_or_path") and value.startswith("runs/"):
            assert value in recipe_outputs(), f"{option} {value}: no recipe writes this folder"


def _check_affect_llm(argv: list[str]) -> None:
    from affect_llm.cli import build_parser

    args = _parse(build_parser(), argv)
    if args.command in ("chat", "demo"):
        from affect_llm.chat.options import DemoOptions, TerminalChatOptions
        from affect_llm.options import build_parser as options_parser

        options = TerminalChatOptions if args.command == "chat" else DemoOptions
        _parse(options_parser(options, f"affect-llm {args.command}", None), args.options)
    elif args.command == "eval":
        from affect_llm.commands.evaluate import BENCHMARKS

        prog = f"affect-llm eval {args.benchmark}"
        _parse(runner_parser(BENCHMARKS[args.benchmark][0], prog), args.options)
    elif args.command in ("sft", "grpo"):
        from accelerate.commands.launch import launch_command_parser

        from affect_llm.commands.train import launch_config_file, split_command_line

        launcher = launch_command_parser()
        launch, recipe = split_command_line(args.options, launcher)
        _parse(launcher, [*launch, f"recipes/{args.command}.py"])
        if "--config_file" in launch:
            assert launch_config_file(launch[launch.index("--config_file") + 1]).is_file()
        _check_recipe(f"recipes/{args.command}.py", recipe)


def _check_recipe(script: str, argv: list[str]) -> None:
    from trl import GRPOConfig, SFTConfig, TrlParser

    from affect_llm.training.config import (
        AffectDataConfig,
        AffectModelConfig,
        AffectRewardConfig,
        check_yaml_keys,
    )

    types = (AffectModelConfig, AffectDataConfig, SFTConfig)
    if script.endswith("grpo.py"):
        types = (AffectModelConfig, AffectDataConfig, AffectRewardConfig, GRPOConfig)
    if "--config" in argv:
        check_yaml_keys(str(ROOT / argv[argv.index("--config") + 1]), types)
    # bf16 recipes are for GPUs; use_cpu lets their TrainingArguments validate on this machine
    TrlParser(types).parse_args_and_config([*argv, "--use_cpu", "true"])


def _check_python(argv: list[str]) -> None:
    script = argv[0]
    if script == "-m":  # a module of the package run as a program
        import importlib

        assert hasattr(importlib.import_module(argv[1]), "main"), f"{argv[1]} has no main()"
    elif script.startswith("eval/"):
        _parse(runner_parser(EVAL_MODULES[Path(script).stem], script), argv[1:])
    elif script.startswith("data_builders/"):
        source = re.search(r'main\(\["([^"]+)"', (ROOT / script).read_text()).group(1)
        _check_affect_llm(["build", source, *argv[1:]])
    elif script.startswith("recipes/"):
        _check_recipe(script, argv[1:])
    elif script.startswith("benchmarks/"):
        _check_benchmark(script, argv[1:])
    else:
        pytest.fail(f"no check for python {script}")


class _Parsed(Exception):
    """Raised by the patched `parse_args`: the benchmark's options parsed, nothing run."""


def _check_benchmark(script: str, argv: list[str]) -> None:
    """Parse with the benchmark's own parser: its `main()` runs up to `parse_args`, then stops."""
    spec = importlib.util.spec_from_file_location(Path(script).stem, ROOT / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(parser, args=None, namespace=None):
        argparse.ArgumentParser.parse_args = original
        raise _Parsed(_parse(parser, list(argv if args is None else args)))

    argparse.ArgumentParser.parse_args = parse_then_stop
    try:
        module.main()
        pytest.fail(f"{script}: main() never parsed its options")
    except _Parsed:
        pass
    finally:
        argparse.ArgumentParser.parse_args = original


def _check_accelerate(argv: list[str]) -> None:
    assert argv[0] == "launch", argv
    rest = argv[1:]
    while rest and rest[0].startswith("--"):  # launcher options, each with one value
        if rest[0] == "--config_file":
            assert (ROOT / rest[1]).is_file(), f"{rest[1]} does not exist"
        rest = rest[2:]
    assert rest and rest[0].startswith("recipes/"), argv
    _check_recipe(rest[0], rest[1:])


def _check_make(argv: list[str]) -> None:
    targets = re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M)
    for target in argv:
        assert target in targets, f"make {target}: no such target in the Makefile"


COMMANDS = documented_commands()


def test_command_lines_are_read_from_a_block_as_a_shell_would_run_them():
    block = (
        "$ affect-llm score ov \\\n    --gt gt.csv --pred pred.csv  # one command\n"
        "pip install affect-llm\n"
        ".venv/bin/python benchmarks/bench_startup.py --runs 3\n"
    )
    assert [shlex.split(line) for line in _lines(block)] == [
        ["affect-llm", "score", "ov", "--gt", "gt.csv", "--pred", "pred.csv"],
        ["python", "benchmarks/bench_startup.py", "--runs", "3"],
    ]


def test_the_own_data_recipes_are_among_the_checked_commands():
    assert any("recipes/own_data/sft.yaml" in command for _, command in COMMANDS)


def test_a_benchmark_flag_it_does_not_have_fails_the_check():
    _check_benchmark("benchmarks/bench_startup.py", ["--runs", "3"])
    with pytest.raises(pytest.fail.Exception, match="unrecognized arguments: --rounds"):
        _check_benchmark("benchmarks/bench_startup.py", ["--rounds", "3"])


@pytest.mark.parametrize(("where", "command"), COMMANDS, ids=[f"{w}: {c}" for w, c in COMMANDS])
def test_documented_command_runs_as_written(where, command):
    tool, *argv = shlex.split(command.split(" > ")[0])
    _existing(argv)
    _models_exist(argv)
    checks = {
        "affect-llm": _check_affect_llm,
        "python": _check_python,
        "accelerate": _check_accelerate,
        "make": _check_make,
    }
    checks[tool](argv)
