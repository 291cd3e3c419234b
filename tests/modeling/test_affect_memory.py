"""The memory estimate's parameter counts, and the GPU measurement routine run at tiny shapes."""

from __future__ import annotations

import math

import pytest

from affect_llm.modeling.memory import estimate, measure, parameter_counts, reference_config
from affect_llm.modeling.tiny import tiny_model_and_processor


def test_reference_counts_match_the_published_model_sizes():
    counts = parameter_counts(reference_config())
    assert counts.llm == 7_615_616_512  # Qwen2.5-7B: 7.62 B
    assert counts.face_encoder == 303_179_776  # CLIP ViT-L/14 vision tower: 303 M
    assert counts.audio_encoder == 636_968_960  # Whisper-large-v3 encoder: 637 M
    assert counts.lora == 40_370_176  # r=16 on all decoder linear layers
    lora = estimate(reference_config(), "lora", seq_len=2048)
    qlora = estimate(reference_config(), "qlora", seq_len=2048)
    full = estimate(reference_config(), "full", seq_len=2048)
    assert qlora["total"] < lora["total"] < full["total"]
    assert lora["llm_weights"] == pytest.approx(14.19, abs=0.01)


@pytest.mark.slow
def test_measure_trains_the_parameters_of_each_mode_with_media():
    config = tiny_model_and_processor("clip", "whisper")[0].config
    full, lora = (
        measure(config, mode, seq_len=32, steps=1, device="cpu", num_frames=2)
        for mode in ("full", "lora")
    )
    for result in (full, lora):
        assert math.isfinite(result["loss"]) and result["peak_memory_gib"] is None
    # LoRA trains adapters and the multimodal parts only: far fewer parameters than full
    assert 0 < lora["trainable_parameters"] < full["trainable_parameters"] / 2
