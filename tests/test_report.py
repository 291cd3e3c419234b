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


def _summary(samples: int) -> dict:
    """What the MER-UniBench runner passes to its report: one checkpoint on MER2023 test1."""
    return {
        "checkpoints": [
            {
                "name": "tiny",
                "mean": 1 / 3,
                "datasets": {"mer2023": {"score": 1 / 3, "samples": samples}},
            }
        ],
        "selected": None,
        "extractor": {"kind": "rule"},
        "generation": {"do_sample": False, "seed": 0},
        "selection": "none",
    }


def test_a_subset_is_labelled_and_never_set_beside_a_published_figure(tmp_path, monkeypatch):
    """4 clips of MER2023 test1 were reported as "MER2023 test1 | 33.33" beside AffectGPT's 78.54
    on all 411: the score now says n 4/411, subset, the published rows go to their own table, and
    the chart has no published bar (nor a published mean) beside it."""
    from affect_llm.evaluation import mer_unibench

    charts = []
    monkeypatch.setattr(report, "bar_chart", lambda *args, **kwargs: charts.append((args, kwargs)))
    mer_unibench._report(tmp_path, _summary(4))
    text = (tmp_path / "results.md").read_text()
    ours, published = text.split("## Published (official test sets)")
    assert "| tiny | 33.33 (n 4/411, subset) |" in ours
    assert "(published)" not in ours and "78.54" not in ours
    assert "| AffectGPT (A,V,T) (published) | 78.54 (n 411/411) |" in published
    (_, columns, rows, title), kwargs = charts[0]
    assert columns == [("mer2023", "MER2023 test1\nn 4/411, subset")]  # no mean of one dataset
    assert rows["tiny"] == {"mer2023": pytest.approx(100 / 3)}
    assert all(not scores for name, scores in rows.items() if "published" in name)
    assert kwargs["hatched"] == {"tiny": {"mer2023"}} and "subset" in title


def test_a_full_split_is_compared_with_the_published_figure_but_not_its_mean(tmp_path, monkeypatch):
    from affect_llm.evaluation import mer_unibench

    charts = []
    monkeypatch.setattr(report, "bar_chart", lambda *args, **kwargs: charts.append((args, kwargs)))
    mer_unibench._report(tmp_path, _summary(411))
    text = (tmp_path / "results.md").read_text()
    assert "| tiny | 33.33 (n 411/411) |" in text and "subset" not in text
    assert "| AffectGPT (A,V,T) (published) | 78.54 (n 411/411) |" in text
    rows = charts[0][0][2]
    assert rows["AffectGPT (A,V,T) (published)"] == {"mer2023": 78.54}  # no mean of nine
