"""Datasets in and out: relative media paths, sharegpt JSON (ms-swift / LLaMA-Factory) both ways,
and a `datasets` dataset folder that `load_dataset` reads back without losing a row."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from media_fixtures import SAMPLES

from affect_llm.data import BuildConfig, build_folder
from affect_llm.data.builder import build_samples
from affect_llm.data.interchange import sharegpt_items, write_hf, write_sharegpt
from affect_llm.data.schema import read_samples
from affect_llm.perception import PerceptionConfig
from affect_llm.training.data import CachedMedia, training_rows

SMALL = BuildConfig(perception=PerceptionConfig(num_frames=2, face_size=32))
IDS = ["hopper_happy", "hopper_sad", "hopper_angry", "hopper_surprise"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """clips/ (the bundled clips, one held out as test) and data/mine built from them."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(SAMPLES, root / "clips")
    labels = (root / "clips" / "labels.csv").read_text(encoding="utf-8").splitlines()
    labels[0] += ",split"
    labels[1:] = [line + (",test" if "surprise" in line else ",train") for line in labels[1:]]
    (root / "clips" / "labels.csv").write_text("\n".join(labels) + "\n", encoding="utf-8")
    summary = build_folder(root / "clips", root / "data/mine", root / "clips" / "labels.csv", SMALL)
    assert summary.written == 4
    return root


def rows(folder: Path) -> list[dict]:
    """Every split's training rows without the cache path (a rebuild names its own cache)."""
    found = training_rows(folder, splits=None)
    return [{k: v for k, v in row.items() if k != "features"} for row in found]


def test_clips_and_build_folder_move_together(project, tmp_path):
    stored = [json.loads(line) for line in (project / "data/mine/samples.jsonl").open()]
    assert {row["video"] for row in stored} == {f"../../clips/{i}.mp4" for i in IDS}
    before = rows(project / "data/mine")
    moved = tmp_path / "elsewhere"
    shutil.copytree(project, moved)
    after = rows(moved / "data/mine")
    assert after == before and len(after) == 4
    for sample in read_samples(moved / "data/mine"):
        assert Path(sample["video"]) == moved / "clips" / f"{sample['id']}.mp4"
        assert Path(sample["video"]).is_file()
    media = CachedMedia(moved / "data/mine")({"id": "hopper_happy"})
    assert media["aus"].shape == (2, 17) and media["audio"].size > 16000


def test_an_older_samples_file_with_absolute_paths_still_reads(project, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(project / "data/mine", old)
    lines = []
    for line in (old / "samples.jsonl").open():
        row = json.loads(line)
        row["video"] = row["audio"] = str(project / "clips" / f"{row['id']}.mp4")
        lines.append(json.dumps(row))
    (old / "samples.jsonl").write_text("\n".join(lines) + "\n")
    assert [s["video"] for s in read_samples(old)] == [str(project / f"clips/{i}.mp4") for i in IDS]
    assert rows(old) == rows(project / "data/mine")


def test_sharegpt_export_then_build_gives_the_same_training_rows(project, tmp_path):
    out = tmp_path / "swift" / "train.json"
    written, skipped = write_sharegpt(project / "data/mine", out)
    assert (written, skipped) == (4, [])
    records = json.loads(out.read_text())
    first = records[0]
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]
    assert first["messages"][0]["content"].startswith("<video><audio>")
    assert first["videos"] == first["audios"]  # relative to the JSON file's folder
    assert (out.parent / first["videos"][0]).resolve() == project / "clips/hopper_happy.mp4"
    for record in records:  # as many tags as files, as LLaMA-Factory requires
        user = record["messages"][0]["content"]
        assert user.count("<video>") == len(record["videos"]) == 1
        assert user.count("<audio>") == len(record["audios"]) == 1
    items = sharegpt_items(out)
    assert [item.id for item in items] == IDS and not any(item.error for item in items)
    build_samples(items, tmp_path / "rebuilt", SMALL)
    assert rows(tmp_path / "rebuilt") == rows(project / "data/mine")


def test_a_sharegpt_file_from_another_tool_builds(project, tmp_path):
    """LLaMA-Factory's mllm_video_audio_demo.json record shape, no affect_llm key."""
    record = {
        "messages": [
            {"content": "<video><audio>How does she feel?", "role": "user"},
            {"content": "<think>She smiles.</think>\n<answer>happy</answer>", "role": "assistant"},
        ],
        "videos": ["clips/hopper_happy.mp4"],
        "audios": ["clips/hopper_happy.mp4"],
    }
    broken = {"messages": [{"content": "<video>hi", "role": "user"}], "videos": ["x.mp4"]}
    path = project / "demo.json"
    path.write_text(json.dumps([record, broken]))
    good, bad = sharegpt_items(path)
    assert good.id == "hopper_happy" and good.video == str(project / "clips/hopper_happy.mp4")
    assert good.openset == ["happy"] and good.reason == "She smiles." and good.task == "reason"
    assert bad.error == "demo.json record 2: no assistant message to take the labels from"


def test_hf_export_loads_back_with_every_row(project, tmp_path):
    from datasets import load_dataset

    counts = write_hf(project / "data/mine", tmp_path / "hf")
    assert counts == {"train": 3, "test": 1}
    loaded = load_dataset(str(tmp_path / "hf"), cache_dir=str(tmp_path / "cache"))
    assert {split: len(data) for split, data in loaded.items()} == counts
    samples = {s["id"]: s for s in read_samples(project / "data/mine")}
    for split, data in loaded.items():
        for row in data:
            sample = samples.pop(row["id"])
            assert row["split"] == split and row["openset"] == sample["openset"]
            assert np.allclose(row["aus"], sample["aus"], atol=1e-6)
            assert (tmp_path / "hf" / row["video"]).read_bytes() == Path(
                sample["video"]
            ).read_bytes()
    assert samples == {}


def test_export_and_build_sharegpt_from_the_command_line(project, tmp_path, capsys):
    from affect_llm.cli import main

    out = tmp_path / "mine.json"
    assert main(["export", str(project / "data/mine"), "--to", "sharegpt", "--out", str(out)]) == 0
    assert f"exported 4/4 samples -> {out}" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "nope"), "--to", "hf", "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {tmp_path / 'nope'}: no samples.jsonl (expected a folder made by `affect-llm build`)"
    )
    missing = tmp_path / "missing.json"
    assert main(["build", "sharegpt", str(missing), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {missing}: cannot read (No such file or directory)"]
