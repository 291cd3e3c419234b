import numpy as np
from media_fixtures import HAPPY, hopper_frames, no_face_frames, tone, write_clip

from affect_llm.perception import PerceptionConfig, perceive_clip


def test_one_clip_gives_the_processor_inputs():
    clip = perceive_clip(HAPPY, PerceptionConfig(num_frames=6, face_size=160), subtitle="hello")
    inputs = clip.model_inputs()
    assert inputs["faces"].shape == (6, 160, 160, 3) and inputs["faces"].dtype == np.uint8
    assert inputs["aus"].shape == (6, 17) and inputs["aus"].dtype == np.float32
    assert inputs["audio"].dtype == np.float32 and inputs["audio"].ndim == 1
    assert clip.missing == {}
    assert clip.au_summary.description and "Hz" in clip.prosody_text


def test_missing_modalities_are_marked(tmp_path):
    silent = perceive_clip(write_clip(tmp_path / "silent.mp4", hopper_frames(6)))
    assert silent.model_inputs()["audio"] is None and "no audio stream" in silent.missing["audio"]
    assert silent.model_inputs()["faces"] is not None and "text" in silent.missing
    scenery = perceive_clip(write_clip(tmp_path / "scene.mp4", no_face_frames(6), audio=tone(0.6)))
    assert scenery.missing["face"].startswith("no face") and "aus" in scenery.missing
    assert scenery.model_inputs()["faces"] is None and scenery.model_inputs()["audio"] is not None
    voice = perceive_clip(write_clip(tmp_path / "voice.m4a", None, audio=tone(1.0)))
    assert "no video stream" in voice.missing["video"] and voice.prosody is not None
