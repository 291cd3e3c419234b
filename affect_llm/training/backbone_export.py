"""What a trained omni / VL / audio backbone's output folder holds besides the weights.

The folder must be a native checkpoint of its family, loadable by plain transformers (and so by
vLLM, ms-swift and LLaMA-Factory): the model's own config and weights, the processor (image /
video / audio processors, tokenizer, chat template) and a model card that names the family and
the transformers classes that load it. The SFT trainer holds only the tokenizer, so the processor
is taken from the checkpoint the run started from.
"""

from __future__ import annotations

import os
from pathlib import Path

from affect_llm.modeling.families import AFFECT, FAMILIES, OMNI, VL, Family

CARD_MARKER = "<!-- affect-llm model card -->"

# Media lines of the card's snippet, per family: arrays a reader fills with their own clip.
_SNIPPET_MEDIA = {
    OMNI.name: (
        '[{"type": "video"}, {"type": "text", "text": question}]',
        'videos=[frames], audio=[waveform], videos_kwargs={"fps": 2.0}, '
        "load_audio_from_video=True, audio_from_video_indices=[0], ",
    ),
    VL.name: (
        '[{"type": "video"}, {"type": "text", "text": question}]',
        'videos=[frames], videos_kwargs={"fps": 2.0}, ',
    ),
    "audio": (
        '[{"type": "audio"}, {"type": "text", "text": question}]',
        "audio=[waveform], sampling_rate=16000, ",
    ),
}
_READS = {
    OMNI.name: "video frames and the clip's own audio, interleaved in time (`use_audio_in_video`)",
    VL.name: "video frames",
    "audio": "the audio (16 kHz)",
}


def _family(model) -> Family | None:
    """The backbone family of a (PEFT-wrapped) model; None for AffectLLM or any other model."""
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    for family in FAMILIES:
        if model_type in family.model_types:
            return None if family is AFFECT else family
    return None


def _base(model):
    return model.get_base_model() if hasattr(model, "peft_config") else model


def base_checkpoint(model) -> str | None:
    """The folder or hub id a (PEFT-wrapped) model was loaded from."""
    if hasattr(model, "peft_config"):
        name = getattr(model.peft_config.get("default"), "base_model_name_or_path", None)
        if name:
            return name
    return getattr(_base(model), "name_or_path", None) or None


def family_processor(model, processing_class):
    """The processor to save beside a trained model.

    A backbone family's SFT trainer is given only the tokenizer; the family's processor (with that
    tokenizer) is loaded from the checkpoint the run started from. Anything else is returned as is.
    """
    family = _family(model)
    if family is None or type(processing_class).__name__ in family.processor_classes:
        return processing_class
    from transformers import AutoProcessor

    source = base_checkpoint(model)
    if not source:
        raise ValueError(f"cannot find the {family.title} checkpoint to take its processor from")
    processor = AutoProcessor.from_pretrained(source, trust_remote_code=False)
    if processing_class is not None and hasattr(processing_class, "convert_tokens_to_ids"):
        processor.tokenizer = processing_class  # the tokenizer the run trained with
    return processor


def family_card(model, repo: str) -> str | None:
    """README.md of a trained backbone folder: its family and how plain transformers loads it."""
    family = _family(model)
    if family is None:
        return None
    base = _base(model)
    model_type = base.config.model_type
    cls = type(base).__name__
    source = base_checkpoint(model) or ""
    adapter = hasattr(model, "peft_config")
    content, media = _SNIPPET_MEDIA[family.name]
    base_line = f"base_model: {source}\n" if source else ""
    if adapter:
        loading = f"""This folder holds LoRA adapters on `{source}` (load them with PEFT on that
checkpoint). The merged model, a plain {family.title} checkpoint, is in the folder beside this one
whose name ends in `-merged`: load that one as below."""
    else:
        loading = f"""A native {family.title} checkpoint (`model_type: {model_type}`): plain
transformers loads it with `{cls}` and `AutoProcessor`, without affect-llm; vLLM, ms-swift and
LLaMA-Factory take it as a {family.title} model."""
    thinker = (
        "\nOnly the thinker (text output) was trained and saved; the talker and token2wav of a full "
        "Qwen2.5-Omni checkpoint are not part of it.\n"
        if family is OMNI
        else ""
    )
    return f"""---
library_name: transformers
{base_line}tags:
- affect-llm
- emotion-recognition
- {family.name}
---
{CARD_MARKER}

# {family.title} fine-tuned for emotion recognition (affect-llm)

Family: **{family.title}**, trained with affect-llm. It reads {_READS[family.name]}; subtitles
and other cues reach it as prompt text, through its own chat template.
{thinker}
{loading}

```python
import numpy as np
from transformers import AutoProcessor, {cls}

repo = "{repo}"
model = {cls}.from_pretrained(repo).eval()
processor = AutoProcessor.from_pretrained(repo)
frames = np.zeros((8, 224, 224, 3), np.uint8)  # full frames sampled at 2 fps
waveform = np.zeros(16000 * 4, np.float32)  # the clip's mono audio at 16 kHz
question = "Please recognize all possible emotional states of the character."
messages = [{{"role": "user", "content": {content}}}]
prompt = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
inputs = processor(text=[prompt], {media}return_tensors="pt")
output = model.generate(**inputs, max_new_tokens=64, do_sample=False)
print(processor.batch_decode(output[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0])
```
"""


def write_family_card(model, out_dir: str | os.PathLike) -> None:
    """Write the family model card to `out_dir`/README.md (replacing a generated one only)."""
    card = family_card(model, os.fspath(out_dir))
    if card is None:
        return
    readme = Path(out_dir) / "README.md"
    existing = readme.read_text(encoding="utf-8") if readme.exists() else ""
    generated = ("This model is a fine-tuned version of", "# Model Card for Model ID", CARD_MARKER)
    if not existing or any(marker in existing for marker in generated):
        readme.write_text(card, encoding="utf-8")
