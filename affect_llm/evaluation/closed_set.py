"""DFEW / MAFW closed-set evaluation: WAR and UAR per fold and averaged, and a confusion matrix.

The model is asked to pick one of the dataset's classes; its answer becomes a class through the
deterministic extractor (`closed_set_class`: the class named, else the class sharing the most wheel
clusters with the label named). Answers naming no class count as wrong ("none").
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path
from typing import Any

from affect_llm.evaluation.common import (
    add_generation_arguments,
    checkpoint_names,
    generation_config,
    load_config,
    perception_config,
    run_main,
    select_items,
)
from affect_llm.evaluation.registry import DFEW_MAFW, PUBLISHED_CLOSED_SET
from affect_llm.evaluation.report import keep_earlier_checkpoints
from affect_llm.files import atomic_write_json, atomic_write_text

NO_CLASS = "none"
TITLES = {"dfew": "DFEW", "mafw": "MAFW"}


def build_parser(prog: str = "eval/dfew_mafw.py") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", help="YAML with `datasets:` {dfew|mafw: {root, folds}}, `generation:`, `perception:` (see eval/dfew_mafw.yaml)")  # fmt: skip
    parser.add_argument("--out", required=True, help="output folder (answers, results.json, results.md, confusion PNGs)")  # fmt: skip
    parser.add_argument("--datasets", nargs="+", choices=list(DFEW_MAFW), help="evaluate only these (default: all in the config)")  # fmt: skip
    parser.add_argument("--folds", nargs="+", type=int, help="folds to evaluate (default: the config's, else 1-5)")  # fmt: skip
    add_generation_arguments(parser)
    return parser


def _csv(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def evaluate_fold(
    dataset: str,
    root: str,
    fold: int,
    out_dir: Path,
    bundle: tuple,
    args: argparse.Namespace,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """Answers, predicted classes, WAR/UAR and confusion counts of one test fold."""
    from affect_llm.evaluation.answers import closed_set_class
    from affect_llm.evaluation.generation import generate_answers, read_done
    from affect_llm.evaluation.loading import load_items
    from affect_llm.metrics import confusion_matrix, war_uar
    from affect_llm.parsing import extract_labels

    items = [i for i in select_items(load_items(dataset, root, fold=fold), args.limit)]
    labelled = [i for i in items if i.label]
    classes = list(labelled[0].candidates) if labelled else []
    model, processor, config, perception = bundle
    responses = out_dir / "responses.jsonl"
    generate_answers(
        labelled,
        model,
        processor,
        responses,
        "onehot",
        config,
        perception,
        cache_dir=Path(args.out) / "cache",
        settings=settings,
        progress=not args.no_progress,
        overwrite=args.overwrite,
    )
    rows = read_done(responses)
    y_true, y_pred, table = [], [], [["name", "label", "prediction"]]
    for item in labelled:
        response = rows.get(item.id, {}).get("response") or ""
        predicted = closed_set_class(extract_labels(response), classes) or NO_CLASS
        y_true.append(item.label)
        y_pred.append(predicted)
        table.append([item.id, item.label, predicted])
    atomic_write_text(out_dir / "predictions.csv", _csv(table))
    scores = war_uar(y_true, y_pred)
    result = {
        **scores,
        "classes": classes,
        "confusion": confusion_matrix(y_true, y_pred, [*classes, NO_CLASS]),
        "failed_samples": sum(1 for r in rows.values() if r.get("error")),
        "skipped_unlabelled": len(items) - len(labelled),
    }
    atomic_write_json(out_dir / "scores.json", result)
    return result


def _summarise(folds: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Mean WAR/UAR over folds and the confusion counts summed over folds."""
    values = list(folds.values())
    classes = values[0]["classes"]
    size = len(classes) + 1
    confusion = [[sum(f["confusion"][i][j] for f in values) for j in range(size)] for i in range(size)]  # fmt: skip
    return {
        "folds": {str(k): {m: v[m] for m in ("war", "uar", "samples")} for k, v in folds.items()},
        "mean": {m: sum(v[m] for v in values) / len(values) for m in ("war", "uar")},
        "classes": classes,
        "confusion": confusion,
    }


