"""`affect-llm eval {mer-unibench,dfew-mafw,emer} ...`: the benchmark runners of eval/ as sub-commands."""

from __future__ import annotations

import argparse
import importlib

# sub-command -> (module in affect_llm.evaluation, one-line help)
BENCHMARKS = {
    "mer-unibench": (
        "mer_unibench",
        "MER-UniBench (nine datasets): generate, extract, score, report",
    ),
    "dfew-mafw": ("closed_set", "DFEW / MAFW closed-set WAR, UAR and confusion matrices per fold"),
    "emer": ("emer", "EMER reasoning: local LLM judge and deterministic proxy"),
}


def run(args: argparse.Namespace) -> int:
    module_name, _ = BENCHMARKS[args.benchmark]
    module = importlib.import_module(f"affect_llm.evaluation.{module_name}")
    return module.main(args.options, prog=f"affect-llm eval {args.benchmark}")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval", help="run a benchmark (MER-UniBench, DFEW/MAFW, EMER); see docs/evaluation.md"
    )
    benchmarks = parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    for name, (_, help_text) in BENCHMARKS.items():
        # Every option (and --help) goes to the runner's own parser, so both entry points agree.
        # prefix_chars="+": this parser has no options of its own, so "--x" reaches `options`.
        sub = benchmarks.add_parser(name, help=help_text, add_help=False, prefix_chars="+")
        sub.add_argument("options", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        sub.set_defaults(func=run)
