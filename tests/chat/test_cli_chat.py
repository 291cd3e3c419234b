"""`affect-llm chat` and `affect-llm demo` are registered and document their options."""

from __future__ import annotations

import pytest

from affect_llm.cli import build_parser


@pytest.mark.parametrize("command", ["chat", "demo"])
def test_commands_are_registered_with_model_option(command, capsys):
    parser = build_parser()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--model DIR" in text and "--temperature" in text


def test_demo_defaults_to_localhost_and_bundled_model():
    args = build_parser().parse_args(["demo"])
    assert (args.host, args.port, args.model) == ("127.0.0.1", 7860, None)
    args = build_parser().parse_args(["chat", "--video", "clip.mp4", "--model", "ckpt"])
    assert (args.video, args.model) == ("clip.mp4", "ckpt")
