"""The rows a recipe trains on, their media loader, and the report said before the first step.

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

from affect_llm.data.frames import FrameSettings
from affect_llm.data.schema import read_samples
from affect_llm.errors import InputError
from affect_llm.modeling.backbones import (
    encode_prompts,
    media_flags,
    media_token_counts,
    render_prompt,
)
from affect_llm.modeling.families import family_of_processor
from affect_llm.parsing import answer_text
from affect_llm.rewards import reads_answer_block
from affect_llm.training.backbone_data import BackboneMedia, backbone_row, prompt_text
from affect_llm.training.config import AffectDataConfig
from affect_llm.training.data import CachedMedia, combine_media, training_rows
from affect_llm.training.model_loading import face_input
from affect_llm.training.synthetic import media_lookup, synthetic_rows

SHOWN_IDS = 3  # ids listed per drop reason
TOKEN_ROWS = 16  # rows whose video / audio tokens the summary counts (decodes their frames once)


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
    media_tokens: dict[str, list[int]] = field(default_factory=dict)  # backbones: per row

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
        if self.media_tokens:
            counts = next(iter(self.media_tokens.values()))
            spans = ", ".join(
                f"{name} {min(v)}-{max(v)} (mean {sum(v) / len(v):.0f})"
                for name, v in self.media_tokens.items()
            )
            out.append(f"media tokens per sample (first {len(counts)} rows): {spans}")
        out.append("first prompt: " + self.first_prompt.replace("\n", " | "))
        return out


def _samples(path: str) -> list[dict[str, Any]]:
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
    # a pretrained backbone's processor adds the media itself (no AffectLLM placeholders)
    family = family_of_processor(processor)

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
            placeholders=family is None,
        )
        dropped += [(i, reason.removeprefix(f"{i}: ")) for i, reason in not_rendered]
        source = SourceReport(os.fspath(path), len(found), dropped)
        if not found:
            why = "; ".join(source.drop_lines()) or "the folder has no samples"
            raise InputError(f"dataset_paths: no training rows from {path} ({why})")
        sources.append(source)
        if family is None:
            loaders.append(CachedMedia(path, face_input(processor), config.use_cached_features))
        else:
            media = BackboneMedia([path], family, frame_settings(config))
            found = [backbone_row(row, media) for row in found]
            loaders.append(media)
        rows.extend(found)
    if config.synthetic_samples:
        if family is not None:
            raise InputError(
                "synthetic_samples: the synthetic set carries AU sequences, which a "
                f"{family.title} model does not read; set synthetic_samples: 0"
            )
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
    media_loader = combine_media(*loaders)
    prompts = [row["prompt"][0]["content"] for row in rows]
    if family is None:
        modalities = {
            "face": sum("<|face|>" in p for p in prompts),
            "audio": sum("<|audio|>" in p for p in prompts),
        }
    else:
        modalities = {
            name: sum(bool(row.get(f"has_{name}")) for row in rows)
            for name in ("video", "audio")
            if name in family.sees
        }
    report = DataReport(
        sources=sources,
        task=config.task or "each row's own (from its labels file)",
        cues=list(config.cues),
        modalities=modalities,
        first_prompt=prompts[0],
    )
    if family is not None:
        report.media_tokens = media_tokens(processor, family, rows[:TOKEN_ROWS], media_loader)
    return rows, media_loader, report


def media_tokens(processor, family, rows: list[dict], media_loader) -> dict[str, list[int]]:
    """Video and audio tokens each row's prompt expands to, as the family's processor counts them."""
    counts: dict[str, list[int]] = {name: [] for name in family.sees}
    for row in rows:
        media = media_loader(row)
        text = render_prompt(processor, family, prompt_text(row), *media_flags(family, media))
        batch = encode_prompts(processor, family, [text], [media])
        found = media_token_counts(processor, batch["input_ids"][0])
        for name in counts:
            counts[name].append(found.get(name, 0))
    return counts


def frame_settings(config: AffectDataConfig):
    """How a video family's frames are sampled, from the data config."""
    return FrameSettings(
        fps=config.video_fps, max_frames=config.video_max_frames, max_pixels=config.video_max_pixels
    )


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
    readers = [reward.__name__ for reward in rewards if reads_answer_block(reward)]
    missing = [row for row in rows if "completion" in row and answer_text(_answer(row)) is None]
    if readers and missing:
        raise InputError(
            f"{len(missing)} of {len(rows)} target answers have no <answer> block (first: "
            f"{missing[0].get('id')}, {_answer(missing[0])!r}), but the {', '.join(readers)} "
            "reward reads only that block and would score them 0; use task onehot or reason, "
            "whose targets are <answer>...</answer>"
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
