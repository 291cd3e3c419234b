"""AffectLLMProcessor: text + face frames / AU sequences + audio -> model inputs.

It expands each `<|face|>` / `<|audio|>` placeholder into exactly the number of tokens the model's
projector produces (or removes it when the sample lacks that modality), tokenises, and prepares the
face and audio encoder inputs with its two sub-processors (`ProcessorMixin` attributes):
`image_processor`, the face encoder's (CLIP / SigLIP image processor, or the AU-sequence feature
extractor), and `feature_extractor`, the audio encoder's (Whisper / Wav2Vec2 feature extractor, or
the prosody feature extractor). See `FACE_PROCESSORS` / `AUDIO_PROCESSORS`.
"""

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
)
from transformers.processing_utils import (
    AudioKwargs,
    ImagesKwargs,
    ProcessingKwargs,
    TextKwargs,
    Unpack,
)

# Relative imports only: `register_for_auto_class` copies this file and these into saved
# checkpoints, where they must load with torch + transformers + numpy alone.
from .configuration_affect_llm import audio_encoder_type, audio_input_key, face_encoder_type
from .feature_extraction_affect_llm import (
    AUDIO_PROCESSORS,
    FACE_PROCESSORS,
    NUM_ACTION_UNITS,
    audio_processor,
    copy_prosody_source,
    face_processor,
    load_sub_processor,
    sub_processor_dict,
    subsample_indices,
)
from .prosody import SAMPLE_RATE

FACE_TOKEN = "<|face|>"
AUDIO_TOKEN = "<|audio|>"
# Special tokens are dropped by `decode(skip_special_tokens=True)`; the reasoning tags are not,
# because rewards and answer parsing read them from decoded completions.
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", FACE_TOKEN, AUDIO_TOKEN]
REASONING_TAGS = ["<think>", "</think>", "<answer>", "</answer>"]
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


# Audio options the model fixes (a flat text option such as `max_length` must not reach them).
_FIXED_AUDIO_OPTIONS = (
    "sampling_rate",
    "padding",
    "max_length",
    "truncation",
    "pad_to_multiple_of",
    "return_attention_mask",
    "return_tensors",
)


def _from_first_layout(saved: dict[str, Any]) -> dict[str, Any]:
    """A processor_config.json written before the sub-processors were attributes (encoder types,
    `face_preprocessing` / `audio_preprocessing` and `max_au_frames` keys) in today's layout."""
    saved = dict(saved)
    face, audio = saved.pop("face_encoder_type"), saved.pop("audio_encoder_type", "prosody")
    face_settings = saved.pop("face_preprocessing", None)
    audio_settings = saved.pop("audio_preprocessing", None)
    max_au_frames = saved.pop("max_au_frames", 256)
    for key, kind, known in (
        ("face_encoder_type", face, FACE_PROCESSORS),
        ("audio_encoder_type", audio, AUDIO_PROCESSORS),
    ):
        if kind not in known:
            raise ValueError(
                f"unknown sub-processor: processor_config.json's {key} is {kind!r}; "
                f"expected one of {sorted(known)}"
            )
    if face == "au":
        face_settings = {"max_au_frames": max_au_frames}
    saved["image_processor"] = sub_processor_dict(FACE_PROCESSORS[face], face_settings)
    saved["feature_extractor"] = sub_processor_dict(AUDIO_PROCESSORS[audio], audio_settings)
    return saved


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
    """Options of a processor call, flat or per modality: tokenizer options (`padding`,
    `max_length`, `padding_side`, `return_tensors`, ...) under `text_kwargs`; CLIP / SigLIP image
    processor options under `images_kwargs`; Whisper / Wav2Vec2 options under `audio_kwargs`, less
    those the model fixes (sample rate, padding, window length, attention mask). The AU and prosody
    feature extractors take none."""

    text_kwargs: TextKwargs
    images_kwargs: ImagesKwargs
    audio_kwargs: AudioKwargs


