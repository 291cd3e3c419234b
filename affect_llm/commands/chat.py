"""`affect-llm chat [--model DIR] [--video FILE]`: terminal chat about a clip, streamed."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from affect_llm.chat.options import engine_from_args
    from affect_llm.errors import InputError, require_model_dir

    if args.model is not None:
        require_model_dir(args.model, "--model")  # before loading torch: the error comes at once
    if args.video is not None and not Path(args.video).is_file():
        raise InputError(f"--video {args.video}: no such file (expected a video or audio clip)")
    from affect_llm.chat.terminal import run_terminal_chat

    return run_terminal_chat(engine_from_args(args), args.video)


def register(subparsers: argparse._SubParsersAction) -> None:
    from affect_llm.chat.options import add_engine_arguments

    parser = subparsers.add_parser(
        "chat", help="chat in the terminal about a video clip (streaming, multi-turn)"
    )
    parser.add_argument("--video", default=None, metavar="FILE", help="clip to start with")
    add_engine_arguments(parser)
    parser.set_defaults(func=run)
