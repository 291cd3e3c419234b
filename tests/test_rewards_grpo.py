"""The rewards plug into TRL's GRPOTrainer as they are: a real 2-step run on a tiny text model."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")


@pytest.mark.slow
def test_two_grpo_steps_with_every_reward(tmp_path):
    import torch
    from datasets import Dataset
    from transformers import Qwen2ForCausalLM
    from trl import GRPOConfig, GRPOTrainer

    from affect_llm.modeling.tiny import load_tiny_tokenizer, tiny_text_config
    from affect_llm.rewards import REWARDS

    torch.manual_seed(0)
    tokenizer = load_tiny_tokenizer()
    model = Qwen2ForCausalLM(tiny_text_config(len(tokenizer)))
    prompt = [{"role": "user", "content": "Please recognize all possible emotional states."}]
    dataset = Dataset.from_list(
        [
            {
                "prompt": prompt,
                "openset": "[happy, excited]",
                "aus": ["AU06", "AU12"],
                "label": "happy",
            },
            {"prompt": prompt, "openset": "[sad]", "aus": ["AU01", "AU15"], "label": "sad"},
        ]
        * 4
    )
    args = GRPOConfig(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=12,
        learning_rate=1e-3,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        seed=0,
        # A random model must open an <answer> block now and then for the answer rewards to vary
        # (without one they score 0): bias its logit so about half the completions do.
        generation_kwargs={"sequence_bias": {(tokenizer.convert_tokens_to_ids("<answer>"),): 6.0}},
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=list(REWARDS.values()),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainer.train()
    logged = {k for entry in trainer.state.log_history for k in entry}
    for name in REWARDS:
        assert any(name in key for key in logged), f"reward {name} was not logged"
    assert trainer.state.global_step == 2
    changed = [n for n, p in model.named_parameters() if not torch.equal(before[n], p)]
    assert changed, "GRPO steps did not update the model"
