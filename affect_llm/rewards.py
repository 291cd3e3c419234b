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
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from affect_llm.action_units import au_codes, find_aus_many
from affect_llm.parsing import (
    answer_blocks_labels,
    answer_text,
    extract_labels,
    think_blocks_labels,
    think_text,
)
from affect_llm.taxonomy import LEVELS, WHEELS, get_taxonomy, level_indices, parse_label_list
from affect_llm.text_patterns import tokenize_many

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


# Per parser, the last column of strings it parsed and the result (rewards share columns).
_last_columns: dict[Callable[[Any], Any], tuple[list[str], list[Any]]] = {}


def _parsed_column(values: Sequence[Any], parse: Callable[[Any], Any]) -> list[Any]:
    """parse(value) for every value of a column, once per distinct value: a GRPO batch repeats
    each prompt's columns for each of its completions. Lists reach `parse` as tuples."""
    last_values, last_parsed = _last_columns.get(parse, ((), []))
    if len(values) == len(last_values) and all(map(operator.is_, values, last_values)):
        return last_parsed  # the same strings as the last call (ew_f1 and length_penalty)
    try:
        keys = [v if isinstance(v, str) else tuple(v) for v in values]
        parsed = {key: parse(key) for key in dict.fromkeys(keys)}
    except TypeError:  # values that are not iterable (None, NaN), or hold unhashable items
        return [getattr(parse, "__wrapped__", parse)(v) for v in values]
    result = [parsed[key] for key in keys]
    if all(map(operator.is_, keys, values)):  # all strings: immutable, safe to reuse by identity
        _last_columns[parse] = (list(values), result)
    return result


@functools.lru_cache(maxsize=4096)
def _openset(openset: Any) -> tuple[int, int]:
    """The packed clusters and the number of distinct labels of an `openset` value."""
    labels = parse_label_list(openset)
    return get_taxonomy().labels_bits(labels), len({label.lower().strip() for label in labels})


@functools.lru_cache(maxsize=4096)
def _active_aus(aus: Any) -> frozenset[str]:
    return frozenset(au_codes(parse_label_list(aus)))


def _level_indices(level: str) -> list[int]:
    if level == "mean":
        return [*level_indices("level1"), *level_indices("level2")]
    return list(level_indices(level))


class _FieldLayout(NamedTuple):
    words: int  # 64-bit words of a packed cluster set (`EmotionTaxonomy.fields` start at each)
    columns: list[int]  # the words of the chosen wheel/level fields, level-1 fields first
    levels: tuple[slice, ...]  # per level present, its part of `columns`


