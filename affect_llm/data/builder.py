"""Build samples.jsonl / errors.jsonl from source items (a media file plus labels) via the cache.

Each item is perceived once (`perceive_clip`), its arrays and texts cached under a content key; the
rows are then assembled in item order. A killed build resumes from the cache, and a rerun over
finished output rewrites nothing. Work is spread over processes and, under accelerate, over ranks.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from affect_llm.data.cache import FeatureCache, content_key
from affect_llm.data.items import SourceItem
from affect_llm.data.schema import Sample, media_path
from affect_llm.errors import is_disk_full
from affect_llm.files import atomic_write_text, exclusive_folder
from affect_llm.perception.aus import AUFileError
from affect_llm.perception.clip import MODALITIES, ConfigError, PerceptionConfig
from affect_llm.perception.prosody import SAMPLE_RATE
from affect_llm.perception.video import MediaError
from affect_llm.safe_text import printable

logger = logging.getLogger(__name__)


@dataclass
class BuildConfig:
    """Builder settings: perception settings plus where and how in parallel to work."""

    perception: PerceptionConfig = field(default_factory=PerceptionConfig)
    workers: int = field(default=1, metadata={"help": "Worker processes (1: in this process)."})
    cache_dir: str | None = field(
        default=None, metadata={"help": "Feature cache folder (default OUT_DIR/cache)."}
    )
    store_frames: bool = field(
        default=False, metadata={"help": "Also cache the full sampled frames, not just face crops."}
    )

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1 (got {self.workers})")


@dataclass
class BuildSummary:
    total: int = 0
    written: int = 0
    failed: int = 0
    cached: int = 0
    with_notes: int = 0  # samples kept with a note (e.g. their AU file was not used)
    note_reasons: dict[str, int] = field(default_factory=dict)  # reason -> samples

    def add_notes(self, notes: Sequence[str]) -> None:
        """Count a kept sample's notes by reason: the note up to its details, "AU file not used"."""
        reasons = {note.split(" (")[0].split(":")[0].strip() for note in notes}
        self.with_notes += bool(reasons)
        for reason in sorted(reasons):
            self.note_reasons[reason] = self.note_reasons.get(reason, 0) + 1

    def line(self, out_dir: str | os.PathLike) -> str:
        line = (
            f"built {self.written}/{self.total} samples ({self.cached} from cache), "
            f"{self.failed} failed -> {os.fspath(out_dir)}/samples.jsonl, errors.jsonl"
        )
        if self.with_notes:
            counts = sorted(self.note_reasons.items(), key=lambda item: -item[1])
            reasons = ", ".join(f"{reason} ({n})" for reason, n in counts)
            line += f"\n{self.with_notes} with notes: {reasons}; see notes in samples.jsonl"
        return line


def _item_key(item: SourceItem, config: BuildConfig) -> str:
    settings = {"perception": config.perception.to_dict(), "frames": config.store_frames}
    settings["subtitle"] = item.subtitle if config.perception.asr_model else None
    return content_key([item.video, item.audio, item.au_csv], settings)


def _round(values: Sequence[float], digits: int = 3) -> list[float]:
    return [round(float(v), digits) for v in values]


