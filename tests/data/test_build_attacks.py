"""Builds that meet hostile names, overlapping runs and paths pointing outside the dataset."""

from __future__ import annotations

import logging
import shutil

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
