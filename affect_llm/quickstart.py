"""The quickstart: the README's main job, runnable offline on a fresh CPU machine.

Today it runs the scoring stage on the bundled example files: deterministic label extraction from
free-text model answers, then the MER-UniBench metrics (OV wheel score, hit rate, sentiment).
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

from affect_llm.files import atomic_write_json, atomic_write_text
from affect_llm.metrics import hit_rate, ov_scores, sentiment_scores
from affect_llm.parsing import extract_labels


def example_path(name: str) -> Path:
    """A bundled example file (affect_llm/resources/examples/NAME)."""
    return Path(str(resources.files("affect_llm") / "resources" / "examples" / name))


def _read(name: str, column: str) -> dict[str, str]:
    with open(example_path(name), newline="", encoding="utf-8") as f:
        return {row["name"]: row[column] for row in csv.DictReader(f)}


def _write_predictions(path: Path, predictions: dict[str, tuple[str, ...]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "openset"])
    for name, labels in predictions.items():
        writer.writerow([name, "[" + ", ".join(labels) + "]"])
    atomic_write_text(path, buffer.getvalue())


def scoring_stage(out_dir: str | Path) -> dict:
    """Extract labels from the bundled answers, score them, write predictions and scores.json."""
    out_dir = Path(out_dir)
    ov_pred = {n: extract_labels(r) for n, r in _read("ovmerd_responses.csv", "response").items()}
    mer_pred = {n: extract_labels(r) for n, r in _read("mer2023_responses.csv", "response").items()}
    _write_predictions(out_dir / "ovmerd_pred.csv", ov_pred)
    _write_predictions(out_dir / "mer2023_pred.csv", mer_pred)
    ov = ov_scores(_read("ovmerd_gt.csv", "openset"), ov_pred)
    sentiment = sentiment_scores(
        {n: float(v) for n, v in _read("mosi_gt.csv", "valence").items()},
        _read("mosi_pred.csv", "sentiment"),
    )
    scores = {
        "ovmerd": {
            "level1": ov["level1"].as_dict(),
            "level2": ov["level2"].as_dict(),
            "mean_f1": (ov["level1"].f1 + ov["level2"].f1) / 2,
        },
        "mer2023_hit_rate": hit_rate(_read("mer2023_gt.csv", "label"), mer_pred),
        "mosi": sentiment,
    }
    atomic_write_json(out_dir / "scores.json", scores)
    return scores


def print_scores(scores: dict) -> None:
    """A table a person can read."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="MER-UniBench metrics on the bundled examples")
    table.add_column("dataset")
    table.add_column("metric")
    table.add_column("score", justify="right")
    ov = scores["ovmerd"]
    table.add_row("OV-MERD+ (examples)", "wheel F1, level 1", f"{ov['level1']['f1']:.4f}")
    table.add_row("", "wheel F1, level 2", f"{ov['level2']['f1']:.4f}")
    table.add_row("", "mean of levels 1 and 2", f"{ov['mean_f1']:.4f}")
    table.add_row("MER2023 (examples)", "hit rate", f"{scores['mer2023_hit_rate']:.4f}")
    table.add_row("CMU-MOSI (examples)", "weighted F1", f"{scores['mosi']['weighted_f1']:.4f}")
    table.add_row("", "accuracy", f"{scores['mosi']['accuracy']:.4f}")
    Console().print(table)


def run_quickstart(out_dir: str | Path) -> dict:
    """Run every quickstart stage and write OUT/report.json."""
    out_dir = Path(out_dir)
    scores = scoring_stage(out_dir)
    print_scores(scores)
    report = {"scores": scores}
    atomic_write_json(out_dir / "report.json", report)
    print(f"report written to {out_dir / 'report.json'}")
    return report
