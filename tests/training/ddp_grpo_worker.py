"""Run under `torchrun --nproc_per_node 2`: one GRPO step on CPU, then report world size and a
checksum of every parameter from each rank to OUT_DIR/rank{N}.json."""

from __future__ import annotations

import json
import sys

import torch
import torch.distributed as dist
from trl import GRPOConfig

from affect_llm.training.config import AffectDataConfig, AffectModelConfig, AffectRewardConfig
from affect_llm.training.runs import grpo_trainer


def main(out_dir: str) -> None:
    torch.set_num_threads(1)
    args = GRPOConfig(
        output_dir=out_dir,
        max_steps=1,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=3,
        learning_rate=1e-2,
        report_to=[],
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
    )
    model_config = AffectModelConfig(num_face_tokens=2, num_audio_tokens=2, tiny_hidden_size=32)
    data_config = AffectDataConfig(synthetic_samples=16)
    rewards = AffectRewardConfig(rewards=["ew_f1", "length_penalty"])
    trainer = grpo_trainer(model_config, data_config, rewards, args)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    model = trainer.accelerator.unwrap_model(trainer.model)
    params = dict(model.named_parameters())
    changed = sum(not torch.equal(params[n].detach(), p) for n, p in before.items())
    checksum = {n: float(p.detach().double().sum()) for n, p in params.items()}
    rank = dist.get_rank()
    with open(f"{out_dir}/rank{rank}.json", "w") as handle:
        json.dump(
            {
                "rank": rank,
                "world_size": dist.get_world_size(),
                "backend": dist.get_backend(),
                "changed": changed,
                "checksum": checksum,
            },
            handle,
        )


if __name__ == "__main__":
    main(sys.argv[1])
