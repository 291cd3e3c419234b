"""Projectors: pool an encoder's feature sequence into a fixed number of LLM input embeddings.

`linear` and `mlp` first average the valid steps into K equal time segments (token k covers the k-th
K-th of the clip, so frame order is kept), then project each segment. `attention` is AffectGPT's
attention pooling: K learned queries attend over all valid steps, whose keys carry their relative
time, so the pooled tokens still know when things happened.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def use_fan_in_init(module: nn.Module) -> None:
    """Mark a new module's linear / conv layers for PyTorch's fan-in init (see `_init_weights`)."""
    for sub in module.modules():
        if isinstance(sub, (nn.Linear, nn.Conv1d)):
            sub._fan_in_init = True


def segment_weights(mask: torch.Tensor, num_segments: int) -> torch.Tensor:
    """(batch, K, steps) weights averaging the valid steps of each sample into K equal time segments.

    Step i of a sample with L valid steps covers [i/L, (i+1)/L); segment k covers [k/K, (k+1)/K); the
    weight is their overlap, normalised per segment, so it works for L < K and L > K alike.
    """
    mask = mask.bool()
    lengths = mask.sum(-1, keepdim=True).clamp(min=1).to(torch.float32)  # (B, 1)
    position = (mask.long().cumsum(-1) - 1).clamp(min=0).to(torch.float32)  # rank among valid steps
    step_lo, step_hi = position / lengths, (position + 1) / lengths  # (B, S)
    seg = torch.arange(num_segments, device=mask.device, dtype=torch.float32)
    seg_lo, seg_hi = (seg / num_segments)[None, :, None], ((seg + 1) / num_segments)[None, :, None]
    overlap = torch.minimum(step_hi[:, None], seg_hi) - torch.maximum(step_lo[:, None], seg_lo)
    overlap = overlap.clamp(min=0) * mask[:, None, :]
    return overlap / overlap.sum(-1, keepdim=True).clamp(min=1e-12)


def relative_time_encoding(mask: torch.Tensor, dim: int) -> torch.Tensor:
    """(batch, steps, dim) sinusoidal encoding of each valid step's relative time in [0, 1)."""
    lengths = mask.sum(-1, keepdim=True).clamp(min=1).to(torch.float32)
    position = (mask.long().cumsum(-1) - 1).clamp(min=0).to(torch.float32) / lengths  # (B, S)
    half = dim // 2
    freqs = torch.exp(
        torch.arange(half, device=mask.device, dtype=torch.float32)
        * (-math.log(100.0) / max(half, 1))
    )
    angles = position[..., None] * freqs * 2 * math.pi
    encoding = torch.cat([angles.sin(), angles.cos()], dim=-1)
    return nn.functional.pad(encoding, (0, dim - encoding.shape[-1]))


class SegmentProjector(nn.Module):
    """Time-segment average to K tokens, then a linear map or a 2-layer MLP to the LLM width."""

    def __init__(self, input_size: int, output_size: int, num_tokens: int, kind: str):
        super().__init__()
        self.num_tokens = num_tokens
        if kind == "linear":
            self.proj = nn.Linear(input_size, output_size)
        else:
            self.proj = nn.Sequential(
                nn.Linear(input_size, output_size), nn.GELU(), nn.Linear(output_size, output_size)
            )
        use_fan_in_init(self)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        weights = segment_weights(mask, self.num_tokens).to(features.dtype)
        pooled = torch.bmm(weights, features)  # (B, K, D_in)
        return self.proj(pooled.to(next(self.proj.parameters()).dtype))


class AttentionPoolProjector(nn.Module):
    """K learned queries attend over the time-stamped feature sequence, then a 2-layer MLP."""

    def __init__(self, input_size: int, output_size: int, num_tokens: int, num_heads: int):
        super().__init__()
        self.num_tokens = num_tokens
        heads = next(h for h in (num_heads, 8, 4, 2, 1) if input_size % h == 0)
        self.queries = nn.Parameter(torch.randn(num_tokens, input_size))
        self.key_norm = nn.LayerNorm(input_size)
        self.attention = nn.MultiheadAttention(input_size, heads, batch_first=True)
        self.proj = nn.Sequential(
            nn.Linear(input_size, output_size), nn.GELU(), nn.Linear(output_size, output_size)
        )
        use_fan_in_init(self)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = mask.bool()
        dtype = self.queries.dtype
        keys = self.key_norm(features.to(dtype)) + relative_time_encoding(
            mask, features.shape[-1]
        ).to(dtype)
        # A sample with no valid step (missing modality) attends to everything; its tokens are unused.
        empty = ~mask.any(-1, keepdim=True)
        padding = ~(mask | empty)
        queries = self.queries.unsqueeze(0).expand(features.shape[0], -1, -1)
        pooled, _ = self.attention(
            queries, keys, keys, key_padding_mask=padding, need_weights=False
        )
        return self.proj(pooled)


def build_projector(
    kind: str, input_size: int, output_size: int, num_tokens: int, num_heads: int = 8
) -> nn.Module:
    """A projector of the given kind ("linear", "mlp" or "attention")."""
    if kind == "attention":
        return AttentionPoolProjector(input_size, output_size, num_tokens, num_heads)
    if kind in ("linear", "mlp"):
        return SegmentProjector(input_size, output_size, num_tokens, kind)
    raise ValueError(f"unknown projector type {kind!r}; expected linear, mlp or attention")
