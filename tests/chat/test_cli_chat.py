"""`affect-llm chat` and `affect-llm demo` are registered and take their options from dataclasses."""

from __future__ import annotations

from dataclasses import fields

import pytest

from affect_llm.chat.config import ChatConfig
from affect_llm.cli import main
from affect_llm.commands import chat, demo


def exit_code(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    return exit_info.value.code


@pytest.mark.parametrize("command", ["chat", "demo"])
def test_commands_are_registered_with_model_option(command, capsys):
    assert exit_code(command, "--help") == 0
    text = capsys.readouterr().out
    assert "--model DIR" in text and "--temperature" in text
    for config_field in fields(ChatConfig):  # every ChatConfig field is a flag, with its help
        assert f"--{config_field.name.replace('_', '-')}" in text
        assert config_field.metadata["help"].split(";")[0].rstrip(".") in " ".join(text.split())
    assert "(default: 0.7)" in text and "{mediapipe,opencv}" in text


def test_demo_defaults_to_localhost_and_bundled_model():
    options = demo.parse([])
    assert (options.host, options.port, options.model) == ("127.0.0.1", 7860, None)
    assert (options.temperature, options.num_frames) == (ChatConfig.temperature, 8)
    options = chat.parse(["--video", "clip.mp4", "--model", "ckpt"])
    assert (options.video, options.model) == ("clip.mp4", "ckpt")


def test_flags_keep_their_spelling_and_types():
    options = chat.parse(
        ["--max-new-tokens", "5", "--top-p", "0.5", "--face-detector", "opencv", "--seed", "3"]
    )
    assert (options.max_new_tokens, options.top_p, options.face_detector, options.seed) == (
        5,
        0.5,
        "opencv",
        3,
    )
    assert isinstance(options, ChatConfig)  # the engine takes the options as they are


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["chat", "--temprature", "1"],
            "affect-llm chat: error: unrecognized arguments: --temprature 1 (did you mean "
            "'--temperature'?)",
        ),
        (["demo", "--port", "http"], "affect-llm demo: error: argument --port: invalid int value"),
        (["chat", "--face-detector", "dlib"], "argument --face_detector/--face-detector: invalid"),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_2(argv, expected, capsys):
    assert exit_code(*argv) == 2
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert out == "" and len(lines) == 1 and expected in lines[0], err
