"""Merge LoRA adapters into the model and export a standalone folder `from_pretrained` loads."""

from __future__ import annotations

import os
from pathlib import Path


def merge_and_export(model, processor, out_dir: str | os.PathLike) -> Path:
    """Save `model` (a PEFT model is merged first: adapters folded into the decoder weights,
    `modules_to_save` copies put back in place) and its processor to `out_dir`.

    The folder holds a plain, self-contained AffectLLM checkpoint (weights, the model's code named
    in `auto_map`, and a model card): `AutoModelForCausalLM.from_pretrained(out_dir,
    trust_remote_code=True)` and `AutoProcessor.from_pretrained(out_dir, trust_remote_code=True)`
    load it without PEFT, the base checkpoint or affect-llm.
    """
    out = Path(out_dir)
    from affect_llm.training.backbone_export import write_family_card

    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(out)
    processor.save_pretrained(out)
    write_family_card(model, out)  # an omni / VL / audio backbone: a card naming its family
    return out


def merged_dir(output_dir: str | os.PathLike) -> Path:
    """Where a LoRA run's merged export goes: next to its output folder, suffixed `-merged`."""
    return Path(f"{os.fspath(output_dir).rstrip('/')}-merged")


def is_sharded(model) -> bool:
    """Whether `model`'s parameters are split over ranks (DeepSpeed ZeRO-3 or FSDP2 DTensors)."""
    from torch.distributed.tensor import DTensor

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
    import torch
    from transformers.integrations import deepspeed as hf_deepspeed

    base = model.get_base_model() if hasattr(model, "peft_config") else model
    # a ZeRO-3 run registers its config globally and transformers would then build the copy
    # partitioned (a collective on this rank alone); this copy is local
    config_ref = getattr(hf_deepspeed, "_hf_deepspeed_config_weak_ref", None)
    hf_deepspeed._hf_deepspeed_config_weak_ref = None
    try:
        with torch.device("meta"):
            copy = type(base)(base.config)
            if hasattr(model, "peft_config"):
                from peft import get_peft_model

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
    from affect_llm.training.backbone_export import family_processor, write_family_card

    # a backbone family's SFT trainer holds only the tokenizer; its output needs the processor
    processor = family_processor(model, trainer.processing_class)
    model.save_pretrained(output_dir)
    processor.save_pretrained(output_dir)
    write_family_card(model, output_dir)
    if hasattr(model, "merge_and_unload"):
        merge_and_export(model, processor, merged_dir(output_dir))
