"""`affect-llm cache prune`: remove feature-cache entries that no samples file refers to."""

from __future__ import annotations

import argparse
import sys


def run_prune(args: argparse.Namespace) -> int:
    from affect_llm.data.cache import PruneError, prune_cache

    try:
        result = prune_cache(
            args.cache, args.samples, dry_run=args.dry_run, expire_days=args.expire_days
        )
    except PruneError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"{verb} {len(result.removed)} unreferenced entries ({result.freed_bytes / 1e6:.1f} MB), "
        f"kept {result.kept} ({result.recent} unreferenced but younger than "
        f"{args.expire_days:g} days) -> {args.cache}"
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
    prune.add_argument(
        "--expire-days",
        type=float,
        default=14.0,  # data.cache.PRUNE_EXPIRE_DAYS, not imported: `affect-llm --help` stays fast
        metavar="DAYS",
        help="keep unreferenced entries written or used in the last DAYS days (a build still "
        "running into this cache; git gc's pruneExpire); 0 removes every unreferenced entry "
        "(default: %(default)g)",
    )
    prune.add_argument("--dry-run", action="store_true", help="list what would go; remove nothing")
    prune.set_defaults(func=run_prune)
