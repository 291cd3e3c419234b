"""An eval config from someone else cannot exhaust memory, run code or crash the runner: alias
bombs, `!!python` tags and absurd nesting are refused with one line before anything is built, and
values of the wrong type are named."""

from __future__ import annotations

import resource
import sys

import pytest

from affect_llm.evaluation.closed_set import main

BOMB = "generation:\n  cues: &a0 [subtitle, aus, body, audio, subtitle, aus, body, audio, aus]\n"
BOMB += "".join(f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))


def _run(tmp_path, text: str) -> list[str]:
    config = tmp_path / "run.yaml"
    config.write_text(f"datasets:\n  dfew:\n    root: {tmp_path}\n{text}", encoding="utf-8")
    return ["--config", str(config), "--out", str(tmp_path / "o"), "--model", "tiny"]


def test_an_alias_bomb_is_refused_in_bounded_memory(tmp_path, capsys):
    argv = _run(tmp_path, BOMB)
    assert len(BOMB) < 1000  # expands to 9**10 strings: gigabytes once walked
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert main(argv) == 2
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expands to over 100,000 values" in err, err
    assert grown_mb < 200


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "generation:\n  seed: !!python/object/apply:os.system ['echo pwned']\n",
            "run.yaml:5: could not determine a constructor for the tag",
        ),
        ("generation:\n  max_new_tokens: lots\n", "generation.max_new_tokens: expected int"),
        ("generation:\n  do_sample: 3\n", "generation.do_sample: expected bool"),
        ("generation: [1, 2]\n", "generation: expected a mapping"),
        ("perception:\n  num_frames: 8.5\n", "perception.num_frames: expected int"),
        ("x: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
    ],
)
def test_hostile_or_mistyped_yaml_is_one_line_and_exit_2(tmp_path, capsys, text, message):
    assert main(_run(tmp_path, text)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert "pwned" not in err
    assert sys.getrecursionlimit() < 100_000  # the deep file was refused, not allowed deeper


@pytest.mark.slow
def test_a_full_disk_during_an_eval_is_one_line_and_exit_2(tmp_path, capsys):
    import os
    import subprocess

    from eval_fixtures import EVAL, FAST

    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a small tmpfs, which needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)]).returncode:
        pytest.skip("mounting a tmpfs is not allowed here (a container without CAP_SYS_ADMIN)")
    try:
        argv = ["--config", str(EVAL / "dfew_mafw.yaml"), "--out", str(disk / "out"), *FAST]
        assert main([*argv, "--datasets", "dfew", "--folds", "1"]) == 2
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=True)
    err = capsys.readouterr().err
    errors = [line for line in err.replace("\r", "\n").splitlines() if "error:" in line]
    assert len(errors) == 1 and errors[0].startswith("error: no space left on the device"), err
    assert "failed: SafetensorError" not in err  # not blamed on each clip
