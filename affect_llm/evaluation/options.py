"""Typed options of the benchmark runners: the one home of their command-line flags.

`affect_llm.options.build_parser` turns these dataclasses into the command lines (eval/*.py,
`affect-llm eval ...`) with transformers' `HfArgumentParser`: every field is a flag, spelled
`--batch-size` or `--batch_size`, with the field's `help`. Library code takes these, never an
argparse Namespace; Python callers build the dataclass directly.

A decoding or perception field left at None keeps the YAML's `generation:` / `perception:` value,
else the default of `GenerationConfig` / `PerceptionConfig`, whose help text it reuses.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal

from affect_llm.data.frames import FrameSettings
from affect_llm.evaluation.generation import TINY_MODEL, GenerationConfig
from affect_llm.evaluation.registry import DFEW_MAFW, MER_UNIBENCH
from affect_llm.perception.clip import PerceptionConfig

_FRAMES = FrameSettings()  # frame sampling of the Omni / VL families (`affect_llm.data.frames`)


def _help_of(config: type, name: str, **metadata: Any) -> dict[str, Any]:
    """Metadata of a flag overriding `config.name`: that field's help, plus its default."""
    source = next(f for f in fields(config) if f.name == name)
    default = source.default if source.default is not MISSING else source.default_factory()
    if isinstance(default, tuple):
        default = " ".join(default)
    help_text = f"{source.metadata['help'].rstrip('.')} (default: the YAML's, else {default})"
    return {"help": help_text, **metadata}


@dataclass
class RunnerOptions:
    """Model, decoding and output options shared by the three runners."""

    out: str = field(metadata={"help": "output folder (answers, results.json, results.md)"})
    config: str | None = field(default=None, metadata={"help": "runner YAML (see eval/*.yaml)"})
    model: list[str] = field(
        default_factory=list,
        metadata={
            "metavar": "DIR",
            "help": "saved AffectLLM model directory, or a Qwen2.5-Omni / Qwen2.5-VL / "
            "Qwen2-Audio checkpoint folder (zero-shot or trained); give several checkpoints to "
            "report each "
            f"of them ('{TINY_MODEL}': a random-init tiny model, for smoke tests)",
        },
    )
    trust_remote_code: bool = field(
        default=False,
        metadata={
            "help": "run Python code that a model folder (--model, the judge or extractor LLM) "
            "ships in auto_map; off by default: such a folder is refused with one line"
        },
    )
    device: str = field(default="cpu", metadata={"help": "torch device, e.g. cpu or cuda"})
    dtype: str | None = field(
        default=None, metadata={"help": "model dtype, e.g. bfloat16 (default: the saved one)"}
    )
    batch_size: int | None = field(default=None, metadata=_help_of(GenerationConfig, "batch_size"))
    max_new_tokens: int | None = field(
        default=None, metadata=_help_of(GenerationConfig, "max_new_tokens")
    )
    # `--do-sample` alone means true, as a store_true flag did
    do_sample: bool | None = field(
        default=None, metadata=_help_of(GenerationConfig, "do_sample", nargs="?", const=True)
    )
    temperature: float | None = field(
        default=None, metadata=_help_of(GenerationConfig, "temperature")
    )
    top_p: float | None = field(default=None, metadata=_help_of(GenerationConfig, "top_p"))
    num_beams: int | None = field(default=None, metadata=_help_of(GenerationConfig, "num_beams"))
    seed: int | None = field(default=None, metadata=_help_of(GenerationConfig, "seed"))
    # `--cues` with no value: a prompt without cue texts
    cues: list[str] | None = field(
        default=None, metadata=_help_of(GenerationConfig, "cues", nargs="*")
    )
    num_frames: int | None = field(default=None, metadata=_help_of(PerceptionConfig, "num_frames"))
    video_fps: float | None = field(
        default=None,
        metadata={
            "help": "Omni / VL models: frames sampled per second of video "
            f"(default: {_FRAMES.fps:g})"
        },
    )
    video_max_frames: int | None = field(
        default=None,
        metadata={
            "help": f"Omni / VL models: at most this many frames (default: {_FRAMES.max_frames})"
        },
    )
    video_max_pixels: int | None = field(
        default=None,
        metadata={
            "help": "Omni / VL models: at most this many pixels a frame "
            f"(default: {_FRAMES.max_pixels})"
        },
    )
    limit: int | None = field(
        default=None,
        metadata={"help": "evaluate only the first N samples of each dataset (smoke tests)"},
    )
    overwrite: bool = field(
        default=False, metadata={"help": "discard earlier answers instead of resuming"}
    )
    no_progress: bool = field(default=False, metadata={"help": "hide the progress bars"})

    def overrides(self, config: type) -> dict[str, Any]:
        """The `config` (GenerationConfig or PerceptionConfig) fields given on the command line."""
        names = {f.name for f in fields(self)}
        return {
            f.name: getattr(self, f.name)
            for f in fields(config)
            if f.name in names and getattr(self, f.name) is not None
        }


