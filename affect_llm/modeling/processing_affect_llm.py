"""AffectLLMProcessor: text + face frames / AU sequences + audio -> model inputs.

It expands each `<|face|>` / `<|audio|>` placeholder into exactly the number of tokens the model's
projector produces (or removes it when the sample lacks that modality), tokenises, and prepares the
face and audio encoder inputs with the matching transformers image processor / feature extractor.
"""

import inspect
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import (
    AutoFeatureExtractor,
    AutoImageProcessor,
    AutoTokenizer,
    BatchFeature,
    ProcessorMixin,
    Wav2Vec2FeatureExtractor,
    WhisperFeatureExtractor,
)
from transformers.processing_utils import ProcessingKwargs, TextKwargs, Unpack

# Relative imports only: `register_for_auto_class` copies this file and these into saved
# checkpoints, where they must load with torch + transformers + numpy alone.
from .configuration_affect_llm import audio_encoder_type, audio_input_key, face_encoder_type
from .prosody import SAMPLE_RATE, prosody_features

FACE_TOKEN = "<|face|>"
AUDIO_TOKEN = "<|audio|>"
# Special tokens are dropped by `decode(skip_special_tokens=True)`; the reasoning tags are not,
# because rewards and answer parsing read them from decoded completions.
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", FACE_TOKEN, AUDIO_TOKEN]
REASONING_TAGS = ["<think>", "</think>", "<answer>", "</answer>"]
# Width of an AU sequence: `affect_llm.action_units.OPENFACE_INTENSITY_AUS` (a test pins the two).
NUM_ACTION_UNITS = 17
# Chat-message part types and the placeholder each becomes (a face clip may arrive as an image or video).
PART_PLACEHOLDERS = {
    "face": FACE_TOKEN,
    "image": FACE_TOKEN,
    "video": FACE_TOKEN,
    "audio": AUDIO_TOKEN,
}


def default_chat_template() -> str:
    """Our ChatML template (`chat_template.jinja` beside this file), for tokenizers that lack one."""
    return (Path(__file__).with_name("chat_template.jinja")).read_text(encoding="utf-8")


# Keys of a sub-processor's `to_dict()` that are not constructor arguments.
_NON_INIT_KEYS = (
    "image_processor_type",
    "feature_extractor_type",
    "processor_class",
    "mel_filters",
)


def _build_face_image_processor(face_encoder_type: str, settings: dict | None):
    if face_encoder_type == "au":
        return None
    # The PIL backends need no torchvision and give the same tensors on every machine. They need
    # Pillow, so they are imported here: a checkpoint with an AU encoder loads without it.
    try:
        import PIL  # noqa: F401
    except ImportError as error:  # transformers' own error names PILImageResampling, not Pillow
        raise ImportError(
            f"the {face_encoder_type} face encoder's image processor needs Pillow: pip install "
            "pillow (the model card's pip line lists it)"
        ) from error
    if face_encoder_type == "clip":
        from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil as cls
    else:
        from transformers.models.siglip.image_processing_pil_siglip import (
            SiglipImageProcessorPil as cls,
        )
    return cls(**{k: v for k, v in (settings or {}).items() if k not in _NON_INIT_KEYS})


def _build_audio_feature_extractor(audio_encoder_type: str, settings: dict | None):
    if audio_encoder_type == "prosody":
        return None
    cls = WhisperFeatureExtractor if audio_encoder_type == "whisper" else Wav2Vec2FeatureExtractor
    return cls(**{k: v for k, v in (settings or {}).items() if k not in _NON_INIT_KEYS})


def _subsample_indices(length: int, count: int) -> np.ndarray:
    """`count` frame indices spread uniformly over `length` frames, in order (repeats if short)."""
    return np.linspace(0, length - 1, count).round().astype(int)


def _as_list(value: Any, batch: int, name: str) -> list:
    if value is None:
        return [None] * batch
    if not isinstance(value, (list, tuple)) or len(value) != batch:
        raise ValueError(
            f"{name} must be a list with one entry (or None) per text, got {type(value)}"
        )
    return list(value)


