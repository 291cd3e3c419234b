"""The emotion-wheel taxonomy: the one mapping from free emotion words to wheel clusters.

Rewards, benchmark metrics and the demo's wheel view all read labels through this module. It
follows the AffectGPT / OV-MER reference exactly (forms -> synonym roots -> wheel clusters, see
`EmotionTaxonomy.cluster`), but builds its tables once, lazily, and memoises every label it maps.

Each wheel/level cluster is also given a bit, so a label set becomes one integer per wheel/level
and set overlaps are `int.bit_count()`s: that is what makes scoring GRPO rollouts inline cheap.
"""

from __future__ import annotations

import csv
import functools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

WHEELS: tuple[str, ...] = ("wheel1", "wheel2", "wheel3", "wheel4", "wheel5")
LEVELS: tuple[str, ...] = ("level1", "level2")
# Every (wheel, level) pair, in the order used by `label_masks` and the metrics.
WHEEL_LEVELS: tuple[tuple[str, str], ...] = tuple((w, lv) for lv in LEVELS for w in WHEELS)


def parse_label_list(value: object) -> list[str]:
    """Parse a label-list cell as AffectGPT does: "[a, b]", "['a', 'b']", "a, b" or a list.

    Drops one leading "[" and one trailing "]", splits on quotes and commas, strips items and drops
    empties. Lists and tuples are used as they are; None, NaN and "" give [].
    """
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays from AffectGPT's npz files
        return parse_label_list(value.tolist())
    if isinstance(value, float):  # pandas' NaN for an empty cell
        return [] if value != value else [str(value)]
    text = str(value)
    if text[:1] == "[":
        text = text[1:]
    if text[-1:] == "]":
        text = text[:-1]
    # Split on quotes and commas (str.replace + split: the same as a regex split, several x faster).
    items = text.replace("'", ",").replace('"', ",").split(",")
    return [label for item in items if (label := item.strip())]


def _resource_dir() -> Path:
    return Path(str(resources.files("affect_llm") / "resources" / "emotion_wheel"))


def read_wheel(path: Path) -> dict[str, dict[str, list[str]]]:
    """Read one wheel CSV into {level1: {level2: [level3, ...]}}; blank cells repeat the one above."""
    tree: dict[str, dict[str, list[str]]] = {}
    last = ["", "", ""]
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for i, column in enumerate(("level1", "level2", "level3")):
                cell = (row.get(column) or "").strip()
                if cell:
                    last[i] = cell.lower()
            level1, level2, level3 = last
            tree.setdefault(level1, {}).setdefault(level2, []).append(level3)
    return tree


def wheel_clusters(tree: dict[str, dict[str, list[str]]], level: str) -> dict[str, str]:
    """Map every word of a wheel to its cluster at `level`, in the reference's traversal order.

    level1: l1, l2 and l3 words map to their l1. level2: l2 and l3 words map to their l2, and an l1
    word maps to the alphabetically first of its l2 children. Later entries overwrite earlier ones.
    """
    clusters: dict[str, str] = {}
    for level1, children in tree.items():
        if level == "level1":
            clusters[level1] = level1
        elif level == "level2":
            clusters[level1] = sorted(children)[0]
        else:
            raise ValueError(f"unknown wheel level {level!r}; expected one of {LEVELS}")
        for level2, leaves in children.items():
            target = level1 if level == "level1" else level2
            clusters[level2] = target
            for level3 in leaves:
                clusters[level3] = target
    return clusters


