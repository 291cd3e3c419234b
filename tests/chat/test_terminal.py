"""The terminal chat: driven through a pseudo-terminal as a person would, and in-process."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest
from chat_helpers import CLIP, KNOWN_LABELS, KNOWN_REASONING, cli_env

from affect_llm.chat.terminal import PROMPT, TerminalChat


class PseudoTerminal:
    """A child process on a pty, with `expect` / `send` in the spirit of pexpect (stdlib only)."""

    def __init__(self, command: list[str]):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=cli_env(), close_fds=True
        )
        os.close(slave)
        self.output = ""
        self.position = 0  # where the next expect starts: just after the previous match

    def expect(self, pattern: str, timeout: float = 90.0) -> re.Match:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            found = regex.search(self.output, self.position)
            if found:
                self.position = found.end()
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out waiting for {pattern!r}; got:\n{self.output[-3000:]}"
                )
            ready, _, _ = select.select([self.master], [], [], min(remaining, 1.0))
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk and self.process.poll() is not None:
                    raise AssertionError(f"process ended waiting for {pattern!r}:\n{self.output}")
                self.output += chunk.decode("utf-8", "replace").replace("\r\n", "\n")

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> int:
        try:
            return self.process.wait(timeout=30)
        finally:
            os.close(self.master)


@pytest.mark.slow
def test_terminal_chat_streams_an_answer_and_takes_follow_ups(known_checkpoint, tmp_path):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    terminal = PseudoTerminal(
        [
            sys.executable,
            "-m",
            "affect_llm.cli",
            "chat",
            "--model",
            str(known_checkpoint),
            "--video",
            str(CLIP),
            "--temperature",
            "0",
            "--max-new-tokens",
            "48",
        ]
    )
    try:
        terminal.expect(r"faces: found in 8 of 8")
        terminal.expect(re.escape(f"model> <think>{KNOWN_REASONING}</think>"))
        terminal.expect(re.escape(f"labels: {', '.join(KNOWN_LABELS)}"))
        terminal.expect(r"happy: wheel1 level 1 happy, level 2 joyful")
        terminal.expect(re.escape(PROMPT))
        terminal.send("Why do you think so?")
        terminal.expect(r"Why do you think so\?\nmodel> \S")  # the terminal echoes the question
        terminal.expect(r"labels: ")
        terminal.expect(re.escape(PROMPT))
        terminal.send(f"/video {corrupt}")
        terminal.expect(r"error: cannot use .*corrupt\.mp4")
        terminal.expect(re.escape(PROMPT))
        terminal.send("/quit")
        assert terminal.close() == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()


def test_terminal_chat_without_a_clip_asks_for_one_then_answers(tiny_engine):
    lines = "Which emotions?\n/video " + str(CLIP) + "\nAnd now?\n/reset\n/help\n"
    out = io.StringIO()
    assert TerminalChat(tiny_engine, io.StringIO(lines), out).run() == 0
    text = out.getvalue()
    assert "No clip yet: load one with /video PATH." in text
    assert "clip: hopper_happy.mp4" in text
    assert text.count("model> ") == 2
    assert "conversation reset." in text
    assert text.count("Commands: /video PATH") == 2  # banner and /help


def test_reply_summary_separates_wheel_labels_from_unknown_words():
    from affect_llm.chat.session import parse_reply
    from affect_llm.chat.terminal import describe_reply

    lines = describe_reply(parse_reply("<answer>worried, blorptastic</answer>"))
    assert lines[0] == "labels: worried, blorptastic"
    assert "  worried: wheel1 level 1 scared, level 2 anxious" in lines
    assert lines[-1] == "  not on wheel1: blorptastic"