def extract_item(item: SourceItem, config: BuildConfig, cache: FeatureCache) -> tuple[dict, bool]:
    """Perception results (JSON-able) for one item, from the cache or computed and cached."""
    from affect_llm.perception.clip import perceive_clip

    key = _item_key(item, config)
    hit = cache.get(item.id, key)
    if hit is not None:
        return {**hit[0], "cache_key": key}, True
    clip = perceive_clip(item.video, config.perception, item.audio, item.au_csv, item.subtitle)
    arrays: dict[str, np.ndarray] = {}
    if clip.face_crops is not None:
        arrays["faces"] = clip.face_crops
        arrays["face_present"] = clip.face_present.astype(np.uint8)
        arrays["frame_times"] = clip.timestamps.astype(np.float64)
        if config.store_frames:
            arrays["frames"] = clip.frames
    if clip.aus is not None:
        arrays["aus"] = clip.aus.values.astype(np.float32)
    if clip.audio is not None:
        arrays["audio"] = clip.audio.astype(np.float32, copy=False)
    meta = {
        "frame_times": _round(clip.timestamps) if clip.timestamps is not None else [],
        "face_present": [bool(v) for v in clip.face_present]
        if clip.face_present is not None
        else [],
        "aus": [_round(row) for row in clip.aus.values] if clip.aus is not None else None,
        "au_source": clip.aus.source if clip.aus is not None else None,
        "au_description": clip.au_summary.description if clip.au_summary else None,
        "au_peak": clip.au_summary.peak_aus if clip.au_summary else [],
        "body": clip.body.description if clip.body else None,
        "prosody": clip.prosody_text,
        "prosody_stats": clip.prosody.to_dict() if clip.prosody else None,
        "audio_seconds": round(len(clip.audio) / SAMPLE_RATE, 3)
        if clip.audio is not None
        else None,
        "subtitle": clip.subtitle,
        "missing": clip.missing,
        "notes": clip.notes,
    }
    cache.put(item.id, key, arrays, meta)
    return {**meta, "cache_key": key}, False


def make_row(
    item: SourceItem, meta: dict, features: str | None, out_dir: str | os.PathLike | None = None
) -> dict:
    """The samples.jsonl row for an item and its perception results; media paths relative to
    `out_dir` (the build folder), so clips and build folder can move together."""
    missing = {m: meta["missing"].get(m) for m in MODALITIES}
    notes = list(meta.get("notes", []))
    given = [
        name
        for name, value in (("AU text", item.au_description), ("voice text", item.voice))
        if value
    ]
    if given:
        notes.append(f"{' and '.join(given)} from the {item.source} annotations, not the clip")
    sample = Sample(
        id=item.id,
        source=item.source,
        split=item.split,
        task=item.task,
        video=media_path(item.video, out_dir),
        audio=None if missing["audio"] else media_path(item.audio or item.video, out_dir),
        # the labels file's subtitle wins over the cached one (an ASR transcript, or an old edit)
        subtitle=item.subtitle or meta.get("subtitle"),
        features=features,
        frame_times=meta["frame_times"],
        face_present=meta["face_present"],
        aus=meta["aus"],
        au_source=meta["au_source"],
        au_description=item.au_description or meta["au_description"],
        au_peak=item.au_peak if item.au_description else meta["au_peak"],
        body=meta["body"],
        prosody=item.voice or meta["prosody"],
        audio_seconds=meta["audio_seconds"],
        modalities={m: missing[m] is None for m in MODALITIES},
        missing=missing,
        notes=notes,
        openset=item.openset,
        label=item.label,
        valence=item.valence,
        reason=item.reason,
        candidates=item.candidates,
    )
    return asdict(sample)


def _process(args: tuple[SourceItem, BuildConfig, str, str]) -> tuple[str, dict, bool]:
    """Worker: ("ok", row, cached) or ("error", {"id", "reason"}, False); never raises."""
    item, config, cache_dir, out_dir = args
    if item.error:
        return "error", {"id": item.id, "reason": item.error}, False
    cache = FeatureCache(cache_dir)
    try:
        meta, cached = extract_item(item, config, cache)
    except (MediaError, AUFileError) as error:
        return "error", {"id": item.id, "reason": str(error)}, False
    except Exception as error:  # one bad sample must not stop the build; say which and why
        if is_disk_full(error):
            raise  # not this sample's fault: every other would fail the same way
        return "error", {"id": item.id, "reason": f"{type(error).__name__}: {error}"}, False
    relative = os.path.relpath(cache.path(item.id, meta["cache_key"]), out_dir)
    return "ok", make_row(item, meta, relative, out_dir), cached


