"""Prediction files in and out: our responses.jsonl, AffectGPT's npz and CSV layouts, and the CSVs
that `affect-llm score` reads (so every reported number can be recomputed with that command).

Accepted inputs: JSONL (name, response); CSV with `name` and one of `openset` (label list string),
`sentiment` (positive/negative/neutral or a number), `response` / `reason` (free text); AffectGPT
npz with `name2reason` (inference output: {name: text}) or `filenames` + `fileitems` (its label
extraction output: names and label list strings).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from affect_llm.errors import InputError
from affect_llm.evaluation.answers import answer_sentiment, labels_sentiment
from affect_llm.evaluation.scoring import format_label_list, read_columns, score_files
from affect_llm.files import atomic_write_text
from affect_llm.parsing import extract_labels
from affect_llm.safe_text import csv_cell
from affect_llm.taxonomy import parse_label_list

# "response": free text to read labels from; "openset": a label list; "sentiment": a sentiment.
KINDS = ("response", "openset", "sentiment")


@dataclass(frozen=True)
class Predictions:
    """Predictions of one kind for one dataset: {name: value as found in the file}."""

    kind: str
    values: dict[str, str]
    source: str


def _csv_header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return [h.strip() for h in next(csv.reader(handle), [])]


def _unique(path: Path, names: Sequence[str], where: str) -> None:
    seen: set[str] = set()
    repeated = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if repeated:
        raise InputError(
            f"{path}: {len(repeated)} name(s) appear twice in {where}: {', '.join(repeated[:5])}"
        )


def read_jsonl_responses(path: Path) -> dict[str, str]:
    """{name: response} of a JSONL file of {"name", "response"} objects; bad lines are errors."""
    values: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read ({error})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(
                f"{path}: line {number}: invalid JSON ({error.msg} at column {error.colno})"
            ) from None
        except RecursionError:
            raise InputError(
                f"{path}: line {number}: JSON nested too deeply to read (thousands of levels)"
            ) from None
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            raise InputError(f"{path}: line {number}: expected an object with a string 'name'")
        if row["name"] in values:
            raise InputError(f"{path}: line {number}: name '{row['name']}' appears a second time")
        values[row["name"]] = row.get("response") or ""
    if not values:
        raise InputError(f"{path}: no predictions")
    return values


def read_predictions(path: str | os.PathLike) -> Predictions:
    """Read a prediction file in any accepted layout; raises InputError naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: prediction file not found")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return Predictions("response", read_jsonl_responses(path), str(path))
    if suffix == ".npz":
        from affect_llm.npz import load_npz

        data = load_npz(path)
        if "name2reason" in data:
            mapping = data["name2reason"]
            if not isinstance(mapping, dict):
                raise InputError(f"{path}: name2reason is not a {{name: text}} dict")
            return Predictions("response", {str(k): str(v) for k, v in mapping.items()}, str(path))
        if {"filenames", "fileitems"} <= set(data):
            names = [str(n) for n in list(data["filenames"])]
            items = list(data["fileitems"])
            if len(names) != len(items):
                raise InputError(f"{path}: {len(names)} filenames but {len(items)} fileitems")
            _unique(path, names, "filenames")
            values = {n: _list_string(v) for n, v in zip(names, items)}
            # AffectGPT writes label lists here after extraction, but its "update" npz holds
            # free-text reasons under the same keys: read those through the extractor.
            kind = "openset" if all(_is_label_list(v) for v in values.values()) else "response"
            return Predictions(kind, values, str(path))
        raise InputError(
            f"{path}: npz has neither name2reason nor filenames/fileitems ({', '.join(data)})"
        )
    header = _csv_header(path)
    for column, kind in (
        ("openset", "openset"),
        ("sentiment", "sentiment"),
        ("response", "response"),
        ("reason", "response"),
    ):
        if column in header:
            rows = read_columns(path, [column], multiline=kind == "response")
            return Predictions(kind, {n: r[column] for n, r in rows.items()}, str(path))
    raise InputError(
        f"{path}: needs a name column and one of openset, sentiment, response, reason (found: {', '.join(header)})"
    )


