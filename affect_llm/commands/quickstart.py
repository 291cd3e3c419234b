"""`affect-llm quickstart --out DIR`: the end-to-end example on bundled files, offline."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from affect_llm.quickstart import run_quickstart

    run_quickstart(args.out)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quickstart", help="run the end-to-end example on the bundled files (offline, CPU)"
    )
    parser.add_argument("--out", default="runs/quickstart", help="output directory")
    parser.set_defaults(func=run)
