"""Face and audio encoders: each maps raw `(values, mask)` to a feature sequence `(features, mask)`.

Every encoder returns features `(batch, steps, hidden)`, a boolean mask `(batch, steps)` and the
tower's own output: a pretrained tower's (with `hidden_states` / `attentions` when asked), or for the
light encoders their input and each layer's output as `hidden_states` when asked (they have no
attention), else None. The projectors pool the features into LLM tokens. Samples whose input mask
is all False (missing modality) get
zero features, so a batch can mix clips with and without a face or an audio track. Shapes never
depend on the data (every row runs, absent rows are zeroed), so a compiled forward has no graph
breaks, and a sample's features never depend on its batch-mates (padding is masked at every layer).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoModel, PreTrainedConfig
from transformers.modeling_outputs import BaseModelOutput
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from .configuration_affect_llm import AffectLLMConfig
from .projectors import use_fan_in_init


def _light_output(features: torch.Tensor, hidden_states: tuple, output_hidden_states: bool):
    """A light encoder's own output: its input and each layer's output, when asked for."""
    if not output_hidden_states:
        return None
    return BaseModelOutput(last_hidden_state=features, hidden_states=hidden_states)


def _zero_absent(rows: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """Zero the rows (dim 0) of absent samples / frames, without data-dependent shapes."""
    keep = present.reshape(-1, *([1] * (rows.dim() - 1)))
    return torch.where(keep, rows, torch.zeros((), dtype=rows.dtype, device=rows.device))


class AUSequenceEncoder(nn.Module):
    """Light encoder over per-frame OpenFace AU intensities (0-5), trained from scratch."""

    def __init__(self, num_action_units: int, hidden_size: int):
        super().__init__()
        self.input_proj = nn.Linear(num_action_units, hidden_size)
        self.temporal = nn.Conv1d(hidden_size, hidden_size, kernel_size=3, padding=1)
        self.norm = nn.LayerNorm(hidden_size)
        self.act = nn.GELU()
        self.output_size = hidden_size
        use_fan_in_init(self)

    def forward(
        self, values: torch.Tensor, mask: torch.Tensor, output_hidden_states: bool = False, **kwargs
    ):
        """values: (batch, frames, n_AU) intensities; mask: (batch, frames). Layers: the input
        projection and the temporal convolution."""
        weight = self.input_proj.weight
        inputs = values.to(weight.dtype) / 5.0
        projected = self.act(self.input_proj(inputs)) * mask.unsqueeze(-1).to(weight.dtype)
        hidden = projected + self.act(self.temporal(projected.transpose(1, 2)).transpose(1, 2))
        features = self.norm(hidden)
        layers = (inputs, projected, features)
        return features, mask.bool(), _light_output(features, layers, output_hidden_states)


class ProsodyEncoder(nn.Module):
    """Light encoder over frame-level prosody (pitch, energy, spectral statistics), from scratch."""

    def __init__(self, num_features: int, hidden_size: int):
        super().__init__()
        # Two stride-2 convolutions: 100 frames/s in, 25 steps/s out.
        self.conv1 = nn.Conv1d(num_features, hidden_size, kernel_size=5, stride=2, padding=2)
        self.conv2 = nn.Conv1d(hidden_size, hidden_size, kernel_size=5, stride=2, padding=2)
        self.norm = nn.LayerNorm(hidden_size)
        self.act = nn.GELU()
        self.output_size = hidden_size
        use_fan_in_init(self)

    def forward(
        self, values: torch.Tensor, mask: torch.Tensor, output_hidden_states: bool = False, **kwargs
    ):
        """values: (batch, frames, n_features); mask: (batch, frames). Layers: the two convolutions."""
        dtype = self.conv1.weight.dtype
        inputs = values.to(dtype) * mask.unsqueeze(-1).to(dtype)
        # Zero the padded steps after each convolution: otherwise act(bias) at padded steps of the
        # first one reaches the last valid steps through the second, and a clip's output depends on
        # how much padding its batch-mates force on it.
        mid_mask = mask.bool()[:, ::2]
        mid = self.act(self.conv1(inputs.transpose(1, 2))) * mid_mask.unsqueeze(1).to(dtype)
        features = self.norm(self.act(self.conv2(mid)).transpose(1, 2))
        layers = (inputs, mid.transpose(1, 2), features)
        return features, mid_mask[:, ::2], _light_output(features, layers, output_hidden_states)


class VisionTowerEncoder(nn.Module):
    """CLIP or SigLIP vision tower run on each face crop; one pooled feature per frame, in order."""

    def __init__(self, config: PreTrainedConfig):
        super().__init__()
        self.tower = AutoModel.from_config(config)
        self.output_size = config.hidden_size

    def forward(self, values: torch.Tensor, mask: torch.Tensor, **tower_kwargs):
        """values: (batch, frames, 3, H, W) pixel values; mask: (batch, frames)."""
        batch, frames = mask.shape
        pixels = values.reshape(batch * frames, *values.shape[2:])
        dtype = next(self.tower.parameters()).dtype
        output = self.tower(pixel_values=pixels.to(dtype), **tower_kwargs)
        features = _zero_absent(output.pooler_output, mask.reshape(-1).bool())
        return features.reshape(batch, frames, -1), mask.bool(), output


class SpeechEncoder(nn.Module):
    """Whisper encoder (log-mel input) or HuBERT (waveform input); one feature per encoder frame."""

    def __init__(self, config: PreTrainedConfig):
        super().__init__()
        self.kind = config.model_type
        if self.kind == "whisper":
            self.tower = WhisperEncoder(config)
        else:
            self.tower = AutoModel.from_config(config)
        self.output_size = config.d_model if self.kind == "whisper" else config.hidden_size

    def forward(self, values: torch.Tensor, mask: torch.Tensor, **tower_kwargs):
        """Whisper: values (batch, n_mels, frames), mask (batch, frames). HuBERT: (batch, samples)."""
        present = mask.bool().any(dim=-1)
        dtype = next(self.tower.parameters()).dtype
        if self.kind == "whisper":
            # Whisper's two convolutions halve the mel frame rate (100 -> 50 per second). Every clip
            # fills the same fixed window, so a clip's features never depend on its batch-mates.
            out_mask = mask.bool()[:, ::2]
            output = self.tower(input_features=values.to(dtype), **tower_kwargs)
            return _zero_absent(output.last_hidden_state, present), out_mask, output
        config = self.tower.config
        lengths = self.tower._get_feat_extract_output_lengths(mask.long().sum(-1))
        steps = int(self.tower._get_feat_extract_output_lengths(torch.tensor(values.shape[-1])))
        out_mask = torch.arange(steps, device=mask.device)[None, :] < lengths[:, None]
        # HuBERT checkpoints with group-norm feature extractors were trained without attention masks.
        # An absent sample attends to its (zero) input so that no row is fully masked.
        attention_mask = None
        if config.feat_extract_norm == "layer":
            attention_mask = (mask.bool() | ~present[:, None]).long()
        output = self.tower(
            input_values=values.to(dtype), attention_mask=attention_mask, **tower_kwargs
        )
        return _zero_absent(output.last_hidden_state, present), out_mask, output


def build_face_encoder(config: AffectLLMConfig) -> nn.Module:
    """The face encoder named by `config.face_encoder_type`."""
    if config.face_encoder_type == "au":
        return AUSequenceEncoder(config.num_action_units, config.au_hidden_size)
    return VisionTowerEncoder(config.face_config)


def build_audio_encoder(config: AffectLLMConfig) -> nn.Module:
    """The audio encoder named by `config.audio_encoder_type`."""
    if config.audio_encoder_type == "prosody":
        return ProsodyEncoder(config.num_prosody_features, config.prosody_hidden_size)
    return SpeechEncoder(config.audio_config)
