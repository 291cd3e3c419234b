"""AffectLLMProcessor's face / audio sub-processors: attributes, typed options, saving and loading.

Every check of outputs is against `fixtures/processor_golden.json`, what the processor returned
before its sub-processors became attributes (see `processor_golden.py`): integers and masks bit for
bit, floats within 1e-5.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ENCODER_PAIRS
from processor_golden import assert_matches, golden_batch
from transformers import AutoProcessor, WhisperFeatureExtractor
from transformers.dynamic_module_utils import get_imports

from affect_llm.modeling import AffectLLMProcessor
from affect_llm.modeling.feature_extraction_affect_llm import (
    AUSequenceFeatureExtractor,
    ProsodyFeatureExtractor,
)
from affect_llm.modeling.tiny import tiny_model_and_processor

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = json.loads((FIXTURES / "processor_golden.json").read_text())
FIRST_LAYOUT = FIXTURES / "processor_config_v1"


def _loaders():
    return {
        "AffectLLMProcessor": AffectLLMProcessor.from_pretrained,
        "AutoProcessor": lambda path: AutoProcessor.from_pretrained(path, trust_remote_code=True),
    }


@pytest.mark.parametrize(("face", "audio"), ENCODER_PAIRS)
def test_outputs_are_unchanged_and_survive_save_and_load(tmp_path, face, audio):
    processor = tiny_model_and_processor(face, audio)[1]
    expected = GOLDEN[f"{face}_{audio}"]
    assert_matches(golden_batch(processor, face), expected)
    processor.save_pretrained(tmp_path)
    for name, load in _loaders().items():
        reloaded = load(tmp_path)
        assert (reloaded.face_encoder_type, reloaded.audio_encoder_type) == (face, audio), name
        assert_matches(golden_batch(reloaded, face), expected, name)


@pytest.mark.parametrize(("face", "audio"), ENCODER_PAIRS)
def test_a_processor_config_of_the_first_layout_still_loads(tmp_path, face, audio):
    """processor_config.json as 41e6512 saved it (encoder types, face_preprocessing, ...)."""
    tiny_model_and_processor(face, audio)[1].save_pretrained(tmp_path)
    shutil.copyfile(FIRST_LAYOUT / f"{face}_{audio}.json", tmp_path / "processor_config.json")
    assert "face_encoder_type" in json.loads((tmp_path / "processor_config.json").read_text())
    for name, load in _loaders().items():
        reloaded = load(tmp_path)
        assert_matches(golden_batch(reloaded, face), GOLDEN[f"{face}_{audio}"], name)
        # saved again, it is written in today's layout and still gives the same outputs
        again = tmp_path / f"again-{name}"
        reloaded.save_pretrained(again)
        saved = json.loads((again / "processor_config.json").read_text())
        assert "face_encoder_type" not in saved and "image_processor" in saved, saved
        again_batch = golden_batch(AffectLLMProcessor.from_pretrained(again), face)
        assert_matches(again_batch, GOLDEN[f"{face}_{audio}"], f"{name}, saved again")


def test_sub_processors_are_processor_attributes_chosen_by_encoder_type():
    assert AffectLLMProcessor.get_attributes() == [
        "tokenizer",
        "image_processor",
        "feature_extractor",
    ]
    au = tiny_model_and_processor("au", "prosody")[1]
    assert isinstance(au.image_processor, AUSequenceFeatureExtractor)
    assert isinstance(au.feature_extractor, ProsodyFeatureExtractor)
    clip = tiny_model_and_processor("clip", "whisper")[1]
    assert type(clip.image_processor).__name__ == "CLIPImageProcessorPil"
    assert isinstance(clip.feature_extractor, WhisperFeatureExtractor)
    hubert = tiny_model_and_processor("siglip", "hubert")[1]
    assert type(hubert.feature_extractor).__name__ == "Wav2Vec2FeatureExtractor"
    # a sub-processor in the wrong slot, or none, is refused as transformers refuses it
    with pytest.raises(TypeError, match="image_processor must be one of"):
        AffectLLMProcessor(au.tokenizer, clip.feature_extractor, au.feature_extractor)
    with pytest.raises(TypeError, match="feature_extractor must be one of"):
        AffectLLMProcessor(au.tokenizer, au.image_processor, None)
    with pytest.raises(TypeError, match="tokenizer"):
        AffectLLMProcessor(None, au.image_processor, au.feature_extractor)


def test_saved_sub_processors_name_their_code_which_needs_no_affect_llm(tmp_path):
    tiny_model_and_processor("au", "prosody")[1].save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "processor_config.json").read_text())
    face_code = saved["image_processor"]["auto_map"]["AutoFeatureExtractor"]
    audio_code = saved["feature_extractor"]["auto_map"]["AutoFeatureExtractor"]
    assert face_code == "feature_extraction_affect_llm.AUSequenceFeatureExtractor"
    assert audio_code == "feature_extraction_affect_llm.ProsodyFeatureExtractor"
    assert saved["image_processor"]["max_au_frames"] == 256
    for path in ("processing_affect_llm.py", "feature_extraction_affect_llm.py", "prosody.py"):
        assert "affect_llm" not in get_imports(tmp_path / path), path


def test_a_prosody_extractor_saved_alone_needs_no_affect_llm(tmp_path):
    extractor = tiny_model_and_processor("au", "prosody")[1].feature_extractor
    extractor.save_pretrained(tmp_path)
    assert "affect_llm" not in get_imports(tmp_path / "prosody.py")
    assert "prosody_features" in (tmp_path / "prosody.py").read_text()


def test_text_options_do_not_reach_the_audio_window_and_image_options_reach_the_crops():
    """Flat tokenizer options (`padding`, `max_length`) are also audio option names; the model's
    fixed audio window must not follow them. `images_kwargs` go to the CLIP / SigLIP processor."""
    processor = tiny_model_and_processor("clip", "whisper")[1]
    rng = np.random.default_rng(0)
    media = {
        "faces": [rng.integers(0, 256, (2, 40, 36, 3), np.uint8)],
        "audio": [(0.1 * rng.standard_normal(9000)).astype(np.float32)],
    }
    text = ["<|face|><|audio|> x"]
    plain = processor(text=text, **media)
    padded = processor(text=text, **media, padding="max_length", max_length=40, truncation=True)
    assert padded["input_ids"].shape[-1] == 40
    assert torch.equal(padded["input_features"], plain["input_features"])
    assert torch.equal(padded["audio_mask"], plain["audio_mask"])
    raw = processor(text=text, **media, images_kwargs={"do_normalize": False})
    assert raw["face_values"].min() >= 0 and raw["face_values"].max() <= 1
    assert plain["face_values"].min() < 0  # normalised by default


def test_the_own_extractors_take_no_options():
    processor = tiny_model_and_processor("au", "prosody")[1]
    aus = [np.zeros((3, 17))]
    with pytest.raises(ValueError, match="AU feature extractor takes no options"):
        processor(text=["<|face|> x"], aus=aus, images_kwargs={"do_normalize": False})
    with pytest.raises(ValueError, match="prosody feature extractor takes no options"):
        processor(
            text=["<|audio|> x"], audio=[np.zeros(800, np.float32)], audio_kwargs={"device": "cpu"}
        )
    with pytest.raises(ValueError, match="computed at 16000 Hz"):
        processor.feature_extractor([np.zeros(800, np.float32)], sampling_rate=8000)
