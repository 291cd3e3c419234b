"""Generation with a pretrained omni / VL / audio backbone: what the benchmarks and the chat share.

`encode_prompts` gives the left-padded processor batch, `use_audio_in_video` included for
Qwen2.5-Omni (its TMRoPE positions need it), so generating is `model.generate(**batch)`.
"""

from __future__ import annotations

from affect_llm.modeling.backbones import encode_prompts
from affect_llm.modeling.families import Family


def generation_inputs(processor, family: Family, texts: list[str], media: list[dict]):
    """The left-padded processor batch for rendered prompts `texts` and their media."""
    return encode_prompts(processor, family, texts, media, padding_side="left")


def generate_texts(
    model, processor, family: Family, texts: list[str], media: list[dict], **generate_kwargs
) -> list[str]:
    """The decoded answers (special tokens removed) to rendered prompts `texts` with `media`."""
    import torch

    device = next(model.parameters()).device
    batch = generation_inputs(processor, family, texts, media).to(device)
    pad = processor.tokenizer.pad_token_id
    with torch.no_grad():
        output = model.generate(**batch, **generate_kwargs, pad_token_id=pad)
    return processor.batch_decode(
        output[:, batch["input_ids"].shape[1] :], skip_special_tokens=True
    )
