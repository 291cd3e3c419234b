"""The demo's pictures: face strip, AU timeline, waveform and emotion wheel, with and without data."""

from __future__ import annotations

import numpy as np
import pytest
from chat_helpers import CLIP

from affect_llm.chat import plots
from affect_llm.perception import ClipPerception, PerceptionConfig, perceive_clip


@pytest.fixture(scope="module")
def clip() -> ClipPerception:
    return perceive_clip(CLIP, PerceptionConfig(num_frames=6))


def _red_pixels(image: np.ndarray) -> int:
    r, g, b = (image[..., i].astype(int) for i in range(3))
    target = (0xD6, 0x27, 0x28)  # plots.HIGHLIGHT
    return int(
        ((abs(r - target[0]) < 12) & (abs(g - target[1]) < 12) & (abs(b - target[2]) < 12)).sum()
    )


@pytest.mark.parametrize("draw", [plots.face_strip, plots.au_timeline, plots.waveform])
def test_clip_plots_are_rgb_pictures_with_the_peak_marked(clip, draw):
    image = draw(clip)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[1] >= 800 and image.std() > 10  # drawn, not blank
    if draw is not plots.waveform:
        assert _red_pixels(image) > 50  # peak frame outlined / peak line


def test_missing_modalities_draw_an_explanation_instead_of_failing():
    empty = ClipPerception(
        path=None, missing={"video": "no video file", "aus": "no AU file", "audio": "no audio file"}
    )
    for draw in (plots.face_strip, plots.au_timeline, plots.waveform):
        image = draw(empty)
        assert image.ndim == 3 and _red_pixels(image) == 0


def test_wheel_highlights_the_answer_nodes_only():
    nothing = plots.wheel_picture([])
    unknown = plots.wheel_picture(["qwertyuiop"])
    one = plots.wheel_picture(["happy"])
    two = plots.wheel_picture(["happy", "worried"])
    assert _red_pixels(nothing) == 0 == _red_pixels(unknown)
    assert 0 < _red_pixels(one) < _red_pixels(two)
    assert not np.array_equal(plots.wheel_picture(["happy"], "wheel4"), one)


def test_highlighted_nodes_follow_the_taxonomy():
    from affect_llm.taxonomy import get_taxonomy

    labels = ["worried", "thrilled", "qwertyuiop"]
    level1, level2 = plots._highlighted(labels, "wheel1")
    nodes = [get_taxonomy().describe(label)["wheel1"] for label in labels[:2]]
    assert level1 == {node["level1"] for node in nodes} == {"scared", "surprised"}
    assert level2 == {(node["level1"], node["level2"]) for node in nodes}