def _chat_media(messages: list[dict], index: int) -> dict[str, Any]:
    """The face / AU / audio data carried by one conversation's message parts (one of each at most)."""
    found: dict[str, Any] = {}
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            for token, name in ((FACE_TOKEN, "face"), (AUDIO_TOKEN, "audio")):
                if token in content:
                    raise ValueError(
                        f"conversation {index}: {token} typed in a text message cannot carry {name} "
                        f"data; use a {{'type': '{name}', ...}} part with the data"
                    )
            continue
        for part in content or []:
            kind = part.get("type")
            if kind not in PART_PLACEHOLDERS:
                continue  # text; the template rejects unknown part types
            if kind == "audio":
                key, data = "audio", part.get("audio")
            elif "aus" in part:
                key, data = "aus", part["aus"]
            else:
                key = "faces"
                data = next((part[k] for k in ("face", "image", "video") if k in part), None)
            if (
                data is None
                or isinstance(data, (str, bytes))
                or any(k in part for k in ("url", "path"))
            ):
                raise ValueError(
                    f"conversation {index}: a '{kind}' part needs its decoded data in the part "
                    f"(face frames / AU array / 16 kHz waveform as arrays), not a path or URL"
                )
            modality = "audio" if kind == "audio" else "face"
            if modality in found:
                raise ValueError(f"conversation {index}: more than one {modality} part; use one")
            found[modality] = (key, data)
    return {key: data for key, data in found.values()}


# No `from __future__ import annotations` here: transformers reads this TypedDict's annotations
# as classes at call time.
class AffectLLMProcessorKwargs(ProcessingKwargs, total=False):
    """Options of a processor call: tokenizer options (`padding`, `max_length`, `padding_side`,
    `return_tensors`, ...) flat or under `text_kwargs`; face and audio preparation take none (the
    processor's own settings fix frames, crop size and sample rate)."""

    text_kwargs: TextKwargs


