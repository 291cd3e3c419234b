"""`affect-llm extract RESPONSES.csv`: free-text answers (name,response) to label lists (name,openset)."""

from __future__ import annotations

import argparse
import csv
import sys

from affect_llm.errors import InputError
from affect_llm.evaluation.scoring import format_label_list, read_columns


def run(args: argparse.Namespace) -> int:
    from affect_llm.parsing import extract_labels

    try:
        rows = read_columns(args.responses, ["response"], multiline=True)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["name", "openset"])
    for name, row in rows.items():
        writer.writerow([name, format_label_list(extract_labels(row["response"]))])
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="extract emotion labels from free-text answers (deterministic)",
        description="Read RESPONSES.csv (columns name,response) and print CSV name,openset.",
    )
    parser.add_argument("responses", help="CSV with columns name,response")
    parser.set_defaults(func=run)