def _report(out: Path, summary: dict[str, Any]) -> None:
    from affect_llm.evaluation.report import markdown_table, write_markdown

    names = [d for d in DFEW_MAFW if any(d in c["datasets"] for c in summary["checkpoints"])]
    columns = [(f"{d}_{m}", f"{TITLES[d]} {m.upper()}") for d in names for m in ("war", "uar")]
    rows: dict[str, dict[str, float | None]] = {}
    fold_lines = []
    for checkpoint in summary["checkpoints"]:
        row: dict[str, float | None] = {}
        for d, result in checkpoint["datasets"].items():
            for m in ("war", "uar"):
                row[f"{d}_{m}"] = 100 * result["mean"][m]
            for fold, scores in result["folds"].items():
                fold_lines.append(
                    f"| {checkpoint['name']} | {TITLES[d]} | {fold} | {100 * scores['war']:.2f} | "
                    f"{100 * scores['uar']:.2f} | {scores['samples']} |"
                )
        rows[checkpoint["name"]] = row
    for model, published in PUBLISHED_CLOSED_SET.items():
        rows[f"{model} (published)"] = {
            f"{d}_{m}": (published.get(d) or {}).get(m) for d in names for m in ("war", "uar")
        }
    text = "\n".join(
        [
            "# DFEW / MAFW closed-set results\n",
            "Mean over the evaluated folds (x100; WAR = accuracy, UAR = mean per-class recall).\n",
            markdown_table(columns, rows),
            "## Per fold\n",
            "| model | dataset | fold | WAR | UAR | samples |",
            "|---|---|---:|---:|---:|---:|",
            *fold_lines,
            "",
            "Published rows are the papers' 5-fold numbers (— = not reported). Every checkpoint "
            "given is reported; none is selected on the test folds.",
            "",
        ]
    )
    write_markdown(out / "results.md", text)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from affect_llm.evaluation.generation import load_model
    from affect_llm.evaluation.report import confusion_plot

    config = load_config(args.config)
    entries = {k: dict(v) for k, v in (config.get("datasets") or {}).items()}
    unknown = set(entries) - set(DFEW_MAFW)
    if unknown:
        raise ValueError(f"unknown dataset(s) {', '.join(sorted(unknown))}; expected dfew, mafw")
    names = [d for d in DFEW_MAFW if d in (args.datasets or entries)]
    if not names or any(not entries.get(d, {}).get("root") for d in names):
        raise ValueError("give --config with `datasets:` {dfew|mafw: {root: DIR}}")
    if not args.model:
        raise ValueError("--model is required")
    out = Path(args.out)
    gen = generation_config(args, config)
    perception = perception_config(args, config)
    summary: dict[str, Any] = {
        "benchmark": "DFEW/MAFW",
        "generation": gen.to_dict(),
        "perception": perception.to_dict(),
        "checkpoints": [],
        "published": PUBLISHED_CLOSED_SET,
        "selection": "every checkpoint is reported; none is selected on the test folds",
    }
    for name, model_path in zip(checkpoint_names(args.model), args.model):
        model, processor = load_model(model_path, args.device, args.dtype, gen.seed)
        bundle = (model, processor, gen, perception)
        settings = {"model": model_path, "perception": perception.to_dict()}
        datasets = {}
        for d in names:
            folds = args.folds or entries[d].get("folds") or [1, 2, 3, 4, 5]
            results = {
                int(k): evaluate_fold(
                    d,
                    entries[d]["root"],
                    int(k),
                    out / name / d / f"fold{k}",
                    bundle,
                    args,
                    settings,
                )
                for k in folds
            }
            datasets[d] = _summarise(results)
            plot = confusion_plot(
                out / name / d / "confusion.png",
                datasets[d]["confusion"],
                [*datasets[d]["classes"], NO_CLASS],
                f"{TITLES[d]} ({name}), folds {', '.join(map(str, folds))}",
            )
            datasets[d]["confusion_plot"] = str(plot)
        summary["checkpoints"].append({"name": name, "model": model_path, "datasets": datasets})
    keep_earlier_checkpoints(out, summary)  # a rerun with other checkpoints adds rows
    atomic_write_json(out / "results.json", summary)
    _report(out, summary)
    return summary


def main(argv: list[str] | None = None, prog: str = "eval/dfew_mafw.py") -> int:
    def scores(checkpoint: dict[str, Any]) -> dict[str, Any]:
        return {
            d: {m: round(100 * v, 2) for m, v in r["mean"].items()}
            for d, r in checkpoint["datasets"].items()
        }

    args = build_parser(prog).parse_args(argv)
    return run_main(run, args, scores, "results.md, confusion.png per dataset")
