"""The face and audio sub-processors of `AffectLLMProcessor`, one per encoder type.

CLIP / SigLIP faces and Whisper / HuBERT audio have transformers' own image processor / feature
extractor; the two feature extractors here (OpenFace AU sequences, prosody frames) give the
from-scratch AU and prosody encoders the same kind of sub-processor, so `AffectLLMProcessor` holds
one face and one audio sub-processor whatever the encoders are.
"""

import inspect
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from transformers import (
    BatchFeature,
    SequenceFeatureExtractor,
    Wav2Vec2FeatureExtractor,
    WhisperFeatureExtractor,
)

# Relative imports only: `register_for_auto_class` copies this file and these into saved
# checkpoints, where they must load with torch + transformers + numpy alone.
from .prosody import PROSODY_FEATURES, SAMPLE_RATE, prosody_features

# Width of an AU sequence: `affect_llm.action_units.OPENFACE_INTENSITY_AUS` (a test pins the two).
NUM_ACTION_UNITS = 17


def copy_prosody_source(save_directory) -> None:
    """In the library `prosody.py` only re-exports `affect_llm.perception.prosody`, which a
    checkpoint cannot import: the file that defines `prosody_features` replaces the saved copy."""
    source = Path(inspect.getsourcefile(prosody_features))
    target = Path(save_directory) / "prosody.py"
    if source.resolve() != target.resolve():
        shutil.copyfile(source, target)


def subsample_indices(length: int, count: int) -> np.ndarray:
    """`count` frame indices spread uniformly over `length` frames, in order (repeats if short)."""
    return np.linspace(0, length - 1, count).round().astype(int)


def _padded(extractor: SequenceFeatureExtractor, rows: list, values_key: str, mask_key: str):
    """Zero-pad `(frames, features)` rows to the longest; the mask marks the real frames."""
    out = extractor.pad(
        BatchFeature({values_key: rows}), padding="longest", return_attention_mask=True
    )
    return np.asarray(out[values_key]), np.asarray(out["attention_mask"]).astype(bool)


class AUSequenceFeatureExtractor(SequenceFeatureExtractor):
    """OpenFace AU intensities `(frames, 17)` -> `face_values` `(batch, frames, 17)` + `face_mask`.

    Columns follow `affect_llm.action_units.OPENFACE_INTENSITY_AUS`. Values are clipped to OpenFace's
    0-5 scale and a sequence longer than `max_au_frames` is subsampled uniformly. A `None` entry is a
    sample without a face: its mask row is all False. AU rows come at the video's frame rate, which
    this extractor does not need (`sampling_rate` is None).
    """

    model_input_names = ["face_values", "face_mask"]

    def __init__(self, max_au_frames: int = 256, **kwargs):
        kwargs.pop("feature_size", None)
        kwargs.pop("sampling_rate", None)
        kwargs.pop("padding_value", None)
        super().__init__(
            feature_size=NUM_ACTION_UNITS, sampling_rate=None, padding_value=0.0, **kwargs
        )
        self.max_au_frames = max_au_frames

    def __call__(
        self, aus: Sequence[np.ndarray | None], return_tensors: str | None = None
    ) -> BatchFeature:
        rows = []
        for index, seq in enumerate(aus):
            if seq is None:
                rows.append(np.zeros((0, NUM_ACTION_UNITS), np.float32))
                continue
            seq = np.asarray(seq, dtype=np.float32)
            if seq.ndim != 2 or seq.shape[1] != NUM_ACTION_UNITS or len(seq) == 0:
                raise ValueError(
                    f"sample {index}: AU sequence must be (frames, {NUM_ACTION_UNITS}) "
                    f"in OPENFACE_INTENSITY_AUS order, got shape {seq.shape}"
                )
            if not np.isfinite(seq).all():
                raise ValueError(f"sample {index}: AU sequence has NaN or infinite values")
            if len(seq) > self.max_au_frames:
                seq = seq[subsample_indices(len(seq), self.max_au_frames)]
            rows.append(np.clip(seq, 0.0, 5.0))
        values, mask = _padded(self, rows, "face_values", "face_mask")
        return BatchFeature({"face_values": values, "face_mask": mask}, tensor_type=return_tensors)


