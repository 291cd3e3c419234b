"""Reports: markdown tables with the published rows beside ours, bar charts and confusion matrices.

Plots use matplotlib's Agg backend (no display needed) and are written atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from affect_llm.files import atomic_path, atomic_write_text
from affect_llm.safe_text import markdown_cell


def _cell(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def sample_count(scored: int, official: int | None) -> str:
    """What a score rests on: 'n 411/411', or 'n 4/411, subset' when fewer than the official
    split's samples were scored (then it is not the benchmark's figure)."""
    if official is None:
        return f"n {scored}"
    return f"n {scored}/{official}" + (", subset" if scored < official else "")


def is_subset(scored: int, official: int | None) -> bool:
    return official is not None and scored < official


def markdown_table(
    columns: Sequence[tuple[str, str]],
    rows: Mapping[str, Mapping[str, float | None]],
    first_header: str = "model",
    notes: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """A markdown table: one row per model, `columns` = [(key, header)], missing cells as —;
    `notes[model][key]` follows a score in brackets (its sample count)."""
    header = f"| {first_header} | " + " | ".join(markdown_cell(h) for _, h in columns) + " |"
    rule = "|---|" + "---:|" * len(columns)
    lines = [header, rule]
    for model, scores in rows.items():
        cells = []
        for key, _ in columns:
            note = (notes or {}).get(model, {}).get(key)
            value = scores.get(key)
            cells.append(_cell(value) + (f" ({note})" if note and value is not None else ""))
        # checkpoint names are foreign text
        lines.append(f"| {markdown_cell(model)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | os.PathLike) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix[1:] or "png", dpi=120, bbox_inches="tight")
    return Path(path)


def bar_chart(
    path: str | os.PathLike,
    columns: Sequence[tuple[str, str]],
    rows: Mapping[str, Mapping[str, float | None]],
    title: str,
    ylabel: str = "score (x100)",
    hatched: Mapping[str, set[str]] | None = None,
) -> Path:
    """Grouped bars: one group per column, one bar per model; missing values are left out;
    the bars of `hatched[model]` columns are hatched (scores on a subset)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(columns) + 2), 4.0))
    width = 0.8 / max(1, len(rows))
    for index, (model, scores) in enumerate(rows.items()):
        xs = [
            i + index * width for i, (key, _) in enumerate(columns) if scores.get(key) is not None
        ]
        keys = [key for key, _ in columns if scores.get(key) is not None]
        bars = ax.bar(xs, [scores[key] for key in keys], width=width, label=model)
        for bar, key in zip(bars, keys):
            if key in (hatched or {}).get(model, ()):
                bar.set_hatch("//")
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(columns))])
    ax.set_xticklabels([h for _, h in columns], rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 100)
    ax.set_title(title)
    # beside the axes, not over the bars (bbox_inches="tight" keeps it in the picture)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)


def confusion_plot(
    path: str | os.PathLike, counts: Sequence[Sequence[int]], classes: Sequence[str], title: str
) -> Path:
    """A row-normalised confusion matrix with the raw counts written in each cell."""
    import numpy as np

    plt = _pyplot()
    matrix = np.asarray(counts, dtype=float)
    totals = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
    size = 1.0 + 0.55 * len(classes)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(normalised, vmin=0, vmax=1, cmap="Blues")
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels(classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)))
    ax.set_yticklabels(classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("ground truth")
    for i in range(len(classes)):
        for j in range(len(classes)):
            # white on the dark half of the colour map, black on the light half
            colour = "white" if normalised[i, j] > 0.5 else "black"
            ax.text(
                j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=8, color=colour
            )
    fig.colorbar(image, ax=ax, fraction=0.046, label="recall")
    ax.set_title(title)
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)


def write_markdown(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_text(path, text)


def keep_earlier_checkpoints(out: str | os.PathLike, summary: dict[str, Any]) -> dict[str, Any]:
    """Add the checkpoints an earlier run wrote to OUT/results.json that this run did not evaluate.

    A runner run again with other checkpoints into the same folder adds rows to its report and
    never drops earlier ones; a checkpoint evaluated again replaces its earlier row.
    """
    path = Path(out) / "results.json"
    if not path.is_file():
        return summary
    try:
        earlier = json.loads(path.read_text(encoding="utf-8")).get("checkpoints") or []
    except (OSError, ValueError, AttributeError):
        return summary  # not a results file this runner wrote: leave it to be replaced
    names = {checkpoint["name"] for checkpoint in summary["checkpoints"]}
    kept = [c for c in earlier if isinstance(c, dict) and c.get("name") not in names]
    summary["checkpoints"] = kept + summary["checkpoints"]
    return summary
