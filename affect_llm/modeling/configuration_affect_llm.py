"""Configuration of AffectLLM: a Qwen2 / LLaMA decoder fed by a face encoder and an audio encoder."""

from __future__ import annotations

from typing import Literal

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

FACE_ENCODER_TYPES = ("au", "clip", "siglip")
AUDIO_ENCODER_TYPES = ("prosody", "whisper", "hubert")
PROJECTOR_TYPES = ("linear", "mlp", "attention")
# Audio encoder input under transformers' names: `input_features` for features computed from the
# waveform (Whisper's log-mel, prosody frames), `input_values` for the waveform itself (HuBERT).
AUDIO_INPUT_KEYS = ("input_features", "input_values")


def audio_input_key(audio_encoder_type: str) -> str:
    """The name of an audio encoder's input in the processor's output and the model's `forward`."""
    return "input_values" if audio_encoder_type == "hubert" else "input_features"


# Sub-config model types each pretrained tower accepts.
_FACE_MODEL_TYPES = {"clip": "clip_vision_model", "siglip": "siglip_vision_model"}
_AUDIO_MODEL_TYPES = {"whisper": "whisper", "hubert": "hubert"}


@strict
class AffectLLMConfig(PreTrainedConfig):
    r"""
    Configuration of [`AffectLLMForConditionalGeneration`].

    `text_config` is the decoder (Qwen2 or LLaMA). `face_config` / `audio_config` are the transformers
    configs of a pretrained tower (CLIP / SigLIP vision, Whisper / HuBERT) and stay `None` for the light
    encoders trained from scratch (`"au"`: per-frame OpenFace AU intensities, `"prosody"`: pitch, energy
    and spectral statistics). Each modality is projected to `num_face_tokens` / `num_audio_tokens`
    embeddings that replace the `<|face|>` / `<|audio|>` placeholder tokens of the prompt.

    Example:

    ```python
    >>> from transformers import Qwen2Config
    >>> from affect_llm.modeling import AffectLLMConfig, AffectLLMForConditionalGeneration
    >>> config = AffectLLMConfig(text_config=Qwen2Config(hidden_size=64, num_hidden_layers=2,
    ...     num_attention_heads=4, num_key_value_heads=2, intermediate_size=128, vocab_size=8196))
    >>> model = AffectLLMForConditionalGeneration(config)
    ```
    """

    model_type = "affect_llm"
    # Trainers written for vision-language models (TRL) look for `image_token_id`; a face is an image.
    attribute_map = {"image_token_id": "face_token_id"}
    sub_configs_defaults = {
        "text_config": SubConfigSpec(config_class=AutoConfig, model_type="qwen2"),
        "face_config": SubConfigSpec(
            config_class=AutoConfig, model_type="clip_vision_model", optional=True
        ),
        "audio_config": SubConfigSpec(config_class=AutoConfig, model_type="whisper", optional=True),
    }

    text_config: dict | PreTrainedConfig | None = None
    face_config: dict | PreTrainedConfig | None = None
    audio_config: dict | PreTrainedConfig | None = None
    face_encoder_type: Literal["au", "clip", "siglip"] = "au"
    audio_encoder_type: Literal["prosody", "whisper", "hubert"] = "prosody"
    # Light encoders (trained from scratch): input width and hidden size.
    num_action_units: int = 17
    au_hidden_size: int = 256
    num_prosody_features: int = 8
    prosody_hidden_size: int = 256
    # Projectors, per modality.
    face_projector_type: Literal["linear", "mlp", "attention"] = "attention"
    audio_projector_type: Literal["linear", "mlp", "attention"] = "attention"
    num_face_tokens: int = 8
    num_audio_tokens: int = 8
    projector_num_heads: int = 8
    # The one home of the encoders' freeze policy (applied by `AffectLLMModel.apply_encoder_freezing`):
    # frozen by default for pretrained towers, trainable for the from-scratch AU / prosody encoders.
    freeze_face_encoder: bool | None = None
    freeze_audio_encoder: bool | None = None
    face_token_id: int = 3
    audio_token_id: int = 4
    tie_word_embeddings: bool = False
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs):
        if self.face_encoder_type not in FACE_ENCODER_TYPES:
            raise ValueError(f"face_encoder_type must be one of {FACE_ENCODER_TYPES}")
        if self.audio_encoder_type not in AUDIO_ENCODER_TYPES:
            raise ValueError(f"audio_encoder_type must be one of {AUDIO_ENCODER_TYPES}")
        for name in ("face_projector_type", "audio_projector_type"):
            if getattr(self, name) not in PROJECTOR_TYPES:
                raise ValueError(f"{name} must be one of {PROJECTOR_TYPES}")
        # A pretrained tower needs its config; the light encoders must not get one.
        if self.face_encoder_type == "au":
            self.face_config = None
        elif isinstance(self.face_config, dict):
            self.face_config.setdefault("model_type", _FACE_MODEL_TYPES[self.face_encoder_type])
        elif self.face_config is None:
            self.face_config = {"model_type": _FACE_MODEL_TYPES[self.face_encoder_type]}
        if self.audio_encoder_type == "prosody":
            self.audio_config = None
        elif isinstance(self.audio_config, dict):
            self.audio_config.setdefault("model_type", _AUDIO_MODEL_TYPES[self.audio_encoder_type])
        elif self.audio_config is None:
            self.audio_config = {"model_type": _AUDIO_MODEL_TYPES[self.audio_encoder_type]}
        if self.freeze_face_encoder is None:
            self.freeze_face_encoder = self.face_encoder_type != "au"
        if self.freeze_audio_encoder is None:
            self.freeze_audio_encoder = self.audio_encoder_type != "prosody"
        super().__post_init__(**kwargs)
        # Checkpoints keep `tie_word_embeddings` on the text config (e.g. Qwen2.5-0.5B ties, 7B does not).
        if not self.tie_word_embeddings and getattr(self.text_config, "tie_word_embeddings", False):
            self.tie_word_embeddings = True


# A pretrained tower's model type -> the encoder type that reads it.
_FACE_TYPES = {"clip": "clip", "clip_vision_model": "clip", "siglip": "siglip"}
_FACE_TYPES["siglip_vision_model"] = "siglip"
_AUDIO_TYPES = {"whisper": "whisper", "hubert": "hubert"}


def face_encoder_type(name: str, **hub_kwargs) -> str:
    """ "au", "clip" or "siglip" for an encoder argument (a keyword or a checkpoint)."""
    if name == "au":
        return "au"
    model_type = AutoConfig.from_pretrained(name, **hub_kwargs).model_type
    if model_type not in _FACE_TYPES:
        raise ValueError(
            f"{name}: face encoder must be a CLIP or SigLIP checkpoint, got {model_type}"
        )
    return _FACE_TYPES[model_type]


def audio_encoder_type(name: str, **hub_kwargs) -> str:
    """ "prosody", "whisper" or "hubert" for an encoder argument (a keyword or a checkpoint)."""
    if name == "prosody":
        return "prosody"
    model_type = AutoConfig.from_pretrained(name, **hub_kwargs).model_type
    if model_type not in _AUDIO_TYPES:
        raise ValueError(f"{name}: audio encoder must be Whisper or HuBERT, got {model_type}")
    return model_type


# Saving writes this file beside config.json and names it in `auto_map` (see modeling_affect_llm).
AffectLLMConfig.register_for_auto_class()

__all__ = [
    "AUDIO_INPUT_KEYS",
    "AffectLLMConfig",
    "audio_encoder_type",
    "audio_input_key",
    "face_encoder_type",
]
