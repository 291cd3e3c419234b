"""What the three benchmark runners share: YAML configs, generation options, checkpoint names,
and the command-line entry point."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from affect_llm.evaluation.generation import TINY_MODEL, GenerationConfig
from affect_llm.perception.clip import PerceptionConfig

PATH_KEYS = ("root", "predictions", "reference")


def load_config(path: str | os.PathLike | None) -> dict[str, Any]:
    """A runner YAML: relative dataset paths are resolved against the YAML file's folder."""
    if path is None:
        return {}
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config {path} does not exist")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for section in ("datasets", "validation"):
        for name, entry in (config.get(section) or {}).items():
            if not isinstance(entry, dict):
                raise ValueError(f"{path}: {section}.{name} must be a mapping with at least `root`")
            for key in PATH_KEYS:
                if entry.get(key) and not os.path.isabs(entry[key]):
                    entry[key] = str((path.parent / entry[key]).resolve())
    return config


def add_generation_arguments(parser: argparse.ArgumentParser) -> None:
    """Model, decoding and perception options (defaults come from the YAML, then these)."""
    group = parser.add_argument_group("model and generation")
    group.add_argument(
        "--model",
        nargs="+",
        default=[],
        metavar="DIR",
        help="saved AffectLLM model directory; give several checkpoints to report each of them "
        f"('{TINY_MODEL}': a random-init tiny model, for smoke tests)",
    )
    group.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default: cpu)")  # fmt: skip
    group.add_argument("--dtype", default=None, help="model dtype, e.g. bfloat16 (default: saved)")
    defaults = GenerationConfig()
    group.add_argument("--batch-size", type=int, help=f"samples per generate() call (default {defaults.batch_size})")  # fmt: skip
    group.add_argument("--max-new-tokens", type=int, help=f"longest answer in tokens (default {defaults.max_new_tokens})")  # fmt: skip
    group.add_argument("--do-sample", action="store_true", default=None, help="sample instead of greedy decoding (default: greedy)")  # fmt: skip
    group.add_argument("--temperature", type=float, help="sampling temperature (with --do-sample)")
    group.add_argument("--top-p", type=float, help="nucleus sampling mass (with --do-sample)")
    group.add_argument("--num-beams", type=int, help="beam search width (default 1)")
    group.add_argument("--seed", type=int, help=f"random seed, recorded in results.json (default {defaults.seed})")  # fmt: skip
    group.add_argument("--cues", nargs="*", help="cue texts put in the prompt: subtitle aus body audio (default: all)")  # fmt: skip
    group.add_argument("--num-frames", type=int, help="frames sampled per clip (default 8)")
    group.add_argument("--limit", type=int, help="evaluate only the first N samples of each dataset (smoke tests)")  # fmt: skip
    group.add_argument("--overwrite", action="store_true", help="discard earlier answers instead of resuming")  # fmt: skip
    group.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def generation_config(args: argparse.Namespace, config: dict[str, Any]) -> GenerationConfig:
    """YAML `generation:` settings overridden by the command-line flags that were given."""
    values = dict(config.get("generation") or {})
    for key in ("batch_size", "max_new_tokens", "do_sample", "temperature", "top_p", "num_beams", "seed", "cues"):  # fmt: skip
        if getattr(args, key, None) is not None:
            values[key] = getattr(args, key)
    if "cues" in values:
        values["cues"] = tuple(values["cues"])
    unknown = set(values) - set(GenerationConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown generation settings: {', '.join(sorted(unknown))}")
    return GenerationConfig(**values)


def perception_config(args: argparse.Namespace, config: dict[str, Any]) -> PerceptionConfig:
    """YAML `perception:` settings (any PerceptionConfig field), plus --num-frames."""
    values = dict(config.get("perception") or {})
    if getattr(args, "num_frames", None) is not None:
        values["num_frames"] = args.num_frames
    return PerceptionConfig(**values)


def checkpoint_names(models: list[str]) -> list[str]:
    """Short unique names for the model directories (their folder names, numbered if repeated)."""
    names: list[str] = []
    for model in models:
        base = Path(model.rstrip("/")).name or "model"
        name, count = base, 2
        while name in names:
            name, count = f"{base}-{count}", count + 1
        names.append(name)
    return names


def select_items(items: list, limit: int | None) -> list:
    return items[:limit] if limit else items


def run_main(
    run: Callable[[argparse.Namespace], dict[str, Any]],
    args: argparse.Namespace,
    scores: Callable[[dict[str, Any]], dict[str, Any]],
    wrote: str,
    errors: tuple[type[Exception], ...] = (FileNotFoundError, ValueError),
) -> int:
    """A runner's command line: one JSON line of scores per checkpoint and where the reports
    went, or exit 2 with one line when the input is bad."""
    try:
        summary = run(args)
    except errors as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for checkpoint in summary["checkpoints"]:
        print(json.dumps({"checkpoint": checkpoint["name"], **scores(checkpoint)}))
    print(f"wrote {Path(args.out) / 'results.json'}, {wrote}")
    return 0
