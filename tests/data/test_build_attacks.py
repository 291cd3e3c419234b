"""Builds that meet hostile names, overlapping runs and paths pointing outside the dataset."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from media_fixtures import SAMPLES
from safetensors.numpy import save_file

from affect_llm.commands import build as build_command
from affect_llm.data.cache import FeatureCache, cache_encoder_outputs, load_features
from affect_llm.errors import InputError


def test_a_labels_name_with_terminal_escapes_is_warned_about_without_them(tmp_path, caplog):
    root = tmp_path / "clips"
    root.mkdir()
    shutil.copy(SAMPLES / "hopper_happy.mp4", root)
    hostile = "ghost\x1b]0;owned\x07\x1b[2J"
    (root / "labels.csv").write_text(f"name,openset\nhopper_happy,happy\n{hostile},sad\n")
    argv = [
        "folder",
        str(root),
        "--labels",
        str(root / "labels.csv"),
        "--out",
        str(tmp_path / "out"),
    ]
    with caplog.at_level(logging.WARNING):
        code = build_command.main([*argv, "--frames", "2", "--face-size", "64"])
    assert code == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("ghost" in message for message in warnings), warnings
    assert not any("\x1b" in message or "\x07" in message for message in warnings), warnings
    errors = (tmp_path / "out" / "errors.jsonl").read_text()
    assert "\\u001b]0;owned" in errors  # the report keeps the name as it is, JSON-escaped


def _build_command(root, out):
    options = ["--frames", "2", "--face-size", "64", "--workers", "1"]
    return [
        sys.executable,
        "-m",
        "affect_llm.cli",
        "build",
        "folder",
        str(root),
        "--out",
        str(out),
        *options,
    ]


def test_a_second_build_into_the_same_out_is_refused_while_the_first_runs(tmp_path):
    root = tmp_path / "clips"
    root.mkdir()
    for index in range(24):
        shutil.copy(SAMPLES / "hopper_happy.mp4", root / f"clip{index:02d}.mp4")
    out = tmp_path / "out"
    first = subprocess.Popen(
        _build_command(root, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 240
        while not list((out / "cache").glob("??/*.safetensors")):  # the first is building
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = subprocess.run(_build_command(root, out), capture_output=True, text=True)
        assert second.returncode == 2, second.stderr
        assert first.poll() is None, "the first build ended too soon for this test"
    finally:
        first_out, first_err = first.communicate(timeout=600)
    lines = [line for line in second.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: --out "), second.stderr
    assert "another affect-llm build" in lines[0]
    assert first.returncode == 0, first_err
    assert "built 24/24 samples" in first_out
    assert len((out / "samples.jsonl").read_text().splitlines()) == 24


@pytest.mark.slow
def test_cache_prune_during_a_build_spares_its_fresh_entries(tmp_path):
    root = tmp_path / "clips"
    root.mkdir()
    shutil.copy(SAMPLES / "hopper_sad.mp4", root / "old.mp4")
    cache = tmp_path / "cache"
    old = tmp_path / "old"
    assert build_command.main(["folder", str(root), "--out", str(old), "--cache", str(cache)]) == 0
    (root / "old.mp4").unlink()
    for index in range(24):
        shutil.copy(SAMPLES / "hopper_happy.mp4", root / f"clip{index:02d}.mp4")
    stale = FeatureCache(cache).path("gone", "k" * 20)  # an entry nothing uses, a month old
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes((next(cache.glob("??/*.safetensors"))).read_bytes())
    os.utime(stale, (time.time() - 30 * 86400,) * 2)
    out = tmp_path / "new"
    build = subprocess.Popen(
        [*_build_command(root, out), "--cache", str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while len(list(cache.glob("??/*.safetensors"))) < 4:  # the build has written entries
            assert build.poll() is None, build.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        command = ["cache", "prune", "--samples", str(old), "--cache", str(cache)]
        prune = subprocess.run(
            [sys.executable, "-m", "affect_llm.cli", *command],
            capture_output=True,
            text=True,
        )
    finally:
        build_out, build_err = build.communicate(timeout=600)
    assert prune.returncode == 0, prune.stderr
    assert "removed 1 unreferenced entries" in prune.stdout and not stale.exists()
    assert build.returncode == 0 and "built 24/24" in build_out, build_err
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 24
    for row in rows:  # what training reads: every entry the build points at is there
        assert load_features(out, row)["faces"].size > 0


def test_an_edited_subtitle_in_the_labels_file_reaches_the_rebuild(tmp_path):
    root = tmp_path / "clips"
    root.mkdir()
    shutil.copy(SAMPLES / "hopper_happy.mp4", root)
    labels = root / "labels.csv"
    labels.write_text("name,openset,subtitle\nhopper_happy,happy,Oh this is wonderful.\n")
    argv = ["folder", str(root), "--labels", str(labels), "--out", str(tmp_path / "out")]
    argv += ["--frames", "2", "--face-size", "64"]
    assert build_command.main(argv) == 0
    labels.write_text('name,openset,subtitle\nhopper_happy,happy,"Oh no, not again."\n')
    assert build_command.main(argv) == 0
    row = json.loads((tmp_path / "out" / "samples.jsonl").read_text())
    assert row["subtitle"] == "Oh no, not again."


def test_a_features_path_outside_the_cache_is_refused_and_the_file_left_alone(tmp_path):
    out = tmp_path / "out"
    argv = ["folder", str(SAMPLES), "--labels", str(SAMPLES / "labels.csv"), "--out", str(out)]
    assert build_command.main([*argv, "--frames", "2", "--face-size", "64", "--limit", "1"]) == 0
    victim = tmp_path / "victim" / "model.safetensors"
    victim.parent.mkdir()
    save_file({"w": np.ones(3, dtype=np.float32)}, str(victim))
    before = victim.read_bytes()
    row = json.loads((out / "samples.jsonl").read_text())
    row["features"] = "../victim/model.safetensors"
    (out / "samples.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(InputError, match=r"features '\.\./victim/model\.safetensors' is not a"):
        cache_encoder_outputs(out, lambda arrays: np.zeros(2, dtype=np.float32), "clip")
    with pytest.raises(InputError, match="not a feature-cache entry"):
        load_features(out, row)
    assert victim.read_bytes() == before


def test_a_json_line_nested_100000_deep_is_one_line(tmp_path, capsys):
    from affect_llm.commands.cache import run_prune
    from affect_llm.data import load_samples

    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"id": "a"}\n' + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ValueError, match=r"samples\.jsonl:2: JSON nested too deeply"):
        load_samples(samples)
    (tmp_path / "cache").mkdir()
    args = type("Args", (), {"cache": str(tmp_path / "cache"), "samples": [str(samples)]})
    args.dry_run, args.expire_days = False, 0.0
    assert run_prune(args) == 2
    assert "samples.jsonl:2: not a JSON object (nested too deeply)" in capsys.readouterr().err


def _mount_tmpfs(path, size: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a small tmpfs, which needs root")
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)])
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs is not allowed here (a container without CAP_SYS_ADMIN)")


def test_a_full_disk_during_a_build_is_one_line_and_exit_2(tmp_path):
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "1m")
    try:
        root = tmp_path / "clips"
        root.mkdir()
        for index in range(6):
            shutil.copy(SAMPLES / "hopper_happy.mp4", root / f"clip{index}.mp4")
        done = subprocess.run(_build_command(root, disk / "out"), capture_output=True, text=True)
    finally:
        subprocess.run(["umount", str(disk)], check=True)
    text = done.stderr.replace("\r", "\n")  # the progress bar ends its lines with \r
    errors = [line for line in text.splitlines() if "error:" in line]
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert len(errors) == 1 and errors[0].startswith(
        "error: no space left on the device writing "
    ), errors
    assert "failed: SafetensorError" not in done.stderr  # not blamed on the samples one by one


def test_clips_in_a_symlinked_folder_are_built_and_a_link_loop_is_reported(tmp_path, caplog):
    elsewhere = tmp_path / "elsewhere" / "session2"
    elsewhere.mkdir(parents=True)
    shutil.copy(SAMPLES / "hopper_sad.mp4", elsewhere / "linked_clip.mp4")
    root = tmp_path / "clips"
    (root / "session1").mkdir(parents=True)
    shutil.copy(SAMPLES / "hopper_happy.mp4", root / "session1" / "own_clip.mp4")
    (root / "session2").symlink_to(elsewhere, target_is_directory=True)
    (root / "session1" / "loop").symlink_to(root, target_is_directory=True)  # back to the top
    (root / "gone.mp4").symlink_to(tmp_path / "deleted.mp4")
    out = tmp_path / "out"
    argv = ["folder", str(root), "--out", str(out), "--frames", "2", "--face-size", "64"]
    with caplog.at_level(logging.WARNING):
        assert build_command.main(argv) == 0
    ids = [json.loads(line)["id"] for line in (out / "samples.jsonl").read_text().splitlines()]
    assert sorted(ids) == ["linked_clip", "own_clip"]
    warnings = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "session1/loop: a link to a folder already read" in warnings
    assert "gone.mp4: a broken link" in warnings
