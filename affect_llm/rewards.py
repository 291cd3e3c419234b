"""GRPO rewards for emotion reasoning, usable directly as TRL `reward_funcs`.

Every reward has TRL's signature `f(prompts, completions, **columns) -> list[float | None]`, where
completions are strings or chat message lists, and dataset columns (`openset`, `label`, `aus`)
arrive as keyword lists. A reward whose column is missing returns None for every sample (TRL then
ignores it for those samples) instead of crashing.

`REWARDS` maps a name to the default variant; `build_reward(name, **params)` builds a
parameterised one from its typed parameters (e.g. `build_reward("ew_f1", level="level1")`; the
table is at `REWARDS`). A recipe YAML names one as `"name"` or `"name:param=value,param=value"`.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal, get_args, get_origin, get_type_hints

from affect_llm.action_units import au_codes, find_aus
from affect_llm.errors import InputError, closest
from affect_llm.parsing import answer_text, extract_labels, extract_think_labels, think_text
from affect_llm.taxonomy import LEVELS, get_taxonomy, level_indices, parse_label_list

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


def _score_each(
    completions: Sequence[Any],
    columns: dict[str, Any],
    name: str,
    score: Callable[[str, Any], float],
) -> list[float | None]:
    """`score(text, value)` of each completion with its value of the `name` column; None for
    every completion when that column is missing (TRL then leaves this reward out for them)."""
    values = columns.get(name)
    values = None if values is None else list(values)
    if values is None or len(values) != len(completions):
        return [None] * len(completions)
    return [score(completion_text(c), value) for c, value in zip(completions, values)]


def answer_labels(text: str) -> tuple[str, ...] | None:
    """The labels of a completion's `<answer>` block, or None when it has none.

    The answer rewards read only this block: a completion that never answers scores 0 there
    (evaluation's `extract_labels` also reads free text). Parsed once per text through
    `extract_labels`' cache, however many rewards ask.
    """
    return extract_labels(text) if answer_text(text) is not None else None


def reads_answer_block(reward: RewardFunc) -> bool:
    """Whether a reward scores only the `<answer>` block (ew_f1 of the answer, accuracy,
    length_penalty): GRPO targets without that block can never earn it (checked before GRPO starts, `training.data_loading`)."""
    return getattr(reward, "reads_answer", False)


@functools.lru_cache(maxsize=4096)
def _ground_truth(value: str) -> tuple[str, ...]:
    return tuple(parse_label_list(value))


def ground_truth(value: Any) -> tuple[str, ...]:
    """A label-list column value (a list string or a list) as labels; a GRPO batch repeats each
    prompt's value for every completion, so strings are parsed once."""
    return _ground_truth(value) if isinstance(value, str) else tuple(parse_label_list(value))


@functools.lru_cache(maxsize=65536)
def _cluster_masks(labels: tuple[str, ...]) -> tuple[int, ...]:
    """One bit mask of wheel clusters per `WHEEL_LEVELS` entry (`EmotionTaxonomy.set_masks`)."""
    return get_taxonomy().set_masks(labels)


# The part of `WHEEL_LEVELS` (and so of a `set_masks` tuple) that holds each level's wheels.
_LEVEL_PARTS = {lv: slice(min(level_indices(lv)), max(level_indices(lv)) + 1) for lv in LEVELS}
_PARTS = {"mean": tuple(_LEVEL_PARTS.values()), **{lv: (p,) for lv, p in _LEVEL_PARTS.items()}}


def wheel_f1(gt: Sequence[str], pred: Sequence[str], level: str = "mean") -> float:
    """Per-sample emotion-wheel F1 of predicted labels against ground-truth labels.

    Per level, the F1 of cluster sets is averaged over the wheels the ground truth maps into, then
    the levels are averaged ("mean" is the mean of level 1 and level 2). A ground truth that maps
    nowhere (neutral) scores 1 for a prediction that maps nowhere too, else 0.
    """
    gt_masks, pred_masks = _cluster_masks(tuple(gt)), _cluster_masks(tuple(pred))
    parts = _PARTS[level]
    level_scores = []
    for part in parts:
        scores = [
            2 * (g & p).bit_count() / (g.bit_count() + p.bit_count())
            for g, p in zip(gt_masks[part], pred_masks[part])
            if g
        ]
        if scores:
            level_scores.append(sum(scores) / len(scores))
    if level_scores:
        return sum(level_scores) / len(level_scores)
    return 0.0 if any(any(pred_masks[part]) for part in parts) else 1.0


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


def make_ew_f1(
    level: Literal["mean", "level1", "level2"] = "mean",
    source: Literal["answer", "think"] = "answer",
) -> RewardFunc:
    """Emotion-wheel F1 of the completion's labels against the `openset` column.

    level: "level1", "level2" or "mean" (of the two). source: "answer" (the labels of the
    `<answer>` block; no block scores 0) or "think" (emotion words named in the reasoning;
    AffectGPT-R1 rewards both).
    """
    if level != "mean" and level not in LEVELS:
        raise ValueError(f"level must be 'mean' or one of {LEVELS}, got {level!r}")
    if source not in ("answer", "think"):
        raise ValueError(f"source must be 'answer' or 'think', got {source!r}")
    labels_of = answer_labels if source == "answer" else extract_think_labels

    def score(text: str, gt: Any) -> float:
        labels = labels_of(text)
        return 0.0 if labels is None else wheel_f1(ground_truth(gt), labels, level)

    def ew_f1(
        prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
    ) -> list[float | None]:
        return _score_each(completions, columns, "openset", score)

    ew_f1.__name__ = "ew_f1" if (level, source) == ("mean", "answer") else f"ew_f1_{source}_{level}"
    ew_f1.reads_answer = source == "answer"
    return ew_f1


def think_answer_consistency(
    prompts: Sequence[Any], completions: Sequence[Any], **_: Any
) -> list[float | None]:
    """Wheel F1 (level 1) between emotions named in `<think>` and the answer's labels.

    0 when either side names no emotion: reasoning that never mentions the answer earns nothing.
    """
    return [_consistency(completion_text(c)) for c in completions]


def _consistency(text: str) -> float:
    think, answer = extract_think_labels(text), answer_labels(text)
    if not think or not answer:
        return 0.0
    if not any(_cluster_masks(answer)):  # labels unknown to every wheel: compare the words
        return 2 * len(set(think) & set(answer)) / (len(think) + len(answer))
    return wheel_f1(answer, think, "level1")


def make_au_grounding(beta: float = 1.0) -> RewardFunc:
    """Facial-R1's AU reward: F-beta of AUs named in `<think>` against the `aus` column, as 2F-1.

    AUs are named by code ("AU12") or FACS name ("lip corner puller"). Naming none scores -1; when
    the clip has no active AU, naming none scores 1 and naming any scores -1.
    """
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    b2 = beta * beta

    def score(text: str, active: Any) -> float:
        gt = au_codes(ground_truth(active))
        named = find_aus(think_text(text) or "")
        if not gt:
            return 1.0 if not named else -1.0
        if not named:
            return -1.0
        hit = len(gt & named)
        precision, recall = hit / len(named), hit / len(gt)
        denominator = b2 * precision + recall
        f_beta = (1 + b2) * precision * recall / denominator if denominator else 0.0
        return 2 * f_beta - 1

    def au_grounding(
        prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
    ) -> list[float | None]:
        return _score_each(completions, columns, "aus", score)

    au_grounding.__name__ = "au_grounding" if beta == 1.0 else f"au_grounding_beta{beta:g}"
    return au_grounding


LENGTH_PENALTIES: dict[str, Callable[[int, int], float]] = {
    "inverse": lambda p, g: 1.0 / (p - g + 1),
    "ratio": lambda p, g: g / p,
    "log": lambda p, g: math.log(g) / math.log(p) if g > 0 else 0.0,
}


def make_length_penalty(mode: Literal["inverse", "ratio", "log"] = "inverse") -> RewardFunc:
    """AffectGPT-R1's penalty for answering more labels (p) than the ground truth has (g).

    1.0 when p <= g, else inverse 1/(p-g+1), ratio g/p, or log log(g)/log(p): a reward in [0, 1]
    that a config weights, so listing every emotion word stops paying. No answer block scores 0.
    """
    if mode not in LENGTH_PENALTIES:
        raise ValueError(f"mode must be one of {sorted(LENGTH_PENALTIES)}, got {mode!r}")
    penalty = LENGTH_PENALTIES[mode]

    def score(text: str, gt: Any) -> float:
        labels = answer_labels(text)
        if labels is None:
            return 0.0
        p = 0 if labels == ("neutral",) else len(labels)
        g = len({label.lower().strip() for label in ground_truth(gt)})
        return 1.0 if p <= g else float(penalty(p, g))

    def length_penalty(
        prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
    ) -> list[float | None]:
        return _score_each(completions, columns, "openset", score)

    length_penalty.__name__ = "length_penalty" if mode == "inverse" else f"length_penalty_{mode}"
    length_penalty.reads_answer = True
    return length_penalty


def same_class(predicted: str, gold: str) -> bool:
    """Closed-set match: the same level-2 node in every wheel that knows both words (and at
    least one wheel does), so "happiness" matches "happy" and "fear" does not match "anxiety"."""
    a, b = _cluster_masks((predicted,)), _cluster_masks((gold,))
    part = _LEVEL_PARTS["level2"]
    known = [(x, y) for x, y in zip(a[part], b[part]) if x and y]
    return bool(known) and all(x == y for x, y in known)


def _accuracy(text: str, gold: Any) -> float:
    labels = answer_labels(text)
    first, gold = (labels[0] if labels else ""), str(gold).lower().strip()
    return 1.0 if first and (first == gold or same_class(first, gold)) else 0.0


def accuracy_reward(
    prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
) -> list[float | None]:
    """1.0 when the answer's first label is the `label` column's class (after wheel normalisation).

    For closed-set data (DFEW, MAFW): "happiness" matches "happy", "fear" does not match "anxiety".
    No answer block scores 0.
    """
    return _score_each(completions, columns, "label", _accuracy)


format_reward.__name__ = "format"
accuracy_reward.__name__ = "accuracy"
accuracy_reward.reads_answer = True  # see `reads_answer_block`

# The rewards by name. A factory's keyword arguments are that reward's typed parameters:
#
# | name                     | parameters (default first)                                        |
# |--------------------------|-------------------------------------------------------------------|
# | format                   | -                                                                 |
# | ew_f1                    | level: mean, level1, level2; source: answer (the <answer> labels), |
# |                          | think (emotion words of the reasoning)                            |
# | think_answer_consistency | -                                                                 |
# | au_grounding             | beta: float > 0 = 1.0 (F-beta of the AUs named in <think>)        |
# | length_penalty           | mode: inverse 1/(p-g+1), ratio g/p, log log(g)/log(p)             |
# | accuracy                 | -                                                                 |
#
# In a recipe: `rewards: [ew_f1, "ew_f1:source=think", "length_penalty:mode=ratio"]`.
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
    """A reward by registry name, with its typed parameters (see the table above `REWARDS`)."""
    if name not in _FACTORIES:
        raise KeyError(f"unknown reward {name!r}; available: {', '.join(sorted(_FACTORIES))}")
    return _FACTORIES[name](**params) if params else REWARDS[name]


def reward_parameters(name: str) -> dict[str, Any]:
    """A registered reward's parameters and their types (empty for one that takes none)."""
    factory = _FACTORIES[name]
    hints = get_type_hints(factory)
    return {key: hints.get(key, str) for key in inspect.signature(factory).parameters}


def parse_reward(spec: str) -> RewardFunc:
    """A reward from its recipe form, 'name' or 'name:param=value,param=value', each value read as
    its parameter's type; a bad name, parameter or value is one InputError line."""
    name, _, params = spec.partition(":")
    name = name.strip()
    if name not in REWARDS:  # a typo in a recipe: one line, not build_reward's KeyError
        raise InputError(
            f"rewards: unknown reward {name!r}{closest(name, REWARDS)}; "
            f"available: {', '.join(sorted(REWARDS))}"
        )
    types = reward_parameters(name)
    kwargs = {}
    for item in filter(None, (p.strip() for p in params.split(","))):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep:
            raise InputError(f"reward {spec!r}: parameters are key=value, got {item!r}")
        if key not in types:
            known = ", ".join(types) or "none"
            raise InputError(
                f"reward {spec!r}: {name} has no parameter {key!r}{closest(key, types)}; "
                f"its parameters: {known}"
            )
        kwargs[key] = _typed(spec, key, value, types[key])
    try:
        return build_reward(name, **kwargs)
    except ValueError as error:  # a value the factory refuses (e.g. beta <= 0)
        raise InputError(f"reward {spec!r}: {error}") from None


def _typed(spec: str, key: str, value: str, kind: Any) -> Any:
    if get_origin(kind) is Literal:
        if value not in get_args(kind):
            raise InputError(
                f"reward {spec!r}: {key} must be one of {', '.join(get_args(kind))}, got {value!r}"
            )
        return value
    try:
        return kind(value)
    except ValueError:
        raise InputError(
            f"reward {spec!r}: {key} must be a {kind.__name__}, got {value!r}"
        ) from None
