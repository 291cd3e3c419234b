"""AffectLLM: face and audio encoders whose projected outputs replace placeholder tokens of a decoder.

Transformers layout (like LLaVA): `AffectLLMModel` holds the encoders, projectors and the decoder
backbone (`language_model`) and returns `last_hidden_state`; `AffectLLMForConditionalGeneration` adds
the LM head and generation. The backbone sits under `base_model_prefix = "model"`, so TRL's fused LM
head (which calls `model.base_model(...)`) works unchanged.
"""

import math
from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoModel, GenerationMixin, PreTrainedModel
from transformers import initialization as init
from transformers.cache_utils import Cache
from transformers.modeling_outputs import BaseModelOutputWithPast, ModelOutput
from transformers.modeling_utils import slice_logits_to_keep

from affect_llm.modeling.configuration_affect_llm import AffectLLMConfig
from affect_llm.modeling.encoders import build_audio_encoder, build_face_encoder
from affect_llm.modeling.projectors import AttentionPoolProjector, build_projector

# Raw inputs (from AffectLLMProcessor) and the cached encoder outputs that can replace them.
RAW_MEDIA_KEYS = ("face_values", "face_mask", "audio_values", "audio_mask")
CACHED_MEDIA_KEYS = ("face_features", "face_features_mask", "audio_features", "audio_features_mask")
# Face / audio tokens already through the projector, (batch, tokens, hidden): inserted as they are.
PROJECTED_MEDIA_KEYS = ("projected_face_tokens", "projected_audio_tokens")
MEDIA_KEYS = RAW_MEDIA_KEYS + CACHED_MEDIA_KEYS + PROJECTED_MEDIA_KEYS


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


class AffectLLMPreTrainedModel(PreTrainedModel):
    """Weight init and transformers capabilities shared by the AffectLLM classes."""

    config: AffectLLMConfig
    base_model_prefix = "model"
    input_modalities = ("image", "audio", "text")
    supports_gradient_checkpointing = True
    _skip_keys_device_placement = ["past_key_values"]
    _no_split_modules = [
        "Qwen2DecoderLayer",
        "LlamaDecoderLayer",
        "CLIPEncoderLayer",
        "SiglipEncoderLayer",
        "WhisperEncoderLayer",
        "HubertEncoderLayerStableLayerNorm",
        "HubertEncoderLayer",
    ]
    _supports_flash_attn = True
    _supports_sdpa = True
    _supports_attention_backend = True

    def _init_weights(self, module):
        if getattr(module, "_fan_in_init", False):
            # New multimodal layers keep PyTorch's fan-in init (activations of order one) rather
            # than the decoder's N(0, 0.02), which would shrink the projected tokens to nothing.
            init.kaiming_uniform_(module.weight, a=math.sqrt(5))
            if module.bias is not None:
                bound = 1.0 / math.sqrt(module.weight[0].numel())
                init.uniform_(module.bias, -bound, bound)
            return
        super()._init_weights(module)
        if isinstance(module, AttentionPoolProjector):
            init.normal_(module.queries, mean=0.0, std=1.0)


