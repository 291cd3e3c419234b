"""`affect-llm score {ov,hitrate,sentiment}`: MER-UniBench metrics on CSV files, printed as JSON."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path


class InputError(Exception):
    """A file that cannot be scored: unreadable, or missing a required column."""


def read_columns(path: str | Path, columns: Sequence[str]) -> dict[str, dict[str, str]]:
    """Read a CSV keyed by its `name` column: {name: {column: value}}; raises InputError."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            for column in ("name", *columns):
                if column not in header:
                    raise InputError(
                        f"{path}: missing column '{column}' (found: {', '.join(header)})"
                    )
            return {row["name"]: {c: row[c] or "" for c in columns} for row in reader}
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{path}: cannot read CSV ({error})") from error


def _load(gt_path: str, gt_column: str, pred_path: str, pred_column: str):
    gt = {name: row[gt_column] for name, row in read_columns(gt_path, [gt_column]).items()}
    pred = {name: row[pred_column] for name, row in read_columns(pred_path, [pred_column]).items()}
    missing = [name for name in gt if name not in pred]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        print(
            f"warning: {len(missing)} of {len(gt)} samples have no prediction in {pred_path} "
            f"(scored as empty): {shown}",
            file=sys.stderr,
        )
    return gt, {name: pred[name] for name in gt if name in pred}


def _score_ov(args: argparse.Namespace) -> dict:
    from affect_llm.metrics import ov_scores

    gt, pred = _load(args.gt, "openset", args.pred, "openset")
    scores = ov_scores(gt, pred)
    result = {level: prf.as_dict() for level, prf in scores.items()}
    result["mean_f1"] = (scores["level1"].f1 + scores["level2"].f1) / 2
    result["samples"] = len(gt)
    return result


def _score_hitrate(args: argparse.Namespace) -> dict:
    from affect_llm.metrics import hit_rate

    gt, pred = _load(args.gt, "label", args.pred, "openset")
    return {"hit_rate": hit_rate(gt, pred), "samples": len(gt)}


def _score_sentiment(args: argparse.Namespace) -> dict:
    from affect_llm.metrics import sentiment_scores

    gt_raw, pred = _load(args.gt, "valence", args.pred, "sentiment")
    gt = {}
    for name, value in gt_raw.items():
        try:
            gt[name] = float(value)
        except ValueError:
            raise InputError(
                f"{args.gt}: column 'valence' has a non-numeric value {value!r} for '{name}'"
            ) from None
    return sentiment_scores(gt, pred)


_SCORERS = {"ov": _score_ov, "hitrate": _score_hitrate, "sentiment": _score_sentiment}
_HELP = {
    "ov": "emotion-wheel OV score; GT and PRED columns: name,openset",
    "hitrate": "one-hot hit rate at wheel level 1; GT: name,label; PRED: name,openset",
    "sentiment": "weighted F1 and accuracy; GT: name,valence; PRED: name,sentiment",
}


def run(args: argparse.Namespace) -> int:
    try:
        result = _SCORERS[args.metric](args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result))
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
