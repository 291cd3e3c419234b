"""GRPO step time, measured in one run on the same machine:

1. AffectLLM (tiny, cached encoder features) through `AffectGRPOTrainer` against plain TRL
   `GRPOTrainer` on the same text backbone (same weights), with the same prompt and completion
   lengths: the multimodal overhead (target <= 1.05x).
2. AffectLLM with cached features against running the face / audio encoders (and their
   preprocessing) every step.

Run: `.venv/bin/python benchmarks/bench_grpo.py` (add `--hidden-size 256` for a wider decoder, and
`--encoders base` for random-weight CLIP ViT-B/32 (224 px) and Whisper-base (30 s) encoder shapes,
where caching their outputs matters).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from transformers import AutoModelForCausalLM, TrainerCallback
from trl import GRPOConfig, GRPOTrainer

from affect_llm.modeling.processing_affect_llm import render_prompt
from affect_llm.rewards import REWARDS
from affect_llm.training.config import AffectModelConfig, AffectRewardConfig
from affect_llm.training.runs import grpo_trainer
from affect_llm.training.setup import build_model_and_processor

PROMPT = "<|face|><|audio|>\nWhich emotions does the person show? Answer with emotion words."


class StepTimer(TrainerCallback):
    """Wall time of every optimizer step."""

    def __init__(self):
        self.times: list[float] = []
        self._start = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self._start)


def _args(out: str, options) -> GRPOConfig:
    return GRPOConfig(
        output_dir=out,
        max_steps=options.warmup + options.steps,
        per_device_train_batch_size=options.batch,
        num_generations=options.generations,
        max_completion_length=options.completion_length,
        # every completion has exactly max_completion_length tokens in both trainers
        generation_kwargs={"min_new_tokens": options.completion_length},
        learning_rate=1e-5,
        report_to=[],
        use_cpu=not torch.cuda.is_available(),
        bf16=False,
        gradient_checkpointing=False,
        save_strategy="no",
        disable_tqdm=True,
        logging_steps=10_000,
        seed=0,
    )


def _median_step(trainer, warmup: int) -> float:
    timer = StepTimer()
    trainer.add_callback(timer)
    trainer.train()
    return statistics.median(timer.times[warmup:])


def _media(options, count: int) -> list[dict]:
    rng = np.random.default_rng(0)
    return [
        {
            "faces": rng.integers(0, 256, (8, 64, 64, 3), dtype=np.uint8),
            "aus": None,
            "audio": (0.1 * rng.standard_normal(int(16000 * options.audio_seconds))).astype(
                np.float32
            ),
        }
        for _ in range(count)
    ]


def base_encoder_model(hidden_size: int):
    """Tiny decoder with random-init CLIP ViT-B/32 and Whisper-base encoders (real shapes)."""
    from transformers import CLIPVisionConfig, WhisperConfig

    from affect_llm.modeling import AffectLLMForConditionalGeneration, AffectLLMProcessor
    from affect_llm.modeling.configuration_affect_llm import AffectLLMConfig
    from affect_llm.modeling.tiny import load_tiny_tokenizer, tiny_text_config

    tokenizer = load_tiny_tokenizer()
    config = AffectLLMConfig(
        text_config=tiny_text_config(len(tokenizer), "qwen2", hidden_size),
        face_config=CLIPVisionConfig(image_size=224, patch_size=32),  # ViT-B/32 defaults
        audio_config=WhisperConfig(
            d_model=512,
            encoder_layers=6,
            encoder_attention_heads=8,
            encoder_ffn_dim=2048,
            decoder_layers=1,
            decoder_attention_heads=8,
            decoder_ffn_dim=2048,
            num_mel_bins=80,
        ),
        face_encoder_type="clip",
        audio_encoder_type="whisper",
        num_face_tokens=8,
        num_audio_tokens=8,
        projector_num_heads=4,
        face_token_id=tokenizer.convert_tokens_to_ids("<|face|>"),
        audio_token_id=tokenizer.convert_tokens_to_ids("<|audio|>"),
    )
    torch.manual_seed(0)
    model = AffectLLMForConditionalGeneration(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.config.get_text_config().pad_token_id = tokenizer.pad_token_id
    processor = AffectLLMProcessor(
        tokenizer=tokenizer,
        face_encoder_type="clip",
        audio_encoder_type="whisper",
        num_face_tokens=8,
        num_audio_tokens=8,
        num_frames=8,
        max_audio_seconds=30.0,
        face_preprocessing={
            "size": {"shortest_edge": 224},
            "crop_size": {"height": 224, "width": 224},
        },
        audio_preprocessing={"feature_size": 80, "chunk_length": 30},
    )
    return model, processor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed first steps")
    parser.add_argument("--batch", type=int, default=16, help="completions per step")
    parser.add_argument("--generations", type=int, default=8, help="completions per prompt")
    parser.add_argument("--completion-length", type=int, default=16)
    parser.add_argument("--hidden-size", type=int, default=64, help="tiny decoder width")
    parser.add_argument("--audio-seconds", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--encoders", choices=["tiny", "base"], default="tiny", help="encoder shapes"
    )
    options = parser.parse_args()
    if options.threads:
        torch.set_num_threads(options.threads)

    config = AffectModelConfig(
        face_encoder="clip",
        audio_encoder="whisper",
        num_face_tokens=8,
        num_audio_tokens=8,
        tiny_hidden_size=options.hidden_size,
    )
    if options.encoders == "base":
        model, processor = base_encoder_model(options.hidden_size)
    else:
        model, processor = build_model_and_processor(config)
    rows = [
        {"id": f"s{i}", "prompt": [{"role": "user", "content": PROMPT}], "openset": ["happy"]}
        for i in range(64)
    ]
    raw = dict(zip((r["id"] for r in rows), _media(options, len(rows))))
    cached = {}
    for key, media in raw.items():
        inputs = processor(text=[PROMPT], faces=[media["faces"]], audio=[media["audio"]])
        with torch.no_grad():
            feats = model.encode_media(
                **{k: v for k, v in inputs.items() if k.startswith(("face_", "audio_"))}
            )
        cached[key] = {
            f"{m}_features": feats[f"{m}_features"][0][feats[f"{m}_features_mask"][0]].numpy()
            for m in ("face", "audio")
        }
    rewards = AffectRewardConfig(rewards=["ew_f1"])

    def affect_step(store) -> float:
        torch.manual_seed(0)
        trainer = grpo_trainer(
            config,
            None,
            rewards,
            _args("/tmp/bench_grpo_affect", options),
            model=model,
            processor=processor,
            rows=rows,
            media_loader=lambda row: store[row["id"]],
        )
        return _median_step(trainer, options.warmup)

    cached_time = affect_step(cached)
    encoders_time = affect_step(raw)

    # Plain TRL on the same decoder weights; placeholders become ordinary tokens, same count.
    text_config = model.config.get_text_config()
    plain = AutoModelForCausalLM.from_config(text_config)
    plain.model.load_state_dict(model.model.language_model.state_dict())
    plain.lm_head.load_state_dict(model.lm_head.state_dict())
    plain.generation_config.eos_token_id = model.generation_config.eos_token_id
    plain.generation_config.pad_token_id = model.generation_config.pad_token_id
    tokenizer = processor.tokenizer
    filler = " the" * (processor.num_face_tokens + processor.num_audio_tokens)
    plain_text = render_prompt(processor, rows[0]["prompt"]).replace("<|face|><|audio|>", filler)
    affect_len = len(
        processor(
            text=[render_prompt(processor, rows[0]["prompt"])],
            **{k: [v] for k, v in raw["s0"].items()},
        )["input_ids"][0]
    )
    plain_len = len(tokenizer(plain_text, add_special_tokens=False)["input_ids"])
    assert plain_len == affect_len, (plain_len, affect_len)
    from datasets import Dataset

    torch.manual_seed(0)
    trainer = GRPOTrainer(
        model=plain,
        args=_args("/tmp/bench_grpo_plain", options),
        train_dataset=Dataset.from_list([{"prompt": plain_text, "openset": ["happy"]}] * 64),
        processing_class=tokenizer,
        reward_funcs=[REWARDS["ew_f1"]],  # the same reward as the AffectLLM runs
    )
    plain_time = _median_step(trainer, options.warmup)

    print(
        f"device: {'cuda' if torch.cuda.is_available() else 'cpu'}, torch threads {torch.get_num_threads()}"
    )
    print(
        f"encoders: {options.encoders}; shape: decoder hidden {options.hidden_size}, prompt {affect_len} tokens (16 face/audio), "
        f"completion {options.completion_length} tokens, {options.batch} completions per step"
    )
    print(f"plain TRL GRPOTrainer (text backbone):   {plain_time * 1000:8.1f} ms/step")
    print(f"AffectGRPOTrainer, cached features:      {cached_time * 1000:8.1f} ms/step")
    print(f"AffectGRPOTrainer, encoders every step:  {encoders_time * 1000:8.1f} ms/step")
    print(
        f"overhead vs plain TRL (cached):          {cached_time / plain_time:8.2f}x (target <= 1.05x)"
    )
    print(f"encoders every step vs cached features:  {encoders_time / cached_time:8.2f}x")


if __name__ == "__main__":
    main()
