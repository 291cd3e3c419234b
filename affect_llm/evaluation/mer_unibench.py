"""MER-UniBench: answer each dataset's question, extract labels, score, and report beside the papers.

For every model directory given (checkpoints), and any subset of the nine datasets: generate answers
(resumable), read labels with the deterministic extractor (or a local LLM), score each dataset with
exactly the code of `affect-llm score`, then write results.json, results.md and results.png. With
--predictions, answers made elsewhere (AffectGPT's npz / CSV layouts included) are scored instead.
Every checkpoint is reported; one is selected only on a validation split, never on the test sets.
"""

from __future__ import annotations

import sys
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
from affect_llm.evaluation.options import MerUniBenchOptions
from affect_llm.evaluation.registry import (
    MER_UNIBENCH,
    METRIC_TITLES,
    PUBLISHED_MER_UNIBENCH,
    score_of,
)
from affect_llm.evaluation.report import keep_earlier_checkpoints
from affect_llm.files import atomic_write_json
from affect_llm.options import parse_options

SELECTION_NOTE_NONE = (
    "no validation split given: every checkpoint is reported and none is selected "
    "(a checkpoint is never picked on the test sets)"
)


def dataset_listing() -> str:
    """One line per dataset for --help: name, title, metric, test size."""
    return "\n".join(
        f"  {spec.name:<8} {spec.title} ({spec.test_size} samples; {METRIC_TITLES[spec.metric]})"
        for spec in MER_UNIBENCH.values()
    )


EPILOG = (
    "datasets (YAML `datasets:` keys, --datasets names):\n"
    + dataset_listing()
    + "\n\nMetrics are those of `affect-llm score`; scores are x100 in the table."
)


def _extractor(args: MerUniBenchOptions, config: dict[str, Any], device: str):
    from affect_llm.evaluation.predictions import rule_extractor

    settings = dict(config.get("extractor") or {})
    kind = args.extractor or settings.get("kind", "rule")
    model = args.extractor_model or settings.get("model")
    if kind == "rule":
        return rule_extractor, {"kind": "rule"}
    if not model:
        raise ValueError("--extractor llm needs --extractor-model DIR (a local causal LM)")
    from affect_llm.evaluation.local_llm import LocalLLM

    llm = LocalLLM(
        model,
        device=device,
        max_new_tokens=int(settings.get("max_new_tokens", 64)),
        trust_remote_code=args.trust_remote_code,
    )
    return llm.extract_labels, {"kind": "llm", "model": model, "decoding": "greedy"}


def evaluate_dataset(
    name: str,
    entry: dict[str, Any],
    out_dir: Path,
    args: MerUniBenchOptions,
    extractor,
    checkpoint: Checkpoint | None = None,
    predictions_file: str | None = None,
) -> dict[str, Any]:
    """Answers (generated, or read from `predictions_file`), labels and scores of one dataset."""
    from affect_llm.data.datasets import describe_layout, prediction_aliases
    from affect_llm.evaluation.loading import ground_truth, load_items
    from affect_llm.evaluation.predictions import (
        Predictions,
        align_names,
        read_predictions,
        score_files,
        to_metric_values,
        write_gt_csv,
        write_prediction_csv,
    )

    spec = MER_UNIBENCH[name]
    items = load_items(spec.reader, entry["root"], split=entry.get("split", spec.split))
    layout = describe_layout(spec.reader, entry["root"])
    items = select_items(items, args.limit)
    gt = ground_truth(items, spec.metric)
    items = [item for item in items if item.id in gt]  # rows without a usable label: not asked
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    unmatched: list[str] = []
    if predictions_file:
        predictions, unmatched = align_names(
            read_predictions(predictions_file),
            list(gt),
            lambda n: prediction_aliases(spec.reader, n),
        )
        if gt and not predictions.values:
            raise InputError(
                f"{predictions_file}: none of its names is a {spec.title} name (e.g. '{unmatched[0] if unmatched else ''}'; expected names like '{next(iter(gt))}')"
            )
    else:
        responses = out_dir / "responses.jsonl"
        rows = checkpoint.answer(items, responses, spec.task)  # type: ignore[union-attr]
        failed = sum(1 for row in rows.values() if row.get("error"))
        predictions = Predictions(
            "response", {n: r.get("response") or "" for n, r in rows.items()}, str(responses)
        )
    values = to_metric_values(predictions, spec.metric, extractor)
    values = {n: v for n, v in values.items() if n in gt}
    gt_path = write_gt_csv(out_dir / "gt.csv", spec.metric, gt)
    pred_path = write_prediction_csv(out_dir / "predictions.csv", spec.metric, values)
    scores = score_files(spec.metric, gt_path, pred_path).scores
    result = {
        "title": spec.title,
        "metric": spec.metric,
        "score": score_of(spec.metric, scores),
        "scores": scores,
        "samples": len(gt),
        "missing_predictions": sum(1 for n in gt if n not in values),
        "unmatched_predictions": len(unmatched),
        "layout": layout,
        "failed_samples": failed,
        "predictions_from": predictions.source,
        "files": {"gt": str(gt_path), "predictions": str(pred_path)},
        "rescore": f"affect-llm score {spec.metric} --gt {gt_path} --pred {pred_path}",
    }
    atomic_write_json(out_dir / "scores.json", result)
    return result


