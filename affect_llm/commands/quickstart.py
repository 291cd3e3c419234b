"""`affect-llm quickstart --out DIR`: build data, train the tiny model (SFT then GRPO), score."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from affect_llm.training.quickstart import QuickstartSettings, run_quickstart

    settings = QuickstartSettings(threads=args.threads)
    run_quickstart(args.out, settings, train=not args.scoring_only)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quickstart",
        help="build the bundled clips, train the tiny model (SFT then GRPO) and score (offline, CPU)",
    )
    parser.add_argument("--out", default="runs/quickstart", help="output directory")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument(
        "--scoring-only", action="store_true", help="skip training; only score the bundled answers"
    )
    parser.set_defaults(func=run)
