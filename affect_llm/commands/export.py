"""`affect-llm export DIR --to sharegpt|hf --out PATH`: a build folder for other tools."""

from __future__ import annotations

import argparse
import sys

HELP = "write a build folder as ms-swift / LLaMA-Factory sharegpt JSON or a `datasets` dataset"


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from affect_llm.errors import InputError

    samples = Path(args.build_dir) / "samples.jsonl"
    if not samples.is_file():
        raise InputError(
            f"{args.build_dir}: no samples.jsonl (expected a folder made by `affect-llm build`)"
        )
    if args.to == "sharegpt":
        from affect_llm.data.interchange import write_sharegpt

        if args.push_to_hub:
            raise InputError("--push-to-hub goes with --to hf")
        written, skipped = write_sharegpt(args.build_dir, args.out, task=args.task)
        for sample_id, reason in skipped:
            print(f"skipped {sample_id}: {reason}", file=sys.stderr)
        print(f"exported {written}/{written + len(skipped)} samples -> {args.out}")
        return 1 if skipped and not written else 0
    from affect_llm.data.interchange import write_hf

    counts = write_hf(args.build_dir, args.out, push_to_hub=args.push_to_hub)
    splits = ", ".join(f"{split} {rows}" for split, rows in sorted(counts.items()))
    pushed = f" and https://huggingface.co/datasets/{args.push_to_hub}" if args.push_to_hub else ""
    print(f"exported {sum(counts.values())} samples ({splits}) -> {args.out}{pushed}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help=HELP, description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", help="A folder made by `affect-llm build` (samples.jsonl).")
    parser.add_argument("--to", choices=["sharegpt", "hf"], required=True, help="Output format.")
    parser.add_argument(
        "--out",
        required=True,
        help="sharegpt: the JSON file to write; hf: the dataset folder (data/, media/, README.md).",
    )
    parser.add_argument(
        "--task", help="sharegpt: render every row as this task (default: each row's own)."
    )
    parser.add_argument(
        "--push-to-hub", metavar="REPO", help="hf: also upload the folder as dataset repo REPO."
    )
    parser.set_defaults(func=run)