class AffectLLMModel(AffectLLMPreTrainedModel):
    """Encoders + projectors + decoder backbone, without the LM head.

    Inputs besides the usual `input_ids` / `attention_mask` / cache arguments:

    - `face_values`, `face_mask`: face encoder input and its frame mask `(batch, frames)`. For
      `face_encoder_type="au"` the values are AU intensities `(batch, frames, 17)` in the order of
      `affect_llm.action_units.OPENFACE_INTENSITY_AUS`; for CLIP / SigLIP they are face-crop pixel
      values `(batch, frames, 3, H, W)`.
    - `audio_values`, `audio_mask`: audio encoder input and its mask. Whisper: log-mel
      `(batch, n_mels, frames)` with a mel-frame mask; HuBERT: waveform `(batch, samples)` with a
      sample mask; prosody: `(batch, frames, 8)` features with a frame mask.
    - Cached encoder outputs, accepted instead of the raw inputs with the same logits (see
      `encode_media`): `face_features` `(batch, steps, d_face)` + `face_features_mask`
      `(batch, steps)`, and `audio_features` + `audio_features_mask`.

    A sample whose mask is all False has no such modality; its prompt must then carry no placeholder
    for it (the processor removes it).
    """

    def __init__(self, config: AffectLLMConfig):
        super().__init__(config)
        text_hidden = config.text_config.hidden_size
        self.face_encoder = build_face_encoder(config)
        self.audio_encoder = build_audio_encoder(config)
        self.face_projector = build_projector(
            config.face_projector_type,
            self.face_encoder.output_size,
            text_hidden,
            config.num_face_tokens,
            config.projector_num_heads,
        )
        self.audio_projector = build_projector(
            config.audio_projector_type,
            self.audio_encoder.output_size,
            text_hidden,
            config.num_audio_tokens,
            config.projector_num_heads,
        )
        self.language_model = AutoModel.from_config(config.text_config)
        self.post_init()
        self.apply_encoder_freezing()

    def apply_encoder_freezing(self) -> None:
        """Freeze the encoders the config marks as frozen (pretrained towers by default)."""
        if self.config.freeze_face_encoder:
            self.face_encoder.requires_grad_(False)
        if self.config.freeze_audio_encoder:
            self.audio_encoder.requires_grad_(False)

    def get_input_embeddings(self) -> nn.Module:
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.language_model.set_input_embeddings(value)

    @staticmethod
    def _run_encoder(encoder: nn.Module, values: torch.Tensor, mask: torch.Tensor):
        # Frozen encoders run without autograd: no activations are kept for them.
        if any(p.requires_grad for p in encoder.parameters()):
            return encoder(values, mask)
        with torch.no_grad():
            return encoder(values, mask)

    def encode_media(
        self,
        face_values: torch.Tensor | None = None,
        face_mask: torch.Tensor | None = None,
        audio_values: torch.Tensor | None = None,
        audio_mask: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Run the encoders; the returned cached-feature dict can be passed to `forward` later."""
        cached = {}
        if face_values is not None:
            feats, mask = self._run_encoder(self.face_encoder, face_values, face_mask)
            cached.update(face_features=feats, face_features_mask=mask)
        if audio_values is not None:
            feats, mask = self._run_encoder(self.audio_encoder, audio_values, audio_mask)
            cached.update(audio_features=feats, audio_features_mask=mask)
        return cached

    def _insert_tokens(
        self,
        input_ids: torch.Tensor | None,
        inputs_embeds: torch.Tensor,
        token_id: int,
        projector: nn.Module,
        features: torch.Tensor | None,
        features_mask: torch.Tensor | None,
        modality: str,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Replace the modality's placeholder embeddings with its projected tokens."""
        if input_ids is None:
            placeholder = (
                inputs_embeds
                == self.get_input_embeddings().weight[token_id].to(inputs_embeds.dtype)
            ).all(-1)
        else:
            placeholder = input_ids == token_id
        per_sample = placeholder.sum(-1)
        if features is None:
            if per_sample.any():
                raise ValueError(
                    f"the prompt has {modality} placeholder tokens but no {modality} input was given "
                    f"(pass {modality}_values/{modality}_mask or cached {modality}_features)"
                )
            return inputs_embeds, None
        tokens = projector(features, features_mask)  # (B, K, D)
        has_input = features_mask.bool().any(-1)
        num_tokens = tokens.shape[1]
        for index in torch.nonzero(per_sample).flatten().tolist():
            if per_sample[index] != num_tokens or not has_input[index]:
                raise ValueError(
                    f"sample {index}: {int(per_sample[index])} {modality} placeholder tokens but the "
                    f"model expects {num_tokens} and the sample "
                    f"{'has' if has_input[index] else 'has no'} {modality} input"
                )
        rows = per_sample > 0
        values = tokens[rows].reshape(-1, tokens.shape[-1]).to(inputs_embeds.dtype)
        inputs_embeds = inputs_embeds.masked_scatter(placeholder.unsqueeze(-1), values)
        return inputs_embeds, tokens

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        face_values: torch.Tensor | None = None,
        face_mask: torch.Tensor | None = None,
        audio_values: torch.Tensor | None = None,
        audio_mask: torch.Tensor | None = None,
        face_features: torch.Tensor | None = None,
        face_features_mask: torch.Tensor | None = None,
        audio_features: torch.Tensor | None = None,
        audio_features_mask: torch.Tensor | None = None,
        projected_face_tokens: torch.Tensor | None = None,
        projected_audio_tokens: torch.Tensor | None = None,
        use_cache: bool | None = None,
        **kwargs,
    ) -> AffectLLMModelOutputWithPast:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)
        # Projected tokens (AffectGRPOTrainer projects each distinct clip once per pass) skip the
        # encoder and the projector.
        face_projector, audio_projector = self.face_projector, self.audio_projector
        if projected_face_tokens is not None:
            face_features, face_projector = projected_face_tokens, _as_is
            face_features_mask = projected_face_tokens.new_ones(projected_face_tokens.shape[:2])
        if projected_audio_tokens is not None:
            audio_features, audio_projector = projected_audio_tokens, _as_is
            audio_features_mask = projected_audio_tokens.new_ones(projected_audio_tokens.shape[:2])
        if face_features is None and face_values is not None:
            face_features, face_features_mask = self._run_encoder(
                self.face_encoder, face_values, face_mask
            )
        if audio_features is None and audio_values is not None:
            audio_features, audio_features_mask = self._run_encoder(
                self.audio_encoder, audio_values, audio_mask
            )
        inputs_embeds, face_tokens = self._insert_tokens(
            input_ids,
            inputs_embeds,
            self.config.face_token_id,
            face_projector,
            face_features,
            face_features_mask,
            "face",
        )
        inputs_embeds, audio_tokens = self._insert_tokens(
            input_ids,
            inputs_embeds,
            self.config.audio_token_id,
            audio_projector,
            audio_features,
            audio_features_mask,
            "audio",
        )
        outputs = self.language_model(
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            **kwargs,
        )
        return AffectLLMModelOutputWithPast(
            last_hidden_state=outputs.last_hidden_state,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            face_hidden_states=face_tokens,
            audio_hidden_states=audio_tokens,
        )


