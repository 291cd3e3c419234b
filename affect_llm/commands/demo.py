"""`affect-llm demo [--model DIR] [--host H] [--port P]`: the Gradio web demo."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

HELP = "web demo: upload a clip, see what the model saw and why it answered"


def parse(argv: Sequence[str]):
    """The typed options (`DemoOptions`) of `affect-llm demo ARGV`."""
    from affect_llm.chat.options import DemoOptions
    from affect_llm.options import parse_options

    return parse_options(DemoOptions, argv, "affect-llm demo", HELP)


def run(args: argparse.Namespace) -> int:
    from affect_llm.hub import model_folder

    options = parse(args.options)
    if options.model is not None:
        # a folder or a hub id, before loading torch: a bad name is one line at once
        options.model = model_folder(options.model, "--model")
    from affect_llm.chat.app import launch_demo
    from affect_llm.chat.options import load_engine

    launch_demo(load_engine(options), host=options.host, port=options.port)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from affect_llm.options import add_options_command

    add_options_command(subparsers, "demo", HELP, run)
