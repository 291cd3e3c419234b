"""The optional ASR path with a tiny random-init Whisper saved offline (its text is gibberish)."""

import json

import numpy as np
import pytest


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory):
    from transformers import (
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperTokenizer,
    )

    folder = tmp_path_factory.mktemp("asr")
    specials = [
        "<|endoftext|>",
        "<|startoftranscript|>",
        "<|en|>",
        "<|transcribe|>",
        "<|translate|>",
        "<|notimestamps|>",
        "<|nospeech|>",
        "<|startofprev|>",
    ]
    vocab = {c: i for i, c in enumerate("abcdefghijklmnopqrstuvwxyzĠ")}
    vocab.update({token: len(vocab) + i for i, token in enumerate(specials)})
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    end = "<|endoftext|>"
    tokenizer = WhisperTokenizer(
        str(folder / "vocab.json"),
        str(folder / "merges.txt"),
        unk_token=end,
        bos_token=end,
        eos_token=end,
        pad_token=end,
    )
    config = WhisperConfig(
        vocab_size=len(vocab),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=16,
        decoder_ffn_dim=16,
        max_target_positions=32,
        decoder_start_token_id=vocab["<|startoftranscript|>"],
        eos_token_id=vocab[end],
        pad_token_id=vocab[end],
        bos_token_id=vocab[end],
    )
    model = WhisperForConditionalGeneration(config)
    model.generation_config.max_length = 8
    model.generation_config.no_timestamps_token_id = vocab["<|notimestamps|>"]
    model.generation_config.forced_decoder_ids = None
    model.save_pretrained(folder / "model")
    tokenizer.save_pretrained(folder / "model")
    WhisperFeatureExtractor().save_pretrained(folder / "model")
    return str(folder / "model")


@pytest.mark.slow
def test_clip_without_subtitle_is_transcribed_by_a_local_asr_model(tiny_whisper):
    from media_fixtures import HAPPY

    from affect_llm.perception import PerceptionConfig, perceive_clip
    from affect_llm.perception.audio import load_audio, transcribe

    expected = transcribe(load_audio(HAPPY), tiny_whisper)
    assert isinstance(expected, str) and expected  # gibberish, but real decoding
    config = PerceptionConfig(num_frames=2, face_size=32, asr_model=tiny_whisper)
    clip = perceive_clip(HAPPY, config)
    assert clip.subtitle == expected and "text" not in clip.missing
    given = perceive_clip(HAPPY, config, subtitle="Known words")
    assert given.subtitle == "Known words"  # a dataset subtitle wins over ASR


def test_asr_model_must_be_a_local_folder(tmp_path):
    from affect_llm.perception.audio import transcribe

    with pytest.raises(ValueError, match="local checkpoint folder"):
        transcribe(np.zeros(1600, np.float32), "openai/whisper-tiny")
