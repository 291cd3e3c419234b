"""The model must use its face and audio inputs: train on tasks only those inputs can solve."""

from __future__ import annotations

import pytest
from grounding_task import train_and_evaluate

from affect_llm.modeling.tiny import tiny_model_and_processor


@pytest.mark.slow
@pytest.mark.parametrize("modality", ["face", "audio"])
def test_tiny_model_learns_a_label_carried_only_by_one_modality(modality):
    # identical text prompts; the other modality carries noise unrelated to the label
    model, processor = tiny_model_and_processor("au", "prosody", seed=0)
    accuracy, steps = train_and_evaluate(model, processor, modality, max_steps=150)
    assert accuracy >= 0.9, (accuracy, steps)