def read_forms(path: Path) -> dict[str, tuple[str, ...]]:
    """format.csv: every inflected form -> the names it is a form of (a name is a form of itself)."""
    forms: dict[str, list[str]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            name = row["name"]
            for form in parse_label_list(row["format"]):
                forms.setdefault(form, []).append(name)
            forms.setdefault(name, []).append(name)
    return {form: tuple(names) for form, names in forms.items()}


def read_synonyms(path: Path) -> dict[str, frozenset[str]]:
    """synonym.csv: every word -> its synonym roots, merged (union) over the eight runs."""
    roots: dict[str, set[str]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        runs = sorted(
            {c.split("_", 1)[1] for c in reader.fieldnames or [] if c.startswith("word_")}
        )
        for row in reader:
            for run in runs:
                root = row[f"word_{run}"].strip().lower()
                roots.setdefault(root, set()).add(root)
                for synonym in parse_label_list(row[f"synonym_{run}"]):
                    roots.setdefault(synonym.strip().lower(), set()).add(root)
    return {word: frozenset(r) for word, r in roots.items()}


_NO_CLUSTERS = (0,) * len(WHEEL_LEVELS)


@dataclass
class EmotionTaxonomy:
    """The five emotion wheels with their inflection and synonym tables."""

    forms: dict[str, tuple[str, ...]]
    synonyms: dict[str, frozenset[str]]
    trees: dict[str, dict[str, dict[str, list[str]]]]
    clusters: dict[tuple[str, str], dict[str, str]] = field(init=False)
    # Per (wheel, level): cluster name -> bit index, so label sets become integers.
    cluster_bits: dict[tuple[str, str], dict[str, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.clusters = {(w, lv): wheel_clusters(self.trees[w], lv) for (w, lv) in WHEEL_LEVELS}
        self.cluster_bits = {
            key: {name: i for i, name in enumerate(sorted(set(mapping.values())))}
            for key, mapping in self.clusters.items()
        }
        self._roots_cache: dict[str, tuple[str, ...]] = {}
        self._masks_cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def from_directory(cls, root: str | Path) -> EmotionTaxonomy:
        root = Path(root)
        return cls(
            forms=read_forms(root / "format.csv"),
            synonyms=read_synonyms(root / "synonym.csv"),
            trees={w: read_wheel(root / f"{w}.csv") for w in WHEELS},
        )

    def roots(self, label: str) -> tuple[str, ...]:
        """Sorted synonym roots of every name `label` is a form of; () when it is not a known form."""
        cached = self._roots_cache.get(label)
        if cached is None:
            names = self.forms.get(label, ())
            cached = tuple(sorted(r for name in names for r in self.synonyms.get(name, ())))
            if len(self._roots_cache) < 1_000_000:
                self._roots_cache[label] = cached
        return cached

    def cluster(self, label: str, wheel: str, level: str) -> str | None:
        """The wheel cluster of one label (lowercased, stripped), or None when it maps to nothing."""
        mapping = self.clusters[(wheel, level)]
        for root in self.roots(label.lower().strip()):
            if root in mapping:
                return mapping[root]
        return None

    def map_labels(self, labels: Iterable[str], wheel: str, level: str) -> set[str]:
        """The set of clusters that a label list maps to; unknown labels are dropped."""
        found = (self.cluster(label, wheel, level) for label in labels)
        return {c for c in found if c is not None}

    def label_masks(self, label: str) -> tuple[int, ...]:
        """One cluster bit mask per `WHEEL_LEVELS` entry for one label (0 where it maps nowhere)."""
        masks = self._masks_cache.get(label)
        if masks is None:
            masks = tuple(
                1 << self.cluster_bits[key][cluster] if cluster is not None else 0
                for key in WHEEL_LEVELS
                for cluster in [self.cluster(label, *key)]
            )
            if len(self._masks_cache) < 1_000_000:
                self._masks_cache[label] = masks
        return masks

    def set_masks(self, labels: Iterable[str]) -> tuple[int, ...]:
        """One cluster bit mask per `WHEEL_LEVELS` entry for a label set; unknown labels add nothing."""
        masks = _NO_CLUSTERS
        for label in labels:
            one = self.label_masks(label)
            masks = one if masks is _NO_CLUSTERS else tuple(map(operator.or_, masks, one))
        return masks

    def vocabulary(self) -> frozenset[str]:
        """Every word the taxonomy knows: forms, synonyms and wheel words."""
        words = set(self.forms) | set(self.synonyms)
        for mapping in self.clusters.values():
            words.update(mapping)
        return frozenset(words)

    def wheel_words(self) -> frozenset[str]:
        """Every word that is a node of some wheel, at any level."""
        words: set[str] = set()
        for tree in self.trees.values():
            for level1, children in tree.items():
                words.add(level1)
                for level2, leaves in children.items():
                    words.add(level2)
                    words.update(leaves)
        return frozenset(words)

    def emotion_words(self) -> frozenset[str]:
        """What reads as an emotion word in free text: wheel words, their inflections, and the
        synonym table's words as written.

        Scoring maps every inflection of every synonym too, which is right for labels but too broad
        for finding them in prose ("clearly" is an inflection of the synonym "clear" of "focused").
        """
        wheel_words = self.wheel_words()
        inflections = {f for f, names in self.forms.items() if any(n in wheel_words for n in names)}
        return frozenset(wheel_words | inflections | set(self.synonyms))

    def describe(self, label: str) -> dict[str, dict[str, str | None]]:
        """{wheel: {level1: ..., level2: ...}} for one label: what the demo's wheel view shows."""
        return {w: {lv: self.cluster(label, w, lv) for lv in LEVELS} for w in WHEELS}


@functools.cache
def get_taxonomy(root: str | None = None) -> EmotionTaxonomy:
    """The taxonomy shipped in the package (or read from `root`), built once and then cached."""
    return EmotionTaxonomy.from_directory(root or _resource_dir())


def level_indices(level: str) -> Sequence[int]:
    """Indices into `WHEEL_LEVELS` for one level."""
    if level not in LEVELS:
        raise ValueError(f"unknown wheel level {level!r}; expected one of {LEVELS}")
    return [i for i, (_, lv) in enumerate(WHEEL_LEVELS) if lv == level]
