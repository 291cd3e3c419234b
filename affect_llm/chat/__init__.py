"""Chat with an AffectLLM about a video clip: the shared session, the terminal chat and the web demo.

Names are loaded on first use, so `affect_llm.chat.options` (the command line) stays light.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ChatConfig": "affect_llm.chat.config",
    "ChatEngine": "affect_llm.chat.session",
    "Conversation": "affect_llm.chat.session",
    "Reply": "affect_llm.chat.session",
    "modality_messages": "affect_llm.chat.session",
    "parse_reply": "affect_llm.chat.session",
}


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'affect_llm.chat' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


__all__ = list(_EXPORTS)
