"""AffectLLMForConditionalGeneration on every encoder pair: gradients, cached features, generation."""

from __future__ import annotations

import pytest
import torch
from conftest import ENCODER_PAIRS, make_batch

from affect_llm.modeling.model_io import CACHED_MEDIA_KEYS, RAW_MEDIA_KEYS
from affect_llm.modeling.projectors import build_projector, segment_weights
from affect_llm.modeling.tiny import tiny_model_and_processor

_BUILT: dict = {}


def built(face: str, audio: str):
    if (face, audio) not in _BUILT:
        _BUILT[(face, audio)] = tiny_model_and_processor(face, audio, seed=0)
    return _BUILT[(face, audio)]


@pytest.mark.parametrize(("face", "audio"), ENCODER_PAIRS)
def test_backward_reaches_projectors_not_frozen_encoders(face, audio):
    model, processor = built(face, audio)
    model.zero_grad()
    batch = make_batch(processor, face, count=3, missing=True)
    out = model(**batch, labels=batch["input_ids"])
    out.loss.backward()
    core = model.model
    for name in ("face_projector", "audio_projector"):
        grads = [p.grad for p in getattr(core, name).parameters()]
        assert all(g is not None and g.abs().sum() > 0 for g in grads), name
    for name, pretrained in (("face_encoder", face != "au"), ("audio_encoder", audio != "prosody")):
        params = list(getattr(core, name).parameters())
        if pretrained:  # frozen by default: no gradient at all
            assert all(not p.requires_grad and p.grad is None for p in params), name
        else:  # light encoders train from scratch
            assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in params), name
    model.zero_grad()


@pytest.mark.parametrize(("face", "audio"), ENCODER_PAIRS)
def test_cached_features_give_the_same_logits_and_generation(face, audio):
    model, processor = built(face, audio)
    model.eval()
    processor.tokenizer.padding_side = "left"
    batch = make_batch(processor, face, count=3, missing=True)
    processor.tokenizer.padding_side = "right"
    raw = {k: v for k, v in batch.items() if k in RAW_MEDIA_KEYS}
    cached = model.encode_media(**raw)
    assert set(cached) == set(CACHED_MEDIA_KEYS)
    text = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    with torch.no_grad():
        logits_raw = model(**text, **raw).logits
        logits_cached = model(**text, **cached).logits
    torch.testing.assert_close(logits_raw, logits_cached, rtol=0, atol=0)
    gen_raw = model.generate(**text, **raw, max_new_tokens=4, do_sample=False)
    gen_cached = model.generate(**text, **cached, max_new_tokens=4, do_sample=False)
    assert gen_raw.shape == (3, text["input_ids"].shape[1] + 4)
    assert torch.equal(gen_raw, gen_cached)


@pytest.mark.parametrize(
    ("face", "audio"), [("au", "prosody"), ("clip", "whisper"), ("siglip", "hubert")]
)
def test_changing_only_one_modality_changes_the_logits(face, audio):
    model, processor = built(face, audio)
    model.eval()
    base = make_batch(processor, face, count=2, seed=0)
    audio_key = processor.audio_input_key
    for key in ("face", "audio"):
        swapped = dict(base)
        if key == "face" and face == "au":  # same frame count keeps everything else equal
            swapped["face_values"] = base["face_values"].flip(0)
            swapped["face_mask"] = base["face_mask"].flip(0)
        if key == "audio":
            swapped[audio_key] = base[audio_key].flip(0)
            swapped["audio_mask"] = base["audio_mask"].flip(0)
        if key == "face" and face != "au":
            swapped["face_values"] = base["face_values"].flip(0)
        with torch.no_grad():
            a = model(**base).logits[:, -1]
            b = model(**swapped).logits[:, -1]
        assert not torch.allclose(a, b), key


def test_segment_pooling_keeps_frame_order_and_ignores_padding():
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0]], dtype=torch.bool)
    weights = segment_weights(mask, 2)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 2))
    assert torch.all(weights[:, :, 4:] == 0)
    assert torch.allclose(weights[0, 0, :2], torch.tensor([0.5, 0.5]))
    assert torch.allclose(weights[1], torch.tensor([[1.0, 0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0, 0]]))


@pytest.mark.parametrize("kind", ["linear", "mlp", "attention"])
def test_every_projector_sees_frame_order(kind):
    torch.manual_seed(0)
    projector = build_projector(kind, 8, 16, num_tokens=3, num_heads=2)
    features = torch.randn(1, 6, 8)
    mask = torch.ones(1, 6, dtype=torch.bool)
    out = projector(features, mask)
    assert out.shape == (1, 3, 16)
    assert not torch.allclose(out, projector(features.flip(1), mask))


def test_llama_backbone_trains_and_generates():
    model, processor = tiny_model_and_processor("au", "prosody", text="llama")
    assert model.config.text_config.model_type == "llama"
    batch = make_batch(processor, "au", count=3, missing=True)
    model(**batch, labels=batch["input_ids"]).loss.backward()
    assert model.model.face_projector.proj[0].weight.grad is not None
    out = model.generate(**batch, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == batch["input_ids"].shape[1] + 3


def test_inputs_embeds_path_matches_input_ids():
    model, processor = built("au", "prosody")
    model.eval()
    batch = make_batch(processor, "au", count=2)
    embeds = model.get_input_embeddings()(batch["input_ids"])
    media = {k: v for k, v in batch.items() if k in RAW_MEDIA_KEYS}
    with torch.no_grad():
        by_ids = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], **media
        )
        by_embeds = model(inputs_embeds=embeds, attention_mask=batch["attention_mask"], **media)
    torch.testing.assert_close(by_ids.logits, by_embeds.logits)
