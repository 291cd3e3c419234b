"""What AffectLLM takes and returns: its media inputs' names (with the deprecated audio name) and
its output classes, shared by the model, the trainers and the feature cache.

Copied into saved checkpoints beside modeling_affect_llm.py (relative imports only).
"""

import warnings
from dataclasses import dataclass

import torch
from transformers.cache_utils import Cache
from transformers.modeling_outputs import (
    BaseModelOutputWithPast,
    BaseModelOutputWithPooling,
    ModelOutput,
)

from .configuration_affect_llm import AUDIO_INPUT_KEYS

# The audio input's name both had before; accepted with a FutureWarning for one release (see `audio_input`).
DEPRECATED_AUDIO_KEY = "audio_values"
# Raw inputs (from AffectLLMProcessor) and the cached encoder outputs that can replace them.
RAW_FACE_KEYS = ("face_values", "face_mask")
RAW_AUDIO_KEYS = (*AUDIO_INPUT_KEYS, "audio_mask", DEPRECATED_AUDIO_KEY)
RAW_MEDIA_KEYS = RAW_FACE_KEYS + RAW_AUDIO_KEYS
CACHED_MEDIA_KEYS = ("face_features", "face_features_mask", "audio_features", "audio_features_mask")
# Face / audio tokens already through the projector, (batch, tokens, hidden): inserted as they are.
PROJECTED_MEDIA_KEYS = ("projected_face_tokens", "projected_audio_tokens")
MEDIA_KEYS = RAW_MEDIA_KEYS + CACHED_MEDIA_KEYS + PROJECTED_MEDIA_KEYS


def tower_output_flags(kwargs: dict) -> dict:
    """The output flags a pretrained tower accepts (hidden states / attentions of its layers)."""
    return {k: kwargs[k] for k in ("output_hidden_states", "output_attentions") if k in kwargs}


def audio_input(
    input_features: torch.Tensor | None,
    input_values: torch.Tensor | None,
    audio_values: torch.Tensor | None,
) -> torch.Tensor | None:
    """The one audio encoder input given, under its transformers name or the deprecated one."""
    if audio_values is not None:
        warnings.warn(
            "`audio_values` is deprecated and will be removed in the next release: pass log-mel or "
            "prosody features as `input_features` and waveforms as `input_values` (what "
            "AffectLLMProcessor now returns)",
            FutureWarning,
            stacklevel=3,
        )
    given = [v for v in (input_features, input_values, audio_values) if v is not None]
    if len(given) > 1:
        raise ValueError("pass one audio input: input_features, input_values or audio_values")
    return given[0] if given else None


@dataclass
class AffectLLMMediaOutput(BaseModelOutputWithPooling):
    """One modality: encoder features (`last_hidden_state`), their step mask (`features_mask`) and
    the projected LLM tokens (`pooler_output`, `(batch, num_tokens, hidden)`)."""

    features_mask: torch.Tensor | None = None

    @property
    def present(self) -> torch.Tensor:
        """`(batch,)` which samples have this modality (any valid step)."""
        return self.features_mask.bool().any(-1)


@dataclass
class AffectLLMModelOutputWithPast(BaseModelOutputWithPast):
    """Backbone outputs plus the projected face / audio tokens that were inserted."""

    face_hidden_states: torch.Tensor | None = None
    audio_hidden_states: torch.Tensor | None = None


@dataclass
class AffectLLMCausalLMOutputWithPast(ModelOutput):
    """Causal LM outputs plus the projected face / audio tokens that were inserted."""

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    past_key_values: Cache | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None
    face_hidden_states: torch.Tensor | None = None
    audio_hidden_states: torch.Tensor | None = None
