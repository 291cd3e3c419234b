"""DFEW / MAFW closed-set evaluation: WAR and UAR per fold and averaged, and a confusion matrix.

The model is asked to pick one of the dataset's classes; its answer becomes a class through the
deterministic extractor (`closed_set_class`: the class named, else a class whose word form is named,
else the class sharing the most wheel clusters with the label named). Answers naming no class count
as wrong ("none"). With --predictions NAME=FILE, answers made elsewhere are scored instead (one file
per dataset covering its test folds: `name,response` / `name,openset` CSV, JSONL or AffectGPT npz).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from affect_llm.errors import InputError
from affect_llm.evaluation.checkpoints import load_checkpoint
from affect_llm.evaluation.common import (
    Checkpoint,
    checkpoint_names,
    generation_config,
    load_config,
    named_paths,
    perception_config,
    run_main,
    select_items,
)
from affect_llm.evaluation.options import ClosedSetOptions
from affect_llm.evaluation.registry import DFEW_MAFW, PUBLISHED_CLOSED_SET
from affect_llm.evaluation.report import (
    is_subset,
    keep_earlier_checkpoints,
    markdown_table,
    sample_count,
    write_markdown,
)
from affect_llm.files import atomic_write_json, atomic_write_text
from affect_llm.options import parse_options
from affect_llm.safe_text import markdown_cell

NO_CLASS = "none"
TITLES = {"dfew": "DFEW", "mafw": "MAFW"}


def _csv(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    from affect_llm.safe_text import csv_cell  # names and answers: no cell a spreadsheet runs

    csv.writer(buffer, lineterminator="\n").writerows([csv_cell(c) for c in row] for row in rows)
    return buffer.getvalue()


def evaluate_fold(
    dataset: str,
    root: str,
    fold: int,
    out_dir: Path,
    checkpoint: Checkpoint | None,
    args: ClosedSetOptions,
    predictions=None,
) -> dict[str, Any]:
    """Answers (generated, or taken from `predictions`), predicted classes, WAR/UAR and confusion
    counts of one test fold."""
    from affect_llm.data.datasets import prediction_aliases
    from affect_llm.evaluation.answers import closed_set_class
    from affect_llm.evaluation.loading import load_items
    from affect_llm.evaluation.predictions import align_names
    from affect_llm.metrics import confusion_matrix, war_uar
    from affect_llm.parsing import extract_labels
    from affect_llm.taxonomy import parse_label_list

    fold_items = load_items(dataset, root, fold=fold)
    items = select_items(fold_items, args.limit)
    labelled = [i for i in items if i.label]
    classes = list(labelled[0].candidates) if labelled else []
    failed = 0
    if predictions is None:
        rows = checkpoint.answer(labelled, out_dir / "responses.jsonl", "onehot")  # type: ignore[union-attr]
        failed = sum(1 for r in rows.values() if r.get("error"))
        answers = {n: list(extract_labels(r.get("response") or "")) for n, r in rows.items()}
    else:
        aligned, _ = align_names(
            predictions, [i.id for i in labelled], lambda n: prediction_aliases(dataset, n)
        )
        read = parse_label_list if predictions.kind == "openset" else extract_labels
        answers = {n: list(read(v)) for n, v in aligned.values.items()}
    y_true, y_pred, table = [], [], [["name", "label", "prediction"]]
    for item in labelled:
        predicted = closed_set_class(answers.get(item.id, []), classes) or NO_CLASS
        y_true.append(item.label)
        y_pred.append(predicted)
        table.append([item.id, item.label, predicted])
    atomic_write_text(out_dir / "predictions.csv", _csv(table))
    scores = war_uar(y_true, y_pred)
    result = {
        **scores,
        "classes": classes,
        "confusion": confusion_matrix(y_true, y_pred, [*classes, NO_CLASS]),
        "failed_samples": failed,
        "missing_predictions": sum(1 for i in labelled if i.id not in answers),
        "skipped_unlabelled": len(items) - len(labelled),
        "official_samples": sum(1 for i in fold_items if i.label),  # the fold's whole test list
    }
    atomic_write_json(out_dir / "scores.json", result)
    return result


def _summarise(folds: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Mean WAR/UAR over folds and the confusion counts summed over folds."""
    values = list(folds.values())
    classes = values[0]["classes"]
    size = len(classes) + 1
    confusion = [
        [sum(f["confusion"][i][j] for f in values) for j in range(size)] for i in range(size)
    ]
    return {
        "folds": {
            str(k): {m: v[m] for m in ("war", "uar", "samples", "official_samples")}
            for k, v in folds.items()
        },
        "mean": {m: sum(v[m] for v in values) / len(values) for m in ("war", "uar")},
        "classes": classes,
        "confusion": confusion,
    }


ALL_FOLDS = 5  # DFEW's and MAFW's official protocol: the mean over five test folds


def fold_counts(result: dict[str, Any]) -> tuple[str, bool]:
    """A dataset's 'n scored/n official' over its evaluated folds, and whether it is a subset
    (fewer folds than five, or fewer samples than a fold's test list)."""
    folds = result["folds"]
    scored = sum(f["samples"] for f in folds.values())
    # results.json written before the counts were kept has no official_samples: not comparable
    official = sum(f.get("official_samples", 0) for f in folds.values())
    subset = len(folds) < ALL_FOLDS or is_subset(scored, official) or not official
    note = sample_count(scored, official or None)
    if len(folds) < ALL_FOLDS:
        note += f", folds {', '.join(folds)} of {ALL_FOLDS}"
    if subset and "subset" not in note:
        note += ", subset"
    return note, subset


