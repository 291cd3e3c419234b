"""What a recipe is about to train on, said and checked before the first step.

A researcher who points a recipe at their own build folder must see exactly which rows it trains
on: rows per source (each build folder, the synthetic set), rows dropped and why (counted, with the
first few ids), the task, the cues, the modalities the prompts carry and the first prompt. Data
that cannot train what was asked (every row of a folder dropped, candidates covering none of its
labels, a completion length too short for any target answer, GRPO answer rewards on targets
without an `<answer>` block) is an InputError before any step runs.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from affect_llm.errors import InputError
from affect_llm.training.config import AffectDataConfig

SHOWN_IDS = 3  # ids listed per drop reason


@dataclass
class SourceReport:
    """One source of training rows: a build folder or the synthetic set."""

    source: str
    rows: int
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)

    def drop_lines(self) -> list[str]:
        """'N reason: id, id, id ...' per reason, most frequent first."""
        reasons = Counter(reason for _, reason in self.dropped)
        lines = []
        for reason, count in reasons.most_common():
            ids = [i for i, r in self.dropped if r == reason]
            shown = ", ".join(ids[:SHOWN_IDS]) + (" ..." if len(ids) > SHOWN_IDS else "")
            lines.append(f"{count} {reason}: {shown}")
        return lines


@dataclass
class DataReport:
    """The summary a recipe prints before training."""

    sources: list[SourceReport]
    task: str
    cues: list[str]
    modalities: dict[str, int]  # placeholder -> rows whose prompt carries it
    first_prompt: str

    @property
    def rows(self) -> int:
        return sum(source.rows for source in self.sources)

    def lines(self) -> list[str]:
        out = [f"training rows: {self.rows}"]
        for source in self.sources:
            dropped = f", {len(source.dropped)} dropped" if source.dropped else ""
            out.append(f"  {source.source}: {source.rows} rows{dropped}")
            out.extend(f"    dropped {line}" for line in source.drop_lines())
        out.append(f"task: {self.task}")
        out.append(f"cues in the prompt: {', '.join(self.cues) or 'none'}")
        shown = ", ".join(f"{name} {count}/{self.rows}" for name, count in self.modalities.items())
        out.append(f"modalities: {shown}")
        out.append("first prompt: " + self.first_prompt.replace("\n", " | "))
        return out


def _samples(path: str) -> list[dict[str, Any]]:
    from affect_llm.data.schema import read_samples

    try:
        return read_samples(path)
    except ValueError as error:  # another schema version, a line that is not JSON
        raise InputError(str(error)) from None


def _sample_labels(sample: dict) -> list[str]:
    return [sample["label"]] if sample.get("label") else list(sample.get("openset") or [])


def check_candidates(path: str, samples: list[dict], config: AffectDataConfig) -> None:
    """One-hot candidates must cover at least one label of the folder."""
    if not config.candidates or (config.task or "onehot") != "onehot":
        return
    labels = Counter(label for sample in samples for label in _sample_labels(sample)[:1])
    if labels and not set(labels) & set(config.candidates):
        found = ", ".join(f"{label} ({n})" for label, n in labels.most_common(8))
        raise InputError(
            f"candidates [{', '.join(config.candidates)}] cover none of the labels in {path} "
            f"(found: {found}); list the folder's labels as candidates, or use task: openset"
        )


def load_training_data(
    config: AffectDataConfig, processor, split: str = "train"
) -> tuple[list[dict[str, Any]], Callable[[dict], dict], DataReport]:
    """The rows of every configured build folder plus the synthetic set, one media loader, and
    the report of what was kept and dropped; raises InputError when a folder gives no rows."""
    from affect_llm.training.data import CachedMedia, combine_media, training_rows
    from affect_llm.training.setup import face_input
    from affect_llm.training.synthetic import media_lookup, synthetic_rows

    rows: list[dict[str, Any]] = []
    loaders = []
    sources = []
    splits = config.dataset_splits
    for path in config.dataset_paths:
        samples = _samples(path)
        in_split = [s for s in samples if s.get("split", "train") in splits]
        dropped = [
            (str(s.get("id")), f"in split {s.get('split')!r}, not in {', '.join(splits)}")
            for s in samples
            if s.get("split", "train") not in splits
        ]
        check_candidates(path, in_split, config)
        not_rendered: list[tuple[str, str]] = []
        found = training_rows(
            path,
            splits=splits,
            task=config.task,
            seed=config.template_seed,
            cues=config.cues,
            candidates=config.candidates or None,
            face_input=face_input(processor),
            dropped=not_rendered,
        )
        dropped += [(i, reason.removeprefix(f"{i}: ")) for i, reason in not_rendered]
        source = SourceReport(os.fspath(path), len(found), dropped)
        if not found:
            why = "; ".join(source.drop_lines()) or "the folder has no samples"
            raise InputError(f"dataset_paths: no training rows from {path} ({why})")
        sources.append(source)
        rows.extend(found)
        loaders.append(CachedMedia(path, face_input(processor), config.use_cached_features))
    if config.synthetic_samples:
        if face_input(processor) != "aus":
            raise InputError("the synthetic set carries AU sequences: use face_encoder 'au'")
        synthetic, media = synthetic_rows(
            config.synthetic_samples, config.synthetic_seed, config.synthetic_modality, split
        )
        sources.append(SourceReport("synthetic", len(synthetic)))
        rows.extend(synthetic)
        loaders.append(media_lookup(media))
    if not rows:
        raise InputError("no training rows: set dataset_paths and/or synthetic_samples")
    prompts = [row["prompt"][0]["content"] for row in rows]
    report = DataReport(
        sources=sources,
        task=config.task or "each row's own (from its labels file)",
        cues=list(config.cues),
        modalities={
            "face": sum("<|face|>" in p for p in prompts),
            "audio": sum("<|audio|>" in p for p in prompts),
        },
        first_prompt=prompts[0],
    )
    return rows, combine_media(*loaders), report


def _answer(row: dict) -> str:
    completion = row["completion"]
    return completion[0]["content"] if isinstance(completion, list) else str(completion)


def check_completion_length(rows: list[dict], tokenizer, max_completion_length: int) -> str | None:
    """GRPO completions are cut at max_completion_length tokens: it must fit the shortest target
    answer (else every completion is clipped); returns a note when some targets do not fit."""
    lengths = [
        len(tokenizer(_answer(row), add_special_tokens=False)["input_ids"]) + 1 for row in rows
    ]
    shortest, longest = min(lengths), max(lengths)
    if max_completion_length < shortest:
        raise InputError(
            f"max_completion_length {max_completion_length} is shorter than every target answer "
            f"({shortest}-{longest} tokens with the end token), so every completion would be "
            f"clipped; set max_completion_length to at least {longest}"
        )
    too_long = sum(length > max_completion_length for length in lengths)
    if too_long:
        return (
            f"note: {too_long} of {len(rows)} target answers are longer than "
            f"max_completion_length {max_completion_length} (longest {longest} tokens)"
        )
    return None


def check_answer_blocks(rows: list[dict], rewards: list) -> None:
    """Rewards that read only the `<answer>` block score 0 for every completion without one, so
    GRPO on targets without that block (openset, sentiment) could never earn them: refused."""
    from affect_llm.parsing import answer_text
    from affect_llm.rewards import reads_answer_block

    readers = [reward.__name__ for reward in rewards if reads_answer_block(reward)]
    missing = [row for row in rows if "completion" in row and answer_text(_answer(row)) is None]
    if readers and missing:
        raise InputError(
            f"{len(missing)} of {len(rows)} target answers have no <answer> block (first: "
            f"{missing[0].get('id')}, {_answer(missing[0])!r}), but the {', '.join(readers)} "
            "reward reads only that block and would score them 0; use task onehot or reason, "
            "whose targets are <answer>...</answer>"
        )


def check_reference_model(model, beta: float) -> None:
    """Full fine-tuning with `beta > 0` needs a reference model, and TRL loads it again from the
    policy's `config._name_or_path`. A model composed in memory (the tiny one, or `llm` + encoders)
    has no such path, and TRL would stop with an OSError about an empty repo id: refused up front."""
    if beta == 0 or hasattr(model, "peft_config"):  # LoRA: the reference is adapters-off
        return
    if not getattr(model.config, "_name_or_path", ""):
        raise InputError(
            f"beta {beta} with a full fine-tune needs a reference model, which TRL loads from the "
            "starting model's folder, and this model was built in memory (tiny, or llm + "
            "encoders): start from a saved model (e.g. --model_name_or_path runs/<your-sft-run>), "
            "use --llm_mode lora (the reference is the model with adapters off), or set --beta 0"
        )


def main_process() -> bool:
    """Rank 0 of a distributed launch (or the only process): the one that prints."""
    return int(os.environ.get("RANK", "0")) == 0


def print_report(report: DataReport, note: str | None = None) -> None:
    if main_process():
        print("\n".join(report.lines() + ([note] if note else [])), flush=True)


MIN_STEPS = 50  # optimizer steps a small folder needed to learn its answers (docs/training.md)


def check_schedule(rows: int, args) -> str | None:
    """A warning when the settings give a small folder too few optimizer steps to learn from:
    3 rows x 20 epochs (20 steps) left the tiny model at loss 6.97, 60 steps reached 0.19."""
    if args.max_steps and args.max_steps > 0:
        return None  # a step count asked for explicitly
    world = int(os.environ.get("WORLD_SIZE", "1"))
    batch = args.per_device_train_batch_size * args.gradient_accumulation_steps * world
    per_epoch = -(-rows // batch)
    steps = int(per_epoch * args.num_train_epochs)
    if steps >= MIN_STEPS:
        return None
    epochs = -(-MIN_STEPS // per_epoch)
    return (
        f"warning: {rows} rows x {args.num_train_epochs:g} epochs at batch {batch} give only "
        f"{steps} optimizer steps; a small folder needs about {MIN_STEPS} to learn its answers: "
        f"set num_train_epochs to at least {epochs}, or add rows"
    )
