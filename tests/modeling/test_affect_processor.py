"""AffectLLMProcessor: placeholder expansion, missing modalities, media tensors, chat template."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import make_batch

from affect_llm.modeling.tiny import tiny_model_and_processor


@pytest.fixture(scope="module")
def au_processor():
    return tiny_model_and_processor("au", "prosody")[1]


@pytest.fixture(scope="module")
def clip_processor():
    return tiny_model_and_processor("clip", "whisper")[1]


def test_placeholders_expand_to_projector_token_counts(au_processor):
    batch = make_batch(au_processor, "au", count=3, missing=True)
    ids = batch["input_ids"]
    face_counts = (ids == au_processor.face_token_id).sum(-1).tolist()
    audio_counts = (ids == au_processor.audio_token_id).sum(-1).tolist()
    k_face, k_audio = au_processor.num_face_tokens, au_processor.num_audio_tokens
    # sample 1 has no audio, sample 2 no face: their placeholders are removed
    assert face_counts == [k_face, k_face, 0]
    assert audio_counts == [k_audio, 0, k_audio]
    assert batch["face_mask"].any(-1).tolist() == [True, True, False]
    assert batch["audio_mask"].any(-1).tolist() == [True, False, True]
    assert batch["face_values"].shape[-1] == 17


def test_face_frames_are_sampled_in_order(clip_processor):
    frames = np.stack([np.full((32, 32, 3), 10 * i, np.uint8) for i in range(12)])
    batch = clip_processor(text=["<|face|> hi"], faces=[frames])
    values = batch["face_values"][0]  # (num_frames, 3, H, W)
    means = values.mean(dim=(1, 2, 3))
    assert values.shape[0] == clip_processor.num_frames
    assert torch.all(means[1:] > means[:-1])


def test_whisper_audio_is_a_fixed_window_with_a_mask(clip_processor):
    short = np.zeros(8000, np.float32)
    batch = clip_processor(text=["<|audio|> a"], audio=[short])
    mel_frames = clip_processor.feature_extractor.nb_max_frames
    assert "audio_values" not in batch  # transformers' name for log-mel features
    assert batch["input_features"].shape[-1] == mel_frames
    assert 45 <= int(batch["audio_mask"][0].sum()) <= 55  # 0.5 s at 100 mel frames/s


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": ["no placeholder"], "aus": [np.zeros((4, 17))]}, "sample 0: a face input"),
        ({"text": ["<|face|> x"], "aus": [np.zeros((4, 5))]}, "sample 0: AU sequence"),
        ({"text": ["a", "<|face|>"], "aus": [None, np.full((3, 17), np.nan)]}, "sample 1"),
        ({"text": ["<|face|> x"], "faces": [np.zeros((2, 8, 8, 3), np.uint8)]}, "aus="),
        ({"text": ["<|audio|><|audio|>"], "audio": [np.zeros(100, np.float32)]}, "use one"),
    ],
)
def test_bad_input_names_the_sample_and_reason(au_processor, kwargs, message):
    with pytest.raises(ValueError, match=message):
        au_processor(**kwargs)


def test_chat_template_has_a_default_system_prompt_and_placeholders(au_processor):
    text = au_processor.apply_chat_template(
        [{"role": "user", "content": "<|face|><|audio|> How does she feel?"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert text.startswith("<|im_start|>system\n")
    assert "<|im_start|>user\n<|face|><|audio|> How does she feel?<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")
    custom = au_processor.apply_chat_template(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        tokenize=False,
    )
    assert custom.startswith("<|im_start|>system\nBe brief.<|im_end|>")
    typed = au_processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "face"}, {"type": "text", "text": " Why?"}]}],
        tokenize=False,
    )
    assert "<|im_start|>user\n<|face|> Why?<|im_end|>" in typed


def test_emotion_words_and_reasoning_tags_tokenize_compactly(au_processor):
    tokenizer = au_processor.tokenizer
    for word in ("happy", "sad", "angry", "neutral", "surprise", "worried", "disgust"):
        assert len(tokenizer(" " + word)["input_ids"]) == 1, word
    for tag in ("<think>", "</think>", "<answer>", "</answer>"):
        assert len(tokenizer(tag)["input_ids"]) == 1
    ids = tokenizer("<think>x</think><answer> sad </answer><|face|>")["input_ids"]
    decoded = tokenizer.decode(ids, skip_special_tokens=True)
    assert decoded == "<think>x</think><answer> sad </answer>"


def test_chat_template_with_media_parts_gives_the_model_inputs(au_processor, clip_processor):
    rng = np.random.default_rng(0)
    aus, wave = rng.uniform(0, 5, (10, 17)), (0.1 * rng.standard_normal(8000)).astype(np.float32)
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "face", "aus": aus},
                {"type": "audio", "audio": wave},
                {"type": "text", "text": " How does she feel?"},
            ],
        }
    ]
    out = au_processor.apply_chat_template(
        messages, tokenize=True, return_dict=True, add_generation_prompt=True
    )
    text = au_processor.apply_chat_template(messages, add_generation_prompt=True)
    expected = au_processor(text=[text], aus=[aus], audio=[wave])
    assert set(out) == set(expected)
    for key in expected:
        assert torch.equal(out[key], expected[key]), key
    # an image or a video part is a face; a batch of conversations, one without audio
    frames = rng.integers(0, 256, (3, 32, 32, 3), np.uint8)
    batch = [
        [
            {
                "role": "user",
                "content": [{"type": "image", "image": frames[0]}, {"type": "text", "text": "?"}],
            }
        ],
        [
            {
                "role": "user",
                "content": [{"type": "video", "video": frames}, {"type": "audio", "audio": wave}],
            }
        ],
    ]
    out = clip_processor.apply_chat_template(batch, tokenize=True, return_dict=True)
    assert out["face_mask"].any(-1).tolist() == [True, True]
    assert out["audio_mask"].any(-1).tolist() == [False, True]
    ids = clip_processor.apply_chat_template(batch, tokenize=True)
    assert torch.equal(ids, out["input_ids"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ([{"type": "image", "url": "https://example.com/a.jpg"}], "not a path or URL"),
        ([{"type": "audio"}], "needs its decoded data"),
        ([{"type": "face", "aus": np.zeros((3, 17))}] * 2, "more than one face"),
        ("<|face|> typed", "typed in a text message"),
        ([{"type": "document", "text": "x"}], "unsupported message part type 'document'"),
    ],
)
def test_chat_media_that_cannot_be_used_is_a_clear_error(au_processor, content, message):
    with pytest.raises(Exception, match=message):
        au_processor.apply_chat_template([{"role": "user", "content": content}], tokenize=True)
