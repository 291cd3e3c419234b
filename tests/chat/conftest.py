"""Fixtures for the chat tests: the bundled tiny model, and a checkpoint with a known answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from chat_helpers import CLIP, KNOWN_REPLY, train_known_answer

from affect_llm.chat.session import ChatConfig, ChatEngine


@pytest.fixture(scope="session")
def tiny_engine() -> ChatEngine:
    """The bundled tiny random model, greedy, short answers."""
    return ChatEngine(ChatConfig(max_new_tokens=12, temperature=0.0))


@pytest.fixture(scope="session")
def known_checkpoint(tmp_path_factory) -> Path:
    """A saved checkpoint that answers KNOWN_REPLY about CLIP (greedy decoding)."""
    engine = ChatEngine(ChatConfig(max_new_tokens=48, temperature=0.0))
    return train_known_answer(engine, CLIP, KNOWN_REPLY, tmp_path_factory.mktemp("known_model"))
