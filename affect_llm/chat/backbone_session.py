"""The chat and the demo with a pretrained omni / VL / audio backbone (Qwen2.5-Omni, Qwen2.5-VL,
Qwen2-Audio), zero-shot or trained.

The same sessions, follow-up turns, cue text and answer reading as with AffectLLM
(`affect_llm.chat.session`); what differs is what reaches the model: the clip's full frames, sampled
once per clip at the family's frame settings, and its 16 kHz audio go through the family's own
processor, in a first user turn built by the family's chat template with `video` / `audio` parts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from affect_llm.chat.config import ChatConfig
from affect_llm.chat.session import ChatEngine, Conversation
from affect_llm.data.frames import FrameSettings, decode_frames
from affect_llm.modeling.backbone_generation import generation_inputs
from affect_llm.modeling.backbones import content_parts, load_backbone, media_flags
from affect_llm.modeling.families import Family


@dataclass
class FamilyConversation(Conversation):
    """A conversation whose clip also carries the media dict the family's processor reads."""

    media: dict[str, Any] = field(default_factory=dict)

    def media_lines(self) -> list[str]:
        """What the model itself reads of the clip, for the terminal."""
        lines = []
        if self.media.get("video") is not None:
            frames = self.media["video"]
            lines.append(
                f"  model reads: {len(frames)} full frames of {frames.shape[2]}x{frames.shape[1]} "
                f"at {self.media['video_fps']:.2f} fps"
            )
        if self.media.get("audio") is not None:
            lines.append(f"  model hears: {len(self.media['audio']) / 16000:.1f} s of audio")
        return lines


def frame_settings(config: ChatConfig) -> FrameSettings:
    """The chat's frame settings: its options, else `FrameSettings`' defaults."""
    given = {
        "fps": config.video_fps,
        "max_frames": config.video_max_frames,
        "max_pixels": config.video_max_pixels,
    }
    return FrameSettings(**{k: v for k, v in given.items() if v is not None})


class FamilyChatEngine(ChatEngine):
    """`ChatEngine` over a backbone family checkpoint."""

    face_strip_title = "Faces found in the clip (the model itself reads the full frames)"

    def __init__(
        self, config: ChatConfig, model=None, processor=None, family: Family | None = None
    ):
        import torch

        if model is None or processor is None or family is None:
            model, processor, family = load_backbone(config.model, dtype="auto")
            device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
            model.to(device).eval()
        super().__init__(config, model, processor)
        self.family = family
        self.frames = frame_settings(self.config)
        self.description = f"{family.title} checkpoint {config.model}"

    def open_clip(self, path: str | os.PathLike, subtitle: str | None = None) -> Conversation:
        """Perceive the clip (cue text) and sample the frames and audio the family reads."""
        conversation = super().open_clip(path, subtitle)
        media: dict[str, Any] = {"video": None, "audio": None}
        if self.family.sees_video and conversation.clip.frames is not None:
            media["video"], media["video_fps"] = decode_frames(path, self.frames)
            media["video_max_pixels"] = self.frames.max_pixels
        if self.family.sees_audio:
            media["audio"] = conversation.clip.audio  # 16 kHz mono, read by perception
        return FamilyConversation(
            clip=conversation.clip,
            name=conversation.name,
            cue_text=conversation.cue_text,
            media=media,
        )

    def media(self, clip) -> dict[str, Any]:  # AffectLLM's encoder inputs: not used here
        raise NotImplementedError("a backbone family reads the conversation's media dict")

    def prompt_text(self, conversation: Conversation, question: str) -> tuple[str, dict]:
        """The family's chat template over the whole history; the first turn carries the video /
        audio parts and the cue text, follow-ups only the question."""
        if conversation.messages:
            message = {"role": "user", "content": [{"type": "text", "text": question}]}
        else:
            has_video, has_audio = media_flags(self.family, conversation.media)
            text = f"{conversation.cue_text}\n{question}" if conversation.cue_text else question
            parts = content_parts(self.family, text, has_video, has_audio)
            message = {"role": "user", "content": parts}
        history = [
            {**m, "content": [{"type": "text", "text": m["content"]}]}
            if isinstance(m["content"], str)
            else m
            for m in conversation.messages
        ]
        text = self.processor.apply_chat_template(
            [*history, message], tokenize=False, add_generation_prompt=True
        )
        return text, message

    def model_inputs(self, conversation: Conversation, text: str) -> tuple[Any, dict[str, Any]]:
        batch = generation_inputs(self.processor, self.family, [text], [conversation.media])
        return batch.to(self.model.device), {}

    def placeholder_token_ids(self) -> list[int]:
        tokenizer = self.processor.tokenizer
        ids = set()
        for name in ("image", "video", "audio"):
            token = getattr(self.processor, f"{name}_token", None) or getattr(
                tokenizer, f"{name}_token", None
            )
            if token is not None:
                ids.add(tokenizer.convert_tokens_to_ids(token))
        return sorted(ids)
