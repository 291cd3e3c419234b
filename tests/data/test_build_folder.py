import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from media_fixtures import HAPPY, SAMPLES, hopper_frames, no_face_frames, tone, write_clip

from affect_llm.commands import build as build_command
from affect_llm.data import BuildConfig, build_folder, load_samples, render
from affect_llm.data.cache import load_features
from affect_llm.perception import PerceptionConfig

SMALL = BuildConfig(perception=PerceptionConfig(num_frames=4, face_size=96))


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _cli(argv):
    assert argv[0] == "build"
    return build_command.main(argv[1:])


def test_bundled_clips_build_into_loadable_samples(tmp_path, capsys):
    out = tmp_path / "out"
    code = _cli(
        [
            "build",
            "folder",
            str(SAMPLES),
            "--labels",
            str(SAMPLES / "labels.csv"),
            "--out",
            str(out),
            "--frames",
            "4",
            "--face-size",
            "96",
        ]
    )
    assert code == 0
    assert "built 4/4 samples" in capsys.readouterr().out
    assert (out / "errors.jsonl").read_text() == ""
    rows = _rows(out / "samples.jsonl")
    assert [r["id"] for r in rows] == [
        "hopper_happy",
        "hopper_sad",
        "hopper_angry",
        "hopper_surprise",
    ]
    for row in rows:
        assert all(row["face_present"]) and len(row["face_present"]) == 4
        assert row["au_description"] and np.array(row["aus"]).shape == (4, 17)
        assert row["audio_seconds"] > 2.0 and "Hz" in row["prosody"]
        assert row["modalities"] == {
            "video": True,
            "face": True,
            "aus": True,
            "audio": True,
            "text": True,
        }
        assert row["openset"] and row["label"] and row["reason"] and row["schema_version"] == 1
    assert rows[0]["openset"] == ["happy", "excited"] and rows[1]["valence"] == pytest.approx(-0.7)
    dataset = load_samples(out)
    assert len(dataset) == 4 and dataset[0]["modalities"]["face"] is True
    arrays = load_features(out / "samples.jsonl", rows[0])
    assert arrays["faces"].shape == (4, 96, 96, 3) and arrays["faces"].dtype == np.uint8
    assert arrays["audio"].dtype == np.float32 and arrays["aus"].shape == (4, 17)
    prompt = render(rows[0], task="reason").prompt
    assert "Facial action units:" in prompt and "Voice:" in prompt


