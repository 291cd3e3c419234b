"""Options of `affect-llm chat` and `affect-llm demo`: `ChatConfig` (model, generation, perception)
plus each command's own. Their flags are built from these fields (`affect_llm.options`), so the
help and defaults shown are the dataclasses'."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from affect_llm.chat.config import ChatConfig


@dataclass
class TerminalChatOptions(ChatConfig):
    """`affect-llm chat`: the engine's options and a clip to start with."""

    video: str | None = field(
        default=None, metadata={"metavar": "FILE", "help": "Clip to start with."}
    )


@dataclass
class DemoOptions(ChatConfig):
    """`affect-llm demo`: the engine's options and where to serve."""

    host: str = field(default="127.0.0.1", metadata={"help": "Address to serve on."})
    port: int = field(default=7860, metadata={"help": "Port to serve on."})


def load_engine(config: ChatConfig):
    """Load the model once, as the options say."""
    # mediapipe / TFLite log to stderr at import; keep the terminal readable.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from affect_llm.hub import model_folder
    from affect_llm.modeling.families import is_backbone_checkpoint

    if config.model:  # a hub id becomes its local snapshot before the family is read
        config.model = model_folder(config.model, "--model")
    if is_backbone_checkpoint(config.model):  # Qwen2.5-Omni / Qwen2.5-VL / Qwen2-Audio
        from affect_llm.chat.backbone_session import FamilyChatEngine

        return FamilyChatEngine(config)
    from affect_llm.chat.session import ChatEngine

    return ChatEngine(config)
