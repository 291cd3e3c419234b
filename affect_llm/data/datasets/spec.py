"""A benchmark family's spec: its reader, the layouts it detects, the names a prediction file may
use for an item, and its `affect-llm build` options. Layout detection and description both read
the spec's `layouts`, so what a layout looks like on disk is written down once."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from affect_llm.data.datasets.reading import hits, missing, one_file
from affect_llm.data.items import SourceItem
from affect_llm.errors import InputError

KIND_NAMES = {"processed": "MERBench processed layout", "original": "original release layout"}


@dataclass(frozen=True)
class Layout:
    """Which layout a dataset folder is in, and the label file (or folder) it is read from."""

    dataset: str
    kind: str  # "processed" (MERBench <ds>-process) or "original" (the dataset's release)
    labels: Path

    def describe(self) -> str:
        return f"{self.dataset}: {KIND_NAMES[self.kind]} (labels from {self.labels})"


class _Wildcards(dict):
    """Pattern fields the caller did not give match anything (for describing a folder)."""

    def __missing__(self, key: str) -> str:
        return "*"


@dataclass(frozen=True)
class LayoutRule:
    """How one layout's label file is found: globs under ROOT, tried in order.

    A pattern may name reader arguments in braces (`{split}_sent_emo.csv`); describing a folder
    without them matches any value. `folder`: the label files are many (IEMOCAP's EmoEvaluation
    `*.txt`) and the layout's labels are the one folder holding them.
    """

    kind: str  # a key of KIND_NAMES
    patterns: tuple[str, ...]
    expected: str = ""  # what the error names when nothing matches (default: the patterns)
    folder: bool = False

    def paths(self, **fields: object) -> tuple[str, ...]:
        return tuple(p.format_map(_Wildcards(fields)) for p in self.patterns)

    def expectation(self, **fields: object) -> str:
        text = self.expected or " / ".join(self.patterns)
        return text.format_map(_Wildcards(fields))

    def find(self, root: Path, **fields: object) -> Path | None:
        """The layout's label file (or folder) under ROOT; two copies are an error."""
        if not self.folder:
            return one_file(root, *self.paths(**fields))
        for pattern in self.paths(**fields):
            folders = sorted({path.parent for path in hits(root, pattern)})
            if len(folders) > 1:
                shown = ", ".join(map(str, folders[:2]))
                raise InputError(
                    f"{root}: {len(folders)} {Path(pattern).parent} folders ({shown}); point ROOT at one copy"
                )
            if folders:
                return folders[0]
        return None


def detect(
    dataset: str, rules: Sequence[LayoutRule], root: str | os.PathLike, **fields: object
) -> Layout:
    """The layout whose label file is on disk; two layouts in one folder is an error."""
    root = Path(root)
    if not root.exists():
        raise InputError(f"dataset folder {root} does not exist")
    found: list[Layout] = []
    for rule in rules:
        path = rule.find(root, **fields)
        if path is not None and all(layout.labels != path for layout in found):
            found.append(Layout(dataset, rule.kind, path))
    if len(found) > 1:
        first, second = found[:2]
        raise InputError(
            f"{root}: holds both the {first.kind} ({first.labels.name}) and the {second.kind} ({second.labels.name}) {dataset} layout; point ROOT at one of them"
        )
    if found:
        return found[0]
    raise missing(root, " or ".join(rule.expectation(**fields) for rule in rules))


@dataclass(frozen=True)
class BuildOption:
    """An `affect-llm build SOURCE` option passed to the reader as the keyword `dest`."""

    flag: str
    help: str
    type: Callable[[str], object] | None = None
    choices: tuple[str, ...] | None = None
    default: object = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: `read(root, split=..., **options)` gives its items; the rest says where its
    labels are, what else an item may be called, and what `affect-llm build NAME` accepts."""

    name: str
    read: Callable[..., list[SourceItem]]
    help: str  # one line for `affect-llm build --help`
    layouts: tuple[LayoutRule, ...]
    aliases: Callable[[str], Sequence[str]] | None = None  # other names of an item
    options: tuple[BuildOption, ...] = ()

    def describe(self, root: str | os.PathLike) -> str:
        """One line naming the layout under ROOT (the first layout with a label file there)."""
        root = Path(root)
        for rule in self.layouts if root.exists() else ():
            for pattern in rule.paths():
                found = hits(root, pattern)
                if found:
                    labels = found[0].parent if rule.folder else found[0]
                    return Layout(self.name, rule.kind, labels).describe()
        return f"{self.name}: no label file of a known layout under {root}"
