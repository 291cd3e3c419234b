"""Save a trained model as a standalone folder `from_pretrained` loads: LoRA adapters merged,
weights gathered from every rank, the processor beside it and a model card (README.md)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from peft import get_peft_model
from torch.distributed.tensor import DTensor
from transformers.integrations import deepspeed as hf_deepspeed

from affect_llm.modeling.configuration_affect_llm import AffectLLMConfig
from affect_llm.modeling.requirements import pip_install_line
from affect_llm.training.backbone_export import family_card, family_processor, write_family_card

_FACE_INPUTS = {
    "au": (
        "aus",
        "np.random.uniform(0, 5, (30, 17)).astype(np.float32)",
        "OpenFace AU intensities",
    ),
    "clip": (
        "faces",
        "np.zeros((8, 224, 224, 3), np.uint8)",
        "face crops, uint8 (frames, H, W, 3)",
    ),
    "siglip": (
        "faces",
        "np.zeros((8, 224, 224, 3), np.uint8)",
        "face crops, uint8 (frames, H, W, 3)",
    ),
}


# An existing README.md with one of these was generated (by us or TRL) and is replaced on save.
GENERATED_CARD_MARKERS = ("<!-- affect-llm model card -->", "This model is a fine-tuned version of")


def _component_name(config) -> str:
    """The hub name or path a sub-model was loaded from, else its architecture."""
    if config is None:
        return ""
    return getattr(config, "_name_or_path", "") or config.model_type


def model_card(config: AffectLLMConfig, repo: str) -> str:
    """README.md of a saved checkpoint: what it is built from and a loading snippet that runs."""
    text = _component_name(config.text_config)
    base_model = getattr(config.text_config, "_name_or_path", "")
    face = _component_name(config.face_config) or "light AU-sequence encoder (trained from scratch)"
    audio = _component_name(config.audio_config) or "light prosody encoder (trained from scratch)"
    face_kwarg, face_value, face_help = _FACE_INPUTS[config.face_encoder_type]
    base_line = f"base_model: {base_model}\n" if base_model else ""
    return f"""---
library_name: transformers
pipeline_tag: any-to-any
{base_line}tags:
- affect-llm
- emotion-recognition
- multimodal
---
<!-- affect-llm model card -->

# AffectLLM: {text} + face and voice encoders

An affect-llm model that recognises emotions from a face and a voice and
explains them. The `<|face|>` / `<|audio|>` placeholders of a prompt are replaced by projected
encoder outputs ({config.num_face_tokens} face and {config.num_audio_tokens} audio tokens).

| part | component |
|---|---|
| base LLM | `{text}` ({config.text_config.model_type}) |
| face encoder | `{face}` ({config.face_encoder_type}, {config.face_projector_type} projector) |
| audio encoder | `{audio}` ({config.audio_encoder_type}, {config.audio_projector_type} projector) |

The model code is saved with the weights, and `trust_remote_code=True` loads it where these are
installed (affect-llm itself is not needed; the bounds are the versions it was saved with):

```bash
{pip_install_line(config.face_encoder_type)}
```

Without `trust_remote_code=True`, transformers asks whether to run the folder's code (in a
terminal) or refuses with a `ValueError` telling you to pass it. After
`hf upload <user>/<name> {repo}`, use `repo = "<user>/<name>"` below.

```python
import numpy as np
from transformers import AutoModelForCausalLM, AutoProcessor

repo = "{repo}"
model = AutoModelForCausalLM.from_pretrained(repo, trust_remote_code=True)
processor = AutoProcessor.from_pretrained(repo, trust_remote_code=True)
{face_kwarg} = [{face_value}]  # {face_help}
audio = [np.zeros(16000 * 3, np.float32)]  # mono waveform at 16 kHz
messages = [{{"role": "user", "content": "<|face|><|audio|> How does the person feel?"}}]
prompt = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
inputs = processor(text=[prompt], {face_kwarg}={face_kwarg}, audio=audio, return_tensors="pt")
output = model.generate(**inputs, max_new_tokens=64, do_sample=False)
print(processor.batch_decode(output[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0])
```
"""


def save_checkpoint(model, processor, out_dir: str | os.PathLike) -> Path:
    """Model, processor (each with the code `auto_map` names) and a model card, unless a
    hand-written README.md is there already."""
    out = Path(out_dir)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    if family_card(model, str(out)) is not None:  # an omni / VL / audio backbone: its own card
        write_family_card(model, out)
        return out
    readme = out / "README.md"
    existing = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if not existing or any(marker in existing for marker in GENERATED_CARD_MARKERS):
        config = model.get_base_model().config if hasattr(model, "peft_config") else model.config
        readme.write_text(model_card(config, str(out)), encoding="utf-8")
    return out


def merge_and_export(model, processor, out_dir: str | os.PathLike) -> Path:
    """Save `model` (a PEFT model is merged first: adapters folded into the decoder weights,
    `modules_to_save` copies put back in place) and its processor to `out_dir`.

    The folder holds a plain, self-contained AffectLLM checkpoint (weights, the model's code named
    in `auto_map`, and a model card): `AutoModelForCausalLM.from_pretrained(out_dir,
    trust_remote_code=True)` and `AutoProcessor.from_pretrained(out_dir, trust_remote_code=True)`
    load it without PEFT, the base checkpoint or affect-llm.
    """
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    return save_checkpoint(model, processor, out_dir)


def merged_dir(output_dir: str | os.PathLike) -> Path:
    """Where a LoRA run's merged export goes: next to its output folder, suffixed `-merged`."""
    return Path(f"{os.fspath(output_dir).rstrip('/')}-merged")


