"""`affect-llm score {ov,hitrate,sentiment}`: MER-UniBench metrics on CSV files, printed as JSON.

Argument parsing and printing only; reading and scoring are `affect_llm.evaluation.scoring`.
"""

from __future__ import annotations

import argparse
import json
import sys

_HELP = {
    "ov": "emotion-wheel OV score; GT and PRED columns: name,openset",
    "hitrate": "one-hot hit rate at wheel level 1; GT: name,label; PRED: name,openset",
    "sentiment": "weighted F1 and accuracy; GT: name,valence; PRED: name,sentiment",
}


def run(args: argparse.Namespace) -> int:
    from affect_llm.errors import InputError
    from affect_llm.evaluation.scoring import score_files

    try:
        scored = score_files(args.metric, args.gt, args.pred)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if scored.warning():
        print(scored.warning(), file=sys.stderr)
    print(json.dumps(scored.scores))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score", help="score predictions against ground truth (MER-UniBench metrics)"
    )
    metrics = parser.add_subparsers(dest="metric", required=True, metavar="METRIC")
    for name, help_text in _HELP.items():
        sub = metrics.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--gt", required=True, help="ground-truth CSV")
        sub.add_argument("--pred", required=True, help="prediction CSV")
        sub.set_defaults(func=run)