def _as_is(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Stands in for a projector when the tokens are already projected."""
    return tokens


class AffectLLMForConditionalGeneration(AffectLLMPreTrainedModel, GenerationMixin):
    """AffectLLM with a language-modeling head; generates text about the face and voice it is shown.

    Accepts every input of [`AffectLLMModel`] (raw `face_values`/`audio_values` with their masks, or
    cached `face_features`/`audio_features` with `*_features_mask`), plus `labels` and
    `logits_to_keep`. Media inputs are used on the prefill step only during generation.
    """

    _tied_weights_keys = {"lm_head.weight": "model.language_model.embed_tokens.weight"}
    _tp_plan = {"lm_head": "colwise_gather_output"}

    def __init__(self, config: AffectLLMConfig):
        super().__init__(config)
        self.model = AffectLLMModel(config)
        self.lm_head = nn.Linear(
            config.text_config.hidden_size, config.text_config.vocab_size, bias=False
        )
        self.post_init()
        self.model.apply_encoder_freezing()

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    @classmethod
    def from_components(
        cls,
        llm: str,
        face_encoder: str = "au",
        audio_encoder: str = "prosody",
        tokenizer=None,
        dtype: torch.dtype | None = None,
        attn_implementation: str | None = "auto",
        load_in_bits: int | None = None,
        device_map=None,
        hub_kwargs: dict | None = None,
        **config_kwargs,
    ) -> "AffectLLMForConditionalGeneration":
        """Compose a model from pretrained parts (hub names or local paths).

        `llm`: a Qwen2 / LLaMA causal LM. `face_encoder`: "au" or a CLIP / SigLIP checkpoint (e.g.
        "openai/clip-vit-large-patch14"). `audio_encoder`: "prosody" or a Whisper / HuBERT checkpoint
        (e.g. "openai/whisper-large-v3"). Pass the processor's `tokenizer` (see
        `AffectLLMProcessor.from_components`) so the placeholder ids match and the embeddings are
        resized for added tokens. `load_in_bits` (4 or 8) quantises the LLM only, with bitsandbytes.
        Projectors (and the AU / prosody encoders) start from random init.
        """
        from affect_llm.modeling.component_loading import compose_from_components

        return compose_from_components(
            cls,
            llm=llm,
            face_encoder=face_encoder,
            audio_encoder=audio_encoder,
            tokenizer=tokenizer,
            dtype=dtype,
            attn_implementation=attn_implementation,
            load_in_bits=load_in_bits,
            device_map=device_map,
            hub_kwargs=hub_kwargs or {},
            **config_kwargs,
        )

    def set_output_embeddings(self, new_embeddings: nn.Module) -> None:
        self.lm_head = new_embeddings

    def encode_media(self, **media: torch.Tensor) -> dict[str, torch.Tensor]:
        """Cached encoder outputs for the given raw media (see `AffectLLMModel.encode_media`)."""
        return self.model.encode_media(**media)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        face_values: torch.Tensor | None = None,
        face_mask: torch.Tensor | None = None,
        audio_values: torch.Tensor | None = None,
        audio_mask: torch.Tensor | None = None,
        face_features: torch.Tensor | None = None,
        face_features_mask: torch.Tensor | None = None,
        audio_features: torch.Tensor | None = None,
        audio_features_mask: torch.Tensor | None = None,
        projected_face_tokens: torch.Tensor | None = None,
        projected_audio_tokens: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        **kwargs,
    ) -> AffectLLMCausalLMOutputWithPast:
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            face_values=face_values,
            face_mask=face_mask,
            audio_values=audio_values,
            audio_mask=audio_mask,
            face_features=face_features,
            face_features_mask=face_features_mask,
            audio_features=audio_features,
            audio_features_mask=audio_features_mask,
            projected_face_tokens=projected_face_tokens,
            projected_audio_tokens=projected_audio_tokens,
            use_cache=use_cache,
            **kwargs,
        )
        hidden_states = slice_logits_to_keep(outputs.last_hidden_state, logits_to_keep)
        logits = self.lm_head(hidden_states)
        loss = None
        if labels is not None:
            loss = self.loss_function(
                logits=logits,
                labels=labels,
                vocab_size=self.config.text_config.vocab_size,
                **kwargs,
            )
        return AffectLLMCausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            face_hidden_states=outputs.face_hidden_states,
            audio_hidden_states=outputs.audio_hidden_states,
        )

    def prepare_inputs_for_generation(self, *args, is_first_iteration: bool = False, **kwargs):
        """Media inputs feed the prefill step only; later steps read them from the KV cache."""
        model_inputs = super().prepare_inputs_for_generation(
            *args, is_first_iteration=is_first_iteration, **kwargs
        )
        if not is_first_iteration and kwargs.get("use_cache", True):
            for key in MEDIA_KEYS:
                model_inputs.pop(key, None)
        return model_inputs


__all__ = [
    "CACHED_MEDIA_KEYS",
    "MEDIA_KEYS",
    "PROJECTED_MEDIA_KEYS",
    "RAW_MEDIA_KEYS",
    "AffectLLMForConditionalGeneration",
    "AffectLLMModel",
    "AffectLLMPreTrainedModel",
]
