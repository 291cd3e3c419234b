"""The benchmark families, one module each; adding a family is one module plus its line here.

Every family module exports `SPECS`, its `DatasetSpec`s. `affect-llm build`, `read_dataset`,
`describe_layout` and the prediction-name aliases all read them from `FAMILIES`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import affect_llm.data.datasets.dfew as dfew
import affect_llm.data.datasets.emer as emer
import affect_llm.data.datasets.iemocap as iemocap
import affect_llm.data.datasets.mafw as mafw
import affect_llm.data.datasets.meld as meld
import affect_llm.data.datasets.mer as mer
import affect_llm.data.datasets.mer_caption_plus as mer_caption_plus
import affect_llm.data.datasets.merr as merr
import affect_llm.data.datasets.mmsa as mmsa
import affect_llm.data.datasets.ovmerd as ovmerd
import affect_llm.data.datasets.r1_omni as r1_omni
from affect_llm.data.datasets.spec import DatasetSpec
from affect_llm.data.items import SourceItem
from affect_llm.errors import InputError

FAMILIES = (
    mer_caption_plus,
    ovmerd,
    merr,
    r1_omni,
    mer,
    dfew,
    mafw,
    meld,
    iemocap,
    mmsa,
    emer,
)


def dataset_specs() -> dict[str, DatasetSpec]:
    """name -> spec of every registered family, in `FAMILIES` order."""
    return {spec.name: spec for family in FAMILIES for spec in family.SPECS}


def dataset_spec(name: str) -> DatasetSpec:
    specs = dataset_specs()
    if name not in specs:
        raise InputError(f"unknown dataset {name!r}; known: {', '.join(specs)}")
    return specs[name]


class Readers(Mapping[str, Callable[..., list[SourceItem]]]):
    """name -> reader of every registered spec, looked up in the registry on each use."""

    def __getitem__(self, name: str) -> Callable[..., list[SourceItem]]:
        return dataset_specs()[name].read

    def __iter__(self) -> Iterator[str]:
        return iter(dataset_specs())

    def __len__(self) -> int:
        return len(dataset_specs())


DATASETS = Readers()


def read_dataset(name: str, root: str | os.PathLike, **kwargs) -> list[SourceItem]:
    """The items of dataset `name` (a key of DATASETS) from ROOT in any of its layouts."""
    spec = dataset_spec(name)
    if not Path(root).exists():
        raise InputError(f"dataset folder {os.fspath(root)} does not exist")
    return spec.read(root, **kwargs)


def describe_layout(name: str, root: str | os.PathLike) -> str:
    """One line saying which layout of dataset `name` is under ROOT (for `build` and `eval`)."""
    return dataset_spec(name).describe(root)


def prediction_aliases(source: str, name: str) -> tuple[str, ...]:
    """Other names an item `name` of dataset `source` may have in a prediction file (the
    spec's aliases, and each name with `.mp4`)."""
    spec = dataset_specs().get(source)
    aliases = list(spec.aliases(name)) if spec and spec.aliases else []
    aliases += [f"{a}.mp4" for a in (name, *aliases)]
    return tuple(dict.fromkeys(a for a in aliases if a != name))