def _mean(results: dict[str, dict[str, Any]]) -> float | None:
    scores = [r["score"] for r in results.values()]
    return sum(scores) / len(scores) if scores else None


def _report(out: Path, summary: dict[str, Any]) -> None:
    """results.md and results.png: every score with its n scored / n in the official split; a
    subset is marked and never set beside a published (full test set) figure, and a published
    mean (over all nine) only beside ours over all nine."""
    from affect_llm.evaluation.report import (
        bar_chart,
        is_subset,
        markdown_table,
        sample_count,
        write_markdown,
    )

    names = [n for n in MER_UNIBENCH if any(n in c["datasets"] for c in summary["checkpoints"])]
    columns = [(n, MER_UNIBENCH[n].title) for n in names]
    if len(names) > 1:
        columns.append(("mean", f"mean of {len(names)}"))
    rows: dict[str, dict[str, float | None]] = {}
    notes: dict[str, dict[str, str]] = {}
    subsets: dict[str, set[str]] = {}
    for checkpoint in summary["checkpoints"]:
        label = checkpoint["name"] + (
            " (selected)" if summary["selected"] == checkpoint["name"] else ""
        )
        rows[label] = {n: 100 * r["score"] for n, r in checkpoint["datasets"].items()}
        if len(names) > 1:  # a mean of one dataset is that dataset's score again
            mean = checkpoint["mean"]
            rows[label]["mean"] = None if mean is None else 100 * mean
        counts = {
            n: (r["samples"], MER_UNIBENCH[n].test_size) for n, r in checkpoint["datasets"].items()
        }
        notes[label] = {n: sample_count(*count) for n, count in counts.items()}
        subsets[label] = {n for n, count in counts.items() if is_subset(*count)}
        if subsets[label] and "mean" in rows[label]:
            subsets[label].add("mean")
            notes[label]["mean"] = "over a subset"
    any_subset = any(subsets.values())
    complete = len(names) == len(MER_UNIBENCH) and not any_subset
    published = {
        f"{model} (published)": dict(scores) for model, scores in PUBLISHED_MER_UNIBENCH.items()
    }
    published_notes = {
        model: {n: sample_count(spec.test_size, spec.test_size) for n, spec in MER_UNIBENCH.items()}
        | {"mean": "all nine"}
        for model in published
    }
    beside = {  # full official splits only; the published mean only beside ours over all nine
        model: {k: v for k, v in scores.items() if k != "mean" or complete}
        for model, scores in published.items()
    }
    table = markdown_table(
        columns, {**rows, **({} if any_subset else beside)}, notes=notes | published_notes
    )
    lines = ["# MER-UniBench results\n", table, ""]
    if any_subset:
        lines += [
            "Scores marked subset rest on fewer samples than the official split (n scored / n "
            "official): they are not the benchmark's figures and are not compared with the "
            "published ones, which follow over the official test sets.",
            "",
            "## Published (official test sets)\n",
            markdown_table(
                [(n, spec.title) for n, spec in MER_UNIBENCH.items()] + [("mean", "mean of 9")],
                published,
                notes=published_notes,
            ),
            "",
        ]
    lines += [
        "Scores x100. Metrics: "
        + "; ".join(
            f"{MER_UNIBENCH[n].title}: {METRIC_TITLES[MER_UNIBENCH[n].metric]}" for n in names
        )
        + ". Hit rate: see docs/evaluation.md (averaged over the five wheels, neutral ground truth skipped).",
        f"Labels extracted by: {summary['extractor']['kind']}; decoding: "
        + ("greedy" if not summary["generation"].get("do_sample") else "sampling")
        + f"; seed {summary['generation'].get('seed')}.",
        "Published rows are the papers' numbers (— = not reported); their mean is over all nine datasets"
        + (
            "."
            if complete
            else f", ours over the {len(names)} evaluated here, so the means are not comparable."
        ),
        f"Checkpoint selection: {summary['selection']}",
        "",
    ]
    write_markdown(out / "results.md", "\n".join(lines))
    # the chart: n under each dataset; published bars only beside full official splits, and
    # the published mean only beside ours over all nine
    first = summary["checkpoints"][0]["datasets"] if summary["checkpoints"] else {}
    chart_columns = [
        (
            n,
            f"{title}\n{sample_count(first[n]['samples'], MER_UNIBENCH[n].test_size)}"
            if n in first
            else title,
        )
        for n, title in columns
    ]
    chart_rows = dict(rows)
    for model, scores in published.items():
        chart_rows[model] = {
            k: v
            for k, v in scores.items()
            if k in dict(columns)
            and not any(k in subset for subset in subsets.values())
            and (k != "mean" or complete)
        }
    title = "MER-UniBench" + (" (hatched: subset, not the benchmark)" if any_subset else "")
    bar_chart(out / "results.png", chart_columns, chart_rows, title, hatched=subsets)


