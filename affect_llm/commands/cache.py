"""`affect-llm cache prune`: remove feature-cache entries that no samples file refers to."""

from __future__ import annotations

import argparse
import sys


def run_prune(args: argparse.Namespace) -> int:
    from affect_llm.data.cache import PruneError, prune_cache

    try:
        result = prune_cache(args.cache, args.samples, dry_run=args.dry_run)
    except PruneError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"{verb} {len(result.removed)} unreferenced entries ({result.freed_bytes / 1e6:.1f} MB), "
        f"kept {result.kept} -> {args.cache}"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("cache", help="manage the feature cache (builds never delete)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    prune = actions.add_parser(
        "prune",
        help="remove entries no given samples file points at",
        description="Remove cache entries that none of the given samples files refers to. "
        "Pass every samples.jsonl (or build folder) built with this cache.",
    )
    prune.add_argument(
        "--samples", nargs="+", required=True, help="samples.jsonl files or build folders to keep"
    )
    prune.add_argument("--cache", required=True, help="the feature cache folder")
    prune.add_argument("--dry-run", action="store_true", help="list what would go; remove nothing")
    prune.set_defaults(func=run_prune)
