"""AffectLLM: face and audio encoders whose projected outputs replace placeholder tokens of a decoder.

Transformers layout (like LLaVA): `AffectLLMModel` holds the encoders, projectors and the decoder
backbone (`language_model`) and returns `last_hidden_state`; `AffectLLMForConditionalGeneration` adds
the LM head and generation. The backbone sits under `base_model_prefix = "model"`, so TRL's fused LM
head (which calls `model.base_model(...)`) works unchanged.
"""

import math
import os

import torch
from torch import nn
from transformers import AutoModel, GenerationMixin, PreTrainedModel
from transformers import initialization as init
from transformers.cache_utils import Cache
from transformers.integrations import is_deepspeed_zero3_enabled
from transformers.modeling_utils import slice_logits_to_keep
from transformers.processing_utils import Unpack
from transformers.utils import TransformersKwargs
from transformers.utils.generic import can_return_tuple
from transformers.utils.import_utils import torch_compilable_check

# Relative imports only: this file is copied into saved checkpoints, which load without affect-llm.
from .configuration_affect_llm import AffectLLMConfig
from .encoders import build_audio_encoder, build_face_encoder
from .model_io import (
    MEDIA_KEYS,
    AffectLLMCausalLMOutputWithPast,
    AffectLLMMediaOutput,
    AffectLLMModelOutputWithPast,
    audio_input,
    tower_output_flags,
)
from .projectors import AttentionPoolProjector, build_projector

# What a saved checkpoint's config.json points the Auto classes at (files written beside the weights;
# the processor names its own file in processor_config.json).
AUTO_MAP = {
    "AutoConfig": "configuration_affect_llm.AffectLLMConfig",
    "AutoModel": "modeling_affect_llm.AffectLLMModel",
    "AutoModelForCausalLM": "modeling_affect_llm.AffectLLMForConditionalGeneration",
}