def run(args: MerUniBenchOptions) -> dict[str, Any]:
    """Evaluate (or score) and write the reports; returns the results.json content."""
    config = load_config(args.config)
    entries: dict[str, dict[str, Any]] = {
        k: dict(v) for k, v in (config.get("datasets") or {}).items()
    }
    for name in entries:
        if name not in MER_UNIBENCH:
            raise ValueError(
                f"unknown dataset {name!r} in the config; known: {', '.join(MER_UNIBENCH)}"
            )
    for name, root in named_paths(args.data, "--data", list(MER_UNIBENCH)).items():
        entries.setdefault(name, {})["root"] = root
    predictions = {n: e["predictions"] for n, e in entries.items() if e.get("predictions")}
    predictions.update(named_paths(args.predictions, "--predictions", list(MER_UNIBENCH)))
    names = [n for n in MER_UNIBENCH if n in (args.datasets or entries)]
    if not names:
        raise ValueError(
            "no datasets to evaluate: give --config with `datasets:`, or --data NAME=DIR"
        )
    missing_root = [n for n in names if not entries.get(n, {}).get("root")]
    if missing_root:
        raise ValueError(
            f"no dataset folder for {', '.join(missing_root)} (config `root:` or --data)"
        )
    scoring_only = bool(args.predictions) or not args.model
    if scoring_only:
        if args.model:
            raise ValueError(
                "give either --model (generate) or --predictions (scoring-only), not both"
            )
        lacking = [n for n in names if n not in predictions]
        if lacking:
            raise ValueError(f"no --model given and no predictions for {', '.join(lacking)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gen = generation_config(args, config)
    perception = perception_config(args, config)
    extractor, extractor_info = _extractor(args, config, args.device)
    validation = {k: dict(v) for k, v in (config.get("validation") or {}).items()}
    summary: dict[str, Any] = {
        "benchmark": "MER-UniBench",
        "mode": "scoring-only" if scoring_only else "generate",
        "generation": gen.to_dict(),
        "perception": perception.to_dict(),
        "extractor": extractor_info,
        "checkpoints": [],
        "published": PUBLISHED_MER_UNIBENCH,
    }
    if scoring_only:
        name = args.name or "predictions"
        results = {
            n: evaluate_dataset(
                n, entries[n], out / name / n, args, extractor, predictions_file=predictions[n]
            )
            for n in names
        }
        summary["checkpoints"].append(
            {"name": name, "model": None, "datasets": results, "mean": _mean(results)}
        )
    else:
        for name, model_path in zip(checkpoint_names(args.model), args.model):
            loaded = load_checkpoint(model_path, args, gen, perception)
            results = {
                n: evaluate_dataset(n, entries[n], out / name / n, args, extractor, loaded)
                for n in names
            }
            checkpoint = {
                "name": name,
                "model": model_path,
                "datasets": results,
                "mean": _mean(results),
            }
            if validation:
                val = {
                    n: evaluate_dataset(
                        n, e, out / name / "validation" / n, args, extractor, loaded
                    )
                    for n, e in validation.items()
                }
                checkpoint["validation"] = {"datasets": val, "mean": _mean(val)}
            summary["checkpoints"].append(checkpoint)
    summary["selected"] = None
    summary["selection"] = SELECTION_NOTE_NONE
    if validation and not scoring_only:
        best = max(summary["checkpoints"], key=lambda c: c["validation"]["mean"] or 0.0)
        summary["selected"] = best["name"]
        summary["selection"] = (
            f"selected {best['name']} by the mean score on the validation split "
            f"({', '.join(validation)}); test scores played no part"
        )
    keep_earlier_checkpoints(out, summary)  # a rerun with other checkpoints adds rows
    atomic_write_json(out / "results.json", summary)
    _report(out, summary)
    layouts = {r["layout"] for c in summary["checkpoints"] for r in c["datasets"].values()}
    for layout in sorted(layouts):  # which layout each dataset was read from
        print(f"read {layout}", file=sys.stderr)
    return summary


def main(argv: Sequence[str] | None = None, prog: str = "eval/mer_unibench.py") -> int:
    def scores(checkpoint: dict[str, Any]) -> dict[str, Any]:
        return {n: round(100 * r["score"], 2) for n, r in checkpoint["datasets"].items()}

    options = parse_options(MerUniBenchOptions, argv, prog, __doc__, EPILOG)
    return run_main(run, options, scores, "results.md, results.png")
