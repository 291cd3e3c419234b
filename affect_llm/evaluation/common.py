"""What the three benchmark runners share: YAML configs, generation options, checkpoint names,
and the command-line entry point (the flags: `affect_llm.options`)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from affect_llm.errors import InputError, disk_full_line, is_disk_full, one_line
from affect_llm.evaluation.generation import GenerationConfig
from affect_llm.evaluation.options import RunnerOptions
from affect_llm.perception.clip import PerceptionConfig
from affect_llm.safe_text import printable

Options = TypeVar("Options", bound=RunnerOptions)
T = TypeVar("T")

PATH_KEYS = ("root", "predictions", "reference")


def load_config(path: str | os.PathLike | None) -> dict[str, Any]:
    """A runner YAML: relative dataset paths are resolved against the YAML file's folder."""
    if path is None:
        return {}
    from affect_llm.errors import InputError
    from affect_llm.yaml_files import load_yaml

    path = Path(path)
    if not path.is_file():
        raise InputError(f"--config {path}: no such file")
    config = load_yaml(path, "--config") or {}  # bounded, plain values, one-line errors
    if not isinstance(config, dict):
        raise InputError(f"{path}: expected a YAML mapping (datasets:, generation:, ...)")
    for section, value in config.items():
        if section in SECTIONS and value is not None and not isinstance(value, dict):
            raise InputError(f"{path}: {section}: expected a mapping, got {_kind(value)}")
    for section in ("datasets", "validation"):
        for name, entry in (config.get(section) or {}).items():
            if not isinstance(entry, dict):
                raise InputError(f"{path}: {section}.{name} must be a mapping with at least `root`")
            for key in PATH_KEYS:
                if entry.get(key) is not None and not isinstance(entry[key], str):
                    raise InputError(
                        f"{path}: {section}.{name}.{key}: expected a path, got {_kind(entry[key])}"
                    )
                if entry.get(key) and not os.path.isabs(entry[key]):
                    entry[key] = str((path.parent / entry[key]).resolve())
    return config


SECTIONS = ("datasets", "validation", "generation", "perception", "extractor", "judge")


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {str(value)[:40]!r}"


def _matches(value: Any, annotation: Any) -> bool:
    """Whether a YAML value fits a config field's type (int, float, bool, str, tuples, Optional)."""
    import types
    import typing

    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arm) for arm in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is Any:
        return True
    if origin in (tuple, list):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return isinstance(value, (list, tuple)) and all(
            _matches(item, args[0]) for item in value if args
        )
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def _settings(section: str, values: dict[str, Any], config: type[T]) -> T:
    """`config` built from YAML `section:` values; an unknown key or a value of the wrong type
    is bad input (one line), checked before anything is built."""
    import typing

    from affect_llm.errors import InputError

    unknown = set(values) - {f.name for f in fields(config)}
    if unknown:
        raise InputError(f"unknown {section} settings: {', '.join(sorted(unknown))}")
    hints = typing.get_type_hints(config)
    for name, value in values.items():
        if not _matches(value, hints[name]):
            hint = hints[name]
            expected = getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
            raise InputError(f"{section}.{name}: expected {expected}, got {_kind(value)}")
    return config(**values)


def generation_config(options: RunnerOptions, config: dict[str, Any]) -> GenerationConfig:
    """YAML `generation:` settings overridden by the command-line flags that were given."""
    values = {**(config.get("generation") or {}), **options.overrides(GenerationConfig)}
    if "cues" in values:
        values["cues"] = tuple(values["cues"])
    return _settings("generation", values, GenerationConfig)


def perception_config(options: RunnerOptions, config: dict[str, Any]) -> PerceptionConfig:
    """YAML `perception:` settings (any PerceptionConfig field), plus --num-frames."""
    values = {**(config.get("perception") or {}), **options.overrides(PerceptionConfig)}
    return _settings("perception", values, PerceptionConfig)


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


@dataclass
class Checkpoint:
    """A loaded model with the run's decoding, perception and output options: what every runner
    needs to answer a dataset's items into a resumable responses.jsonl."""

    path: str
    model: Any
    processor: Any
    generation: GenerationConfig
    perception: PerceptionConfig
    options: RunnerOptions

    @classmethod
    def load(
        cls,
        path: str,
        options: RunnerOptions,
        generation: GenerationConfig,
        perception: PerceptionConfig,
    ) -> Checkpoint:
        from affect_llm.evaluation.generation import load_model

        model, processor = load_model(
            path, options.device, options.dtype, generation.seed, options.trust_remote_code
        )
        return cls(path, model, processor, generation, perception, options)

    def resume_settings(self) -> dict[str, Any]:
        """What an earlier responses.jsonl must have been made with to be resumed."""
        from affect_llm.evaluation.generation import model_fingerprint

        return {
            "model": self.path,
            # the model itself, not only its path: a folder retrained in place is another model
            "model_fingerprint": model_fingerprint(self.path, self.generation.seed),
            "perception": self.perception.to_dict(),
        }

    def answer_inputs(self):
        """How a clip becomes model inputs (None: AffectLLM's own reader in generation.py)."""
        return None

    def answer(self, items: Sequence, responses: Path, task: str) -> dict[str, dict[str, Any]]:
        """Generate the answers `responses` lacks (task: a question of data/templates.py); its
        rows {name: row}, failed samples included (they carry `error`)."""
        from affect_llm.evaluation.generation import generate_answers, read_done

        generate_answers(
            items,
            self.model,
            self.processor,
            responses,
            task,
            self.generation,
            self.perception,
            cache_dir=Path(self.options.out) / "cache",
            settings=self.resume_settings(),
            progress=not self.options.no_progress,
            overwrite=self.options.overwrite,
            inputs=self.answer_inputs(),
        )
        return read_done(responses)


def named_paths(values: Sequence[str], flag: str, known: Sequence[str]) -> dict[str, str]:
    """{name: absolute path} of `--data` / `--predictions` NAME=PATH values; NAME one of `known`."""
    paths = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or name not in known:
            raise ValueError(
                f"{flag} {value!r}: expected NAME=PATH with NAME one of {', '.join(known)}"
            )
        paths[name] = str(Path(path).resolve())
    return paths


def select_items(items: list, limit: int | None) -> list:
    return items[:limit] if limit else items


def run_main(
    run: Callable[[Options], dict[str, Any]],
    options: Options,
    scores: Callable[[dict[str, Any]], dict[str, Any]],
    wrote: str,
) -> int:
    """A runner's command line: one JSON line of scores per checkpoint and where the reports
    went, or exit 2 with one line when the input is bad."""
    try:
        summary = run(options)
    except (InputError, FileNotFoundError, ValueError) as error:
        print(f"error: {printable(one_line(error), keep_newlines=False)}", file=sys.stderr)
        return 2
    except OSError as error:
        if not is_disk_full(error):
            raise
        print(f"error: {disk_full_line(error)}", file=sys.stderr)
        return 2
    for checkpoint in summary["checkpoints"]:
        print(json.dumps({"checkpoint": checkpoint["name"], **scores(checkpoint)}))
    print(f"wrote {Path(options.out) / 'results.json'}, {wrote}")
    return 0
