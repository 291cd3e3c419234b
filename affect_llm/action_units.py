"""Facial action units (FACS): codes, names, OpenFace columns and emotion prototypes.

The one table every part of affect-llm uses for AUs: the `au_grounding` reward reads AU mentions in
model reasoning with it, and perception turns AU intensities into text with it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from affect_llm.text_patterns import tokenize

# FACS names of the action units that OpenFace, py-feat and the AU-annotated corpora use.
AU_NAMES: dict[str, str] = {
    "AU01": "inner brow raiser",
    "AU02": "outer brow raiser",
    "AU04": "brow lowerer",
    "AU05": "upper lid raiser",
    "AU06": "cheek raiser",
    "AU07": "lid tightener",
    "AU09": "nose wrinkler",
    "AU10": "upper lip raiser",
    "AU11": "nasolabial deepener",
    "AU12": "lip corner puller",
    "AU13": "sharp lip puller",
    "AU14": "dimpler",
    "AU15": "lip corner depressor",
    "AU16": "lower lip depressor",
    "AU17": "chin raiser",
    "AU18": "lip pucker",
    "AU20": "lip stretcher",
    "AU22": "lip funneler",
    "AU23": "lip tightener",
    "AU24": "lip pressor",
    "AU25": "lips part",
    "AU26": "jaw drop",
    "AU27": "mouth stretch",
    "AU28": "lip suck",
    "AU43": "eyes closed",
    "AU45": "blink",
}

# OpenFace 2.x `FeatureExtraction -aus`: intensity columns AUxx_r (0-5) and presence columns AUxx_c.
OPENFACE_INTENSITY_AUS: tuple[str, ...] = (
    "AU01",
    "AU02",
    "AU04",
    "AU05",
    "AU06",
    "AU07",
    "AU09",
    "AU10",
    "AU12",
    "AU14",
    "AU15",
    "AU17",
    "AU20",
    "AU23",
    "AU25",
    "AU26",
    "AU45",
)
OPENFACE_PRESENCE_AUS: tuple[str, ...] = (*OPENFACE_INTENSITY_AUS, "AU28")

# Emotion-LLaMA / MER-Factory call an AU active when its OpenFace intensity exceeds this.
ACTIVE_INTENSITY_THRESHOLD = 0.8

# Prototype AU combinations (EMFACS-style) used to describe a face in words.
EMOTION_PROTOTYPES: dict[str, tuple[frozenset[str], ...]] = {
    "happy": (frozenset({"AU06", "AU12"}),),
    "sad": (frozenset({"AU01", "AU04", "AU15"}),),
    "surprise": (frozenset({"AU05", "AU26"}), frozenset({"AU01", "AU02", "AU05", "AU26"})),
    "angry": (frozenset({"AU04", "AU05", "AU07", "AU23"}),),
}

_NAME_TO_CODE = {name: code for code, name in AU_NAMES.items()}


_AU_CODE_RE = re.compile(r"\s*(?:AU)?\s?0*(\d{1,2})\s*(?:_[rc])?\s*", re.IGNORECASE)


_CANONICAL_CODES = frozenset(f"AU{number:02d}" for number in range(1, 100))


def normalize_au(code: str | int) -> str | None:
    """'au6', 'AU06', '6', 6 -> 'AU06'; None for anything that is not an AU code."""
    if isinstance(code, str) and code in _CANONICAL_CODES:
        return code
    match = _AU_CODE_RE.fullmatch(str(code))
    return f"AU{int(match.group(1)):02d}" if match and int(match.group(1)) > 0 else None


def au_codes(values: Iterable[str | int]) -> set[str]:
    """Normalise a collection of AU codes, dropping anything unrecognised."""
    return {c for c in (normalize_au(v) for v in values) if c is not None}


_CODE_RE = re.compile(r"au[\s\-]?0*(\d{1,2})(?!\d)")  # starts with a literal: fast in `re`


_NAME_FIRST_WORDS = frozenset(name.split()[0] for name in _NAME_TO_CODE)
# Every name as a word tuple, also with its last word plural ("cheek raisers"), and its code.
_NAME_WORDS_TO_CODE = {
    (*name.split()[:-1], name.split()[-1] + plural): code
    for name, code in _NAME_TO_CODE.items()
    for plural in ("", "s")
}
_NAME_LENGTHS = sorted({len(words) for words in _NAME_WORDS_TO_CODE}, reverse=True)


@functools.lru_cache(maxsize=65536)
def find_aus(text: str) -> frozenset[str]:
    """AUs mentioned in free text, by code ("AU12", "au 6") or by FACS name ("lip corner puller")."""
    numbers = (int(match.group(1)) for match in _CODE_RE.finditer(text.lower()))
    found = {f"AU{number:02d}" for number in numbers if number}
    tokens = tokenize(text)
    for start, token in enumerate(tokens):
        if token in _NAME_FIRST_WORDS:
            for length in _NAME_LENGTHS:  # longest first: "lip corner puller", not a prefix
                code = _NAME_WORDS_TO_CODE.get(tuple(tokens[start : start + length]))
                if code:
                    found.add(code)
                    break
    return frozenset(found)


def matching_prototypes(active: Iterable[str]) -> list[str]:
    """Emotions whose prototype AU combination is fully present among the active AUs."""
    active_set = au_codes(active)
    return [
        emotion
        for emotion, combos in EMOTION_PROTOTYPES.items()
        if any(combo <= active_set for combo in combos)
    ]
