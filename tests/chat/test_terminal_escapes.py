"""Text a model writes never drives the user's terminal: escape sequences are stripped when printed."""

from __future__ import annotations

import io

from chat_helpers import CLIP

from affect_llm.chat.terminal import TerminalChat

# Retitle the window (OSC 0 ... BEL), clear the screen (CSI 2J), reverse the line (bidi override).
HOSTILE = "calm\x1b]0;owned\x07, \x1b[2Jhappy\u202e and\x9b31m sad\x00"


def test_model_text_is_printed_without_control_characters(tiny_engine, monkeypatch):
    tokenizer = tiny_engine.processor.tokenizer

    def hostile_generate(input_ids, streamer, **kwargs):
        """The model 'answers' HOSTILE: its tokens go through the real streamer and decoder."""
        streamer.put(input_ids)  # the prompt, skipped by the streamer
        for token in tokenizer(HOSTILE, return_tensors="pt").input_ids[0]:
            streamer.put(token.unsqueeze(0))
        streamer.end()

    monkeypatch.setattr(tiny_engine.model, "generate", hostile_generate)
    out = io.StringIO()
    chat = TerminalChat(tiny_engine, io.StringIO("why?\n"), out)
    assert chat.load(str(CLIP))
    chat.answer("why?")
    chat.say(f"error: cannot use {HOSTILE}.mp4")
    text = out.getvalue()
    assert not any(ch in text for ch in "\x1b\x07\x9b\x00\u202e"), repr(text)
    assert "happy" in text and "sad" in text  # the words themselves are kept
