"""A model named by a hub id (`user/repo`) wherever a folder is taken; an unreachable hub is one
line within seconds, with what to do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from affect_llm.errors import InputError
from affect_llm.hub import looks_like_hub_id, model_folder

AFFECT_LLM = Path(sys.executable).parent / "affect-llm"


def test_hub_ids_and_paths_are_told_apart():
    assert looks_like_hub_id("Qwen/Qwen2.5-7B-Instruct") and looks_like_hub_id("gpt2")
    for path in ("./model", "/abs/model", "runs/a/b", "../x", "~/m", "a b/c"):
        assert not looks_like_hub_id(path), path


def cached_snapshot(cache: Path, repo_id: str, files: dict[str, str]) -> Path:
    """A hub cache entry as huggingface_hub lays it out: refs/main names the snapshot folder."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    sha = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(sha)
    snapshot = repo / "snapshots" / sha
    snapshot.mkdir(parents=True)
    for name, text in files.items():
        (snapshot / name).write_text(text)
    return snapshot


def test_a_cached_hub_model_resolves_offline(tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    snapshot = cached_snapshot(tmp_path, "someone/affect-tiny", {"config.json": "{}"})
    assert Path(model_folder("someone/affect-tiny")) == snapshot
    cached_snapshot(tmp_path, "someone/not-a-model", {"README.md": "# hi"})
    with pytest.raises(InputError, match=r"no config.json"):
        model_folder("someone/not-a-model")


def test_a_local_folder_wins_over_the_hub(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "own").mkdir(parents=True)
    (tmp_path / "runs" / "own" / "config.json").write_text("{}")
    assert model_folder("runs/own") == "runs/own"


def one_line(argv: list[str], env: dict[str, str]) -> tuple[str, float]:
    """The one error line of `affect-llm ARGV` (exit 2) and the seconds it took."""
    start = time.monotonic()
    done = subprocess.run(
        [str(AFFECT_LLM), *argv], capture_output=True, text=True, env={**os.environ, **env}
    )
    elapsed = time.monotonic() - start
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    return lines[0], elapsed


@pytest.mark.parametrize(
    "env",
    [{"HF_HUB_OFFLINE": "1"}, {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "0"}],
    ids=["offline", "unreachable"],
)
@pytest.mark.parametrize("command", ["chat", "demo"])
def test_an_uncached_hub_id_without_the_hub_is_one_line_within_5_s(tmp_path, env, command):
    env = {**env, "HF_HUB_CACHE": str(tmp_path)}
    # the same command with a missing local folder: start-up alone (seconds on a loaded machine)
    _, start_up = one_line([command, "--model", str(tmp_path / "nothing")], env)
    line, elapsed = one_line([command, "--model", "nobody/no-such-model"], env)
    assert elapsed < 5 or elapsed - start_up < 3, (elapsed, start_up)
    assert line.startswith("error: --model nobody/no-such-model: no such folder")
    assert "HF_HUB_OFFLINE" in line and "local model folder" in line


def test_a_hub_that_never_answers_is_one_line_within_5_s(tmp_path, monkeypatch):
    """A blackholed endpoint: the connection opens, no reply comes; the short timeout ends it."""
    import huggingface_hub.constants as constants

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        endpoint = f"http://127.0.0.1:{server.getsockname()[1]}"
        monkeypatch.setattr(constants, "ENDPOINT", endpoint)
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        start = time.monotonic()
        with pytest.raises(InputError, match="cannot be reached") as error:
            model_folder("nobody/no-such-model", "--judge-model")
        assert time.monotonic() - start < 5
    assert str(error.value).startswith("--judge-model nobody/no-such-model: no such folder")