class AffectLLMProcessor(ProcessorMixin):
    """Tokenizer plus face and audio sub-processors for [`AffectLLMForConditionalGeneration`].

    Attributes (as transformers' processors declare them): `tokenizer`; `image_processor`, the face
    encoder's sub-processor (`FACE_PROCESSORS`: the AU-sequence feature extractor, or the CLIP /
    SigLIP image processor); `feature_extractor`, the audio encoder's (`AUDIO_PROCESSORS`: the
    prosody feature extractor, or Whisper's / Wav2Vec2's). Their classes set `face_encoder_type`
    and `audio_encoder_type`; `face_processor()` / `audio_processor()` build them by encoder type.

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
        image_processor=None,
        feature_extractor=None,
        chat_template: str | None = None,
        num_face_tokens: int = 8,
        num_audio_tokens: int = 8,
        num_frames: int = 8,
        max_audio_seconds: float = 30.0,
    ):
        self.num_face_tokens = num_face_tokens
        self.num_audio_tokens = num_audio_tokens
        self.num_frames = num_frames
        self.max_audio_seconds = max_audio_seconds
        if chat_template is None and tokenizer is not None:
            chat_template = getattr(tokenizer, "chat_template", None)
        super().__init__(tokenizer, image_processor, feature_extractor, chat_template=chat_template)
        self.face_token, self.audio_token = FACE_TOKEN, AUDIO_TOKEN
        self.face_token_id = tokenizer.convert_tokens_to_ids(FACE_TOKEN)
        self.audio_token_id = tokenizer.convert_tokens_to_ids(AUDIO_TOKEN)

    def check_argument_for_proper_class(self, argument_name, argument):
        """The face and audio sub-processors must be those of an encoder type. The AU encoder's is
        a feature extractor in the `image_processor` slot, so classes are checked by name (which
        also holds for the copies a checkpoint's code defines)."""
        table = {"image_processor": FACE_PROCESSORS, "feature_extractor": AUDIO_PROCESSORS}
        if argument_name not in table:
            return super().check_argument_for_proper_class(argument_name, argument)
        if type(argument).__name__ not in table[argument_name].values():
            raise TypeError(
                f"{argument_name} must be one of {list(table[argument_name].values())} (build it "
                f"with face_processor() / audio_processor()), got {type(argument).__name__}"
            )
        return type(argument)

    @property
    def face_encoder_type(self) -> str:
        """ "au", "clip" or "siglip", from the face sub-processor's class."""
        name = type(self.image_processor).__name__
        return next(kind for kind, cls in FACE_PROCESSORS.items() if cls == name)

    @property
    def audio_encoder_type(self) -> str:
        """ "prosody", "whisper" or "hubert", from the audio sub-processor's class."""
        name = type(self.feature_extractor).__name__
        return next(kind for kind, cls in AUDIO_PROCESSORS.items() if cls == name)

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Save as transformers does (with this file and its relative imports, named in `auto_map`).

        `prosody.py` is the file that defines the prosody features (`copy_prosody_source`).
        """
        result = super().save_pretrained(save_directory, *args, **kwargs)
        copy_prosody_source(save_directory)
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
        max_au_frames: int = 256,
        hub_kwargs: dict | None = None,
        **kwargs,
    ) -> "AffectLLMProcessor":
        """A processor for `AffectLLMForConditionalGeneration.from_components` with the same parts.

        Loads the LLM's tokenizer (adding `<|face|>`, `<|audio|>` and the reasoning tags if missing,
        and our ChatML template if it has none) and the encoders' image processor / feature
        extractor settings (the AU and prosody encoders have their own extractors).
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
            image_processor=face_processor(face_kind, face_settings, max_au_frames),
            feature_extractor=audio_processor(audio_kind, audio_settings),
            num_face_tokens=num_face_tokens,
            num_audio_tokens=num_audio_tokens,
            num_frames=num_frames,
            **kwargs,
        )

    @classmethod
    def get_processor_dict(cls, pretrained_model_name_or_path, **kwargs):
        """Read processor_config.json, also in its first layout (encoder types and preprocessing
        dicts, before the sub-processors were attributes); refuse a folder without one rather
        than guess the encoders."""
        processor_dict, kwargs = super().get_processor_dict(pretrained_model_name_or_path, **kwargs)
        if "face_encoder_type" in processor_dict:
            processor_dict = _from_first_layout(processor_dict)
        if "image_processor" not in processor_dict or "feature_extractor" not in processor_dict:
            raise OSError(
                f"{pretrained_model_name_or_path} has no AffectLLMProcessor settings "
                "(processor_config.json): save the processor there with processor.save_pretrained()"
            )
        return processor_dict, kwargs

    @classmethod
    def _get_arguments_from_pretrained(
        cls, pretrained_model_name_or_path, processor_dict, **kwargs
    ):
        """The tokenizer from its files, the face and audio sub-processors from their entries in
        processor_config.json, built from this module's classes (no Auto class lookup)."""
        subfolder = kwargs.pop("subfolder", "")
        tokenizer = cls._load_tokenizer_from_pretrained(
            "tokenizer", pretrained_model_name_or_path, subfolder=subfolder, **kwargs
        )
        return [
            tokenizer,
            load_sub_processor(processor_dict["image_processor"]),
            load_sub_processor(processor_dict["feature_extractor"]),
        ]

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

    def _face_inputs(self, faces: list, aus: list, options: dict) -> dict[str, torch.Tensor]:
        options = {k: v for k, v in options.items() if k != "return_tensors"}
        if self.face_encoder_type == "au":
            if any(f is not None for f in faces):
                raise ValueError(
                    "this model's face encoder reads AU sequences: pass aus=, not faces="
                )
            if options:
                raise ValueError(
                    f"the AU feature extractor takes no options, got {sorted(options)}"
                )
            if all(a is None for a in aus):
                return {}
            return dict(self.image_processor(aus, return_tensors="pt"))

        if any(a is not None for a in aus):
            raise ValueError("this model's face encoder reads face crops: pass faces=, not aus=")
        batch = len(faces)
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
            frames.extend(clip[subsample_indices(len(clip), self.num_frames)])
            owners.append(index)
        if not owners:
            return {}
        pixels = self.image_processor(images=frames, **options, return_tensors="pt")
        pixels = pixels["pixel_values"]
        pixels = pixels.reshape(len(owners), self.num_frames, *pixels.shape[1:])
        values = torch.zeros(batch, *pixels.shape[1:])
        mask = torch.zeros(batch, self.num_frames, dtype=torch.bool)
        values[owners] = pixels
        mask[owners] = True
        return {"face_values": values, "face_mask": mask}

    # ---- audio -----------------------------------------------------------------------------------

    def _audio_inputs(self, audio: list, options: dict) -> dict[str, torch.Tensor]:
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
        options = {k: v for k, v in options.items() if k not in _FIXED_AUDIO_OPTIONS}
        kind = self.audio_encoder_type
        if kind == "prosody":
            if options:
                raise ValueError(
                    f"the prosody feature extractor takes no options: {sorted(options)}"
                )
            out = self.feature_extractor(clips, sampling_rate=SAMPLE_RATE, return_tensors="pt")
            features, frame_mask = out["input_features"], out["audio_mask"]
        else:
            # Whisper's encoder always reads a full window of `n_samples` (30 s for real checkpoints).
            out = self.feature_extractor(
                clips,
                **options,
                sampling_rate=SAMPLE_RATE,
                padding="max_length" if kind == "whisper" else "longest",
                return_attention_mask=True,
                return_tensors="pt",
            )
            features, frame_mask = out[self.audio_input_key], out["attention_mask"].bool()
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
        options = self._merge_kwargs(
            AffectLLMProcessorKwargs, tokenizer_init_kwargs=self.tokenizer.init_kwargs, **kwargs
        )
        text_kwargs = options["text_kwargs"]
        return_tensors = text_kwargs.pop("return_tensors", None)
        data = dict(self.tokenizer(expanded, **text_kwargs))
        data.update(self._face_inputs(faces_list, aus_list, options["images_kwargs"]))
        data.update(self._audio_inputs(audio_list, options["audio_kwargs"]))
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


# Saving writes this file and its relative imports (the feature extractors, prosody.py) beside
# processor_config.json, named in `auto_map`.
AffectLLMProcessor.register_for_auto_class()

__all__ = ["NUM_ACTION_UNITS", "AffectLLMProcessor", "AffectLLMProcessorKwargs"]