def _write_if_changed(path: Path, lines: Iterable[str]) -> bool:
    """Atomically replace `path` with `lines`, leaving it untouched when the content is the same."""
    text = "".join(f"{line}\n" for line in lines)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    atomic_write_text(path, text)
    return True


def _rank_and_world() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return (int(os.environ.get("RANK", "0")), world) if world > 1 else (0, 1)


def build_samples(
    items: Sequence[SourceItem],
    out_dir: str | os.PathLike,
    config: BuildConfig | None = None,
    progress: bool = False,
) -> BuildSummary:
    """Perceive every item (parallel, resumable) and write OUT_DIR/samples.jsonl and errors.jsonl.

    Under `accelerate launch` / torchrun each rank extracts its share into the shared cache; the
    main rank then assembles the files (cache hits for everything the ranks finished).
    """
    config = config or BuildConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rank, world = _rank_and_world()
    # One build per --out: a second one would overwrite this one's rows and error report. Only
    # the main rank locks; the other ranks of this build write into the cache beside it.
    lock = exclusive_folder(out, "affect-llm build", "--out") if rank == 0 else nullcontext()
    with lock:
        return _build_samples(items, out, config, progress, rank, world)


def _build_samples(
    items: Sequence[SourceItem],
    out: Path,
    config: BuildConfig,
    progress: bool,
    rank: int,
    world: int,
) -> BuildSummary:
    cache_dir = config.cache_dir or str(out / "cache")
    seen: set[str] = set()
    unique: list[SourceItem] = []
    for item in items:
        if item.id in seen:
            item = SourceItem(id=item.id, error=f"duplicate sample id {item.id!r}")
        seen.add(item.id)
        unique.append(item)
    if world > 1:
        import torch
        from accelerate import PartialState

        # cpu=True is what makes accelerate form real gloo ranks on a machine without GPUs.
        state = PartialState(cpu=not torch.cuda.is_available())
        if state.num_processes != world:
            raise RuntimeError(
                f"WORLD_SIZE={world} but accelerate sees {state.num_processes} processes"
            )
        for _ in _run(
            [it for i, it in enumerate(unique) if i % world == rank],
            config,
            cache_dir,
            out,
            progress,
        ):
            pass
        state.wait_for_everyone()
        if not state.is_main_process:
            # the main rank reports the totals; `build` exits 1 when a summary wrote 0 of N
            return BuildSummary()
    summary = BuildSummary(total=len(unique))
    rows, errors = [], []
    for status, payload, cached in _run(unique, config, cache_dir, out, progress):
        if status == "ok":
            rows.append(json.dumps(payload, ensure_ascii=False))
            summary.written += 1
            summary.cached += int(cached)
            summary.add_notes(payload.get("notes") or [])
        else:
            errors.append(json.dumps(payload, ensure_ascii=False))
            summary.failed += 1
            # ids and reasons quote names from the user's files: no terminal escapes
            logger.warning(
                "sample %s failed: %s", printable(payload["id"]), printable(payload["reason"])
            )
    _write_if_changed(out / "samples.jsonl", rows)
    _write_if_changed(out / "errors.jsonl", errors)
    return summary


def _run(items, config: BuildConfig, cache_dir: str, out: Path, progress: bool):
    jobs = [(item, config, cache_dir, str(out)) for item in items]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="build", unit="clip")
    with bar if bar is not None else nullcontext():  # closed (its line ended) even on an error
        yield from _results(jobs, config, bar)


def _results(jobs, config: BuildConfig, bar):
    if config.workers > 1 and len(jobs) > 1:
        import multiprocessing

        # spawn: mediapipe/TFLite threads in a forked parent would deadlock the children.
        context = multiprocessing.get_context("spawn")
        with context.Pool(min(config.workers, len(jobs))) as pool:
            for result in pool.imap(_process, jobs, chunksize=1):
                if bar:
                    bar.update()
                yield result
    else:
        for job in jobs:
            result = _process(job)
            if bar:
                bar.update()
            yield result
