"""DFEW/MAFW closed-set runner and EMER reasoning runner on the mini datasets with the tiny model."""

from __future__ import annotations

import csv
import json

import pytest
from eval_fixtures import EVAL, FAST, MINI

from affect_llm.data.datasets import emer_items
from affect_llm.evaluation.emer import cues_in, parse_judge, proxy_scores
from affect_llm.metrics import war_uar


@pytest.mark.slow
def test_dfew_mafw_per_fold_and_mean_with_confusion_plot(tmp_path):
    from affect_llm.evaluation.closed_set import main

    out = tmp_path / "out"
    assert main(["--config", str(EVAL / "dfew_mafw.yaml"), "--out", str(out), *FAST]) == 0
    results = json.loads((out / "results.json").read_text())
    (checkpoint,) = results["checkpoints"]
    assert set(checkpoint["datasets"]) == {"dfew", "mafw"}
    for dataset, n_classes in (("dfew", 7), ("mafw", 11)):
        result = checkpoint["datasets"][dataset]
        assert len(result["classes"]) == n_classes and set(result["folds"]) == {"1", "2"}
        for fold, scores in result["folds"].items():
            with open(out / "tiny" / dataset / f"fold{fold}" / "predictions.csv") as handle:
                rows = list(csv.DictReader(handle))
            assert len(rows) == scores["samples"] == 3
            recomputed = war_uar([r["label"] for r in rows], [r["prediction"] for r in rows])
            assert recomputed["war"] == scores["war"] and recomputed["uar"] == scores["uar"]
            assert all(r["prediction"] in [*result["classes"], "none"] for r in rows)
        for metric in ("war", "uar"):
            folds = [s[metric] for s in result["folds"].values()]
            assert result["mean"][metric] == pytest.approx(sum(folds) / len(folds))
        assert sum(map(sum, result["confusion"])) == 6
        assert (out / "tiny" / dataset / "confusion.png").stat().st_size > 1000
    table = (out / "results.md").read_text()
    assert "| R1-Omni (published) | 65.83 | 56.27 | 57.68 | 40.04 |" in table
    assert "| Emotion-LLaMA (published) | 59.37 | 45.59 | — | — |" in table
    assert "| tiny | DFEW | 2 |" in table


def test_mafw_labels_keep_the_eleven_class_names():
    from affect_llm.evaluation.loading import load_items

    items = load_items("mafw", MINI / "mafw", fold=1)
    assert [i.label for i in items] == ["happiness", "anger", "disappointment"]
    assert all(i.video for i in items)


def test_judge_output_parsing():
    assert parse_judge("Clue overlap: 7\nLabel overlap: 8.5") == {
        "clue_overlap": 7.0,
        "label_overlap": 8.5,
    }
    assert parse_judge("clue overlap - 11, label overlap: 0") == {
        "clue_overlap": None,
        "label_overlap": None,
    }
    assert parse_judge("no idea") == {"clue_overlap": None, "label_overlap": None}


def test_proxy_scores_labels_and_cues():
    items = emer_items(MINI / "emer")
    references = {i.id: i.reason for i in items}
    labels = {i.id: i.openset for i in items}
    assert len(items) == 3 and all(i.video for i in items)
    assert labels["sample_00000213"] == ["happy", "excited"]
    assert cues_in(references["sample_00000213"]) == {
        "au": {"AU06", "AU12"},
        "visual": {"smile"},
        "audio": {"high pitch", "fast"},
    }
    same = {
        n: f"<think>{references[n]}</think><answer>{', '.join(labels[n])}</answer>"
        for n in references
    }
    perfect = proxy_scores(references, labels, same)
    assert perfect["label_wheel_f1"] == pytest.approx(1.0)
    assert perfect["cue_f1"] == {"au": 1.0, "visual": 1.0, "audio": 1.0}
    answers = {
        "sample_00000213": "<think>She smiles (AU12).</think><answer>happy</answer>",
        "sample_00000270": "<think>Nothing to see.</think><answer>angry</answer>",
    }
    partial = proxy_scores(references, labels, answers)
    assert 0 < partial["label_wheel_f1"] < 1
    assert partial["cue_f1"]["au"] == pytest.approx((2 / 3 + 0 + 0) / 3)
    assert partial["cue_f1"]["visual"] == pytest.approx((1 + 0 + 0) / 3)


@pytest.mark.slow
def test_emer_runner_with_a_local_judge_and_the_proxy(tmp_path, tiny_llm_dir):
    from affect_llm.evaluation.emer import main

    out = tmp_path / "out"
    args = ["--config", str(EVAL / "emer.yaml"), "--out", str(out), *FAST]
    assert main([*args, "--judge-model", str(tiny_llm_dir)]) == 0
    results = json.loads((out / "results.json").read_text())
    result = results["checkpoints"][0]["emer"]
    assert result["proxy"]["samples"] == 3
    assert result["judge"]["samples"] == 3 and "Clue overlap" in result["judge"]["prompt"]
    verdicts = [
        json.loads(line)
        for line in (out / "tiny" / "emer" / "judge.jsonl").read_text().splitlines()
    ]
    assert [v["name"] for v in verdicts] == [
        "sample_00000213",
        "sample_00000270",
        "sample_00000331",
    ]
    assert all("judge_output" in v for v in verdicts)
    table = (out / "results.md").read_text()
    assert "| Emotion-LLaMA (published) | 7.83 | 6.25 | — | — |" in table
    # without a judge the deterministic proxy is still reported
    assert main([*args, "--out", str(tmp_path / "proxy")]) == 0
    proxy_only = json.loads((tmp_path / "proxy" / "results.json").read_text())
    assert "judge" not in proxy_only["checkpoints"][0]["emer"]
    assert proxy_only["checkpoints"][0]["emer"]["proxy"] == result["proxy"]


