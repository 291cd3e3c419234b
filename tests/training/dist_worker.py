"""Launched by tests/training/test_distributed.py the way users launch the recipes:

    accelerate launch --config_file recipes/accelerate/<cfg>.yaml ... dist_worker.py {sft|grpo} \
        --config recipes/tiny/<kind>.yaml --output_dir OUT ...

It parses the same configs as recipes/sft.py and recipes/grpo.py, trains and saves through the
same library calls (`resolve_checkpoint`, `trainer.train`, `save_trained`), and then writes what
the test checks, to OUT-report/:

- `rank{N}.safetensors`: every parameter of the trained model as rank N holds it (gathered whole
  under ZeRO-3 / FSDP2), and `rank{N}.json` with the world size, backend, distributed type,
  DeepSpeed stage, offload and stepped optimizer, FSDP version and settings, and how the
  parameters are held (DTensor shards under FSDP2);
- `batch.safetensors` / `logits.safetensors` (rank 0): a fixed batch and the trained model's logits.

Two test-harness adjustments run only on CPU launches (see their docstrings): `fsdp_on_cpu` lets
an FSDP launch run FSDP2, and `torch_optimizer_under_cpu_offload` keeps the run's own optimizer
under ZeRO optimizer offload. With ROW_SEEDED_SAMPLING set, `row_seeded_sampling` makes each
completion depend on its row only, so a multi-rank GRPO run can be compared with one process.

A `--model_name_or_path` naming a backbone family's folder (Qwen2.5-Omni thinker, ...) trains on
the rows of `--dataset_paths` build folders, with the family's media loader.

Synthetic rows carry AU sequences and voices; for CLIP / SigLIP face encoders each row also gets
seeded face crops, so the frozen pretrained towers are exercised too.
"""

from __future__ import annotations

import json
import os
import sys
import zlib

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import set_seed
from trl import GRPOConfig, SFTConfig, TrlParser

from affect_llm import rewards
from affect_llm.modeling.families import family_of_processor
from affect_llm.rewards import completion_text
from affect_llm.training.backbone_data import BackboneSFTCollator
from affect_llm.training.collators import AffectLLMDataCollator
from affect_llm.training.config import AffectDataConfig, AffectModelConfig, AffectRewardConfig
from affect_llm.training.data import MediaCollator
from affect_llm.training.data_loading import load_training_data
from affect_llm.training.export import save_trained
from affect_llm.training.model_loading import build_model_and_processor, face_input
from affect_llm.training.synthetic import media_lookup, synthetic_rows
from affect_llm.training.trainers import (
    build_grpo_trainer,
    build_sft_trainer,
    resolve_checkpoint,
)


def with_faces(loader):
    """Seeded 32x32 face crops (4 frames) in place of each row's synthetic AU sequence."""

    def load(row):
        rng = np.random.default_rng(zlib.crc32(row["id"].encode()))
        media = {k: v for k, v in loader(row).items() if k != "aus"}
        return {**media, "faces": rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)}

    return load


def whole_parameters(model) -> dict[str, torch.Tensor]:
    """Every parameter as this rank sees it once gathered (collective under ZeRO-3 / FSDP2)."""
    from torch.distributed.tensor import DTensor

    out = {}
    for name, param in model.named_parameters():
        if isinstance(param, DTensor):
            out[name] = param.full_tensor().detach().clone().float()
        elif hasattr(param, "ds_id"):
            import deepspeed

            with deepspeed.zero.GatheredParameters([param]):
                out[name] = param.detach().clone().float()
        else:
            out[name] = param.detach().clone().float()
    return out


