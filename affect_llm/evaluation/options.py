"""Typed options of the benchmark runners: library code takes these, never an argparse Namespace.

The command lines (eval/*.py, `affect-llm eval ...`) parse into a Namespace and convert it once
with `from_namespace`; Python callers build the dataclass directly.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from typing import TypeVar

T = TypeVar("T", bound="RunnerOptions")


@dataclass
class RunnerOptions:
    """Model, decoding and output options shared by the three runners (None: the YAML's value)."""

    out: str = field(default="", metadata={"help": "output folder"})
    config: str | None = field(default=None, metadata={"help": "runner YAML"})
    model: list[str] = field(
        default_factory=list,
        metadata={"help": "checkpoint directories ('tiny': random tiny model)"},
    )
    device: str = field(default="cpu", metadata={"help": "torch device"})
    dtype: str | None = field(default=None, metadata={"help": "model dtype (default: saved)"})
    batch_size: int | None = field(default=None, metadata={"help": "samples per generate() call"})
    max_new_tokens: int | None = field(default=None, metadata={"help": "longest answer in tokens"})
    do_sample: bool | None = field(default=None, metadata={"help": "sample instead of greedy"})
    temperature: float | None = field(default=None, metadata={"help": "sampling temperature"})
    top_p: float | None = field(default=None, metadata={"help": "nucleus sampling mass"})
    num_beams: int | None = field(default=None, metadata={"help": "beam search width"})
    seed: int | None = field(default=None, metadata={"help": "random seed"})
    cues: list[str] | None = field(default=None, metadata={"help": "cue texts put in the prompt"})
    num_frames: int | None = field(default=None, metadata={"help": "frames sampled per clip"})
    limit: int | None = field(default=None, metadata={"help": "only the first N samples"})
    overwrite: bool = field(default=False, metadata={"help": "discard earlier answers"})
    no_progress: bool = field(default=False, metadata={"help": "hide progress bars"})

    @classmethod
    def from_namespace(cls: type[T], args: argparse.Namespace) -> T:
        """The options of a parsed command line; an option without a field is a bug (raises)."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(vars(args)) - names)
        if unknown:
            raise TypeError(f"{cls.__name__} has no field for option(s) {', '.join(unknown)}")
        return cls(**vars(args))


@dataclass
class MerUniBenchOptions(RunnerOptions):
    """MER-UniBench runner options."""

    datasets: list[str] | None = field(default=None, metadata={"help": "only these datasets"})
    data: list[str] = field(default_factory=list, metadata={"help": "NAME=DIR dataset folders"})
    predictions: list[str] = field(
        default_factory=list, metadata={"help": "NAME=FILE: scoring-only"}
    )
    name: str | None = field(default=None, metadata={"help": "row name of scored predictions"})
    extractor: str | None = field(default=None, metadata={"help": "'rule' or 'llm'"})
    extractor_model: str | None = field(
        default=None, metadata={"help": "local LM for --extractor llm"}
    )


@dataclass
class ClosedSetOptions(RunnerOptions):
    """DFEW / MAFW runner options."""

    datasets: list[str] | None = field(default=None, metadata={"help": "dfew and/or mafw"})
    folds: list[int] | None = field(default=None, metadata={"help": "test folds (default 1-5)"})
    predictions: list[str] = field(
        default_factory=list, metadata={"help": "NAME=FILE: scoring-only"}
    )
    name: str | None = field(default=None, metadata={"help": "row name of scored predictions"})


@dataclass
class EmerOptions(RunnerOptions):
    """EMER runner options."""

    judge_model: str | None = field(default=None, metadata={"help": "local judge LM directory"})
    judge_max_new_tokens: int = field(default=24, metadata={"help": "judge answer length"})