class ProsodyFeatureExtractor(SequenceFeatureExtractor):
    """16 kHz waveforms -> prosody frames `input_features` `(batch, frames, 8)` + `audio_mask`.

    The features are `prosody_features` (one per 10 ms frame; see that module for the list), zero-
    padded to the longest clip; the mask marks the real frames.
    """

    model_input_names = ["input_features", "audio_mask"]

    def __init__(self, **kwargs):
        kwargs.pop("feature_size", None)
        kwargs.pop("padding_value", None)
        kwargs.setdefault("sampling_rate", SAMPLE_RATE)
        super().__init__(feature_size=len(PROSODY_FEATURES), padding_value=0.0, **kwargs)

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Save as transformers does, with a `prosody.py` that needs no affect_llm."""
        result = super().save_pretrained(save_directory, *args, **kwargs)
        copy_prosody_source(save_directory)
        return result

    def __call__(
        self,
        raw_speech: Sequence[np.ndarray],
        sampling_rate: int | None = None,
        return_tensors: str | None = None,
    ) -> BatchFeature:
        if sampling_rate is not None and sampling_rate != self.sampling_rate:
            raise ValueError(
                f"prosody features are computed at {self.sampling_rate} Hz; the audio was given "
                f"at {sampling_rate} Hz (resample it first)"
            )
        feats = [prosody_features(np.asarray(wave, dtype=np.float32)) for wave in raw_speech]
        values, mask = _padded(self, feats, "input_features", "audio_mask")
        return BatchFeature(
            {"input_features": values, "audio_mask": mask}, tensor_type=return_tensors
        )


# The sub-processor class of each encoder type, by the name it is saved under
# (`image_processor_type` / `feature_extractor_type`). CLIP / SigLIP use the PIL backends: no
# torchvision, and the same tensors on every machine.
FACE_PROCESSORS = {
    "au": "AUSequenceFeatureExtractor",
    "clip": "CLIPImageProcessorPil",
    "siglip": "SiglipImageProcessorPil",
}
AUDIO_PROCESSORS = {
    "prosody": "ProsodyFeatureExtractor",
    "whisper": "WhisperFeatureExtractor",
    "hubert": "Wav2Vec2FeatureExtractor",
}
# Keys of a sub-processor's `to_dict()` that are not constructor arguments.
_NON_INIT_KEYS = (
    "image_processor_type",
    "feature_extractor_type",
    "processor_class",
    "mel_filters",
    "auto_map",
)


def _sub_processor_class(name: str) -> type:
    # Transformers saves a PIL-backend image processor under its name without "Pil".
    if name in ("CLIPImageProcessor", "SiglipImageProcessor"):
        name += "Pil"
    if name in ("CLIPImageProcessorPil", "SiglipImageProcessorPil"):
        # Imported here: they need Pillow, and a checkpoint with an AU encoder loads without it.
        try:
            import PIL  # noqa: F401
        except ImportError as error:  # transformers' own error names PILImageResampling
            raise ImportError(
                f"the face encoder's image processor ({name}) needs Pillow: pip install pillow "
                "(the model card's pip line lists it)"
            ) from error
        if name == "CLIPImageProcessorPil":
            from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

            return CLIPImageProcessorPil
        from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

        return SiglipImageProcessorPil
    classes = (
        AUSequenceFeatureExtractor,
        ProsodyFeatureExtractor,
        WhisperFeatureExtractor,
        Wav2Vec2FeatureExtractor,
    )
    for cls in classes:
        if cls.__name__ == name:
            return cls
    known = [*FACE_PROCESSORS.values(), *AUDIO_PROCESSORS.values()]
    raise ValueError(
        f"unknown sub-processor: processor_config.json names {name!r}; AffectLLMProcessor uses "
        f"one of {known}"
    )


def load_sub_processor(saved: Mapping[str, Any]):
    """A face / audio sub-processor from its `to_dict()` (as nested in processor_config.json)."""
    name = saved.get("image_processor_type") or saved.get("feature_extractor_type")
    cls = _sub_processor_class(name)
    return cls(**{k: v for k, v in saved.items() if k not in _NON_INIT_KEYS})


def sub_processor_dict(class_name: str, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The saved form of sub-processor `class_name` with `settings` (what `load_sub_processor` reads)."""
    type_key = (
        "image_processor_type" if "ImageProcessor" in class_name else "feature_extractor_type"
    )
    return {**(settings or {}), type_key: class_name}


def face_processor(kind: str, settings: Mapping[str, Any] | None = None, max_au_frames: int = 256):
    """The face sub-processor of face encoder `kind` ("au", "clip", "siglip"); `settings` are the
    image processor's options (e.g. an `AutoImageProcessor`'s `to_dict()`), unused for AUs."""
    if kind == "au":
        return AUSequenceFeatureExtractor(max_au_frames=max_au_frames)
    return load_sub_processor(sub_processor_dict(FACE_PROCESSORS[kind], settings))


def audio_processor(kind: str, settings: Mapping[str, Any] | None = None):
    """The audio sub-processor of audio encoder `kind` ("prosody", "whisper", "hubert"); `settings`
    are the feature extractor's options (e.g. an `AutoFeatureExtractor`'s `to_dict()`)."""
    if kind == "prosody":
        return ProsodyFeatureExtractor()
    return load_sub_processor(sub_processor_dict(AUDIO_PROCESSORS[kind], settings))


# Saving a processor writes this file beside processor_config.json, named in each extractor's
# `auto_map` (`AutoFeatureExtractor.from_pretrained(..., trust_remote_code=True)` finds it there).
AUSequenceFeatureExtractor.register_for_auto_class("AutoFeatureExtractor")
ProsodyFeatureExtractor.register_for_auto_class("AutoFeatureExtractor")

__all__ = [
    "AUDIO_PROCESSORS",
    "FACE_PROCESSORS",
    "NUM_ACTION_UNITS",
    "AUSequenceFeatureExtractor",
    "ProsodyFeatureExtractor",
    "audio_processor",
    "face_processor",
    "load_sub_processor",
    "sub_processor_dict",
    "subsample_indices",
]
