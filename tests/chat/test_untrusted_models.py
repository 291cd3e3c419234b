"""A model folder from a stranger runs no code of its own unless the user passes --trust-remote-code.

The folder is what such an attack looks like: a `config.json` with a `model_type` transformers does
not know and an `auto_map` naming a module of the folder, which writes a marker file when imported.
transformers asks `Do you wish to run the custom code? [y/N]` on stdin when nobody decided, so every
run is fed `y` first: a piped chat line must never answer that question.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from chat_helpers import CLIP, cli_env

EVIL_MODULE = """import os
from pathlib import Path

Path(os.environ["EVIL_MARKER"]).write_text("the folder's code ran")

from transformers import PretrainedConfig


class EvilConfig(PretrainedConfig):
    model_type = "evil_net"
"""


def remote_code_folder(root: Path) -> Path:
    folder = root / "evil-model"
    folder.mkdir()
    config = {
        "model_type": "evil_net",
        "architectures": ["EvilForCausalLM"],
        "auto_map": {
            "AutoConfig": "evil.EvilConfig",
            "AutoModelForCausalLM": "evil.EvilForCausalLM",
            "AutoProcessor": "evil.EvilProcessor",
            "AutoTokenizer": ["evil.EvilTokenizer", None],
        },
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    (folder / "evil.py").write_text(EVIL_MODULE)
    return folder


@pytest.fixture
def evil(tmp_path, monkeypatch) -> tuple[Path, Path]:
    marker = tmp_path / "marker"
    monkeypatch.setenv("EVIL_MARKER", str(marker))
    return remote_code_folder(tmp_path), marker


def run_cli(*argv: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "affect_llm.cli", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
    )


@pytest.mark.parametrize("command", ["chat", "demo"])
def test_a_yes_on_stdin_never_runs_a_model_folders_code(command, evil):
    folder, marker = evil
    argv = [command, "--model", str(folder)]
    if command == "chat":
        argv += ["--video", str(CLIP)]
    else:
        argv += ["--port", "0"]
    result = run_cli(*argv, stdin="y\nwhat is she feeling?\n")
    assert not marker.exists(), "the folder's code ran"
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert str(folder) in errors[0] and "--trust-remote-code" in errors[0]
    assert "[y/N]" not in result.stdout + result.stderr  # no question was asked


def test_eval_loaders_refuse_the_folder_without_the_flag(evil, monkeypatch):
    from affect_llm.errors import InputError
    from affect_llm.evaluation.generation import load_model
    from affect_llm.evaluation.local_llm import LocalLLM

    folder, marker = evil
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\ny\ny\n"))
    with pytest.raises(InputError, match="--trust-remote-code"):
        load_model(str(folder))
    with pytest.raises(InputError, match="--trust-remote-code"):
        LocalLLM(str(folder))
    assert not marker.exists()


def test_the_flag_is_what_allows_the_code(evil):
    from affect_llm.chat.options import TerminalChatOptions
    from affect_llm.commands import chat
    from affect_llm.evaluation.options import MerUniBenchOptions
    from affect_llm.remote_code import check_model_folder

    folder, marker = evil
    assert chat.parse(["--trust-remote-code"]).trust_remote_code is True
    assert TerminalChatOptions().trust_remote_code is False
    assert MerUniBenchOptions(out="x").trust_remote_code is False
    check_model_folder(folder, trust_remote_code=True)
    assert marker.read_text() == "the folder's code ran"


def test_a_half_saved_config_is_one_line(tmp_path):
    from affect_llm.errors import InputError
    from affect_llm.evaluation.generation import load_model

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "affect_llm", "text_con')
    with pytest.raises(InputError, match=r"--model .*model: .*not valid JSON"):
        load_model(str(folder))


@pytest.fixture(scope="module")
def saved_tiny(tmp_path_factory) -> Path:
    from affect_llm.modeling.tiny import tiny_model_and_processor

    folder = tmp_path_factory.mktemp("tiny_model")
    model, processor = tiny_model_and_processor(seed=0)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("damage", ["truncated", "lying header"])
def test_unreadable_weights_are_one_line(saved_tiny, tmp_path, damage):
    import shutil
    import struct

    from affect_llm.errors import InputError
    from affect_llm.evaluation.generation import load_model

    folder = Path(shutil.copytree(saved_tiny, tmp_path / "model"))
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    if damage == "truncated":
        weights.write_bytes(data[: len(data) // 2])  # a copy cut short
    else:  # the header claims more bytes than the file has
        weights.write_bytes(struct.pack("<Q", 10**12) + data[8:])
    with pytest.raises(InputError, match=r"\.safetensors weights file cannot be read"):
        load_model(str(folder))


def _unknown_class(saved: dict) -> None:
    saved["feature_extractor"]["feature_extractor_type"] = "FooExtractor"


def _entry_missing(saved: dict) -> None:
    del saved["feature_extractor"]


def _unknown_encoder_type(saved: dict) -> None:
    """The first layout (encoder types, no sub-processor entries) naming no known encoder."""
    del saved["image_processor"], saved["feature_extractor"]
    saved.update(face_encoder_type="openface", audio_encoder_type="prosody")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_unknown_class, r"names 'FooExtractor'; AffectLLMProcessor uses one of"),
        (_entry_missing, r"has no AffectLLMProcessor settings"),
        (_unknown_encoder_type, r"face_encoder_type is 'openface'; expected one of"),
    ],
    ids=["unknown class", "entry missing", "unknown encoder type"],
)
def test_a_processor_config_naming_no_known_sub_processor_is_one_line(
    saved_tiny, tmp_path, edit, message
):
    import shutil

    from affect_llm.errors import InputError
    from affect_llm.evaluation.generation import load_model

    folder = Path(shutil.copytree(saved_tiny, tmp_path / "model"))
    config = folder / "processor_config.json"
    saved = json.loads(config.read_text())
    edit(saved)
    config.write_text(json.dumps(saved))
    with pytest.raises(InputError, match=rf"--model .*model: .*{message}"):
        load_model(str(folder))


LOOPS = "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}"
ESCAPE = "{{ ''.__class__.__mro__[1].__subclasses__() }}"


@pytest.mark.parametrize(
    ("template", "message"),
    [(LOOPS, "renders over 1,000,000 characters"), (ESCAPE, "the template sandbox forbids")],
)
def test_a_hostile_chat_template_is_refused_before_use(saved_tiny, tmp_path, template, message):
    import resource
    import shutil

    from affect_llm.errors import InputError
    from affect_llm.evaluation.generation import load_model

    folder = Path(shutil.copytree(saved_tiny, tmp_path / "model"))
    (folder / "chat_template.jinja").write_text(template)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError, match=message):
        load_model(str(folder))
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 500  # MB