class AffectLLMProcessor(ProcessorMixin):
    """Tokenizer plus face and audio preprocessing for [`AffectLLMForConditionalGeneration`].

    Call: `processor(text=[...], faces=[uint8 (T, H, W, 3)] | None, aus=[float (T, 17)] | None,
    audio=[float32 at 16 kHz] | None, return_tensors="pt")`; lists are per sample and an entry may be
    None. AU columns follow `affect_llm.action_units.OPENFACE_INTENSITY_AUS` (values 0-5). Returns
    `input_ids`, `attention_mask` and, when any sample has the modality, `face_values` / `face_mask`
    and the audio input under transformers' name with `audio_mask`: `input_features` (Whisper
    log-mel, prosody frames) or `input_values` (HuBERT waveform); see `AffectLLMModel` for shapes.
    """

    valid_processor_kwargs = AffectLLMProcessorKwargs
    # Defaults of the tokenizer options: a padded batch of tensors.
    text_kwargs = {"padding": True, "return_tensors": "pt"}

    def __init__(
        self,
        tokenizer=None,
        chat_template: str | None = None,
        face_encoder_type: str = "au",
        audio_encoder_type: str = "prosody",
        num_face_tokens: int = 8,
        num_audio_tokens: int = 8,
        num_frames: int = 8,
        max_au_frames: int = 256,
        max_audio_seconds: float = 30.0,
        face_preprocessing: dict | None = None,
        audio_preprocessing: dict | None = None,
        **kwargs,
    ):
        self.face_encoder_type = face_encoder_type
        self.audio_encoder_type = audio_encoder_type
        self.num_face_tokens = num_face_tokens
        self.num_audio_tokens = num_audio_tokens
        self.num_frames = num_frames
        self.max_au_frames = max_au_frames
        self.max_audio_seconds = max_audio_seconds
        self.face_image_processor = _build_face_image_processor(
            face_encoder_type, face_preprocessing
        )
        self.audio_extractor = _build_audio_feature_extractor(
            audio_encoder_type, audio_preprocessing
        )
        self.face_preprocessing = (
            self.face_image_processor.to_dict() if self.face_image_processor is not None else None
        )
        self.audio_preprocessing = (
            self.audio_extractor.to_dict() if self.audio_extractor is not None else None
        )
        if chat_template is None and tokenizer is not None:
            chat_template = getattr(tokenizer, "chat_template", None)
        super().__init__(tokenizer, chat_template=chat_template)
        self.face_token, self.audio_token = FACE_TOKEN, AUDIO_TOKEN
        self.face_token_id = tokenizer.convert_tokens_to_ids(FACE_TOKEN) if tokenizer else None
        self.audio_token_id = tokenizer.convert_tokens_to_ids(AUDIO_TOKEN) if tokenizer else None

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Save as transformers does (with this file and its relative imports, named in `auto_map`).

        In the library `prosody.py` only re-exports `affect_llm.perception.prosody`, which a
        checkpoint cannot import: the file that defines `prosody_features` replaces the copy.
        """
        result = super().save_pretrained(save_directory, *args, **kwargs)
        source, target = Path(inspect.getsourcefile(prosody_features)), Path(save_directory)
        if source.resolve() != (target / "prosody.py").resolve():
            shutil.copyfile(source, target / "prosody.py")
        return result

    @classmethod
    def from_components(
        cls,
        llm: str,
        face_encoder: str = "au",
        audio_encoder: str = "prosody",
        num_face_tokens: int = 8,
        num_audio_tokens: int = 8,
        num_frames: int = 8,
        hub_kwargs: dict | None = None,
        **kwargs,
    ) -> "AffectLLMProcessor":
        """A processor for `AffectLLMForConditionalGeneration.from_components` with the same parts.

        Loads the LLM's tokenizer (adding `<|face|>`, `<|audio|>` and the reasoning tags if missing,
        and our ChatML template if it has none) and the encoders' image processor / feature extractor.
        """
        hub_kwargs = {"trust_remote_code": False, **(hub_kwargs or {})}  # never prompt on stdin
        tokenizer = AutoTokenizer.from_pretrained(llm, **hub_kwargs)
        tokenizer.add_special_tokens({"additional_special_tokens": [FACE_TOKEN, AUDIO_TOKEN]})
        tokenizer.add_tokens([t for t in REASONING_TAGS if t not in tokenizer.get_vocab()])
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        if not getattr(tokenizer, "chat_template", None):
            tokenizer.chat_template = default_chat_template()
        face_kind = face_encoder_type(face_encoder, **hub_kwargs)
        audio_kind = audio_encoder_type(audio_encoder, **hub_kwargs)
        face_settings = audio_settings = None
        if face_kind != "au":
            face_settings = AutoImageProcessor.from_pretrained(face_encoder, **hub_kwargs).to_dict()
        if audio_kind != "prosody":
            extractor = AutoFeatureExtractor.from_pretrained(audio_encoder, **hub_kwargs)
            audio_settings = extractor.to_dict()
        return cls(
            tokenizer=tokenizer,
            face_encoder_type=face_kind,
            audio_encoder_type=audio_kind,
            num_face_tokens=num_face_tokens,
            num_audio_tokens=num_audio_tokens,
            num_frames=num_frames,
            face_preprocessing=face_settings,
            audio_preprocessing=audio_settings,
            **kwargs,
        )

    @classmethod
    def get_processor_dict(cls, pretrained_model_name_or_path, **kwargs):
        """Refuse a folder without our `processor_config.json` rather than guess the encoders."""
        processor_dict, kwargs = super().get_processor_dict(pretrained_model_name_or_path, **kwargs)
        if "face_encoder_type" not in processor_dict:
            raise OSError(
                f"{pretrained_model_name_or_path} has no AffectLLMProcessor settings "
                "(processor_config.json): save the processor there with processor.save_pretrained()"
            )
        return processor_dict, kwargs

    def to_dict(self) -> dict[str, Any]:
        output = super().to_dict()
        for key in ("face_image_processor", "audio_extractor", "face_token_id", "audio_token_id"):
            output.pop(key, None)
        for key in ("face_preprocessing", "audio_preprocessing"):
            if output.get(key):
                output[key] = {k: v for k, v in output[key].items() if k not in _NON_INIT_KEYS}
        return output

    # ---- chat template -------------------------------------------------------------------------

    def apply_chat_template(self, conversation, chat_template: str | None = None, **kwargs):
        """Render conversations; with `tokenize=True`, media in the message parts become model inputs.

        Parts: `{"type": "text", "text": ...}`; a face as `{"type": "face" | "image" | "video"}` with
        decoded frames under `"face"`, `"image"` or `"video"` (uint8 `(T, H, W, 3)` or one `(H, W, 3)`
        image) or AU intensities under `"aus"`; `{"type": "audio", "audio": float32 16 kHz}`. With
        `return_dict=True` the full model inputs come back, else `input_ids`. A media part without
        its data, or a file path / URL (decode it first), is an error: nothing is dropped silently.
        """
        if not kwargs.get("tokenize", False):
            return super().apply_chat_template(conversation, chat_template, **kwargs)
        kwargs.pop("tokenize")
        return_dict = kwargs.pop("return_dict", False)
        return_tensors = kwargs.pop("return_tensors", "pt")
        processor_kwargs = kwargs.pop("processor_kwargs", None) or {}
        batched = bool(conversation) and isinstance(conversation[0], (list, tuple))
        conversations = list(conversation) if batched else [conversation]
        media = [_chat_media(messages, index) for index, messages in enumerate(conversations)]
        texts = super().apply_chat_template(conversations, chat_template, tokenize=False, **kwargs)
        out = self(
            text=texts,
            faces=[m.get("faces") for m in media] if any("faces" in m for m in media) else None,
            aus=[m.get("aus") for m in media] if any("aus" in m for m in media) else None,
            audio=[m.get("audio") for m in media] if any("audio" in m for m in media) else None,
            return_tensors=None if return_tensors == "auto" else return_tensors,
            **processor_kwargs,
        )
        return out if return_dict else out["input_ids"]

    # ---- text ------------------------------------------------------------------------------------

    def _expand_placeholders(self, text: str, index: int, has_face: bool, has_audio: bool) -> str:
        for token, present, count, name in (
            (self.face_token, has_face, self.num_face_tokens, "face"),
            (self.audio_token, has_audio, self.num_audio_tokens, "audio"),
        ):
            occurrences = text.count(token)
            if occurrences > 1:
                raise ValueError(f"sample {index}: the text has {occurrences} {token}; use one")
            if present and occurrences == 0:
                raise ValueError(
                    f"sample {index}: a {name} input was given but the text has no {token}"
                )
            text = text.replace(token, token * count if present else "")
        return text

    # ---- face ------------------------------------------------------------------------------------

    def _face_inputs(self, faces: list, aus: list) -> dict[str, torch.Tensor]:
        batch = len(faces)
        if self.face_encoder_type == "au":
            if any(f is not None for f in faces):
                raise ValueError(
                    "this model's face encoder reads AU sequences: pass aus=, not faces="
                )
            clips = []
            for index, seq in enumerate(aus):
                if seq is None:
                    clips.append(None)
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
                    seq = seq[_subsample_indices(len(seq), self.max_au_frames)]
                clips.append(np.clip(seq, 0.0, 5.0))
            if all(c is None for c in clips):
                return {}
            length = max(len(c) for c in clips if c is not None)
            values = torch.zeros(batch, length, NUM_ACTION_UNITS)
            mask = torch.zeros(batch, length, dtype=torch.bool)
            for index, clip in enumerate(clips):
                if clip is not None:
                    values[index, : len(clip)] = torch.from_numpy(clip)
                    mask[index, : len(clip)] = True
            return {"face_values": values, "face_mask": mask}

        if any(a is not None for a in aus):
            raise ValueError("this model's face encoder reads face crops: pass faces=, not aus=")
        frames, owners = [], []
        for index, clip in enumerate(faces):
            if clip is None:
                continue
            clip = np.asarray(clip)
            if clip.ndim == 3:
                clip = clip[None]
            if clip.ndim != 4 or clip.shape[-1] != 3 or len(clip) == 0:
                raise ValueError(
                    f"sample {index}: faces must be uint8 (T, H, W, 3), got {clip.shape}"
                )
            frames.extend(clip[_subsample_indices(len(clip), self.num_frames)])
            owners.append(index)
        if not owners:
            return {}
        pixels = self.face_image_processor(images=frames, return_tensors="pt")["pixel_values"]
        pixels = pixels.reshape(len(owners), self.num_frames, *pixels.shape[1:])
        values = torch.zeros(batch, *pixels.shape[1:])
        mask = torch.zeros(batch, self.num_frames, dtype=torch.bool)
        values[owners] = pixels
        mask[owners] = True
        return {"face_values": values, "face_mask": mask}

    # ---- audio -----------------------------------------------------------------------------------

    def _audio_inputs(self, audio: list) -> dict[str, torch.Tensor]:
        batch = len(audio)
        max_samples = int(self.max_audio_seconds * SAMPLE_RATE)
        clips, owners = [], []
        for index, wave in enumerate(audio):
            if wave is None:
                continue
            wave = np.asarray(wave, dtype=np.float32).reshape(-1)
            if wave.size == 0 or not np.isfinite(wave).all():
                raise ValueError(f"sample {index}: audio is empty or has NaN / infinite samples")
            clips.append(wave[:max_samples])
            owners.append(index)
        if not owners:
            return {}
        if self.audio_encoder_type == "prosody":
            feats = [prosody_features(c) for c in clips]
            length = max(len(f) for f in feats)
            values = torch.zeros(batch, length, feats[0].shape[1])
            mask = torch.zeros(batch, length, dtype=torch.bool)
            for owner, f in zip(owners, feats):
                values[owner, : len(f)] = torch.from_numpy(f)
                mask[owner, : len(f)] = True
            return {"input_features": values, "audio_mask": mask}
        extractor = self.audio_extractor
        if self.audio_encoder_type == "whisper":
            # Whisper's encoder always reads a full window of `n_samples` (30 s for real checkpoints).
            out = extractor(
                clips,
                sampling_rate=SAMPLE_RATE,
                padding="max_length",
                return_attention_mask=True,
                return_tensors="pt",
            )
            features, frame_mask = out["input_features"], out["attention_mask"].bool()
        else:
            out = extractor(
                clips,
                sampling_rate=SAMPLE_RATE,
                padding="longest",
                return_attention_mask=True,
                return_tensors="pt",
            )
            features, frame_mask = out["input_values"], out["attention_mask"].bool()
        values = torch.zeros(batch, *features.shape[1:])
        mask = torch.zeros(batch, frame_mask.shape[-1], dtype=torch.bool)
        values[owners] = features
        mask[owners] = frame_mask
        return {self.audio_input_key: values, "audio_mask": mask}

    # ---- call ------------------------------------------------------------------------------------

    def __call__(
        self,
        text: str | Sequence[str] | None = None,
        faces: Sequence[np.ndarray | None] | None = None,
        aus: Sequence[np.ndarray | None] | None = None,
        audio: Sequence[np.ndarray | None] | None = None,
        **kwargs: Unpack[AffectLLMProcessorKwargs],
    ) -> BatchFeature:
        if text is None:
            raise ValueError("text is required (prompts with <|face|> / <|audio|> placeholders)")
        texts = [text] if isinstance(text, str) else list(text)
        batch = len(texts)
        faces_list = _as_list(faces, batch, "faces")
        aus_list = _as_list(aus, batch, "aus")
        audio_list = _as_list(audio, batch, "audio")
        has_face = [f is not None or a is not None for f, a in zip(faces_list, aus_list)]
        has_audio = [a is not None for a in audio_list]
        expanded = [
            self._expand_placeholders(t, i, has_face[i], has_audio[i]) for i, t in enumerate(texts)
        ]
        text_kwargs = self._merge_kwargs(
            AffectLLMProcessorKwargs, tokenizer_init_kwargs=self.tokenizer.init_kwargs, **kwargs
        )["text_kwargs"]
        return_tensors = text_kwargs.pop("return_tensors", None)
        data = dict(self.tokenizer(expanded, **text_kwargs))
        data.update(self._face_inputs(faces_list, aus_list))
        data.update(self._audio_inputs(audio_list))
        return BatchFeature(data=data, tensor_type=return_tensors)

    @property
    def audio_input_key(self) -> str:
        """`input_values` for a waveform encoder (HuBERT), else `input_features` (computed features)."""
        return audio_input_key(self.audio_encoder_type)

    @property
    def model_input_names(self) -> list[str]:
        return [
            "input_ids",
            "attention_mask",
            "face_values",
            "face_mask",
            self.audio_input_key,
            "audio_mask",
        ]


# Saving writes this file (and prosody.py) beside processor_config.json, named in `auto_map`.
AffectLLMProcessor.register_for_auto_class()

__all__ = ["AffectLLMProcessor", "AffectLLMProcessorKwargs"]
