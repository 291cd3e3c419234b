"""GRPO rewards for emotion reasoning, usable directly as TRL `reward_funcs`.

Every reward has TRL's signature `f(prompts, completions, **columns) -> list[float | None]`, where
completions are strings or chat message lists, and dataset columns (`openset`, `label`, `aus`)
arrive as keyword lists. A reward whose column is missing returns None for every sample (TRL then
ignores it for those samples) instead of crashing.

`REWARDS` maps a name to the default variant; `build_reward(name, **params)` builds a
parameterised one (e.g. `build_reward("ew_f1", level="level1")`), which is what recipe YAMLs name.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

from affect_llm.action_units import au_codes, find_aus
from affect_llm.parsing import answer_text, extract_labels, extract_think_labels, think_text
from affect_llm.taxonomy import LEVELS, WHEELS, get_taxonomy, level_indices, parse_label_list

RewardFunc = Callable[..., list[float | None]]

_TAGS = ("<think>", "</think>", "<answer>", "</answer>")


def completion_text(completion: str | Sequence[dict[str, Any]]) -> str:
    """The text of a completion: a string, or the content of a chat message list."""
    if isinstance(completion, str):
        return completion
    parts = []
    for message in completion:
        content = message.get("content", "")
        if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
            content = "".join(c.get("text", "") for c in content if isinstance(c, dict))
        parts.append(str(content))
    return "".join(parts)


def _column(columns: dict[str, Any], name: str, n: int) -> list[Any] | None:
    values = columns.get(name)
    if values is None:
        return None
    values = list(values)
    return values if len(values) == n else None


def _level_indices(level: str) -> list[int]:
    if level == "mean":
        return [*level_indices("level1"), *level_indices("level2")]
    return list(level_indices(level))


GtFields = tuple[tuple[int, int, int, int], ...]


@functools.lru_cache(maxsize=65536)
def _gt_fields(gt_bits: int, indices: tuple[int, ...]) -> GtFields:
    """(level, shift, mask, gt count) of every wheel/level field the ground truth maps into."""
    fields = get_taxonomy().fields
    result = []
    for i in indices:
        shift, mask = fields[i]
        n_gt = ((gt_bits >> shift) & mask).bit_count()
        if n_gt:
            result.append((i // len(WHEELS), shift, mask, n_gt))
    return tuple(result)


@functools.cache
def _indices_mask(indices: tuple[int, ...]) -> int:
    """All bits of the given wheel/level fields in a packed integer."""
    fields = get_taxonomy().fields
    return functools.reduce(lambda acc, i: acc | (fields[i][1] << fields[i][0]), indices, 0)


def _wheel_f1(gt_bits: int, gt_fields: GtFields, pred_bits: int, indices: tuple[int, ...]) -> float:
    """Per-sample F1 of two packed cluster sets, averaged over the wheel/levels the gt maps in.

    Per level the wheels are averaged first, then the levels, so "mean" is the mean of level 1
    and level 2. A gt that maps to nothing (neutral) scores 1 for an empty or neutral prediction.
    """
    if not gt_fields:
        return 0.0 if pred_bits & _indices_mask(indices) else 1.0
    hit_bits = gt_bits & pred_bits
    if not hit_bits:
        return 0.0  # no overlap anywhere: the common case for a wrong answer
    sums = [0.0, 0.0]
    counts = [0, 0]
    for level, shift, mask, n_gt in gt_fields:
        n_pred = ((pred_bits >> shift) & mask).bit_count()
        sums[level] += 2 * ((hit_bits >> shift) & mask).bit_count() / (n_gt + n_pred)
        counts[level] += 1
    if counts[0] and counts[1]:
        return (sums[0] / counts[0] + sums[1] / counts[1]) / 2
    return sums[0] / counts[0] if counts[0] else sums[1] / counts[1]


def _format_ok(text: str) -> bool:
    """Exactly one think block, then one answer block, and only whitespace around them."""
    if not all(text.count(tag) == 1 for tag in _TAGS):
        return False
    t0, t1 = text.find("<think>"), text.find("</think>")
    a0, a1 = text.find("<answer>"), text.find("</answer>")
    return (
        t0 < t1 < a0 < a1
        and not text[:t0].strip()
        and not text[t1 + len("</think>") : a0].strip()
        and not text[a1 + len("</answer>") :].strip()
    )


def format_reward(
    prompts: Sequence[Any], completions: Sequence[Any], **_: Any
) -> list[float | None]:
    """1.0 for exactly `<think>...</think>` then `<answer>...</answer>` with nothing around, else 0."""
    return [1.0 if _format_ok(completion_text(c)) else 0.0 for c in completions]


def make_ew_f1(level: str = "mean", source: str = "answer") -> RewardFunc:
    """Emotion-wheel F1 of the completion's labels against the `openset` column.

    level: "level1", "level2" or "mean" (of the two). source: "answer" (labels extracted from the
    answer, the whole text when there is no `<answer>` block) or "think" (emotion words named in
    the reasoning; AffectGPT-R1 rewards both).
    """
    if level != "mean" and level not in LEVELS:
        raise ValueError(f"level must be 'mean' or one of {LEVELS}, got {level!r}")
    if source not in ("answer", "think"):
        raise ValueError(f"source must be 'answer' or 'think', got {source!r}")
    indices = tuple(_level_indices(level))
    labels_of = extract_labels if source == "answer" else extract_think_labels

    def ew_f1(
        prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
    ) -> list[float | None]:
        gts = _column(columns, "openset", len(completions))
        if gts is None:
            return [None] * len(completions)
        taxonomy = get_taxonomy()
        gt_cache: dict[str, tuple[int, GtFields]] = {}
        rewards: list[float | None] = []
        for completion, gt in zip(completions, gts):
            key = gt if isinstance(gt, str) else repr(gt)
            cached = gt_cache.get(key)
            if cached is None:
                gt_bits = taxonomy.labels_bits(parse_label_list(gt))
                cached = gt_cache[key] = (gt_bits, _gt_fields(gt_bits, indices))
            pred_bits = taxonomy.labels_bits(labels_of(completion_text(completion)))
            rewards.append(_wheel_f1(cached[0], cached[1], pred_bits, indices))
        return rewards

    ew_f1.__name__ = "ew_f1" if (level, source) == ("mean", "answer") else f"ew_f1_{source}_{level}"
    return ew_f1


def think_answer_consistency(
    prompts: Sequence[Any], completions: Sequence[Any], **_: Any
) -> list[float | None]:
    """Wheel F1 (level 1) between emotions named in `<think>` and the answer's labels.

    0 when either side names no emotion: reasoning that never mentions the answer earns nothing.
    """
    taxonomy = get_taxonomy()
    indices = tuple(_level_indices("level1"))
    rewards: list[float | None] = []
    for completion in completions:
        text = completion_text(completion)
        think_labels = extract_think_labels(text)
        answer_labels = extract_labels(text) if answer_text(text) is not None else ()
        if not think_labels or not answer_labels:
            rewards.append(0.0)
            continue
        answer_bits = taxonomy.labels_bits(answer_labels)
        if not answer_bits:  # answer labels unknown to every wheel: compare the words themselves
            same = set(think_labels) & set(answer_labels)
            rewards.append(2 * len(same) / (len(think_labels) + len(answer_labels)))
        else:
            think_bits = taxonomy.labels_bits(think_labels)
            answer_fields = _gt_fields(answer_bits, indices)
            rewards.append(_wheel_f1(answer_bits, answer_fields, think_bits, indices))
    return rewards


def make_au_grounding(beta: float = 1.0) -> RewardFunc:
    """Facial-R1's AU reward: F-beta of AUs named in `<think>` against the `aus` column, as 2F-1.

    AUs are named by code ("AU12") or FACS name ("lip corner puller"). Naming none scores -1; when
    the clip has no active AU, naming none scores 1 and naming any scores -1.
    """
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    b2 = beta * beta

    def au_grounding(
        prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
    ) -> list[float | None]:
        active_column = _column(columns, "aus", len(completions))
        if active_column is None:
            return [None] * len(completions)
        gt_cache: dict[str, set[str]] = {}
        rewards: list[float | None] = []
        for completion, active in zip(completions, active_column):
            key = active if isinstance(active, str) else repr(active)
            gt = gt_cache.get(key)
            if gt is None:
                gt = gt_cache[key] = au_codes(parse_label_list(active))
            think = think_text(completion_text(completion)) or ""
            named = find_aus(think)
            if not gt:
                rewards.append(1.0 if not named else -1.0)
                continue
            if not named:
                rewards.append(-1.0)
                continue
            hit = len(gt & named)
            precision, recall = hit / len(named), hit / len(gt)
            denominator = b2 * precision + recall
            f_beta = (1 + b2) * precision * recall / denominator if denominator else 0.0
            rewards.append(2 * f_beta - 1)
        return rewards

    au_grounding.__name__ = "au_grounding" if beta == 1.0 else f"au_grounding_beta{beta:g}"
    return au_grounding


LENGTH_PENALTIES: dict[str, Callable[[int, int], float]] = {
    "inverse": lambda p, g: 1.0 / (p - g + 1),
    "ratio": lambda p, g: g / p,
    "log": lambda p, g: math.log(g) / math.log(p) if g > 0 else 0.0,
}


def make_length_penalty(mode: str = "inverse") -> RewardFunc:
    """AffectGPT-R1's penalty for answering more labels (p) than the ground truth has (g).

    1.0 when p <= g, else inverse 1/(p-g+1), ratio g/p, or log log(g)/log(p): a reward in [0, 1]
    that a config weights, so listing every emotion word stops paying.
    """
    if mode not in LENGTH_PENALTIES:
        raise ValueError(f"mode must be one of {sorted(LENGTH_PENALTIES)}, got {mode!r}")
    penalty = LENGTH_PENALTIES[mode]

    def length_penalty(
        prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
    ) -> list[float | None]:
        gts = _column(columns, "openset", len(completions))
        if gts is None:
            return [None] * len(completions)
        gt_sizes: dict[str, int] = {}
        rewards: list[float | None] = []
        for completion, gt in zip(completions, gts):
            p = len([x for x in extract_labels(completion_text(completion)) if x != "neutral"])
            key = gt if isinstance(gt, str) else repr(gt)
            g = gt_sizes.get(key)
            if g is None:
                g = gt_sizes[key] = len({x.lower().strip() for x in parse_label_list(gt)})
            rewards.append(1.0 if p <= g else float(penalty(p, g)))
        return rewards

    length_penalty.__name__ = "length_penalty" if mode == "inverse" else f"length_penalty_{mode}"
    return length_penalty


@functools.lru_cache(maxsize=65536)
def _same_class(predicted: str, gold: str) -> bool:
    """Closed-set match: equal words, or the same level-2 node in every wheel that knows both."""
    if predicted == gold:
        return True
    taxonomy = get_taxonomy()
    a, b = taxonomy.label_bits(predicted), taxonomy.label_bits(gold)
    agree = 0
    for i in level_indices("level2"):
        shift, mask = taxonomy.fields[i]
        field_a, field_b = (a >> shift) & mask, (b >> shift) & mask
        if field_a and field_b:
            if field_a != field_b:
                return False
            agree += 1
    return agree > 0


def accuracy_reward(
    prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
) -> list[float | None]:
    """1.0 when the answer's first label is the `label` column's class (after wheel normalisation).

    For closed-set data (DFEW, MAFW): "happiness" matches "happy", "fear" does not match "anxiety".
    """
    golds = _column(columns, "label", len(completions))
    if golds is None:
        return [None] * len(completions)
    rewards: list[float | None] = []
    for completion, gold in zip(completions, golds):
        labels = extract_labels(completion_text(completion))
        gold_label = str(gold).lower().strip()
        rewards.append(1.0 if labels and _same_class(labels[0], gold_label) else 0.0)
    return rewards


format_reward.__name__ = "format"
accuracy_reward.__name__ = "accuracy"

_FACTORIES: dict[str, Callable[..., RewardFunc]] = {
    "format": lambda: format_reward,
    "ew_f1": make_ew_f1,
    "think_answer_consistency": lambda: think_answer_consistency,
    "au_grounding": make_au_grounding,
    "length_penalty": make_length_penalty,
    "accuracy": lambda: accuracy_reward,
}

REWARDS: dict[str, RewardFunc] = {name: factory() for name, factory in _FACTORIES.items()}


def build_reward(name: str, **params: Any) -> RewardFunc:
    """A reward by registry name, with parameters for those that take them (level, source, beta, mode)."""
    if name not in _FACTORIES:
        raise KeyError(f"unknown reward {name!r}; available: {', '.join(sorted(_FACTORIES))}")
    return _FACTORIES[name](**params) if params else REWARDS[name]
