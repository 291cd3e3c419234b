"""Reading labels: open-vocabulary lists, single classes and valence, with malformed values reported.

List strings are parsed by `affect_llm.taxonomy.parse_label_list` (AffectGPT's formats); here we only
reject values that are clearly broken (unbalanced brackets or quotes, non-numeric valence).
"""

from __future__ import annotations

import math


class LabelError(ValueError):
    """A label value that cannot be parsed."""


def parse_openset(value: object) -> list[str]:
    """An open-vocabulary label list from a list string ("['happy', 'excited']", "happy, excited")."""
    from affect_llm.taxonomy import parse_label_list

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip().lower() for v in value if str(v).strip()]
    text = str(value).strip()
    if text.count("[") != text.count("]") or text.count("[") > 1:
        raise LabelError(f"unbalanced brackets in open-set labels {text!r}")
    if text.count("'") % 2 or text.count('"') % 2:
        raise LabelError(f"unbalanced quotes in open-set labels {text!r}")
    labels = [str(v).strip().lower() for v in parse_label_list(text)]
    return [label for label in labels if label]


def parse_valence(value: object) -> float | None:
    """A valence/sentiment score; empty means unknown."""
    if value is None or str(value).strip() == "":
        return None
    try:
        number = float(str(value).strip())
    except ValueError as error:
        raise LabelError(f"valence {value!r} is not a number") from error
    if not math.isfinite(number):
        raise LabelError(f"valence {value!r} is not finite")
    return number


def parse_label(value: object) -> str | None:
    """A single class name, lowercased; empty means none."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if any(ch in text for ch in "[]{}"):
        raise LabelError(f"single label {value!r} looks like a list")
    return text or None
