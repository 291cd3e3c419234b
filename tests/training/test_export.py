"""A LoRA-trained tiny model merges into a standalone folder `from_pretrained` loads unchanged."""

from __future__ import annotations

import torch

from affect_llm.modeling import AffectLLMForConditionalGeneration, AffectLLMProcessor
from affect_llm.training.config import AffectModelConfig
from affect_llm.training.export import merge_and_export
from affect_llm.training.model_loading import build_model_and_processor
from affect_llm.training.synthetic import make_rows


def test_merged_lora_export_loads_without_peft_and_gives_the_same_logits(tmp_path):
    torch.set_num_threads(1)
    model, processor = build_model_and_processor(
        AffectModelConfig(
            llm_mode="lora", lora_r=4, lora_alpha=8, num_face_tokens=2, num_audio_tokens=2
        )
    )
    with torch.no_grad():  # move adapters and projectors off their init so the merge matters
        for param in model.parameters():
            if param.requires_grad:
                param.add_(0.05 * torch.randn_like(param))
    rows = make_rows("face", 2, seed=0)
    inputs = processor(
        text=[r["prompt"] for r in rows],
        aus=[r["aus"] for r in rows],
        audio=[r["audio"] for r in rows],
    )
    model.eval()
    with torch.no_grad():
        expected = model(**inputs).logits
    merge_and_export(model, processor, tmp_path / "merged")
    assert not (tmp_path / "merged" / "adapter_config.json").exists()
    loaded = AffectLLMForConditionalGeneration.from_pretrained(tmp_path / "merged").eval()
    reloaded_processor = AffectLLMProcessor.from_pretrained(tmp_path / "merged")
    again = reloaded_processor(
        text=[r["prompt"] for r in rows],
        aus=[r["aus"] for r in rows],
        audio=[r["audio"] for r in rows],
    )
    with torch.no_grad():
        got = loaded(**again).logits
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
