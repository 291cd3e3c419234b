"""The `affect-llm` command line: a thin dispatcher over `affect_llm.commands.*`."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module defines `register(subparsers)`, adding its sub-command(s) with `set_defaults(func=...)`.
# Modules are imported only when listed here, so a sub-command's heavy imports stay inside its `func`.
COMMAND_MODULES = [
    "affect_llm.commands.score",
    "affect_llm.commands.extract",
    "affect_llm.commands.build",
    "affect_llm.commands.quickstart",
    "affect_llm.commands.evaluate",
    "affect_llm.commands.chat",
    "affect_llm.commands.demo",
    "affect_llm.commands.cache",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="affect-llm", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