def align_names(
    predictions: Predictions, names: Sequence[str], aliases: Callable[[str], Sequence[str]]
) -> tuple[Predictions, list[str]]:
    """Predictions keyed by the dataset's names, accepting each name's aliases (AffectGPT's names,
    the release's); also the prediction names that match no item. Two predictions for one item
    (e.g. `dia0_utt0` and `test_dia0_utt0`) are an InputError."""
    owner: dict[str, str] = {}
    for name in names:
        for alias in (name, *aliases(name)):
            owner.setdefault(alias, name)
    values: dict[str, str] = {}
    found_as: dict[str, str] = {}
    unmatched = []
    for given, value in predictions.values.items():
        name = given if given in names and given in owner else owner.get(given)
        if name is None:
            unmatched.append(given)
            continue
        if name in values:
            raise InputError(
                f"{predictions.source}: '{found_as[name]}' and '{given}' are both predictions for '{name}'"
            )
        values[name], found_as[name] = value, given
    return Predictions(predictions.kind, values, predictions.source), unmatched


def _is_label_list(text: str) -> bool:
    """A label list string ("['a', 'b']", "a, b"), not a sentence of free text."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return True
    return not any(mark in text for mark in ".!?;:") and all(
        len(part.split()) <= 3 for part in text.split(",")
    )


def _list_string(value: object) -> str:
    if isinstance(value, str):
        return value
    if hasattr(value, "tolist"):
        value = value.tolist()  # type: ignore[union-attr]
    if isinstance(value, str):
        return value
    return format_label_list([str(v) for v in value])  # type: ignore[union-attr]


LabelExtractor = Callable[[Sequence[str]], list[list[str]]]


def rule_extractor(responses: Sequence[str]) -> list[list[str]]:
    """The deterministic extractor (`affect_llm.parsing.extract_labels`)."""
    return [list(extract_labels(r)) for r in responses]


def to_metric_values(
    predictions: Predictions, metric: str, extractor: LabelExtractor = rule_extractor
) -> dict[str, str]:
    """The prediction column `affect-llm score METRIC` reads: label list strings or sentiments.

    Values already in the right form are passed through unchanged, so scoring them here and with
    `affect-llm score` on the same file gives the same numbers.
    """
    names = list(predictions.values)
    raw = [predictions.values[n] for n in names]
    if metric == "sentiment":
        if predictions.kind == "sentiment":
            return dict(zip(names, raw))
        if predictions.kind == "openset":
            return {n: labels_sentiment(parse_label_list(v)) for n, v in zip(names, raw)}
        return {n: answer_sentiment(v) for n, v in zip(names, raw)}
    if predictions.kind == "openset":
        return dict(zip(names, raw))
    if predictions.kind == "sentiment":
        raise InputError(f"{predictions.source}: a sentiment column cannot be scored with {metric}")
    return {n: format_label_list(labels) for n, labels in zip(names, extractor(raw))}


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    # names and answers come from datasets and models: no cell a spreadsheet would run
    writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()


PRED_COLUMN = {"hitrate": "openset", "ov": "openset", "sentiment": "sentiment"}
GT_COLUMN = {"hitrate": "label", "ov": "openset", "sentiment": "valence"}


def write_prediction_csv(path: str | os.PathLike, metric: str, values: Mapping[str, str]) -> Path:
    """name,openset or name,sentiment: the layout `affect-llm score` and AffectGPT use."""
    rows = [(name, value) for name, value in values.items()]
    return atomic_write_text(path, _csv_text(["name", PRED_COLUMN[metric]], rows))


def write_gt_csv(path: str | os.PathLike, metric: str, gt: Mapping[str, object]) -> Path:
    """name,label / name,valence / name,openset ground truth for `affect-llm score METRIC`."""
    rows = []
    for name, value in gt.items():
        if metric == "ov":
            value = format_label_list(value)  # type: ignore[arg-type]
        elif metric == "sentiment":
            value = repr(float(value))  # type: ignore[arg-type]
        rows.append((name, value))
    return atomic_write_text(path, _csv_text(["name", GT_COLUMN[metric]], rows))


__all__ = ["Predictions", "align_names", "read_predictions", "score_files", "to_metric_values"]
