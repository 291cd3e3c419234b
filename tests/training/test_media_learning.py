"""Video and audio really reach a pretrained backbone: a set whose label only the media carry.

Each clip's label is its frames' colour and its tone; the prompt is the same for every label. The
tiny Qwen2.5-Omni thinker answers at chance before SFT and (nearly) always right after it, on clips
it never trained on. `benchmarks/media_learning.py` runs the same for Qwen2.5-VL (pixels alone)
and Qwen2-Audio (waveform alone); docs/training.md has the figures.
"""

from __future__ import annotations

import pytest
from media_learning import run

pytestmark = pytest.mark.slow


def test_tiny_omni_learns_a_label_that_only_its_video_and_audio_carry(tmp_path):
    result = run("omni", tmp_path, epochs=25)
    assert result["before"] <= 0.5  # chance is 0.25: the text alone cannot tell the labels apart
    assert result["after"] >= 0.9
