"""Datasets in and out: a build folder as the sharegpt JSON ms-swift and LLaMA-Factory train on, or
as a `datasets` dataset folder (optionally pushed to the hub); sharegpt JSON back as source items.

sharegpt (LLaMA-Factory's `mllm_video_audio_demo.json` layout, which ms-swift reads too): a JSON
list of `{"messages": [{"role": "user", "content": "<video><audio>question"}, {"role":
"assistant", "content": answer}], "videos": [path], "audios": [path]}`, one `<video>` / `<audio>`
tag per listed file, paths relative to the JSON file. Each record also carries the sample's labels
under `affect_llm` (other tools ignore the key), so `affect-llm build sharegpt FILE` rebuilds the
same training rows; a record without it (a file written by another tool) takes its id from the
clip's name and its labels and reasoning from the assistant's answer.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from affect_llm.data.builder import SourceItem
from affect_llm.data.schema import TASKS, features, read_samples, samples_path
from affect_llm.data.templates import CUES, render
from affect_llm.files import atomic_write_text

META_KEY = "affect_llm"
# the sample fields a record carries so that a rebuild renders the same rows
LABEL_FIELDS = ("id", "split", "task", "openset", "label", "valence", "reason", "subtitle")
LABEL_FIELDS += ("candidates", "source")


def _relative(path: str, folder: Path) -> str:
    return os.path.relpath(os.path.abspath(path), os.path.abspath(folder)).replace(os.sep, "/")


def sharegpt_records(
    build_dir: str | os.PathLike,
    json_dir: str | os.PathLike,
    task: str | None = None,
    cues: Sequence[str] = CUES,
    seed: int = 0,
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """(records, [(id, reason) of samples that could not be rendered]) of a build folder, media
    paths relative to `json_dir`; prompts and answers are rendered as the training rows are."""
    records, skipped = [], []
    for sample in read_samples(build_dir):
        try:
            instruction = render(sample, task=task, seed=seed, cues=cues)
        except ValueError as error:
            skipped.append((str(sample.get("id")), str(error)))
            continue
        modalities = sample.get("modalities") or {}
        videos = [sample["video"]] if sample.get("video") and modalities.get("video") else []
        audios = [sample["audio"]] if sample.get("audio") and modalities.get("audio") else []
        tags = "<video>" * len(videos) + "<audio>" * len(audios)
        records.append(
            {
                "messages": [
                    {"role": "user", "content": tags + instruction.prompt},
                    {"role": "assistant", "content": instruction.answer},
                ],
                "videos": [_relative(path, Path(json_dir)) for path in videos],
                "audios": [_relative(path, Path(json_dir)) for path in audios],
                META_KEY: {key: sample.get(key) for key in LABEL_FIELDS}
                | {"task": instruction.task},
            }
        )
    return records, skipped


def write_sharegpt(
    build_dir: str | os.PathLike, out_file: str | os.PathLike, **render_options: Any
) -> tuple[int, list[tuple[str, str]]]:
    """Write the sharegpt JSON of a build folder atomically; (records written, skipped)."""
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    records, skipped = sharegpt_records(build_dir, out.parent, **render_options)
    atomic_write_text(out, json.dumps(records, ensure_ascii=False, indent=1) + "\n")
    return len(records), skipped


def _media(record: dict, key: str, folder: Path) -> str | None:
    paths = record.get(key) or []
    if isinstance(paths, str):
        paths = [paths]
    return str(folder / paths[0]) if paths else None  # an absolute path stays as it is


def sharegpt_items(path: str | os.PathLike) -> list[SourceItem]:
    """Source items of a sharegpt JSON (or JSONL) file; a record that cannot be used becomes an
    item with its error (the build's errors.jsonl names it), never a silent drop."""
    from affect_llm.errors import InputError
    from affect_llm.parsing import answer_text, extract_labels, think_text

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as error:
            raise InputError(f"{path}: line {error.lineno}: not JSON or JSON lines") from None
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of records with messages / videos")
    items = []
    for number, record in enumerate(data, start=1):
        where = f"{path.name} record {number}"
        if not isinstance(record, dict) or not isinstance(record.get("messages"), list):
            items.append(SourceItem(id=where, error=f"{where}: no messages list"))
            continue
        video, audio = _media(record, "videos", path.parent), _media(record, "audios", path.parent)
        meta = record.get(META_KEY) or {}
        name = meta.get("id") or Path(video or audio or where).stem
        item = SourceItem(id=str(name), video=video, audio=None if audio == video else audio)
        if video is None and audio is not None:
            item.video, item.audio = audio, None  # an audio-only record: the clip is its audio
        if meta:
            for key in LABEL_FIELDS:
                if meta.get(key) is not None:
                    setattr(
                        item, key, list(meta[key]) if isinstance(meta[key], list) else meta[key]
                    )
        else:
            answers = [
                m.get("content") or "" for m in record["messages"] if m.get("role") == "assistant"
            ]
            if not answers:
                item.error = f"{where}: no assistant message to take the labels from"
            else:
                answer = answers[-1]
                item.openset = list(extract_labels(answer_text(answer) or answer))
                item.reason = think_text(answer) or (None if answer_text(answer) else answer)
                item.task = "reason" if item.reason else "openset"
                item.source = "sharegpt"
        if item.task not in TASKS:
            item.error = f"{where}: task {item.task!r} is not one of {', '.join(TASKS)}"
        if item.video is None and item.error is None:
            item.error = f"{where}: no videos or audios entry"
        items.append(item)
    return items


def write_hf(
    build_dir: str | os.PathLike, out_dir: str | os.PathLike, push_to_hub: str | None = None
) -> dict[str, int]:
    """A `datasets` dataset folder: data/<split>.parquet with the samples' columns, the clips
    copied to media/ (rows name them relative to the folder) and a README whose `configs` lists the
    splits, so `load_dataset(out_dir)` reads it back; `push_to_hub` uploads the folder as a dataset
    repository. {split: rows}."""
    from datasets import Dataset

    out = Path(out_dir)
    (out / "data").mkdir(parents=True, exist_ok=True)
    schema = features()
    del schema["features"]  # the feature cache stays with the build folder
    by_split: dict[str, list[dict]] = {}
    for sample in read_samples(build_dir):
        row = {key: sample.get(key) for key in schema}
        for key in ("video", "audio"):
            if row[key]:  # media/<id>.mp4; an audio file of its own: media/<id>.audio.wav
                source = Path(row[key])
                own = key == "audio" and row[key] != sample.get("video")
                target = out / "media" / f"{sample['id']}{'.audio' if own else ''}{source.suffix}"
                if source.is_file():
                    target.parent.mkdir(exist_ok=True)
                    shutil.copy2(source, target)
                row[key] = _relative(str(target), out)
        by_split.setdefault(sample.get("split") or "train", []).append(row)
    for split, rows in by_split.items():
        Dataset.from_list(rows, features=schema).to_parquet(str(out / "data" / f"{split}.parquet"))
    configs = "".join(
        f"  - split: {split}\n    path: data/{split}.parquet\n" for split in sorted(by_split)
    )
    card = (
        f"---\nconfigs:\n- config_name: default\n  data_files:\n{configs}---\n\n"
        f"# {out.name}\n\nEmotion samples built with affect-llm from `{samples_path(build_dir)}`: "
        "one row per clip (labels, subtitle, AU sequence and cue texts); `video` / `audio` name "
        "the clips under media/.\n"
    )
    atomic_write_text(out / "README.md", card)
    if push_to_hub:
        from huggingface_hub import HfApi

        api = HfApi()
        api.create_repo(push_to_hub, repo_type="dataset", exist_ok=True)
        api.upload_folder(folder_path=str(out), repo_id=push_to_hub, repo_type="dataset")
    return {split: len(rows) for split, rows in by_split.items()}
