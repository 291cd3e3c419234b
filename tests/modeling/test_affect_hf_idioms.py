"""transformers idioms: placeholders as text, suppressed placeholders, tuples, compile, batching."""

from __future__ import annotations

import pytest
import torch
from conftest import ENCODER_PAIRS, make_batch, prompts_for, random_media
from transformers import CompileConfig

from affect_llm.modeling.model_io import RAW_AUDIO_KEYS
from affect_llm.modeling.tiny import tiny_model_and_processor

_BUILT: dict = {}


def built(face: str, audio: str, seed: int = 0):
    if (face, audio, seed) not in _BUILT:
        model, processor = tiny_model_and_processor(face, audio, seed=seed)
        _BUILT[(face, audio, seed)] = (model.eval(), processor)
    return _BUILT[(face, audio, seed)]


def audio_of(batch) -> dict:
    """The audio entries of a processor batch (`input_features` or `input_values`, `audio_mask`)."""
    return {k: batch[k] for k in RAW_AUDIO_KEYS if k in batch}


def test_placeholders_without_media_are_embedded_as_text():
    model, processor = built("au", "prosody")
    ids = processor.tokenizer(["<|face|><|audio|> Feel?"], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        by_ids = model(input_ids=ids).logits
        as_text = model.model.language_model(inputs_embeds=model.get_input_embeddings()(ids))
        expected = model.lm_head(as_text.last_hidden_state)
    torch.testing.assert_close(by_ids, expected)
    # a batch whose sample 1 has no face keeps that sample's stray <|face|> as text
    media = random_media("au", 2, seed=0)
    batch = processor(text=prompts_for(media), **media)
    batch["input_ids"][1, -1] = model.config.face_token_id
    audio = {k: v[1:] for k, v in audio_of(batch).items()}
    valid = batch["attention_mask"][1].bool()
    with torch.no_grad():
        alone = model(input_ids=batch["input_ids"][1:], **audio).logits[0, valid]
        mixed = model(**{**batch, "face_mask": batch["face_mask"] * torch.tensor([[1], [0]])})
    torch.testing.assert_close(mixed.logits[1, valid], alone, rtol=1e-5, atol=1e-5)


def test_media_with_too_few_placeholders_is_an_error():
    model, processor = built("au", "prosody")
    media = random_media("au", 1)
    batch = processor(text=prompts_for(media), **media)
    first = (batch["input_ids"][0] == model.config.face_token_id).nonzero()[0, 0]
    batch["input_ids"][0, first] = 5  # 3 of the 4 placeholders left
    with pytest.raises(ValueError, match="needs 4 face placeholder tokens"):
        model(**batch)


def test_generation_suppresses_placeholders_and_a_generated_one_is_text():
    model, processor = built("au", "prosody")
    face_id = model.config.face_token_id

    def prefer_face(module, args, logits):  # make <|face|> the greedy choice at every step
        return logits.index_add(-1, torch.tensor([face_id]), torch.full_like(logits[..., :1], 1e3))

    batch = make_batch(processor, "au", count=2)
    prompt_length = batch["input_ids"].shape[1]
    handle = model.lm_head.register_forward_hook(prefer_face)
    try:
        out = model.generate(**batch, max_new_tokens=4, do_sample=False)
        assert not torch.isin(
            out[:, prompt_length:], torch.tensor([face_id, model.config.audio_token_id])
        ).any()
        # without the saved suppression it is generated, then read back as plain text
        forced = model.generate(**batch, max_new_tokens=3, do_sample=False, suppress_tokens=[])
    finally:
        handle.remove()
    assert (forced[:, prompt_length:] == face_id).all()


def test_generation_paths_agree_with_media():
    """No cache, prompt embeddings, continuing from a cache and beams all work with face + audio."""
    model, processor = built("au", "prosody")
    processor.tokenizer.padding_side = "left"
    batch = make_batch(processor, "au", count=3, missing=True)
    processor.tokenizer.padding_side = "right"
    media = {k: v for k, v in batch.items() if k not in ("input_ids", "attention_mask")}
    greedy = dict(max_new_tokens=4, do_sample=False)
    reference = model.generate(**batch, **greedy)
    assert torch.equal(model.generate(**batch, **greedy, use_cache=False), reference)
    embeds = model.get_input_embeddings()(batch["input_ids"])
    from_embeds = model.generate(
        inputs_embeds=embeds, attention_mask=batch["attention_mask"], **media, **greedy
    )
    assert torch.equal(from_embeds, reference[:, batch["input_ids"].shape[1] :])
    first = model.generate(**batch, max_new_tokens=2, do_sample=False, return_dict_in_generate=True)
    mask = torch.cat([batch["attention_mask"], torch.ones(3, 2, dtype=torch.long)], 1)
    resumed = model.generate(
        input_ids=first.sequences,
        attention_mask=mask,
        past_key_values=first.past_key_values,
        **media,
        max_new_tokens=2,
        do_sample=False,
    )
    assert torch.equal(resumed, reference)
    beams = model.generate(**batch, max_new_tokens=3, num_beams=2, num_return_sequences=2)
    assert beams.shape == (6, batch["input_ids"].shape[1] + 3)


def test_assisted_decoding_matches_greedy():
    model, processor = built("au", "prosody")
    assistant, _ = built("au", "prosody", seed=1)
    batch = make_batch(processor, "au", count=1)
    greedy = model.generate(**batch, max_new_tokens=5, do_sample=False)
    assisted = model.generate(**batch, max_new_tokens=5, do_sample=False, assistant_model=assistant)
    assert torch.equal(greedy, assisted)


def test_return_dict_false_returns_tuples():
    model, processor = built("clip", "whisper")
    batch = make_batch(processor, "clip", count=2)
    with torch.no_grad():
        out = model(**batch, labels=batch["input_ids"], return_dict=False)
        core = model.model(**batch, return_dict=False)
    assert isinstance(out, tuple) and isinstance(core, tuple)
    torch.testing.assert_close(out[1], model(**batch).logits)


def test_face_and_audio_features_are_projected_tokens():
    model, processor = built("siglip", "hubert")
    batch = make_batch(processor, "siglip", count=3, missing=True)
    face = model.get_face_features(face_values=batch["face_values"], face_mask=batch["face_mask"])
    audio = model.get_audio_features(**audio_of(batch))
    hidden = model.config.text_config.hidden_size
    assert face.pooler_output.shape == (3, model.config.num_face_tokens, hidden)
    assert audio.pooler_output.shape == (3, model.config.num_audio_tokens, hidden)
    assert face.last_hidden_state.shape[:2] == face.features_mask.shape
    assert face.present.tolist() == [True, True, False]
    assert audio.present.tolist() == [True, False, True]
    # the pretrained tower's layers on request, and tuples without return_dict
    layers = model.get_face_features(
        face_values=batch["face_values"], face_mask=batch["face_mask"], output_hidden_states=True
    ).hidden_states
    assert len(layers) == model.config.face_config.num_hidden_layers + 1
    as_tuple = model.get_audio_features(**audio_of(batch), return_dict=False)
    assert isinstance(as_tuple, tuple)
    torch.testing.assert_close(as_tuple[1], audio.pooler_output)


@pytest.mark.slow
@pytest.mark.parametrize(("face", "audio"), [("au", "prosody"), ("clip", "whisper")])
def test_compiled_forward_with_media_has_no_graph_breaks(face, audio):
    model, processor = built(face, audio)
    assert model._can_compile_fullgraph
    batch = make_batch(processor, face, count=3, missing=True)
    torch._dynamo.reset()
    compiled = torch.compile(model.forward, fullgraph=True, backend="eager")
    with torch.no_grad():
        torch.testing.assert_close(compiled(**batch).logits, model(**batch).logits)


@pytest.mark.slow
def test_static_cache_compiled_generation_for_text_only_prompts():
    model, processor = built("au", "prosody")
    batch = processor(text=["How does she feel?", "Sad?"], padding_side="left")
    compile_config = CompileConfig(fullgraph=True, backend="eager")
    compile_config._compile_all_devices = True  # transformers compiles on GPUs only by default
    torch._dynamo.reset()
    eager = model.generate(**batch, max_new_tokens=4, do_sample=False)
    compiled = model.generate(
        **batch,
        max_new_tokens=4,
        do_sample=False,
        cache_implementation="static",
        compile_config=compile_config,
    )
    assert torch.equal(eager, compiled)


@pytest.mark.parametrize(("face", "audio"), ENCODER_PAIRS)
def test_a_sample_does_not_depend_on_its_batch_mates(face, audio):
    """Every encoder and projector: a padded sample's tokens equal those it gets alone."""
    model, processor = built(face, audio)
    media = random_media(face, 3, seed=7)
    batch = processor(text=prompts_for(media), **media)
    with torch.no_grad():
        face_batch = model.get_face_features(
            face_values=batch["face_values"], face_mask=batch["face_mask"]
        ).pooler_output
        audio_batch = model.get_audio_features(**audio_of(batch)).pooler_output
        for i in range(3):
            one = {k: v[i] for k, v in media.items() if v is not None}
            single = processor(text=[prompts_for(media)[i]], **{k: [v] for k, v in one.items()})
            face_one = model.get_face_features(
                face_values=single["face_values"], face_mask=single["face_mask"]
            ).pooler_output
            audio_one = model.get_audio_features(**audio_of(single)).pooler_output
            torch.testing.assert_close(face_batch[i], face_one[0], rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(audio_batch[i], audio_one[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("face", "audio"), ENCODER_PAIRS)
def test_left_padded_batched_generation_equals_one_by_one(face, audio):
    model, processor = built(face, audio)
    media = random_media(face, 3, seed=11, missing=True)
    prompts = [p + " Explain." * i for i, p in enumerate(prompts_for(media))]
    settings = dict(max_new_tokens=3, do_sample=False, output_logits=True)
    settings["return_dict_in_generate"] = True
    batch = processor(text=prompts, **media, padding_side="left")
    together = model.generate(**batch, **settings)
    width = batch["input_ids"].shape[1]
    for i in range(3):
        one = {k: [v[i]] for k, v in media.items() if v is not None}
        single = processor(text=[prompts[i]], **one)
        alone = model.generate(**single, **settings)
        assert torch.equal(together.sequences[i, width:], alone.sequences[0, -3:])
        for step_batch, step_alone in zip(together.logits, alone.logits):
            torch.testing.assert_close(step_batch[i], step_alone[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("face", "audio", "key"),
    [
        ("au", "prosody", "input_features"),
        ("clip", "whisper", "input_features"),
        ("siglip", "hubert", "input_values"),
    ],
)
def test_audio_comes_under_transformers_names(face, audio, key):
    """Log-mel and prosody features are `input_features`, a waveform is `input_values`."""
    model, processor = built(face, audio)
    batch = make_batch(processor, face, count=2)
    assert key in batch and processor.audio_input_key == key
    assert set(batch) & {"audio_values", "input_features", "input_values"} == {key}
    assert key in processor.model_input_names
    with torch.no_grad():
        with_audio = model(**batch).logits
        without = model(**{k: v for k, v in batch.items() if k != key}).logits
    assert not torch.allclose(with_audio, without)  # the audio was read under that name


@pytest.mark.parametrize(("face", "audio"), [("au", "prosody"), ("siglip", "hubert")])
def test_old_audio_values_name_warns_and_gives_the_same_logits(face, audio):
    model, processor = built(face, audio)
    batch = dict(make_batch(processor, face, count=2))
    old = {k: v for k, v in batch.items() if k != processor.audio_input_key}
    old["audio_values"] = batch[processor.audio_input_key]
    with torch.no_grad():
        expected = model(**batch).logits
        with pytest.warns(FutureWarning, match="audio_values"):
            got = model(**old).logits
        with pytest.warns(FutureWarning, match="audio_values"):
            cached = model.encode_media(
                audio_values=old["audio_values"], audio_mask=old["audio_mask"]
            )
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert set(cached) == {"audio_features", "audio_features_mask"}
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="one audio input"):
        model(**old, **{processor.audio_input_key: old["audio_values"]})


@pytest.mark.parametrize(("face", "audio"), [("au", "prosody"), ("clip", "whisper")])
def test_media_encoders_return_their_layers_when_asked(face, audio):
    """Hidden states (input + each layer) of every encoder; attentions of the pretrained towers,
    none from the prosody / AU encoders, which have no attention."""
    model, processor = tiny_model_and_processor(face, audio)
    model.eval().set_attn_implementation("eager")  # SDPA kernels return no attention weights
    batch = make_batch(processor, face, count=2)
    face_in = {k: batch[k] for k in ("face_values", "face_mask")}
    with torch.no_grad():
        plain = model.get_audio_features(**audio_of(batch))
        audio_out = model.get_audio_features(
            **audio_of(batch), output_hidden_states=True, output_attentions=True
        )
        face_out = model.get_face_features(**face_in, output_hidden_states=True)
    assert plain.hidden_states is None and plain.attentions is None  # only when asked
    torch.testing.assert_close(audio_out.pooler_output, plain.pooler_output)
    # AU encoder: input, projection, temporal convolution; prosody: input and its two convolutions
    face_layers = 2 if face == "au" else model.config.face_config.num_hidden_layers
    audio_layers = 2 if audio == "prosody" else model.config.audio_config.encoder_layers
    assert len(face_out.hidden_states) == face_layers + 1
    assert len(audio_out.hidden_states) == audio_layers + 1
    torch.testing.assert_close(audio_out.hidden_states[-1], audio_out.last_hidden_state)
    if audio == "prosody":
        assert audio_out.attentions is None
    else:
        assert len(audio_out.attentions) == audio_layers
    # the model config's flag asks as well (transformers' rule)
    model.config.output_hidden_states = True
    with torch.no_grad():
        by_config = model.get_audio_features(**audio_of(batch))
    assert len(by_config.hidden_states) == audio_layers + 1