def fsdp_on_cpu() -> None:
    """Test-harness shim, not library code: let an FSDP launch on CPU ranks run FSDP.

    `accelerate launch --config_file recipes/accelerate/fsdp.yaml` sets ACCELERATE_USE_FSDP and
    the FSDP_* variables, and `Accelerator()` builds its `FullyShardedDataParallelPlugin` from
    them. But accelerate 1.15's `AcceleratorState.__init__` only turns the state into
    `DistributedType.FSDP` inside its branch for GPU-like types (MULTI_GPU, MULTI_NPU, ...); CPU
    ranks (`use_cpu`, gloo) are MULTI_CPU and it silently runs DDP. On GPUs accelerate selects
    FSDP itself. Here, after that `__init__`, a MULTI_CPU state given the plugin becomes FSDP, as
    the GPU branch would have made it (device cpu, backend gloo, everything else untouched), so
    `prepare` runs `fsdp2_prepare_model` (`fully_shard` over gloo) and the Trainer saves through
    its FSDP path.
    """
    from accelerate.state import AcceleratorState, PartialState
    from accelerate.utils import DistributedType

    if os.environ.get("ACCELERATE_USE_FSDP", "false").lower() != "true":
        return
    # No CUDA check: the tiny recipes' `use_cpu: true` makes CPU ranks on a GPU machine too, and
    # a GPU launch never comes up MULTI_CPU, so the condition below is what singles out CPU ranks.
    original = AcceleratorState.__init__

    def init(self, *args, fsdp_plugin=None, **kwargs):
        original(self, *args, fsdp_plugin=fsdp_plugin, **kwargs)
        if fsdp_plugin is not None and self.distributed_type == DistributedType.MULTI_CPU:
            # the lines of the GPU branch (accelerate/state.py) that select FSDP
            self.distributed_type = DistributedType.FSDP
            if self._mixed_precision != "no":
                fsdp_plugin.set_mixed_precision(self._mixed_precision)
            self.fsdp_plugin = fsdp_plugin
            PartialState._shared_state["distributed_type"] = self.distributed_type

    AcceleratorState.__init__ = init


def torch_optimizer_under_cpu_offload(trainer) -> None:
    """Test-harness override, not library code: with ZeRO optimizer offload on DeepSpeed's CPU
    accelerator, let DeepSpeed step the Trainer's own torch optimizer.

    With `offload_optimizer_device: cpu` accelerate (`Accelerator._prepare_deepspeed`) swaps any
    torch optimizer for DeepSpeedCPUAdam, and DeepSpeed refuses any other, unless the DeepSpeed
    config says `zero_force_ds_cpu_optimizer: false`. That op is a C++ build of 5.5 min on first
    use, and it would turn the test's plain SGD into Adam. On GPUs DeepSpeedCPUAdam is right and
    the recipe keeps it; only a launch on the CPU accelerator gets this key, before `prepare`.
    """
    plugin = trainer.accelerator.state.deepspeed_plugin
    if plugin is None or os.environ.get("DS_ACCELERATOR") != "cpu":
        return
    offload = plugin.deepspeed_config["zero_optimization"].get("offload_optimizer", {})
    if offload.get("device", "none") != "none":
        plugin.deepspeed_config["zero_force_ds_cpu_optimizer"] = False


def _is_shard(param) -> bool:
    """A DTensor of which this rank holds less than the whole, or a ZeRO-3 partitioned one."""
    from torch.distributed.tensor import DTensor

    if isinstance(param, DTensor):
        return param.to_local().numel() < param.numel()
    return hasattr(param, "ds_id")


def row_seeded_sampling(trainer) -> None:
    """Test-harness override, not library code: sample each completion row by itself, from a
    generator seeded by its prompt and its place in its group.

    TRL seeds each rank apart (`set_seed(seed, device_specific=True)`), so two ranks sample other
    completions than one process would, and their results could never be compared. With every
    row's sample fixed by the row alone, a 2-rank run and a one-process run see the same
    completions, and their updates must agree. (Left-padded batches generate like single prompts:
    tests/training/test_backbone_grpo.py.)
    """
    generate = trainer._generate_completions

    def by_row(prompt_ids, media, num_generations):
        completions, seen = [], {}
        for i, ids in enumerate(prompt_ids):
            key = tuple(ids)
            seen[key] = seen.get(key, -1) + 1
            torch.manual_seed(zlib.crc32(repr((key, seen[key])).encode()))
            row = {k: v[i : i + 1] for k, v in media.items()}
            completions += generate([ids], row, 1)
        return completions

    trainer._generate_completions = by_row


def text_length(completions, **kwargs) -> list[float]:
    """Test reward: a tenth of each completion's length in characters.

    Every completion of the untrained tiny model scores 0 on the wheel rewards, so their
    advantages, and GRPO's update, would be zero; this one differs between completions, so the
    runs really train and an inexact resume would show.
    """
    return [len(completion_text(c)) / 10 for c in completions]


def register_test_reward() -> None:
    """Make `--rewards text_length` resolve like a library reward (test harness only)."""
    rewards.REWARDS["text_length"] = text_length
    rewards._FACTORIES["text_length"] = lambda: text_length


