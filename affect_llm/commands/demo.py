"""`affect-llm demo [--model DIR] [--host H] [--port P]`: the Gradio web demo."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from affect_llm.chat.app import launch_demo
    from affect_llm.chat.options import engine_from_args
    from affect_llm.errors import require_model_dir

    if args.model is not None:
        require_model_dir(args.model, "--model")  # before loading torch: the error comes at once
    engine = engine_from_args(args)
    launch_demo(engine, host=args.host, port=args.port)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from affect_llm.chat.options import add_engine_arguments

    parser = subparsers.add_parser(
        "demo", help="web demo: upload a clip, see what the model saw and why it answered"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on")
    parser.add_argument("--port", type=int, default=7860, help="port to serve on")
    add_engine_arguments(parser)
    parser.set_defaults(func=run)
