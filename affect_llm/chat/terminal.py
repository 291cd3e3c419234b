"""The terminal chat: load a clip, stream the model's reasoning and labels, ask follow-ups.

Commands at the prompt: `/video PATH` (another clip), `/reset` (forget the conversation about the
current clip), `/help`, `/quit` (or Ctrl-D). Anything else is a question about the current clip.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import replace
from typing import TextIO

from affect_llm.chat.session import (
    DEFAULT_WHEEL,
    ChatEngine,
    Conversation,
    Reply,
    modality_messages,
)
from affect_llm.safe_text import printable

PROMPT = "you> "
HELP = (
    "Commands: /video PATH  load a clip | /reset  forget this conversation | /help | /quit\n"
    "Anything else is a question about the current clip."
)


def describe_clip(conversation: Conversation) -> list[str]:
    """What perception found in a clip, in a few lines for the terminal."""
    clip = conversation.clip
    lines = [f"clip: {conversation.name}"]
    if clip.info is not None:
        lines.append(
            f"  video: {clip.info.duration:.1f} s, {clip.info.width}x{clip.info.height}, "
            f"{len(clip.frames) if clip.frames is not None else 0} frames sampled"
        )
    if clip.face_present is not None:
        lines.append(
            f"  faces: found in {int(clip.face_present.sum())} of {len(clip.face_present)}"
        )
    if clip.au_summary is not None:
        lines.append(f"  action units: {clip.au_summary.description}")
    if clip.prosody_text:
        lines.append(f"  voice: {clip.prosody_text}")
    lines.extend(getattr(conversation, "media_lines", list)())  # a backbone family's own media
    lines.extend(f"  note: {message}" for message in modality_messages(clip))
    return lines


def describe_reply(reply: Reply, wheel: str = DEFAULT_WHEEL) -> list[str]:
    """The labels and their level-1 / level-2 nodes on the wheel (unknown words listed apart)."""
    if not reply.labels:
        return ["labels: (no emotion label found in the answer)"]
    lines = [f"labels: {', '.join(reply.labels)}"]
    placed = {label: node for label, node in reply.wheel_nodes.items() if node["level1"]}
    for label, node in placed.items():
        lines.append(
            f"  {label}: {wheel} level 1 {node['level1']}, level 2 {node['level2'] or '-'}"
        )
    unplaced = [label for label in reply.labels if label not in placed]
    if unplaced:
        lines.append(f"  not on {wheel}: {', '.join(unplaced)}")
    return lines


class TerminalChat:
    """A read-eval-print loop over a `ChatEngine`, writing the answer as it is generated."""

    def __init__(
        self, engine: ChatEngine, stdin: TextIO | None = None, stdout: TextIO | None = None
    ):
        self.engine = engine
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.conversation: Conversation | None = None

    def say(self, text: str = "") -> None:
        self.stdout.write(printable(text) + "\n")  # model answers, file names: no escapes
        self.stdout.flush()

    def read(self) -> str | None:
        """One line from the user, or None at end of input."""
        if self.stdin is sys.stdin and sys.stdin.isatty():
            try:
                return input(PROMPT)
            except EOFError:
                return None
        self.stdout.write(PROMPT)
        self.stdout.flush()
        line = self.stdin.readline()
        return line.rstrip("\n") if line else None

    def load(self, path: str) -> bool:
        from affect_llm.perception import MediaError

        self.say(f"reading {path} ...")
        try:
            self.conversation = self.engine.open_clip(path)
        except (MediaError, OSError, ValueError) as error:
            self.say(f"error: cannot use {path}: {error}")
            return False
        for line in describe_clip(self.conversation):
            self.say(line)
        return True

    def answer(self, question: str | None) -> None:
        assert self.conversation is not None
        self.stdout.write("model> ")
        self.stdout.flush()
        try:
            for piece in self.engine.stream(self.conversation, question):
                self.stdout.write(printable(piece))
                self.stdout.flush()
        except Exception as error:
            self.say(f"\nerror: generation failed: {error}")
            return
        self.say()
        for line in describe_reply(self.conversation.replies[-1]):
            self.say(line)

    def run(self, video: str | None = None) -> int:
        self.say(f"affect-llm chat. Model: {self.engine.description}.")
        self.say(HELP)
        if video is not None and self.load(video):
            self.answer(None)
        while True:
            line = self.read()
            if line is None:
                self.say()
                return 0
            line = line.strip()
            if not line:
                continue
            command, _, argument = line.partition(" ")
            if command in ("/quit", "/exit"):
                return 0
            if command == "/help":
                self.say(HELP)
            elif command == "/video":
                if not argument.strip():
                    self.say("usage: /video PATH")
                elif self.load(argument.strip()):
                    self.answer(None)
            elif command == "/reset":
                if self.conversation is not None:
                    self.conversation = replace(self.conversation, messages=[], replies=[])
                self.say("conversation reset.")
            elif self.conversation is None:
                self.say("No clip yet: load one with /video PATH.")
            else:
                self.answer(line)


def run_terminal_chat(engine: ChatEngine, video: str | None = None) -> int:
    """Chat on the process's terminal until /quit or end of input."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    try:
        return TerminalChat(engine).run(video)
    except KeyboardInterrupt:
        sys.stdout.write("\n")
        return 130


__all__ = ["TerminalChat", "describe_clip", "describe_reply", "run_terminal_chat"]