@functools.cache
def _field_layout(level: str) -> _FieldLayout:
    fields = get_taxonomy().fields
    if any(shift % 64 or mask.bit_length() > 64 for shift, mask in fields):
        raise AssertionError("wheel fields must each fill one 64-bit word")
    indices = _level_indices(level)
    n_level1 = sum(i < len(WHEELS) for i in indices)
    levels = (slice(0, n_level1), slice(n_level1, len(indices)))
    return _FieldLayout(
        words=max(shift for shift, _ in fields) // 64 + 1,
        columns=[fields[i][0] // 64 for i in indices],
        levels=tuple(lv for lv in levels if lv.stop > lv.start),
    )


def _popcount(words: np.ndarray) -> np.ndarray:
    """Set bits of every uint64 (numpy < 2 has no bitwise_count): the classic SWAR sum."""
    words = words - ((words >> np.uint64(1)) & np.uint64(0x5555555555555555))
    words = (words & np.uint64(0x3333333333333333)) + (
        (words >> np.uint64(2)) & np.uint64(0x3333333333333333)
    )
    words = (words + (words >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return ((words * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


def _field_words(bits: Sequence[int], layout: _FieldLayout) -> np.ndarray:
    """(n, chosen fields) uint64: the wheel/level fields of n packed cluster sets."""
    size = layout.words * 8
    joined = b"".join([b.to_bytes(size, "little") for b in bits])
    return np.frombuffer(joined, "<u8").reshape(len(bits), layout.words)[:, layout.columns]


def wheel_f1(gt_bits: Sequence[int], pred_bits: Sequence[int], level: str = "mean") -> np.ndarray:
    """Per-sample wheel F1 of packed cluster sets (`EmotionTaxonomy.labels_bits`), vectorised.

    Per level the wheels the ground truth maps into are averaged, then the levels ("mean" is the
    mean of level 1 and level 2). A gt that maps nowhere (neutral) scores 1 for a prediction that
    maps nowhere too, else 0. Numpy over the whole batch: GRPO scores its rollouts inline.
    """
    layout = _field_layout(level)
    n = len(gt_bits)
    packed = _field_words([*gt_bits, *pred_bits], layout)
    counts = _popcount(np.concatenate([packed, packed[:n] & packed[n:]]))
    n_gt, n_pred, n_hit = counts[:n], counts[n : 2 * n], counts[2 * n :]
    mapped = n_gt > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(mapped, 2 * n_hit / (n_gt + n_pred), 0.0)
    level_sum, level_count = np.zeros(n), np.zeros(n)
    for columns in layout.levels:
        count = mapped[:, columns].sum(axis=1)
        level_sum += np.where(count > 0, f1[:, columns].sum(axis=1) / np.maximum(count, 1), 0.0)
        level_count += count > 0
    neutral_score = (n_pred.sum(axis=1) == 0) * 1.0
    return np.where(level_count > 0, level_sum / np.maximum(level_count, 1), neutral_score)


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


@dataclass(frozen=True)
class BatchReading:
    """What the rewards read from a batch of completions, one list per field (one item per
    completion): parsed once by the first reward, shared by all six, and column-shaped so
    the rewards can vectorise."""

    format_ok: list[bool]
    answer_labels: list[tuple[str, ...]]  # `extract_labels`: the answer block, else the text
    has_answer_block: list[bool]
    think_labels: list[tuple[str, ...]]  # `extract_think_labels`
    think_aus: list[frozenset[str]]  # AUs named in the think block
    answer_bits: list[int]  # `EmotionTaxonomy.labels_bits` of answer_labels
    think_bits: list[int]


def _cut(text: str) -> tuple[str, str | None, bool]:
    """The think block ("" when none), the answer block (None when none) and the format check.

    A clean completion (its only `<` are the four tags, in order) is sliced directly; anything
    else goes through the general parsers, with the same results either way.
    """
    if text.count("<") == 4:
        t0 = text.find("<")
        t1 = text.find("<", t0 + 1)
        a0 = text.find("<", t1 + 1)
        a1 = text.find("<", a0 + 1)
        if (
            text.startswith("<think>", t0)
            and text.startswith("</think>", t1)
            and text.startswith("<answer>", a0)
            and text.startswith("</answer>", a1)
        ):
            format_ok = (
                (t0 == 0 or text[:t0].isspace())
                and (a0 == t1 + 8 or text[t1 + 8 : a0].isspace())
                and (a1 + 9 == len(text) or text[a1 + 9 :].isspace())
            )
            return text[t0 + 7 : t1], text[a0 + 8 : a1], format_ok
    return think_text(text) or "", answer_text(text), _format_ok(text)


def read_completions(texts: Sequence[str]) -> BatchReading:
    """Read a batch of completion texts, column by column: the answer lists, the reasoning scan
    and the AU mentions each run as one batch call."""
    if not texts:
        return BatchReading([], [], [], [], [], [], [])
    thinks, answers, format_oks = zip(*map(_cut, texts))
    if None in answers:  # no answer block: labels come from the free text
        block_labels = iter(answer_blocks_labels([a for a in answers if a is not None]))
        answer_labels = [
            next(block_labels) if a is not None else extract_labels(text)
            for a, text in zip(answers, texts)
        ]
    else:
        answer_labels = answer_blocks_labels(answers)
    token_lists = tokenize_many(thinks)
    think_labels = think_blocks_labels(thinks, token_lists)
    labels_bits = get_taxonomy().labels_bits
    return BatchReading(
        format_ok=list(format_oks),
        answer_labels=answer_labels,
        has_answer_block=[a is not None for a in answers],
        think_labels=think_labels,
        think_aus=find_aus_many(thinks, token_lists),
        answer_bits=list(map(labels_bits, answer_labels)),
        think_bits=list(map(labels_bits, think_labels)),
    )


# The texts of the last batch and its reading: TRL hands every reward the same completions.
_last_texts: list[str] = []
_last_reading: BatchReading | None = None


def forget_last_batch() -> None:
    """Drop what was cached for the last batch (the benchmark times parsing from scratch)."""
    global _last_texts, _last_reading
    _last_texts, _last_reading = [], None
    _last_columns.clear()


def _read(completions: Sequence[Any]) -> BatchReading:
    """The reading of a batch: the first reward parses it, the other five reuse the result."""
    global _last_texts, _last_reading
    if (
        _last_reading is not None
        and len(completions) == len(_last_texts)
        and all(map(operator.is_, completions, _last_texts))
    ):
        return _last_reading  # the same string objects as the last call (strings are immutable)
    texts = [c if type(c) is str else completion_text(c) for c in completions]
    if _last_reading is not None and texts == _last_texts:
        return _last_reading  # chat messages with the same text as the last call
    _last_texts, _last_reading = texts, read_completions(texts)
    return _last_reading


def format_reward(
    prompts: Sequence[Any], completions: Sequence[Any], **_: Any
) -> list[float | None]:
    """1.0 for exactly `<think>...</think>` then `<answer>...</answer>` with nothing around, else 0."""
    return [1.0 if ok else 0.0 for ok in _read(completions).format_ok]


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
    from_answer = source == "answer"

    def ew_f1(
        prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
    ) -> list[float | None]:
        gts = _column(columns, "openset", len(completions))
        if gts is None:
            return [None] * len(completions)
        gt_bits = [bits for bits, _ in _parsed_column(gts, _openset)]
        reading = _read(completions)
        pred_bits = reading.answer_bits if from_answer else reading.think_bits
        return wheel_f1(gt_bits, pred_bits, level).tolist()

    ew_f1.__name__ = "ew_f1" if (level, source) == ("mean", "answer") else f"ew_f1_{source}_{level}"
    return ew_f1


def think_answer_consistency(
    prompts: Sequence[Any], completions: Sequence[Any], **_: Any
) -> list[float | None]:
    """Wheel F1 (level 1) between emotions named in `<think>` and the answer's labels.

    0 when either side names no emotion: reasoning that never mentions the answer earns nothing.
    """
    reading = _read(completions)
    f1 = wheel_f1(reading.answer_bits, reading.think_bits, "level1").tolist()
    rewards: list[float | None] = []
    for i, think_labels in enumerate(reading.think_labels):
        answer_labels = reading.answer_labels[i] if reading.has_answer_block[i] else ()
        if not think_labels or not answer_labels:
            rewards.append(0.0)
        elif not reading.answer_bits[i]:  # labels unknown to every wheel: compare the words
            same = set(think_labels) & set(answer_labels)
            rewards.append(2 * len(same) / (len(think_labels) + len(answer_labels)))
        else:
            rewards.append(f1[i])
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
        actives = _parsed_column(active_column, _active_aus)
        return list(map(score, actives, _read(completions).think_aus))

    @functools.lru_cache(maxsize=65536)
    def score(gt: frozenset[str], named: frozenset[str]) -> float:
        if not gt:
            return 1.0 if not named else -1.0
        if not named:
            return -1.0
        hit = len(gt & named)
        precision, recall = hit / len(named), hit / len(gt)
        denominator = b2 * precision + recall
        f_beta = (1 + b2) * precision * recall / denominator if denominator else 0.0
        return 2 * f_beta - 1

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
        sizes = _parsed_column(
            gts, lambda gt: len({x.lower().strip() for x in parse_label_list(gt)})
        )
        rewards: list[float | None] = []
        for labels, g in zip(_read(completions).answer_labels, sizes):
            p = 0 if labels == ("neutral",) else len(labels)
            rewards.append(1.0 if p <= g else float(penalty(p, g)))
        return rewards

    length_penalty.__name__ = "length_penalty" if mode == "inverse" else f"length_penalty_{mode}"
    return length_penalty


def same_class(predicted: Sequence[int], gold: Sequence[int]) -> np.ndarray:
    """Closed-set match of packed labels: the same level-2 node in every wheel that knows both
    (and at least one does), vectorised over the batch."""
    layout = _field_layout("level2")
    words = _field_words([*predicted, *gold], layout)
    a, b = words[: len(predicted)], words[len(predicted) :]
    known = (a != 0) & (b != 0)
    return known.any(axis=1) & ~(known & (a != b)).any(axis=1)


@functools.lru_cache(maxsize=4096)
def _gold_class(gold: Any) -> tuple[str, int]:
    """A `label` value as a lowercase word, and its packed clusters."""
    word = str(gold).lower().strip()
    return word, get_taxonomy().label_bits(word)


def accuracy_reward(
    prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
) -> list[float | None]:
    """1.0 when the answer's first label is the `label` column's class (after wheel normalisation).

    For closed-set data (DFEW, MAFW): "happiness" matches "happy", "fear" does not match "anxiety".
    """
    golds = _column(columns, "label", len(completions))
    if golds is None:
        return [None] * len(completions)
    gold_classes = _parsed_column(golds, _gold_class)
    firsts = [labels[0] if labels else "" for labels in _read(completions).answer_labels]
    matched = same_class(get_taxonomy().each_label_bits(firsts), [bits for _, bits in gold_classes])
    return [
        1.0 if first and (first == gold or match) else 0.0
        for first, (gold, _), match in zip(firsts, gold_classes, matched.tolist())
    ]


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