def test_own_data_eval_scores_only_the_held_out_clips_by_default(tmp_path):
    """The own-data eval scored the clips the model was trained on; with a labels.csv whose rows
    carry `split` (the bundled clips' labels, one held out), only `split: test` is scored unless
    the YAML asks for every row."""
    import shutil

    import yaml

    from affect_llm.errors import InputError
    from affect_llm.evaluation.emer import held_out

    samples = EVAL.parents[0] / "affect_llm" / "resources" / "samples"
    with open(samples / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["split"] = "test" if row["name"] == "hopper_surprise" else "train"
    rows[0]["split"] = ""  # an empty split is train, as the folder builder reads it
    clips = tmp_path / "clips"
    clips.mkdir()
    shutil.copy(samples / "hopper_surprise.mp4", clips)
    with open(clips / "labels.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    items = emer_items(clips, reference=clips / "labels.csv")
    assert [(i.id, i.split) for i in items] == [
        ("hopper_happy", "train"),
        ("hopper_sad", "train"),
        ("hopper_angry", "train"),
        ("hopper_surprise", "test"),
    ]
    recipe = yaml.safe_load((EVAL.parents[0] / "recipes/own_data/emer.yaml").read_text())
    split = recipe["datasets"]["emer"]["split"]
    assert [i.id for i in held_out(items, split)] == ["hopper_surprise"]
    assert len(held_out(items, None)) == 4
    with pytest.raises(InputError, match="no reference row in split 'val'"):
        held_out(items, "val")
    # EMER's own files have no split column: every row is a test row
    v1 = emer_items(MINI / "emer")
    assert {i.split for i in v1} == {"test"} and held_out(v1, "test") == v1


def _emer_summary(reference: str, official: int | None, scored: int) -> dict:
    proxy = {"samples": scored, "label_wheel_f1": 0.5, "clue_proxy": None}
    return {
        "split": "test",
        "reference": reference,
        "samples": scored,
        "official_samples": official,
        "checkpoints": [{"name": "ours", "emer": {"proxy": proxy}}],
    }


def test_emer_report_sets_published_rows_beside_ours_only_over_the_whole_official_set(tmp_path):
    """A 4-clip own set showed Emotion-LLaMA's published EMER row under it as if comparable."""
    from affect_llm.evaluation.emer import _report

    published = "| Emotion-LLaMA (published) | 7.83 | 6.25 | — | — |"
    cases = {
        "full": ("gt-eng.csv", 100, 100),
        "subset": ("final-EMER-reason.csv", 332, 3),
        "own": ("labels.csv", None, 1),
    }
    for case, (reference, official, scored) in cases.items():
        _report(tmp_path / case, _emer_summary(reference, official, scored), None)
    full, subset, own = (
        (tmp_path / case / "results.md").read_text(encoding="utf-8") for case in cases
    )
    ours_then_published = full.split("\n## ")[0]
    assert "| ours | — | — | 50.00 (n 100/100) | — |" in ours_then_published
    assert published in ours_then_published and "## Published" not in full
    for text, count in ((subset, "n 3/332, subset"), (own, "n 1")):
        first_table, apart = text.split("## Published (EMER's official test set)")
        assert f"| ours | — | — | 50.00 ({count}) | — |" in first_table
        assert "published" not in first_table.split("These scores")[0]
        assert published in apart
    assert "your own reference file, not the EMER benchmark" in own
    assert "no split column" not in own  # the summary's default: a reference with a split column
    unsplit = {**_emer_summary("labels.csv", None, 4), "reference_has_split": False}
    _report(tmp_path / "unsplit", unsplit, None)
    text = (tmp_path / "unsplit" / "results.md").read_text(encoding="utf-8")
    assert "labels.csv has no split column, so every row was scored" in text
    assert "official test set: 332" in subset


def _closed_set_summary(folds: dict[str, tuple[int, int]]) -> dict:
    fold_scores = {
        k: {"war": 0.5, "uar": 0.25, "samples": n, "official_samples": total}
        for k, (n, total) in folds.items()
    }
    dataset = {"folds": fold_scores, "mean": {"war": 0.5, "uar": 0.25}}
    return {"checkpoints": [{"name": "ours", "datasets": {"dfew": dataset}}]}


def test_closed_set_report_counts_samples_and_keeps_published_apart_from_a_subset(tmp_path):
    """One fold, or part of a fold, set beside the papers' 5-fold means read as the benchmark."""
    from affect_llm.evaluation.closed_set import _report

    published = "| R1-Omni (published) | 65.83 | 56.27 |"
    whole = {str(k): (2341, 2341) for k in range(1, 6)}
    cases = {"whole": whole, "one_fold": {"1": (2341, 2341)}, "limited": {**whole, "3": (4, 2341)}}
    for case, folds in cases.items():
        _report(tmp_path / case, _closed_set_summary(folds))
    texts = {case: (tmp_path / case / "results.md").read_text(encoding="utf-8") for case in cases}
    first = texts["whole"].split("## Per fold")[0]
    assert "| ours | 50.00 (n 11705/11705) | 25.00 |" in first and published in first
    assert "| ours | DFEW | 1 | 50.00 | 25.00 | 2341/2341 |" in texts["whole"]
    for case, note in (
        ("one_fold", "n 2341/2341, folds 1 of 5, subset"),
        ("limited", "n 9368/11705, subset"),
    ):
        ours, apart = texts[case].split("## Published (5-fold means)")
        assert f"| ours | 50.00 ({note}) | 25.00 |" in ours, texts[case]
        assert "(published)" not in ours and published in apart
    assert "| ours | DFEW | 3 | 50.00 | 25.00 | 4/2341 |" in texts["limited"]
