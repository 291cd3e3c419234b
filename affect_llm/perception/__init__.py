"""Perception: turn a video (or audio) file into face crops, AU intensities, audio and cue text.

Heavy libraries (PyAV, OpenCV, mediapipe) are imported inside the functions that need them.
"""

from affect_llm.perception.clip import ClipPerception, PerceptionConfig, perceive_clip
from affect_llm.perception.video import MediaError

__all__ = ["ClipPerception", "MediaError", "PerceptionConfig", "perceive_clip"]
