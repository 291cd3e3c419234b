"""Scoring files: the library behind `affect-llm score` (and every runner that reports a number).

A ground-truth CSV and a prediction CSV, both keyed by `name`, are read strictly - a file with only
a header, a name on two rows, a quote that is never closed or a valence that is not a finite number
is an InputError naming the file and line - and scored with the MER-UniBench metrics.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from affect_llm.errors import InputError

# metric -> (ground-truth column, prediction column)
COLUMNS = {
    "ov": ("openset", "openset"),
    "hitrate": ("label", "openset"),
    "sentiment": ("valence", "sentiment"),
}
METRICS = tuple(COLUMNS)


def format_label_list(labels: Sequence[str]) -> str:
    """Labels as AffectGPT writes them in its CSVs: "[a, b, c]"."""
    return "[" + ", ".join(labels) + "]"


def read_columns(
    path: str | os.PathLike, columns: Sequence[str], multiline: bool = False
) -> dict[str, dict[str, str]]:
    """A CSV keyed by its `name` column: {name: {column: value}}.

    Raises InputError for: a missing file or column, no data rows, a name on two rows, and a
    quoted field running over a line end (an unclosed quote) unless `multiline` allows it.
    """
    path = Path(path)
    rows: dict[str, dict[str, str]] = {}
    first_line: dict[str, int] = {}
    duplicates: list[str] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, strict=True)
            header = next(reader, None)
            if header is None:
                raise InputError(
                    f"{path}: empty file (expected a header with name, {', '.join(columns)})"
                )
            header = [h.strip() for h in header]
            for column in ("name", *columns):
                if column not in header:
                    raise InputError(
                        f"{path}: missing column '{column}' (found: {', '.join(header)})"
                    )
            index = {c: header.index(c) for c in ("name", *columns)}
            start = reader.line_num + 1
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as error:
                    raise InputError(
                        f"{path}: line {start}: {error} (a quote that is never closed?)"
                    ) from None
                line, start = start, reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue
                if not multiline and line != reader.line_num:
                    raise InputError(
                        f"{path}: line {line}: a quoted field runs over {reader.line_num - line + 1} lines (a quote that is never closed?)"
                    )
                if len(row) < len(header):
                    row = row + [""] * (len(header) - len(row))
                name = row[index["name"]].strip()
                if name in rows:
                    duplicates.append(f"'{name}' (lines {first_line[name]} and {line})")
                    continue
                first_line[name] = line
                rows[name] = {c: row[index[c]] for c in columns}
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read CSV ({error})") from None
    if duplicates:
        shown = ", ".join(duplicates[:5]) + (" ..." if len(duplicates) > 5 else "")
        raise InputError(f"{path}: {len(duplicates)} duplicate name(s): {shown}")
    if not rows:
        raise InputError(f"{path}: has a header but no rows")
    return rows


def _finite(path: str | os.PathLike, column: str, name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InputError(
            f"{path}: column '{column}' has a non-numeric value {value!r} for '{name}'"
        ) from None
    if not math.isfinite(number):
        raise InputError(
            f"{path}: column '{column}' has {value!r} for '{name}'; expected a finite number"
        )
    return number


@dataclass
class Scored:
    """Scores of one metric, and the ground-truth names that had no prediction (scored empty)."""

    scores: dict
    missing: list[str] = field(default_factory=list)
    pred_path: str = ""

    def warning(self) -> str | None:
        if not self.missing:
            return None
        shown = ", ".join(self.missing[:10]) + (" ..." if len(self.missing) > 10 else "")
        return f"warning: {len(self.missing)} of {self.scores.get('samples', '?')} samples have no prediction in {self.pred_path} (scored as empty): {shown}"


def score_files(metric: str, gt_path: str | os.PathLike, pred_path: str | os.PathLike) -> Scored:
    """Score PRED against GT with one MER-UniBench metric (`ov`, `hitrate` or `sentiment`)."""
    from affect_llm.metrics import hit_rate, ov_scores, sentiment_scores

    if metric not in COLUMNS:
        raise InputError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    gt_column, pred_column = COLUMNS[metric]
    gt = {n: r[gt_column] for n, r in read_columns(gt_path, [gt_column]).items()}
    pred_all = {n: r[pred_column] for n, r in read_columns(pred_path, [pred_column]).items()}
    pred = {name: pred_all[name] for name in gt if name in pred_all}
    missing = [name for name in gt if name not in pred_all]
    if metric == "ov":
        levels = ov_scores(gt, pred)
        result: dict = {level: prf.as_dict() for level, prf in levels.items()}
        result["mean_f1"] = (levels["level1"].f1 + levels["level2"].f1) / 2
        result["samples"] = len(gt)
    elif metric == "hitrate":
        result = {"hit_rate": hit_rate(gt, pred), "samples": len(gt)}
    else:
        valence = {n: _finite(gt_path, "valence", n, v) for n, v in gt.items()}
        for name, value in pred.items():
            try:
                number = float(value)
            except ValueError:
                continue
            if not math.isfinite(number):
                raise InputError(
                    f"{pred_path}: column 'sentiment' has {value!r} for '{name}'; expected a sentiment word or a finite number"
                )
        result = sentiment_scores(valence, pred)
    return Scored(result, missing, os.fspath(pred_path))
