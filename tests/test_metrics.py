"""Benchmark metrics reproduce the reference to 1e-9 and behave as scores should."""

from __future__ import annotations

import random

import pytest
import reference_scorer
from hypothesis import given, settings
from hypothesis import strategies as st

from affect_llm.metrics import (
    confusion_matrix,
    hit_rate,
    ov_scores,
    sentiment_scores,
    war_uar,
    weighted_f1,
)
from affect_llm.taxonomy import get_taxonomy

TOL = 1e-9


def test_ov_examples_match_reference_values(metric_examples):
    for example in (e for e in metric_examples if e["kind"] == "ov"):
        scores = ov_scores(example["gt"], example["pred"])
        for level in ("level1", "level2"):
            for key in ("f1", "precision", "recall"):
                got = getattr(scores[level], key)
                assert got == pytest.approx(example[level][key], abs=TOL), (example["note"], level)


def test_hit_rate_example_matches_reference_value(metric_examples):
    for example in (e for e in metric_examples if e["kind"] == "hitrate"):
        assert hit_rate(example["gt"], example["pred"]) == pytest.approx(
            example["hit_rate"], abs=TOL
        )


VOCAB = sorted(get_taxonomy().forms)


@pytest.fixture(scope="module")
def reference_tables():
    return reference_scorer.load_tables()


label_lists = st.lists(
    st.one_of(st.sampled_from(VOCAB), st.text(max_size=8)), min_size=0, max_size=5
)
datasets = st.dictionaries(
    st.text(alphabet="abcdefgh0123", min_size=1, max_size=6), label_lists, min_size=1, max_size=8
)


def _as_strings(data: dict[str, list[str]]) -> dict[str, str]:
    return {k: "[" + ", ".join(v) + "]" for k, v in data.items()}


@settings(max_examples=40, deadline=None)
@given(gt=datasets, pred_seed=st.integers(0, 10_000))
def test_ov_scores_equal_independent_reference_implementation(gt, pred_seed, reference_tables):
    rng = random.Random(pred_seed)
    pred = {
        name: [*rng.sample(VOCAB, rng.randint(0, 4)), *labels[:1]] for name, labels in gt.items()
    }
    gt_str, pred_str = _as_strings(gt), _as_strings(pred)
    ours = ov_scores(gt_str, pred_str)
    for level in ("level1", "level2"):
        f1, precision, recall = reference_scorer.wheel_metric(
            gt_str, pred_str, level, tables=reference_tables
        )
        assert ours[level].f1 == pytest.approx(f1, abs=TOL)
        assert ours[level].precision == pytest.approx(precision, abs=TOL)
        assert ours[level].recall == pytest.approx(recall, abs=TOL)


@settings(max_examples=15, deadline=None)
@given(
    gt=st.dictionaries(
        st.text(min_size=1, max_size=5),
        st.sampled_from([*VOCAB, "neutral"]),
        min_size=1,
        max_size=8,
    ),
    seed=st.integers(0, 10_000),
)
def test_hit_rate_equals_independent_reference_implementation(gt, seed, reference_tables):
    rng = random.Random(seed)
    pred = {name: str([*rng.sample(VOCAB, rng.randint(0, 3)), label]) for name, label in gt.items()}
    expected = reference_scorer.hit_rate(gt, pred, tables=reference_tables)
    assert hit_rate(gt, pred) == pytest.approx(expected, abs=TOL)


@settings(max_examples=60, deadline=None)
@given(gt=datasets, pred=datasets, seed=st.integers(0, 1000))
def test_ov_scores_are_bounded_and_order_invariant(gt, pred, seed):
    scores = ov_scores(gt, pred)
    for prf in scores.values():
        for value in (prf.f1, prf.precision, prf.recall):
            assert 0.0 <= value <= 1.0
    rng = random.Random(seed)
    names = list(gt)
    rng.shuffle(names)
    shuffled_gt = {n: sorted(gt[n], key=lambda _: rng.random()) for n in names}
    shuffled_pred = {n: list(reversed(v)) for n, v in pred.items()}
    again = ov_scores(shuffled_gt, shuffled_pred)
    for level in scores:
        assert again[level].f1 == pytest.approx(scores[level].f1, abs=TOL)


def test_perfect_prediction_scores_one_and_missing_prediction_zero():
    gt = {"a": "[happy, angry]", "b": "[sad]"}
    assert ov_scores(gt, gt)["level1"].f1 == pytest.approx(1.0)
    assert ov_scores(gt, {})["level2"].f1 == 0.0


def test_sentiment_drops_zero_valence_and_reads_words():
    gt = {"a": 1.5, "b": -2.0, "c": 0.0, "d": 0.4, "e": -0.2}
    pred = {"a": "Positive", "b": "negative", "c": "positive", "d": "neutral", "e": "negative"}
    result = sentiment_scores(gt, pred)
    assert result["samples"] == 4
    assert result["accuracy"] == pytest.approx(3 / 4)
    # classes: True (a, d) and False (b, e); pred True only for a.
    f1_true = 2 * 1 / (2 + 1)
    f1_false = 2 * 2 / (2 + 3)
    assert result["weighted_f1"] == pytest.approx((2 * f1_true + 2 * f1_false) / 4)


def test_sentiment_missing_prediction_counts_as_neutral():
    assert sentiment_scores({"a": 1.0}, {})["accuracy"] == 0.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=30))
def test_weighted_f1_is_bounded_and_one_for_perfect_predictions(pairs):
    y_true = [t for t, _ in pairs]
    y_pred = [p for _, p in pairs]
    assert 0.0 <= weighted_f1(y_true, y_pred) <= 1.0
    assert weighted_f1(y_true, y_true) == pytest.approx(1.0)


def test_war_uar_and_confusion_matrix():
    y_true = ["happy", "happy", "happy", "sad"]
    y_pred = ["happy", "happy", "sad", "angry"]
    result = war_uar(y_true, y_pred)
    assert result["war"] == pytest.approx(0.5)
    assert result["uar"] == pytest.approx((2 / 3 + 0) / 2)
    assert confusion_matrix(y_true, y_pred, ["happy", "sad"]) == [[2, 1], [0, 0]]
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        war_uar(["a", "b", "c"], ["a", "b"])


def test_hit_rate_worked_example_of_the_docs():
    """docs/evaluation.md: a MELD file with 2 correct, 1 neutral and 1 missing scores 63.33, the
    mean over five wheels (surprise has no cluster in wheel 5), not 50 or 66.67."""
    from pathlib import Path

    gt = {"a": "joy", "b": "surprise", "c": "neutral", "d": "anger"}
    pred = {"a": "joy", "b": "surprise", "c": "neutral"}
    assert round(100 * hit_rate(gt, pred), 2) == 63.33
    docs = (Path(__file__).parents[1] / "docs" / "evaluation.md").read_text(encoding="utf-8")
    assert "(4 x 66.67 + 50) / 5 = **63.33**" in docs