def _predictions_help(layouts: str) -> dict[str, Any]:
    return {
        "metavar": "NAME=FILE",
        "help": f"scoring-only mode: score these prediction files ({layouts}) instead of generating",
    }


_NAME_HELP = {"help": "row name of the scored predictions (scoring-only; default 'predictions')"}


@dataclass
class MerUniBenchOptions(RunnerOptions):
    """MER-UniBench runner options."""

    out: str = field(
        metadata={"help": "output folder (answers, results.json, results.md, results.png)"}
    )
    config: str | None = field(
        default=None,
        metadata={
            "help": "YAML with `datasets:` {name: {root, split?, predictions?}}, optional "
            "`validation:`, `generation:`, `perception:`, `extractor:` (see eval/mer_unibench.yaml)"
        },
    )
    datasets: list[str] | None = field(
        default=None,
        metadata={
            "choices": list(MER_UNIBENCH),
            "metavar": "NAME",
            "help": "evaluate only these datasets (default: every dataset in the config): "
            + ", ".join(MER_UNIBENCH),
        },
    )
    data: list[str] = field(
        default_factory=list,
        metadata={
            "metavar": "NAME=DIR",
            "help": "dataset folders given on the command line (add to or replace the config's)",
        },
    )
    predictions: list[str] = field(
        default_factory=list,
        metadata=_predictions_help(
            "JSONL name,response; CSV name,openset|sentiment|response; "
            "AffectGPT npz name2reason or filenames/fileitems"
        ),
    )
    name: str | None = field(default=None, metadata=_NAME_HELP)
    extractor: Literal["rule", "llm"] | None = field(
        default=None,
        metadata={
            "help": "label extractor: 'rule' (deterministic, default) or 'llm' "
            "(a local causal LM, AffectGPT-style)"
        },
    )
    extractor_model: str | None = field(
        default=None,
        metadata={"metavar": "DIR", "help": "local causal LM directory for --extractor llm"},
    )


@dataclass
class ClosedSetOptions(RunnerOptions):
    """DFEW / MAFW runner options."""

    out: str = field(
        metadata={"help": "output folder (answers, results.json, results.md, confusion PNGs)"}
    )
    config: str | None = field(
        default=None,
        metadata={
            "help": "YAML with `datasets:` {dfew|mafw: {root, folds}}, `generation:`, "
            "`perception:` (see eval/dfew_mafw.yaml)"
        },
    )
    datasets: list[str] | None = field(
        default=None,
        metadata={
            "choices": list(DFEW_MAFW),
            "help": "evaluate only these (default: all in the config)",
        },
    )
    folds: list[int] | None = field(
        default=None, metadata={"help": "folds to evaluate (default: the config's, else 1-5)"}
    )
    predictions: list[str] = field(
        default_factory=list,
        metadata=_predictions_help(
            "dfew=FILE mafw=FILE; CSV name,response|openset, JSONL, AffectGPT npz"
        ),
    )
    name: str | None = field(default=None, metadata=_NAME_HELP)


@dataclass
class EmerOptions(RunnerOptions):
    """EMER runner options."""

    out: str = field(
        metadata={"help": "output folder (answers, judge verdicts, results.json, results.md)"}
    )
    config: str | None = field(
        default=None,
        metadata={
            "help": "YAML with `datasets: {emer: {root, reference?}}`, optional `judge: {model}` "
            "(see eval/emer.yaml)"
        },
    )
    judge_model: str | None = field(
        default=None,
        metadata={
            "metavar": "DIR",
            "help": "local causal LM directory used as judge (default: the config's; none: "
            "proxy only)",
        },
    )
    judge_max_new_tokens: int = field(default=24, metadata={"help": "judge answer length"})
