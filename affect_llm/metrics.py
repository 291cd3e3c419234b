"""Benchmark metrics: emotion-wheel OV score, hit rate, sentiment F1/accuracy, WAR/UAR.

These reproduce the MER-UniBench reference (AffectGPT / OV-MER) exactly; inputs are mappings from
sample name to a label list (or a list string in AffectGPT's formats, see `parse_label_list`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from affect_llm.taxonomy import (
    LEVELS,
    WHEEL_LEVELS,
    WHEELS,
    EmotionTaxonomy,
    get_taxonomy,
    parse_label_list,
)


@dataclass(frozen=True)
class PRF:
    """F1 from averaged precision and recall, as the reference computes it."""

    f1: float
    precision: float
    recall: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def sample_precision_recall(gt_mask: int, pred_mask: int) -> tuple[float, float] | None:
    """Per-sample P and R of two cluster masks; None when the ground truth maps to nothing."""
    n_gt = gt_mask.bit_count()
    if n_gt == 0:
        return None
    n_pred = pred_mask.bit_count()
    if n_pred == 0:
        return 0.0, 0.0
    hit = (gt_mask & pred_mask).bit_count()
    return hit / n_pred, hit / n_gt


def ov_scores(
    gt: Mapping[str, object],
    pred: Mapping[str, object],
    taxonomy: EmotionTaxonomy | None = None,
) -> dict[str, PRF]:
    """Emotion-wheel OV score per level: {"level1": PRF, "level2": PRF}, averaged over the 5 wheels.

    Per wheel: skip samples whose gt maps to nothing; an empty prediction scores P=R=0; average P and
    R over samples, F1 from those averages. Names in `gt` missing from `pred` count as empty.
    """
    taxonomy = taxonomy or get_taxonomy()
    per_key: dict[tuple[str, str], tuple[list[float], list[float]]] = {
        key: ([], []) for key in WHEEL_LEVELS
    }
    for name, gt_value in gt.items():
        gt_masks = taxonomy.set_masks(parse_label_list(gt_value))
        pred_masks = taxonomy.set_masks(parse_label_list(pred.get(name)))
        for key, g, p in zip(WHEEL_LEVELS, gt_masks, pred_masks):
            pr = sample_precision_recall(g, p)
            if pr is not None:
                per_key[key][0].append(pr[0])
                per_key[key][1].append(pr[1])
    result = {}
    for level in LEVELS:
        rows = []
        for wheel in WHEELS:
            precisions, recalls = per_key[(wheel, level)]
            precision, recall = _mean(precisions), _mean(recalls)
            rows.append((_f1(precision, recall), precision, recall))
        result[level] = PRF(*(_mean([row[i] for row in rows]) for i in range(3)))
    return result


def hit_rate(
    gt: Mapping[str, str],
    pred: Mapping[str, object],
    taxonomy: EmotionTaxonomy | None = None,
) -> float:
    """One-hot hit rate at level 1, averaged over the 5 wheels.

    Per wheel: skip samples whose gt label maps to nothing (neutral does); a hit is the gt cluster
    being among the predicted clusters.
    """
    taxonomy = taxonomy or get_taxonomy()
    per_wheel: dict[str, list[float]] = {w: [] for w in WHEELS}
    for name, gt_label in gt.items():
        pred_labels = parse_label_list(pred.get(name))
        for wheel in WHEELS:
            cluster = taxonomy.cluster(str(gt_label), wheel, "level1")
            if cluster is None:
                continue
            predicted = taxonomy.map_labels(pred_labels, wheel, "level1")
            per_wheel[wheel].append(1.0 if cluster in predicted else 0.0)
    return _mean([_mean(hits) for hits in per_wheel.values()])


SENTIMENT_WORDS = {"positive": 1, "negative": -1, "neutral": 0}


def sentiment_value(prediction: object) -> int:
    """A predicted sentiment as +1 / -1 / 0: 'positive', 'negative', anything else is 0.

    Numbers are read by their sign, so regression outputs score the same way.
    """
    if isinstance(prediction, (int, float)):
        return (prediction > 0) - (prediction < 0) if prediction == prediction else 0
    text = str(prediction).strip().lower()
    if text in SENTIMENT_WORDS:
        return SENTIMENT_WORDS[text]
    try:
        number = float(text)
    except ValueError:
        return 0
    return (number > 0) - (number < 0) if number == number else 0


def weighted_f1(y_true: Sequence[object], y_pred: Sequence[object]) -> float:
    """Support-weighted F1 over the classes present in either sequence (scikit-learn's 'weighted')."""
    if not y_true:
        return 0.0
    total = 0.0
    for label in set(y_true) | set(y_pred):
        tp = sum(1 for t, p in zip(y_true, y_pred) if t == label and p == label)
        n_true = sum(1 for t in y_true if t == label)
        n_pred = sum(1 for p in y_pred if p == label)
        f1 = 2 * tp / (n_true + n_pred) if n_true + n_pred else 0.0
        total += n_true * f1
    return total / len(y_true)


def sentiment_scores(gt: Mapping[str, float], pred: Mapping[str, object]) -> dict[str, float]:
    """MER-UniBench sentiment metrics: weighted F1 and accuracy of (pred > 0) vs (gt valence > 0).

    Samples with gt valence exactly 0 are dropped; a missing prediction counts as neutral (0).
    """
    y_true, y_pred = [], []
    for name, valence in gt.items():
        valence = float(valence)
        if valence == 0:
            continue
        y_true.append(valence > 0)
        y_pred.append(sentiment_value(pred.get(name, "neutral")) > 0)
    accuracy = _mean([float(t == p) for t, p in zip(y_true, y_pred)])
    return {
        "weighted_f1": weighted_f1(y_true, y_pred),
        "accuracy": accuracy,
        "samples": len(y_true),
    }


def war_uar(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
    """Closed-set WAR (overall accuracy) and UAR (mean per-class recall over the gt classes)."""
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} labels but {len(y_pred)} predictions")
    war = _mean([float(t == p) for t, p in zip(y_true, y_pred)])
    recalls = []
    for label in sorted(set(y_true)):
        hits = [p == label for t, p in zip(y_true, y_pred) if t == label]
        recalls.append(_mean([float(h) for h in hits]))
    return {"war": war, "uar": _mean(recalls), "samples": len(y_true)}


def confusion_matrix(
    y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str]
) -> list[list[int]]:
    """Counts[i][j] of gt class i predicted as class j; predictions outside `classes` are ignored."""
    index = {c: i for i, c in enumerate(classes)}
    counts = [[0] * len(classes) for _ in classes]
    for t, p in zip(y_true, y_pred):
        if t in index and p in index:
            counts[index[t]][index[p]] += 1
    return counts
