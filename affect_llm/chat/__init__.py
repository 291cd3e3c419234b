"""Chat with an AffectLLM about a video clip: the shared session, the terminal chat and the web demo."""

from affect_llm.chat.session import (
    ChatConfig,
    ChatEngine,
    Conversation,
    Reply,
    modality_messages,
    parse_reply,
)

__all__ = ["ChatConfig", "ChatEngine", "Conversation", "Reply", "modality_messages", "parse_reply"]
