"""The chat and the demo with a pretrained omni model folder: same flow, the family's media.

A tiny random Qwen2.5-Omni thinker's answers are arbitrary text, so these check the flow (clip,
answer, follow-up), that the clip's frames and audio reach the model (the video / audio tokens of
the prompt and the processor's tensors), and that a follow-up carries the whole history.
"""

from __future__ import annotations

import io
import re
import sys

import pytest
from chat_helpers import CLIP
from test_terminal import PseudoTerminal

from affect_llm.chat.options import DemoOptions, TerminalChatOptions, load_engine
from affect_llm.chat.session import default_question
from affect_llm.chat.terminal import PROMPT, TerminalChat
from affect_llm.modeling.backbones import media_token_counts
from affect_llm.modeling.tiny_backbones import TINY_FRAMES, save_tiny_backbone

FRAMES = ["--video-max-pixels", str(TINY_FRAMES.max_pixels), "--video-max-frames", "8"]


@pytest.fixture(scope="module")
def tiny_omni(tmp_path_factory):
    return save_tiny_backbone("omni", tmp_path_factory.mktemp("models") / "tiny-omni")


def _engine(tiny_omni, options=TerminalChatOptions):
    return load_engine(
        options(
            model=str(tiny_omni),
            temperature=0.0,
            max_new_tokens=6,
            video_max_pixels=TINY_FRAMES.max_pixels,
            video_max_frames=TINY_FRAMES.max_frames,
        )
    )


def test_terminal_chat_answers_about_a_clip_with_its_frames_and_audio(tiny_omni):
    from affect_llm.chat.backbone_session import FamilyChatEngine

    engine = _engine(tiny_omni)
    assert isinstance(engine, FamilyChatEngine) and engine.family.name == "omni"
    calls = []
    generate = engine.model.generate

    def spy(**kwargs):  # what each turn gives the model
        calls.append(kwargs)
        return generate(**kwargs)

    engine.model.generate = spy
    out = io.StringIO()
    chat = TerminalChat(engine, io.StringIO("Why do you think so?\n"), out)
    assert chat.run(str(CLIP)) == 0
    text = out.getvalue()
    assert "Model: Qwen2.5-Omni (thinker) checkpoint" in text
    assert "clip: hopper_happy.mp4" in text
    frames = re.search(r"model reads: (\d+) full frames of (\d+)x(\d+)", text)
    assert frames and 2 <= int(frames.group(1)) <= 8
    assert int(frames.group(2)) * int(frames.group(3)) <= TINY_FRAMES.max_pixels
    assert "model hears: " in text
    assert text.count("model> ") == 2 and text.count("labels: ") == 2
    # both turns gave the model the clip: video frames with the audio inside them (TMRoPE)
    assert len(calls) == 2
    first, second = calls
    for call in calls:
        counts = media_token_counts(engine.processor, call["input_ids"][0])
        assert counts["video"] > 0 and counts["audio"] > 0
        assert call["pixel_values_videos"].shape[0] > 0 and "input_features" in call
        assert call["use_audio_in_video"] is True
    # the follow-up's prompt is the first turn, its answer, then the question
    conversation = chat.conversation
    assert len(conversation.replies) == 2 and len(conversation.messages) == 4
    first_ids = first["input_ids"][0].tolist()
    assert second["input_ids"][0].tolist()[: len(first_ids)] == first_ids
    follow_up = engine.processor.batch_decode(second["input_ids"])[0]
    assert follow_up.count("<|vision_bos|>") == 1 and "Why do you think so?" in follow_up
    # the first turn carries the cue text the training prompts use
    first_text = conversation.messages[0]["content"][-1]["text"]
    assert conversation.cue_text and first_text == f"{conversation.cue_text}\n{default_question()}"
    assert [part["type"] for part in conversation.messages[0]["content"]] == ["video", "text"]


@pytest.mark.slow
def test_affect_llm_chat_command_with_an_omni_folder(tiny_omni):
    command = [sys.executable, "-m", "affect_llm.cli", "chat", "--model", str(tiny_omni)]
    command += ["--video", str(CLIP), "--temperature", "0", "--max-new-tokens", "6", *FRAMES]
    terminal = PseudoTerminal(command)
    try:
        terminal.expect(r"Model: Qwen2\.5-Omni \(thinker\) checkpoint", timeout=180)
        terminal.expect(r"model reads: \d+ full frames", timeout=180)
        terminal.expect(r"model> ", timeout=180)
        terminal.expect(r"labels: ", timeout=180)
        terminal.expect(re.escape(PROMPT))
        terminal.send("And her voice?")
        terminal.expect(r"And her voice\?\nmodel> ", timeout=180)
        terminal.expect(r"labels: ", timeout=180)
        terminal.expect(re.escape(PROMPT))
        terminal.send("/quit")
        assert terminal.close() == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()


def test_demo_analyses_a_clip_and_answers_a_follow_up_with_an_omni_folder(tiny_omni):
    """`affect-llm demo --model FOLDER`: the page's handlers, in-process (names for components)."""
    from dataclasses import fields

    from affect_llm.chat.app import DemoHandlers, Page

    page = Page(**{f.name: f.name for f in fields(Page)})
    handlers = DemoHandlers(_engine(tiny_omni, DemoOptions), page)
    shown: dict = {}
    for update in handlers.analyse(str(CLIP), "", "wheel1"):
        shown.update(update)
    assert "<|VIDEO|>" in shown["prompt"] and "<|face|>" not in shown["prompt"]
    assert shown["chat"][-1]["role"] == "assistant"
    conversation = shown["state"]
    assert len(conversation.replies) == 1
    history = shown["chat"]
    for update in handlers.follow_up("And her voice?", conversation, history, "wheel1"):
        shown.update(update)
    assert [m["role"] for m in shown["chat"]] == ["user", "assistant", "user", "assistant"]
    assert len(conversation.replies) == 2
