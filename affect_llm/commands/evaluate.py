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
    from affect_llm.options import add_options_command

    parser = subparsers.add_parser(
        "eval", help="run a benchmark (MER-UniBench, DFEW/MAFW, EMER); see docs/evaluation.md"
    )
    benchmarks = parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    for name, (_, help_text) in BENCHMARKS.items():
        # Every option (and --help) goes to the runner's own parser, so both entry points agree.
        add_options_command(benchmarks, name, help_text, run)