def _report(out: Path, summary: dict[str, Any]) -> None:
    """results.md: WAR / UAR with n scored / n official per dataset and per fold; the published
    5-fold means sit beside ours only when every dataset was scored over all five whole folds."""
    names = [d for d in DFEW_MAFW if any(d in c["datasets"] for c in summary["checkpoints"])]
    columns = [(f"{d}_{m}", f"{TITLES[d]} {m.upper()}") for d in names for m in ("war", "uar")]
    rows: dict[str, dict[str, float | None]] = {}
    notes: dict[str, dict[str, str]] = {}
    any_subset = False
    fold_lines = []
    for checkpoint in summary["checkpoints"]:
        row: dict[str, float | None] = {}
        notes[checkpoint["name"]] = {}
        for d, result in checkpoint["datasets"].items():
            for m in ("war", "uar"):
                row[f"{d}_{m}"] = 100 * result["mean"][m]
            note, subset = fold_counts(result)
            notes[checkpoint["name"]][f"{d}_war"] = note
            any_subset = any_subset or subset
            for fold, scores in result["folds"].items():
                official = scores.get("official_samples")
                fold_lines.append(
                    f"| {markdown_cell(checkpoint['name'])} | {TITLES[d]} | {fold} | "
                    f"{100 * scores['war']:.2f} | {100 * scores['uar']:.2f} | "
                    f"{scores['samples']}/{official if official is not None else '?'} |"
                )
        rows[checkpoint["name"]] = row
    published = {
        f"{model} (published)": {
            f"{d}_{m}": (scores.get(d) or {}).get(m) for d in names for m in ("war", "uar")
        }
        for model, scores in PUBLISHED_CLOSED_SET.items()
    }
    lines = [
        "# DFEW / MAFW closed-set results\n",
        "Mean over the evaluated folds (x100; WAR = accuracy, UAR = mean per-class recall).\n",
        markdown_table(columns, {**rows, **({} if any_subset else published)}, notes=notes),
    ]
    if any_subset:
        lines += [
            "",
            "Scores marked subset rest on fewer folds than five or fewer samples than a fold's "
            "test list (n scored / n official): they are not the benchmark's figures and are not "
            "set beside the published ones, which follow over all five folds.",
            "",
            "## Published (5-fold means)\n",
            markdown_table(columns, published),
        ]
    lines += [
        "",
        "## Per fold\n",
        "| model | dataset | fold | WAR | UAR | n scored / n official |",
        "|---|---|---:|---:|---:|---:|",
        *fold_lines,
        "",
        "Published rows are the papers' 5-fold numbers (— = not reported). Every checkpoint "
        "given is reported; none is selected on the test folds.",
        "",
    ]
    write_markdown(out / "results.md", "\n".join(lines))


def run(args: ClosedSetOptions) -> dict[str, Any]:
    from affect_llm.evaluation.report import confusion_plot

    config = load_config(args.config)
    entries = {k: dict(v) for k, v in (config.get("datasets") or {}).items()}
    unknown = set(entries) - set(DFEW_MAFW)
    if unknown:
        raise ValueError(f"unknown dataset(s) {', '.join(sorted(unknown))}; expected dfew, mafw")
    names = [d for d in DFEW_MAFW if d in (args.datasets or entries)]
    if not names or any(not entries.get(d, {}).get("root") for d in names):
        raise ValueError("give --config with `datasets:` {dfew|mafw: {root: DIR}}")
    from affect_llm.evaluation.predictions import read_predictions

    predictions = {
        dataset: read_predictions(path)
        for dataset, path in named_paths(args.predictions, "--predictions", list(DFEW_MAFW)).items()
    }
    if predictions and args.model:
        raise ValueError("give either --model (generate) or --predictions (scoring-only), not both")
    if not args.model and not predictions:
        raise ValueError(
            "--model is required (or --predictions NAME=FILE to score answers made elsewhere)"
        )
    lacking = [d for d in names if predictions and d not in predictions]
    if lacking:
        raise ValueError(f"no predictions for {', '.join(lacking)}")
    out = Path(args.out)
    gen = generation_config(args, config)
    perception = perception_config(args, config)
    summary: dict[str, Any] = {
        "benchmark": "DFEW/MAFW",
        "mode": "scoring-only" if predictions else "generate",
        "generation": gen.to_dict(),
        "perception": perception.to_dict(),
        "checkpoints": [],
        "published": PUBLISHED_CLOSED_SET,
        "selection": "every checkpoint is reported; none is selected on the test folds",
    }
    runs = (
        [(args.name or "predictions", None)]
        if predictions
        else list(zip(checkpoint_names(args.model), args.model))
    )
    for name, model_path in runs:
        checkpoint = None
        if model_path is not None:
            checkpoint = load_checkpoint(model_path, args, gen, perception)
        datasets = {}
        for d in names:
            folds = args.folds or entries[d].get("folds") or [1, 2, 3, 4, 5]
            results = {
                int(k): evaluate_fold(
                    d,
                    entries[d]["root"],
                    int(k),
                    out / name / d / f"fold{k}",
                    checkpoint,
                    args,
                    predictions.get(d),
                )
                for k in folds
            }
            if d in predictions and all(
                r["missing_predictions"] == r["samples"] for r in results.values()
            ):
                raise InputError(
                    f"{predictions[d].source}: none of its names is a {TITLES[d]} test clip of folds {', '.join(map(str, folds))}"
                )
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


def main(argv: Sequence[str] | None = None, prog: str = "eval/dfew_mafw.py") -> int:
    def scores(checkpoint: dict[str, Any]) -> dict[str, Any]:
        return {
            d: {m: round(100 * v, 2) for m, v in r["mean"].items()}
            for d, r in checkpoint["datasets"].items()
        }

    options = parse_options(ClosedSetOptions, argv, prog, __doc__)
    return run_main(run, options, scores, "results.md, confusion.png per dataset")