def is_sharded(model) -> bool:
    """Whether `model`'s parameters are split over ranks (DeepSpeed ZeRO-3 or FSDP2 DTensors)."""
    return any(hasattr(p, "ds_id") or isinstance(p, DTensor) for p in model.parameters())


def gathered_model(trainer):
    """The trained model with every weight whole, on the main process (None on the others).

    Call on every rank: under ZeRO-3 / FSDP2 the weights are gathered collectively and loaded into
    a fresh CPU copy (built on the meta device, so no second random init), since the trainer's own
    model holds only this rank's shard. Unsharded runs return the trainer's model itself.
    """
    accelerator = trainer.accelerator
    model = accelerator.unwrap_model(trainer.model)
    if not is_sharded(model):
        return model if accelerator.is_main_process else None
    state_dict = accelerator.get_state_dict(trainer.model_wrapped)
    if not accelerator.is_main_process:
        return None
    return _with_weights(model, state_dict)


def _with_weights(model, state_dict):
    base = model.get_base_model() if hasattr(model, "peft_config") else model
    # a ZeRO-3 run registers its config globally and transformers would then build the copy
    # partitioned (a collective on this rank alone); this copy is local
    config_ref = getattr(hf_deepspeed, "_hf_deepspeed_config_weak_ref", None)
    hf_deepspeed._hf_deepspeed_config_weak_ref = None
    try:
        with torch.device("meta"):
            copy = type(base)(base.config)
            if hasattr(model, "peft_config"):
                copy = get_peft_model(copy, model.peft_config["default"])
    finally:
        hf_deepspeed._hf_deepspeed_config_weak_ref = config_ref
    state_dict = {k: v.detach().to("cpu") for k, v in state_dict.items()}
    _, unexpected = copy.load_state_dict(state_dict, strict=False, assign=True)
    copy.tie_weights()
    # non-persistent buffers (rotary frequencies, position ids) are not in any state dict; they
    # are never sharded, so the trainer's model has them whole
    originals = dict(model.named_buffers())
    for name, buffer in list(copy.named_buffers()):
        if buffer.is_meta and name in originals:
            owner, _, leaf = name.rpartition(".")
            copy.get_submodule(owner)._buffers[leaf] = originals[name].detach().to("cpu").clone()
    missing = [n for n, p in [*copy.named_parameters(), *copy.named_buffers()] if p.is_meta]
    if missing or unexpected:
        raise RuntimeError(
            f"gathered weights do not fit the model: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    return copy.eval()


def save_trained(trainer, output_dir: str | os.PathLike) -> None:
    """Save the trained model whole to `output_dir` (a LoRA run: its adapter, and the merged model
    to `merged_dir(output_dir)`), with the processor. Call on every rank (see `gathered_model`).

    `Trainer.save_model` writes no weights at all for FSDP's sharded state dict, and a merge of a
    ZeRO-3 model merges empty shards; gathering first works the same under every launch.
    """
    model = gathered_model(trainer)
    trainer.accelerator.wait_for_everyone()
    if model is None:
        return
    # a backbone family's SFT trainer holds only the tokenizer; its output needs the processor
    processor = family_processor(model, trainer.processing_class)
    save_checkpoint(model, processor, output_dir)
    if hasattr(model, "merge_and_unload"):
        merge_and_export(model, processor, merged_dir(output_dir))