class AffectLLMPreTrainedModel(PreTrainedModel):
    """Weight init and transformers capabilities shared by the AffectLLM classes."""

    config: AffectLLMConfig
    base_model_prefix = "model"
    input_modalities = ("image", "audio", "text")
    supports_gradient_checkpointing = True
    _skip_keys_device_placement = ["past_key_values"]
    _supports_flash_attn = True
    _supports_sdpa = True
    _supports_attention_backend = True
    # Text-only input runs the decoder alone; media merge with static shapes (no host syncs).
    _can_compile_fullgraph = True

    def post_init(self):
        super().post_init()
        # The layers not to split are those the sub-models (decoder, towers) name. Transformers
        # gathers them from direct children only, and the towers sit inside encoder wrappers; a
        # sub-model also names layers of its whole family (CLIP's text layers, Whisper's decoder),
        # and FSDP's TRANSFORMER_BASED_WRAP raises on a class the model lacks.
        present = {type(module).__name__ for module in self.modules()}
        self._no_split_modules = {
            name
            for module in self.modules()
            if isinstance(module, PreTrainedModel)
            for name in module._no_split_modules or ()
            if name in present
        }

    def save_pretrained(self, save_directory: str | os.PathLike, *args, **kwargs):
        """Save as transformers does; `auto_map` names the Auto classes of the code saved with it.

        `register_for_auto_class` (end of this file) makes transformers copy this module and the
        modules it imports relatively beside the weights, so the folder loads without affect-llm.
        """
        self.config.auto_map = dict(AUTO_MAP)
        return super().save_pretrained(save_directory, *args, **kwargs)

    @torch.no_grad()
    @init.guard_torch_init_functions()  # as transformers' own: torch.nn.init keeps loaded weights
    def initialize_weights(self):
        """transformers' composite init without its shortcut for code outside its tree (it skips a
        module whose own parameters are set, dropping the towers' parent-level inits: CLIP's
        attention, Whisper's positions), so a model loaded with missing weights equals one built
        fresh. Under ZeRO-3 the loaded weights are partitioned (empty here): the shortcut is kept."""
        if is_deepspeed_zero3_enabled():
            return super().initialize_weights()

        def apply(module: nn.Module, initialize) -> None:
            for child in module.children():
                own = isinstance(child, PreTrainedModel)
                apply(child, child._initialize_weights if own else initialize)
            initialize(module, False)

        apply(self, self._initialize_weights)

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
    - `input_features` or `input_values`, and `audio_mask`: audio encoder input under transformers'
      names, and its mask. Whisper: log-mel `input_features` `(batch, n_mels, frames)` with a
      mel-frame mask; prosody: `input_features` `(batch, frames, 8)` with a frame mask; HuBERT:
      waveform `input_values` `(batch, samples)` with a sample mask. `audio_values` is the
      deprecated name of either (a FutureWarning; removed in the next release).
    - Cached encoder outputs, accepted instead of the raw inputs with the same logits (see
      `encode_media`): `face_features` `(batch, steps, d_face)` + `face_features_mask`
      `(batch, steps)`, and `audio_features` + `audio_features_mask`.

    A sample whose mask is all False has no such modality (the processor removes its placeholder);
    any placeholder token not filled by media is embedded as ordinary text.
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
        """Set the encoders' `requires_grad` from `config.freeze_*_encoder`: the one home of that policy.

        Frozen by default: pretrained towers (CLIP, SigLIP, Whisper, HuBERT). Trainable: the AU and
        prosody encoders trained from scratch. `training_modes.apply_freeze_policy` changes the config
        flags and calls this, so a saved config always records what was trained.
        """
        self.face_encoder.requires_grad_(not self.config.freeze_face_encoder)
        self.audio_encoder.requires_grad_(not self.config.freeze_audio_encoder)

    def get_input_embeddings(self) -> nn.Module:
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.language_model.set_input_embeddings(value)

    def _output_flags(self, kwargs: dict) -> dict:
        """The encoder output flags asked for: the call's, else the model config's (transformers'
        rule); a pretrained tower also reads its own sub-config when neither is set."""
        flags = tower_output_flags(kwargs)
        for name in ("output_hidden_states", "output_attentions"):
            if name not in flags and getattr(self.config, name, False):
                flags[name] = True
        return flags

    @staticmethod
    def _run_encoder(encoder: nn.Module, values: torch.Tensor, mask: torch.Tensor, **kwargs):
        """(features, mask, tower output); `kwargs` (output_hidden_states, ...) go to the tower."""
        # Frozen encoders run without autograd: no activations are kept for them.
        if any(p.requires_grad for p in encoder.parameters()):
            return encoder(values, mask, **kwargs)
        with torch.no_grad():
            return encoder(values, mask, **kwargs)

    def encode_media(
        self,
        face_values: torch.Tensor | None = None,
        face_mask: torch.Tensor | None = None,
        input_features: torch.Tensor | None = None,
        input_values: torch.Tensor | None = None,
        audio_mask: torch.Tensor | None = None,
        audio_values: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Run the encoders; the returned cached-feature dict can be passed to `forward` later.

        Audio comes as `input_features` (Whisper log-mel, prosody frames) or `input_values`
        (HuBERT waveform) with `audio_mask`; `audio_values` is their deprecated name.
        """
        cached = {}
        if face_values is not None:
            feats, mask, _ = self._run_encoder(self.face_encoder, face_values, face_mask)
            cached.update(face_features=feats, face_features_mask=mask)
        audio = audio_input(input_features, input_values, audio_values)
        if audio is not None:
            feats, mask, _ = self._run_encoder(self.audio_encoder, audio, audio_mask)
            cached.update(audio_features=feats, audio_features_mask=mask)
        return cached

    @can_return_tuple
    def get_face_features(
        self,
        face_values: torch.Tensor | None = None,
        face_mask: torch.Tensor | None = None,
        face_features: torch.Tensor | None = None,
        face_features_mask: torch.Tensor | None = None,
        **kwargs,
    ) -> AffectLLMMediaOutput:
        """Face encoder features and their projected tokens (`pooler_output`).

        `output_hidden_states` / `output_attentions` return the pretrained tower's layers.
        Takes raw encoder input (`face_values` + `face_mask`) or cached encoder outputs
        (`face_features` + `face_features_mask`, see `encode_media`).
        """
        tower = None
        if face_features is None:
            face_features, face_features_mask, tower = self._run_encoder(
                self.face_encoder, face_values, face_mask, **self._output_flags(kwargs)
            )
        return AffectLLMMediaOutput(
            last_hidden_state=face_features,
            pooler_output=self.face_projector(face_features, face_features_mask),
            hidden_states=getattr(tower, "hidden_states", None),
            attentions=getattr(tower, "attentions", None),
            features_mask=face_features_mask,
        )

    @can_return_tuple
    def get_audio_features(
        self,
        input_features: torch.Tensor | None = None,
        input_values: torch.Tensor | None = None,
        audio_mask: torch.Tensor | None = None,
        audio_features: torch.Tensor | None = None,
        audio_features_mask: torch.Tensor | None = None,
        audio_values: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> AffectLLMMediaOutput:
        """Audio encoder features and their projected tokens (`pooler_output`).

        Raw input: `input_features` (Whisper log-mel, prosody frames) or `input_values` (HuBERT
        waveform) with `audio_mask` (`audio_values`: their deprecated name); or cached encoder
        outputs (`audio_features` + `audio_features_mask`). `output_hidden_states` /
        `output_attentions` return the encoder's layers (the prosody encoder has no attention).
        """
        tower = None
        if audio_features is None:
            audio = audio_input(input_features, input_values, audio_values)
            audio_features, audio_features_mask, tower = self._run_encoder(
                self.audio_encoder, audio, audio_mask, **self._output_flags(kwargs)
            )
        return AffectLLMMediaOutput(
            last_hidden_state=audio_features,
            pooler_output=self.audio_projector(audio_features, audio_features_mask),
            hidden_states=getattr(tower, "hidden_states", None),
            attentions=getattr(tower, "attentions", None),
            features_mask=audio_features_mask,
        )

    def get_placeholder_mask(
        self, input_ids: torch.LongTensor | None, inputs_embeds: torch.Tensor, token_id: int
    ) -> torch.Tensor:
        """`(batch, seq)` mask of the placeholder `token_id`, from the ids or (without ids) the embeddings."""
        if input_ids is None:
            placeholder = self.get_input_embeddings()(
                torch.full((), token_id, dtype=torch.long, device=inputs_embeds.device)
            )
            return (inputs_embeds == placeholder).all(-1)
        return input_ids == token_id

    @staticmethod
    def _media_tokens(get_features, projected, **inputs):
        """One modality's projected tokens and which samples have them, or (None, None).

        Tokens projected already (AffectGRPOTrainer projects each distinct clip once per pass)
        skip the encoder and the projector; every row given them has the modality. `inputs` are
        the keyword arguments of `get_features`.
        """
        if projected is not None:
            return projected, projected.new_ones(projected.shape[0], dtype=torch.bool)
        given = {k: v for k, v in inputs.items() if v is not None}
        if not any(not k.endswith("mask") for k in given):
            return None, None
        output = get_features(**given, return_dict=True)
        return output.pooler_output, output.present

    @staticmethod
    def merge_media_tokens(
        inputs_embeds: torch.Tensor,
        placeholder_mask: torch.Tensor,
        tokens: torch.Tensor,
        present: torch.Tensor,
        modality: str,
    ) -> torch.Tensor:
        """Put each sample's K projected tokens at its first K placeholders, with static shapes.

        A sample without that modality (`present` False) keeps its placeholders as ordinary text
        embeddings, as do placeholders after the first K (e.g. a generated `<|face|>`). A chunk
        with no placeholder at all uses no media (its media tokens are already in the KV cache when
        generation continues from `past_key_values`); between 1 and K-1 placeholders is an error.
        """
        num_tokens = tokens.shape[1]
        slot = placeholder_mask.long().cumsum(-1) - 1  # rank of each placeholder within its row
        counts = placeholder_mask.sum(-1)
        torch_compilable_check(
            ((counts >= num_tokens) | (counts == 0) | ~present).all(),
            lambda: (
                f"a sample with {modality} input needs {num_tokens} {modality} placeholder "
                f"tokens in its prompt, got {counts[present].tolist()} (the processor inserts them)"
            ),
        )
        use = placeholder_mask & present[:, None] & (slot < num_tokens)
        index = slot.clamp(0, num_tokens - 1).unsqueeze(-1).expand(-1, -1, tokens.shape[-1])
        gathered = tokens.to(inputs_embeds.dtype).gather(1, index)
        return torch.where(use.unsqueeze(-1), gathered, inputs_embeds)

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        face_values: torch.Tensor | None = None,
        face_mask: torch.Tensor | None = None,
        input_features: torch.Tensor | None = None,
        input_values: torch.Tensor | None = None,
        audio_mask: torch.Tensor | None = None,
        face_features: torch.Tensor | None = None,
        face_features_mask: torch.Tensor | None = None,
        audio_features: torch.Tensor | None = None,
        audio_features_mask: torch.Tensor | None = None,
        projected_face_tokens: torch.Tensor | None = None,
        projected_audio_tokens: torch.Tensor | None = None,
        use_cache: bool | None = None,
        audio_values: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> AffectLLMModelOutputWithPast:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)
        face_tokens, face_present = self._media_tokens(
            self.get_face_features,
            projected_face_tokens,
            face_values=face_values,
            face_mask=face_mask,
            face_features=face_features,
            face_features_mask=face_features_mask,
        )
        if face_tokens is not None:
            placeholder = self.get_placeholder_mask(
                input_ids, inputs_embeds, self.config.face_token_id
            )
            inputs_embeds = self.merge_media_tokens(
                inputs_embeds, placeholder, face_tokens, face_present, "face"
            )
        audio_tokens, audio_present = self._media_tokens(
            self.get_audio_features,
            projected_audio_tokens,
            input_features=input_features,
            input_values=input_values,
            audio_mask=audio_mask,
            audio_features=audio_features,
            audio_features_mask=audio_features_mask,
            audio_values=audio_values,
        )
        if audio_tokens is not None:
            placeholder = self.get_placeholder_mask(
                input_ids, inputs_embeds, self.config.audio_token_id
            )
            inputs_embeds = self.merge_media_tokens(
                inputs_embeds, placeholder, audio_tokens, audio_present, "audio"
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


class AffectLLMForConditionalGeneration(AffectLLMPreTrainedModel, GenerationMixin):
    """AffectLLM with a language-modeling head; generates text about the face and voice it is shown.

    Accepts every input of [`AffectLLMModel`] (raw `face_values` / `input_features` /
    `input_values` with their masks, or
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
        self.suppress_placeholders()

    def suppress_placeholders(self) -> None:
        """Never generate `<|face|>` / `<|audio|>`: they stand for media, not text (saved with the
        generation config)."""
        ids = [self.config.face_token_id, self.config.audio_token_id]
        current = list(self.generation_config.suppress_tokens or [])
        self.generation_config.suppress_tokens = current + [i for i in ids if i not in current]

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
        # Lazy on purpose: composing from pretrained parts needs the library, and a saved
        # checkpoint's copy of this file must load without it.
        try:
            from affect_llm.modeling.component_loading import compose_from_components
        except ImportError as error:
            raise ImportError("from_components needs the affect-llm library installed") from error

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
            hub_kwargs={"trust_remote_code": False, **(hub_kwargs or {})},  # never prompt
            **config_kwargs,
        )

    def set_output_embeddings(self, new_embeddings: nn.Module) -> None:
        self.lm_head = new_embeddings

    def encode_media(self, **media: torch.Tensor) -> dict[str, torch.Tensor]:
        """Cached encoder outputs for the given raw media (see `AffectLLMModel.encode_media`)."""
        return self.model.encode_media(**media)

    def get_face_features(self, **face: torch.Tensor) -> AffectLLMMediaOutput:
        """Face features and projected tokens (see `AffectLLMModel.get_face_features`)."""
        return self.model.get_face_features(**face)

    def get_audio_features(self, **audio: torch.Tensor) -> AffectLLMMediaOutput:
        """Audio features and projected tokens (see `AffectLLMModel.get_audio_features`)."""
        return self.model.get_audio_features(**audio)

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        face_values: torch.Tensor | None = None,
        face_mask: torch.Tensor | None = None,
        input_features: torch.Tensor | None = None,
        input_values: torch.Tensor | None = None,
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
        audio_values: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> AffectLLMCausalLMOutputWithPast:
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            face_values=face_values,
            face_mask=face_mask,
            input_features=input_features,
            input_values=input_values,
            audio_mask=audio_mask,
            audio_values=audio_values,
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

    def prepare_inputs_for_generation(
        self,
        input_ids: torch.LongTensor,
        next_sequence_length: int | None = None,
        past_key_values: Cache | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        is_first_iteration: bool | None = False,
        **kwargs,
    ):
        """Media inputs feed the prefill step only; later steps read them from the KV cache."""
        model_inputs = super().prepare_inputs_for_generation(
            input_ids,
            next_sequence_length=next_sequence_length,
            past_key_values=past_key_values,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
            is_first_iteration=is_first_iteration,
            **kwargs,
        )
        if not is_first_iteration and kwargs.get("use_cache", True):
            for key in MEDIA_KEYS:
                model_inputs.pop(key, None)
        return model_inputs


# Saving writes this code beside the weights (auto_map), like a model shared with `trust_remote_code`.
AffectLLMModel.register_for_auto_class("AutoModel")
AffectLLMForConditionalGeneration.register_for_auto_class("AutoModelForCausalLM")

__all__ = ["AffectLLMForConditionalGeneration", "AffectLLMModel", "AffectLLMPreTrainedModel"]
