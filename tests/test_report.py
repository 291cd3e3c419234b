"""Evaluation reports a person reads: legend beside the bars, readable counts, no rows lost."""

from __future__ import annotations

import json

import pytest

from affect_llm.evaluation import report

pytest.importorskip("matplotlib")


def test_bar_chart_legend_sits_beside_the_bars(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(report, "_save", lambda fig, path: figures.append(fig) or path)
    rows = {"ours": {"a": 95.0, "b": 97.0}, "Emotion-LLaMA (published)": {"a": 99.0, "b": 98.0}}
    report.bar_chart(tmp_path / "r.png", [("a", "A"), ("b", "B")], rows, "t")
    figure = figures[0]
    figure.canvas.draw()
    axes = figure.axes[0]
    legend = axes.get_legend().get_window_extent()
    assert legend.x0 >= axes.get_window_extent().x1  # right of the plotting area
    for bar in axes.patches:
        assert not legend.overlaps(bar.get_window_extent())


def test_confusion_counts_are_white_on_dark_cells(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(report, "_save", lambda fig, path: figures.append(fig) or path)
    report.confusion_plot(tmp_path / "c.png", [[9, 1], [0, 0]], ["happy", "sad"], "t")
    colours = {text.get_text(): text.get_color() for text in figures[0].axes[0].texts}
    assert colours["9"] == "white"  # 90% of its row: a dark cell
    assert colours["1"] == "black"


def test_a_rerun_with_other_checkpoints_keeps_the_earlier_rows(tmp_path):
    earlier = {
        "checkpoints": [{"name": "step-100", "mean": 0.5}, {"name": "step-200", "mean": 0.6}]
    }
    (tmp_path / "results.json").write_text(json.dumps(earlier))
    summary = {
        "checkpoints": [{"name": "step-200", "mean": 0.7}, {"name": "step-300", "mean": 0.8}]
    }
    merged = report.keep_earlier_checkpoints(tmp_path, summary)
    assert [(c["name"], c["mean"]) for c in merged["checkpoints"]] == [
        ("step-100", 0.5),
        ("step-200", 0.7),  # evaluated again: the new row replaces the old
        ("step-300", 0.8),
    ]
    assert report.keep_earlier_checkpoints(tmp_path / "empty", {"checkpoints": []}) == {
        "checkpoints": []
    }