def main() -> None:
    fsdp_on_cpu()
    register_test_reward()
    kind = sys.argv.pop(1)
    torch.set_num_threads(1)
    if kind == "sft":
        types = (AffectModelConfig, AffectDataConfig, SFTConfig)
        model_config, data_config, args = TrlParser(types).parse_args_and_config()
    else:
        types = (AffectModelConfig, AffectDataConfig, AffectRewardConfig, GRPOConfig)
        model_config, data_config, reward_config, args = TrlParser(types).parse_args_and_config()
    # as TRL does before it creates a model: fresh LoRA weights are drawn from the seeded RNG
    set_seed(args.seed)
    model, processor = build_model_and_processor(model_config)
    family = family_of_processor(processor)
    if family is not None:  # a pretrained backbone: the rows of a build folder
        rows, loader, _ = load_training_data(data_config, processor)
    else:
        rows, media = synthetic_rows(data_config.synthetic_samples, data_config.synthetic_seed)
        loader = media_lookup(media)
        if face_input(processor) == "faces":
            loader = with_faces(loader)
    if kind == "sft":
        trainer = build_sft_trainer(model_config, data_config, args, model, processor, rows, loader)
    else:
        trainer = build_grpo_trainer(
            model_config, data_config, reward_config, args, model, processor, rows, loader
        )
    torch_optimizer_under_cpu_offload(trainer)
    if os.environ.get("ROW_SEEDED_SAMPLING"):
        row_seeded_sampling(trainer)
    checkpoint = resolve_checkpoint(args.resume_from_checkpoint, args.output_dir)
    trainer.train(resume_from_checkpoint=checkpoint)

    accelerator = trainer.accelerator
    report = f"{args.output_dir.rstrip('/')}-report"
    os.makedirs(report, exist_ok=True)
    trained = accelerator.unwrap_model(trainer.model)
    rank = accelerator.process_index
    # read before the forward below, after which FSDP2 may leave the root's parameters unsharded
    params = dict(trained.named_parameters())
    save_file(whole_parameters(trained), f"{report}/rank{rank}.safetensors")
    if family is not None:
        batch = BackboneSFTCollator(processor, family, loader, None)(rows[:2])
    else:
        batch = MediaCollator(AffectLLMDataCollator(processor), loader)(rows[:2])
    batch = {k: v for k, v in batch.items() if k != "labels"}
    trained.eval()
    with torch.no_grad():  # every rank runs it: a ZeRO-3 forward gathers weights collectively
        logits = trained(**batch).logits
    plugin = accelerator.state.deepspeed_plugin
    fsdp = getattr(accelerator.state, "fsdp_plugin", None)
    zero = plugin.deepspeed_config["zero_optimization"] if plugin is not None else {}
    engine = trainer.model_wrapped if plugin is not None else None
    info = {
        "world_size": accelerator.num_processes,
        "backend": torch.distributed.get_backend() if accelerator.num_processes > 1 else None,
        "distributed_type": str(accelerator.distributed_type),
        "zero_stage": plugin.zero_stage if plugin is not None else None,
        "global_step": trainer.state.global_step,
        "zero_offload": {
            part: zero.get(f"offload_{part}", {}).get("device", "none")
            for part in ("optimizer", "param")
        },
        # the optimizer DeepSpeed steps (DeepSpeedCPUAdam if accelerate swapped it in)
        "zero_optimizer": type(engine.basic_optimizer).__name__ if engine else None,
        "fsdp_version": fsdp.fsdp_version if fsdp is not None else None,
        "fsdp_state_dict_type": str(fsdp.state_dict_type) if fsdp is not None else None,
        "fsdp_cpu_ram_efficient_loading": fsdp.cpu_ram_efficient_loading if fsdp else None,
        # how the model's parameters are held after `prepare`: FSDP2 makes them DTensors, each
        # rank keeping a shard (dim 0 split over the ranks)
        "param_types": sorted({type(p).__name__ for p in params.values()}),
        "sharded_params": sum(_is_shard(p) for p in params.values()),
        "params": len(params),
    }
    with open(f"{report}/rank{rank}.json", "w") as handle:
        json.dump(info, handle)
    if accelerator.is_main_process:
        tensors = {k: v.contiguous() for k, v in batch.items() if isinstance(v, torch.Tensor)}
        save_file(tensors, f"{report}/batch.safetensors")
        save_file({"logits": logits.float().contiguous()}, f"{report}/logits.safetensors")
    save_trained(trainer, args.output_dir)


if __name__ == "__main__":
    main()
