"""from_components composes a model from separately saved LLM / face / audio checkpoints."""

from __future__ import annotations

import pytest
import torch
from conftest import make_batch
from transformers import Qwen2ForCausalLM, WhisperFeatureExtractor

from affect_llm.modeling import AffectLLMForConditionalGeneration, AffectLLMProcessor
from affect_llm.modeling.tiny import (
    load_tiny_tokenizer,
    tiny_audio_config,
    tiny_face_config,
    tiny_text_config,
)


def _save_parts(root, face: str, audio: str):
    """Save a tiny LLM (+ tokenizer) and tiny towers (+ their preprocessors) like hub checkpoints."""
    from transformers import CLIPVisionModel, HubertModel, SiglipVisionModel, WhisperModel
    from transformers import Wav2Vec2FeatureExtractor as HubertExtractor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil
    from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

    torch.manual_seed(0)
    tokenizer = load_tiny_tokenizer()
    llm = Qwen2ForCausalLM(tiny_text_config(len(tokenizer)))
    llm.save_pretrained(root / "llm")
    tokenizer.save_pretrained(root / "llm")
    if face == "clip":
        CLIPVisionModel(tiny_face_config("clip")).save_pretrained(root / "face")
        CLIPImageProcessorPil(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ).save_pretrained(root / "face")
    else:
        SiglipVisionModel(tiny_face_config("siglip")).save_pretrained(root / "face")
        SiglipImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(root / "face")
    if audio == "whisper":
        WhisperModel(tiny_audio_config("whisper")).save_pretrained(root / "audio")
        WhisperFeatureExtractor(feature_size=16, chunk_length=2).save_pretrained(root / "audio")
    else:
        HubertModel(tiny_audio_config("hubert")).save_pretrained(root / "audio")
        HubertExtractor(return_attention_mask=True).save_pretrained(root / "audio")
    return llm


@pytest.mark.slow
@pytest.mark.parametrize(("face", "audio"), [("clip", "whisper"), ("siglip", "hubert")])
def test_from_components_loads_every_part(tmp_path, face, audio):
    llm = _save_parts(tmp_path, face, audio).eval()
    paths = [str(tmp_path / "llm"), str(tmp_path / "face"), str(tmp_path / "audio")]
    processor = AffectLLMProcessor.from_components(
        *paths, num_face_tokens=4, num_audio_tokens=4, num_frames=4, max_audio_seconds=2.0
    )
    model = AffectLLMForConditionalGeneration.from_components(
        *paths, tokenizer=processor.tokenizer, num_face_tokens=4, num_audio_tokens=4
    ).eval()
    assert model.config.face_encoder_type == face and model.config.audio_encoder_type == audio
    assert model.config.face_token_id == processor.face_token_id
    assert not any(p.is_meta for p in model.parameters())
    # without media the composite is exactly the pretrained LLM
    ids = processor(text=["How are you?"])["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(model(input_ids=ids).logits, llm(input_ids=ids).logits)
    batch = make_batch(processor, face, count=2)
    out = model.generate(**batch, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == batch["input_ids"].shape[1] + 3
    assert not any(p.requires_grad for p in model.model.face_encoder.parameters())


def test_from_components_adds_placeholders_to_a_plain_llama_tokenizer(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel()
    raw.train_from_iterator(
        ["how does the person feel today"] * 20,
        trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "</s>"]),
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="</s>", unk_token="<unk>")
    tokenizer.save_pretrained(tmp_path / "llm")
    torch.manual_seed(0)
    LlamaForCausalLM(tiny_text_config(len(tokenizer), "llama")).save_pretrained(tmp_path / "llm")

    processor = AffectLLMProcessor.from_components(str(tmp_path / "llm"), "au", "prosody")
    model = AffectLLMForConditionalGeneration.from_components(
        str(tmp_path / "llm"), tokenizer=processor.tokenizer
    )
    assert processor.face_token_id == len(tokenizer)  # added after the original vocabulary
    assert model.get_input_embeddings().num_embeddings == len(processor.tokenizer)
    assert model.config.face_token_id == processor.face_token_id
    assert processor.tokenizer.pad_token is not None and processor.chat_template
    batch = make_batch(processor, "au", count=3, missing=True)
    assert model(**batch).logits.shape[-1] == len(processor.tokenizer)
