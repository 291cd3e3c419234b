"""Generation with a pretrained omni / VL / audio backbone: what the benchmarks and the chat share.

`encode_prompts` gives the processor's batch; generating from it needs one more thing the
processor does not return: Qwen2.5-Omni places a clip's audio inside its video in time (TMRoPE)
only when `generate` is told `use_audio_in_video=True`, and that flag holds for a whole batch. Rows
with and without interleaved audio are therefore generated in separate groups.
"""

from __future__ import annotations

from typing import Any

from affect_llm.modeling.backbones import encode_prompts, media_flags
from affect_llm.modeling.families import OMNI, Family


def interleaved_audio(family: Family, media: dict) -> bool:
    """Whether a row's audio goes inside its video part (Qwen2.5-Omni with both)."""
    return family is OMNI and media_flags(family, media) == (True, True)


def generation_inputs(
    processor, family: Family, texts: list[str], media: list[dict]
) -> tuple[Any, dict[str, Any]]:
    """(left-padded processor batch, extra `generate` / forward kwargs) for rows that share
    their audio placement (see `media_groups`)."""
    placements = {interleaved_audio(family, item) for item in media}
    if len(placements) > 1:
        raise ValueError("rows with and without audio inside the video in one batch")
    batch = encode_prompts(processor, family, texts, media, padding_side="left")
    extra = {"use_audio_in_video": True} if placements == {True} else {}
    return batch, extra


def media_groups(family: Family, media: list[dict]) -> list[list[int]]:
    """Row indices grouped by audio placement, in order of first appearance."""
    groups: dict[bool, list[int]] = {}
    for index, item in enumerate(media):
        groups.setdefault(interleaved_audio(family, item), []).append(index)
    return list(groups.values())


def generate_texts(
    model, processor, family: Family, texts: list[str], media: list[dict], **generate_kwargs
) -> list[str]:
    """The decoded answers (special tokens removed) to rendered prompts `texts` with `media`."""
    import torch

    answers: list[str] = [""] * len(texts)
    device = next(model.parameters()).device
    pad = processor.tokenizer.pad_token_id
    for group in media_groups(family, media):
        batch, extra = generation_inputs(
            processor, family, [texts[i] for i in group], [media[i] for i in group]
        )
        batch = batch.to(device)
        with torch.no_grad():
            output = model.generate(**batch, **extra, **generate_kwargs, pad_token_id=pad)
        decoded = processor.batch_decode(
            output[:, batch["input_ids"].shape[1] :], skip_special_tokens=True
        )
        for index, text in zip(group, decoded):
            answers[index] = text
    return answers