def _bad_inputs_folder(root):
    root.mkdir()
    shutil.copy(HAPPY, root / "good.mp4")
    (root / "truncated.mp4").write_bytes(HAPPY.read_bytes()[: HAPPY.stat().st_size // 2])
    (root / "empty.mp4").write_bytes(b"")
    write_clip(root / "noface.mp4", no_face_frames(8), audio=tone(0.8))
    write_clip(root / "noaudio.mp4", hopper_frames(8))
    write_clip(root / "voice.m4a", None, audio=tone(1.0))
    shutil.copy(HAPPY, root / "badlabel.mp4")
    (root / "labels.csv").write_text(
        "name,openset\n"
        "good,\"['happy', 'relieved']\"\n"
        "truncated,['happy']\n"
        "empty,['sad']\n"
        "noface,['calm']\n"
        "noaudio,['angry']\n"
        "voice,['worried']\n"
        "ghost,['sad']\n"
        "badlabel,\"['happy', 'sad'\"\n"
    )
    return root


def test_bad_inputs_are_reported_and_the_rest_is_built(tmp_path, capsys):
    root = _bad_inputs_folder(tmp_path / "clips")
    out = tmp_path / "out"
    code = _cli(
        [
            "build",
            "folder",
            str(root),
            "--labels",
            str(root / "labels.csv"),
            "--out",
            str(out),
            "--frames",
            "4",
            "--face-size",
            "64",
        ]
    )
    assert code == 0
    assert "built 4/8 samples" in capsys.readouterr().out
    errors = {e["id"]: e["reason"] for e in _rows(out / "errors.jsonl")}
    assert set(errors) == {"truncated", "empty", "ghost", "badlabel"}
    assert "empty file" in errors["empty"] and "no video or audio file" in errors["ghost"]
    assert "malformed label" in errors["badlabel"] and "corrupt" in errors["truncated"]
    assert errors["empty"].count("empty file") == 1
    rows = {r["id"]: r for r in _rows(out / "samples.jsonl")}
    assert rows["good"]["openset"] == ["happy", "relieved"]
    assert rows["good"]["modalities"] == {
        "video": True,
        "face": True,
        "aus": True,
        "audio": True,
        "text": False,
    }
    assert rows["noface"]["modalities"]["face"] is False and rows["noface"]["modalities"]["audio"]
    assert rows["noface"]["missing"]["face"].startswith("no face")
    assert rows["noaudio"]["modalities"]["audio"] is False and rows["noaudio"]["audio"] is None
    assert rows["voice"]["modalities"]["video"] is False and rows["voice"]["prosody"]
    assert len(load_samples(out)) == 4


def test_exit_code_is_one_only_when_every_sample_failed(tmp_path, capsys):
    root = tmp_path / "clips"
    root.mkdir()
    (root / "a.mp4").write_bytes(b"")
    (root / "labels.csv").write_text("name,label\na,happy\nb,sad\n")
    assert (
        _cli(
            [
                "build",
                "folder",
                str(root),
                "--labels",
                str(root / "labels.csv"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 1
    )
    assert "built 0/2 samples" in capsys.readouterr().out


def test_data_builder_script_exits_zero_with_a_summary(tmp_path):
    script = Path(__file__).parents[2] / "data_builders" / "folder.py"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            str(SAMPLES),
            "--labels",
            str(SAMPLES / "labels.csv"),
            "--out",
            str(tmp_path / "out"),
            "--frames",
            "2",
            "--face-size",
            "32",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "built 4/4 samples (0 from cache), 0 failed" in done.stdout


KILLABLE = """
import sys
from affect_llm.data import BuildConfig, build_folder
from affect_llm.perception import PerceptionConfig
build_folder(sys.argv[1], sys.argv[2], sys.argv[3], BuildConfig(perception=PerceptionConfig(num_frames=4, face_size=96)))
"""


@pytest.mark.slow
def test_killed_build_resumes_and_matches_an_uninterrupted_one(tmp_path):
    root = tmp_path / "clips"
    root.mkdir()
    names = [f"clip{i:02d}" for i in range(12)]
    for name in names:
        shutil.copy(HAPPY, root / f"{name}.mp4")
    (root / "labels.csv").write_text("name,label\n" + "".join(f"{n},happy\n" for n in names))
    out = tmp_path / "resumed"
    process = subprocess.Popen(
        [sys.executable, "-c", KILLABLE, str(root), str(out), str(root / "labels.csv")]
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("cache/*/*.safetensors"))) < 3:
        time.sleep(0.05)
    process.kill()
    process.wait()
    finished = {p: p.stat().st_mtime_ns for p in out.glob("cache/*/*.safetensors")}
    assert 3 <= len(finished) < len(names), "the build should have been killed halfway"
    assert not (out / "samples.jsonl").exists()

    summary = build_folder(root, out, root / "labels.csv", SMALL)
    assert summary.written == len(names) and summary.cached >= len(finished)
    assert all(p.stat().st_mtime_ns == t for p, t in finished.items())  # not redone

    reference = tmp_path / "reference"
    build_folder(root, reference, root / "labels.csv", SMALL)
    assert (out / "samples.jsonl").read_text() == (reference / "samples.jsonl").read_text()

    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = build_folder(root, out, root / "labels.csv", SMALL)
    assert again.cached == len(names)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def test_cache_is_invalidated_when_input_or_settings_change(sample_dir, tmp_path):
    labels = sample_dir / "labels.csv"
    out = tmp_path / "out"
    first = build_folder(sample_dir, out, labels, SMALL)
    assert first.cached == 0
    assert build_folder(sample_dir, out, labels, SMALL).cached == 4
    shutil.copy(SAMPLES / "hopper_sad.mp4", sample_dir / "hopper_happy.mp4")  # content changed
    changed = build_folder(sample_dir, out, labels, SMALL)
    assert changed.cached == 3
    other = BuildConfig(perception=PerceptionConfig(num_frames=3, face_size=96))
    rebuilt = build_folder(sample_dir, out, labels, other)
    assert rebuilt.cached == 0
    assert all(len(r["face_present"]) == 3 for r in _rows(out / "samples.jsonl"))
    # Old entries stay (another samples file may use them) until `affect-llm cache prune`.
    assert len(list(out.glob("cache/*/*.safetensors"))) == 4 + 1 + 4


@pytest.mark.slow
def test_parallel_build_equals_serial_build(sample_dir, tmp_path):
    labels = sample_dir / "labels.csv"
    build_folder(sample_dir, tmp_path / "serial", labels, SMALL)
    parallel = BuildConfig(perception=SMALL.perception, workers=2)
    summary = build_folder(sample_dir, tmp_path / "parallel", labels, parallel)
    assert summary.written == 4 and summary.cached == 0
    serial_rows = (tmp_path / "serial" / "samples.jsonl").read_text()
    assert (tmp_path / "parallel" / "samples.jsonl").read_text() == serial_rows


def test_folder_without_labels_builds_every_clip(sample_dir, tmp_path):
    os.remove(sample_dir / "labels.csv")
    summary = build_folder(sample_dir, tmp_path / "out", None, SMALL)
    assert summary.written == 4
    assert all(r["openset"] == [] for r in _rows(tmp_path / "out" / "samples.jsonl"))


RANK_SCRIPT = """
import json, os, sys
from affect_llm.data import BuildConfig, build_folder
from affect_llm.perception import PerceptionConfig
config = BuildConfig(perception=PerceptionConfig(num_frames=2, face_size=32))
summary = build_folder(sys.argv[1], sys.argv[2], sys.argv[1] + "/labels.csv", config)
with open(os.path.join(sys.argv[3], "summary-" + os.environ["RANK"] + ".json"), "w") as f:
    json.dump(summary.__dict__, f)
"""


@pytest.mark.slow
def test_two_ranks_split_the_work_and_the_main_rank_writes(sample_dir, tmp_path):
    script = tmp_path / "rank_build.py"
    script.write_text(RANK_SCRIPT)
    torchrun = Path(sys.executable).parent / "torchrun"
    out = tmp_path / "out"
    command = [str(torchrun), "--standalone", "--nproc_per_node", "2", str(script)]
    done = subprocess.run(
        [*command, str(sample_dir), str(out), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    main, other = (json.loads((tmp_path / f"summary-{r}.json").read_text()) for r in (0, 1))
    assert other["written"] == 0  # only the main rank assembles the files
    assert main["written"] == 4 and main["cached"] == 4  # the ranks extracted every clip
    assert len(_rows(out / "samples.jsonl")) == 4


def test_an_openface_csv_beside_the_clip_replaces_the_estimate(sample_dir, tmp_path):
    from affect_llm.action_units import OPENFACE_INTENSITY_AUS

    header = ["frame", " face_id", " timestamp", " confidence", " success"]
    header += [f" {au}_r" for au in OPENFACE_INTENSITY_AUS]
    lines = [",".join(header)]
    for frame in range(53):  # AU06 + AU12 from 1.5 to 2.9 s: a smile
        smile = 3.0 if 15 <= frame < 30 else 0.2
        values = [0.0] * len(OPENFACE_INTENSITY_AUS)
        values[OPENFACE_INTENSITY_AUS.index("AU06")] = smile
        values[OPENFACE_INTENSITY_AUS.index("AU12")] = smile
        lines.append(",".join(map(str, [frame + 1, 0, frame / 10, 0.98, 1, *values])))
    (sample_dir / "hopper_sad.csv").write_text("\n".join(lines) + "\n")
    config = BuildConfig(perception=PerceptionConfig(num_frames=5, face_size=32))
    build_folder(sample_dir, tmp_path / "out", sample_dir / "labels.csv", config)
    rows = {r["id"]: r for r in _rows(tmp_path / "out" / "samples.jsonl")}
    sad = rows["hopper_sad"]
    assert sad["au_source"] == "openface" and rows["hopper_happy"]["au_source"] == "landmarks"
    assert len(sad["aus"]) == 5  # aligned with the 5 sampled frames
    assert sad["au_peak"] == ["AU06", "AU12"] and "typical of happy" in sad["au_description"]
    assert 1.5 <= sad["frame_times"][sad["aus"].index(max(sad["aus"], key=sum))] < 3.0


def test_clips_kept_with_notes_are_counted_in_the_summary(sample_dir, tmp_path):
    """A py-feat CSV detected at another fps (the real 25 fps Detectorv2 output beside a clip of
    another rate) is not used: the clip is kept with landmark AUs and a note, and the summary line
    counts it by reason instead of saying only "0 failed"."""
    pyfeat = Path(__file__).parents[1] / "perception" / "data" / "pyfeat_v2_detect_video.csv"
    shutil.copy(pyfeat, sample_dir / "hopper_sad.csv")
    summary = build_folder(sample_dir, tmp_path / "out", sample_dir / "labels.csv", SMALL)
    rows = {r["id"]: r for r in _rows(tmp_path / "out" / "samples.jsonl")}
    assert rows["hopper_sad"]["au_source"] == "landmarks"
    assert rows["hopper_sad"]["notes"][0].startswith("AU file not used (")
    assert summary.written == 4 and summary.failed == 0
    line = summary.line(tmp_path / "out")
    assert line.splitlines()[1] == (
        "1 with notes: AU file not used (1); see notes in samples.jsonl"
    )
    (sample_dir / "hopper_sad.csv").unlink()  # without the file: no note, one summary line
    clean = build_folder(sample_dir, tmp_path / "clean", sample_dir / "labels.csv", SMALL)
    assert clean.with_notes == 0 and len(clean.line(tmp_path / "clean").splitlines()) == 1
