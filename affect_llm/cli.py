"""The `affect-llm` command line: a thin dispatcher over `affect_llm.commands.*`.

Starting must be instant: the command modules import only the standard library at the top and do
their heavy imports (torch, transformers, perception) inside the function that runs the command,
so `affect-llm --help` and `affect-llm score ...` never load torch (tests/test_cli_startup.py).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from affect_llm.errors import report_user_errors
from affect_llm.native_logs import filtered_stderr, quiet_third_party

# Each module defines `register(subparsers)`, adding its sub-command(s) with `set_defaults(func=...)`.
COMMAND_MODULES = [
    "affect_llm.commands.score",
    "affect_llm.commands.extract",
    "affect_llm.commands.build",
    "affect_llm.commands.quickstart",
    "affect_llm.commands.evaluate",
    "affect_llm.commands.chat",
    "affect_llm.commands.demo",
    "affect_llm.commands.cache",
    "affect_llm.commands.train",
    "affect_llm.commands.export",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="affect-llm", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback for every error (or set AFFECT_LLM_DEBUG=1)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


# Commands that load mediapipe / TFLite, whose native log lines are filtered from stderr.
NATIVE_NOISE = ("build", "quickstart", "eval", "chat", "demo")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_third_party()
    if args.command not in NATIVE_NOISE:
        return report_user_errors(lambda: args.func(args), debug=args.debug)
    with filtered_stderr():
        return report_user_errors(lambda: args.func(args), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
