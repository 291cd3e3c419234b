"""Builds that meet hostile names, overlapping runs and paths pointing outside the dataset."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time

from media_fixtures import SAMPLES

from affect_llm.commands import build as build_command


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
