"""`affect-llm chat [--model DIR] [--video FILE]`: terminal chat about a clip, streamed."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

HELP = "chat in the terminal about a video clip (streaming, multi-turn)"


def parse(argv: Sequence[str]):
    """The typed options (`TerminalChatOptions`) of `affect-llm chat ARGV`."""
    from affect_llm.chat.options import TerminalChatOptions
    from affect_llm.options import parse_options

    return parse_options(TerminalChatOptions, argv, "affect-llm chat", HELP)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from affect_llm.chat.options import load_engine
    from affect_llm.errors import InputError
    from affect_llm.hub import model_folder

    options = parse(args.options)
    if options.model is not None:
        # a folder or a hub id, before loading torch: a bad name is one line at once
        options.model = model_folder(options.model, "--model")
    if options.video is not None and not Path(options.video).is_file():
        raise InputError(f"--video {options.video}: no such file (expected a video or audio clip)")
    from affect_llm.chat.terminal import run_terminal_chat

    return run_terminal_chat(load_engine(options), options.video)


def register(subparsers: argparse._SubParsersAction) -> None:
    from affect_llm.options import add_options_command

    add_options_command(subparsers, "chat", HELP, run)
