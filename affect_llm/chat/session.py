"""A chat session over one clip: load the model once, perceive a clip, stream multi-turn answers.

`ChatEngine` owns the model and processor (shared by every conversation, e.g. every browser tab);
`Conversation` is one clip plus its message history. The first user turn carries the `<|face|>` /
`<|audio|>` placeholders and the cue text the training templates use (AU description, prosody,
subtitle), so the model sees the same kind of prompt it was trained on.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affect_llm.chat.config import ChatConfig
from affect_llm.hub import model_folder
from affect_llm.perception import ClipPerception, MediaError, PerceptionConfig

DEFAULT_WHEEL = "wheel1"
# What the missing-modality messages call each modality.
_MODALITY_NAMES = {
    "video": "pictures",
    "face": "face",
    "aus": "facial action units",
    "audio": "sound",
}


@dataclass
class Reply:
    """One finished answer, split into what the demo shows."""

    text: str
    think: str | None
    answer: str | None
    labels: tuple[str, ...]
    wheel_nodes: dict[str, dict[str, str | None]]  # label -> {level1, level2} on the chosen wheel


def parse_reply(text: str, wheel: str = DEFAULT_WHEEL) -> Reply:
    """Reasoning, answer, emotion labels and their level-1 / level-2 wheel nodes of an answer."""
    from affect_llm.parsing import answer_text, extract_labels, think_text
    from affect_llm.taxonomy import get_taxonomy

    taxonomy = get_taxonomy()
    labels = extract_labels(text)
    nodes = {label: taxonomy.describe(label)[wheel] for label in labels}
    return Reply(text, think_text(text), answer_text(text), labels, nodes)


def modality_messages(clip: ClipPerception) -> list[str]:
    """Plain-language notes on what the clip lacks and what the answer rests on instead."""
    lacking = [m for m in ("face", "audio") if not clip.has(m)]
    messages = []
    for modality in lacking:
        reason = clip.missing[modality]
        messages.append(f"No {_MODALITY_NAMES[modality]} in this clip ({reason}).")
    if lacking == ["face"]:
        messages.append("The answer rests on the voice (and subtitle, if given) only.")
    elif lacking == ["audio"]:
        messages.append("The answer rests on the face (and subtitle, if given) only.")
    elif len(lacking) == 2:
        messages.append("The answer rests on the subtitle and the question only.")
    messages.extend(clip.notes)
    return messages


@dataclass
class Conversation:
    """One clip and the message history about it (kept per user; the model is not part of it)."""

    clip: ClipPerception
    name: str
    cue_text: str
    messages: list[dict] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)

    def user_message(self, question: str, has_face: bool, has_audio: bool) -> dict:
        """The next user turn; the first one carries the media placeholders and the cue text."""
        if self.messages:
            return {"role": "user", "content": question}
        parts: list[dict[str, str]] = []
        if has_face:
            parts.append({"type": "face"})
        if has_audio:
            parts.append({"type": "audio"})
        text = f"{self.cue_text}\n{question}" if self.cue_text else question
        parts.append({"type": "text", "text": text})
        return {"role": "user", "content": parts}


def default_question() -> str:
    """The reasoning instruction the training templates use (think, then answer)."""
    from affect_llm.data.templates import render

    return render({"id": "demo"}, task="reason", seed=0, cues=()).prompt


def cue_text(clip: ClipPerception) -> str:
    """The cue lines (subtitle, AUs, voice) the training templates put before the question."""
    from affect_llm.data.templates import render

    row = {
        "id": "demo",
        "subtitle": clip.subtitle,
        "au_description": clip.au_summary.description if clip.au_summary else None,
        "prosody": clip.prosody_text,
    }
    full = render(row, task="reason", seed=0).prompt
    bare = render(row, task="reason", seed=0, cues=()).prompt
    return full[: -len(bare)].rstrip("\n")


def load_model_and_processor(config: ChatConfig) -> tuple[Any, Any, str]:
    """(model, processor, description): a saved checkpoint, or the bundled tiny random model."""
    import torch

    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if config.model is None:
        from affect_llm.modeling.tiny import tiny_model_and_processor

        model, processor = tiny_model_and_processor(seed=config.seed)
        description = (
            "bundled tiny random model (untrained: its answers are meaningless; "
            "pass --model DIR to use a trained checkpoint)"
        )
    else:
        from transformers import AutoModelForCausalLM, AutoProcessor

        import affect_llm.modeling  # noqa: F401  (registers AffectLLM with the Auto classes)
        from affect_llm.remote_code import check_chat_template, check_model_folder, load_pretrained

        folder = model_folder(config.model, "--model")  # a saved folder or a hub id
        trust = config.trust_remote_code
        check_model_folder(folder, trust_remote_code=trust)
        processor = load_pretrained(AutoProcessor.from_pretrained, folder, trust_remote_code=trust)
        check_chat_template(processor, folder)  # bounded before any prompt is rendered
        model = load_pretrained(
            AutoModelForCausalLM.from_pretrained,
            folder,
            trust_remote_code=trust,
            dtype="auto",
        )
        description = f"checkpoint {config.model}"
    model.to(device).eval()
    return model, processor, description


class ChatEngine:
    """The model, its processor and the perception settings, loaded once and shared."""

    def __init__(self, config: ChatConfig | None = None, model=None, processor=None):
        self.config = config or ChatConfig()
        if model is None or processor is None:
            model, processor, self.description = load_model_and_processor(self.config)
        else:
            self.description = type(model).__name__
        self.model, self.processor = model, processor
        self.perception = PerceptionConfig(
            num_frames=self.config.num_frames, face_detector=self.config.face_detector
        )
        # One generation at a time: the model is shared by every conversation.
        self._lock = threading.Lock()

    @property
    def is_tiny_random(self) -> bool:
        return self.config.model is None

    # ---- clips -----------------------------------------------------------------------------------

    def open_clip(self, path: str | os.PathLike, subtitle: str | None = None) -> Conversation:
        """Perceive a clip and start a conversation about it; MediaError for unreadable files."""
        from affect_llm.perception import perceive_clip

        path = Path(path)
        if not path.is_file():
            raise MediaError(f"{path}: no such file")
        clip = perceive_clip(path, self.perception, subtitle=subtitle or None)
        return Conversation(clip=clip, name=path.name, cue_text=cue_text(clip))

    def media(self, clip: ClipPerception) -> dict[str, Any]:
        """The clip's arrays in the form this model's encoders read (AU sequence or face crops)."""
        inputs = clip.model_inputs()
        if self.processor.face_encoder_type == "au":
            inputs["faces"] = None
        else:
            inputs["aus"] = None
        return inputs

    # ---- generation ------------------------------------------------------------------------------

    def prompt_text(self, conversation: Conversation, question: str) -> tuple[str, dict]:
        """The rendered prompt for the next turn (whole history) and that turn's user message."""
        media = self.media(conversation.clip)
        has_face = media["faces"] is not None or media["aus"] is not None
        message = conversation.user_message(question, has_face, media["audio"] is not None)
        text = self.processor.apply_chat_template(
            [*conversation.messages, message], tokenize=False, add_generation_prompt=True
        )
        return text, message

    def model_inputs(self, conversation: Conversation, text: str) -> tuple[Any, dict[str, Any]]:
        """(the processor's batch for a rendered prompt, extra `generate` kwargs)."""
        media = self.media(conversation.clip)
        inputs = self.processor(
            text=[text],
            faces=[media["faces"]],
            aus=[media["aus"]],
            audio=[media["audio"]],
            return_tensors="pt",
        ).to(self.model.device)
        return inputs, {}

    def placeholder_token_ids(self) -> list[int]:
        """The media placeholder tokens, never to be generated."""
        return sorted({self.model.config.face_token_id, self.model.config.audio_token_id})

    def _generation_kwargs(self) -> dict[str, Any]:
        config = self.config
        # Sampling a placeholder token would ask the model for media it was not given.
        suppress = self.placeholder_token_ids()
        kwargs: dict[str, Any] = {
            "max_new_tokens": config.max_new_tokens,
            "suppress_tokens": suppress,
            "pad_token_id": self.processor.tokenizer.pad_token_id,
        }
        if config.temperature > 0:
            kwargs.update(do_sample=True, temperature=config.temperature, top_p=config.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def stream(self, conversation: Conversation, question: str | None = None) -> Iterator[str]:
        """Yield the answer's text as it is generated; when done, the turn joins the history."""
        import torch
        from transformers import TextIteratorStreamer

        question = (question or "").strip() or default_question()
        text, message = self.prompt_text(conversation, question)
        inputs, extra = self.model_inputs(conversation, text)
        streamer = TextIteratorStreamer(
            self.processor.tokenizer, skip_prompt=True, skip_special_tokens=True
        )
        failure: list[BaseException] = []
        seed = self.config.seed + len(conversation.replies)

        def generate() -> None:
            # The worker, not the reader, holds the lock: a reader that stops early (a closed
            # browser tab) cannot keep other conversations waiting beyond this generation.
            with self._lock:
                try:
                    torch.manual_seed(seed)
                    with torch.inference_mode():
                        self.model.generate(
                            **inputs, **extra, streamer=streamer, **self._generation_kwargs()
                        )
                except BaseException as error:  # surfaced in the reader's thread below
                    failure.append(error)
                    streamer.end()

        pieces: list[str] = []
        worker = threading.Thread(target=generate, daemon=True)
        worker.start()
        for piece in streamer:
            pieces.append(piece)
            yield piece
        worker.join()
        if failure:
            raise failure[0]
        reply = "".join(pieces)
        conversation.messages.extend([message, {"role": "assistant", "content": reply}])
        conversation.replies.append(parse_reply(reply))

    def ask(self, conversation: Conversation, question: str | None = None) -> Reply:
        """The whole answer at once (no streaming)."""
        for _ in self.stream(conversation, question):
            pass
        return conversation.replies[-1]


__all__ = [
    "ChatConfig",
    "ChatEngine",
    "Conversation",
    "Reply",
    "cue_text",
    "default_question",
    "load_model_and_processor",
    "modality_messages",
    "parse_reply",
]
