"""What a CUDA machine must show before a real run, measured in a few minutes with random weights
(nothing is downloaded):

1. a LoRA SFT step and a GRPO step at Qwen2.5-7B + CLIP ViT-L/14 (8 frames) + Whisper-large-v3
   shapes, bf16: peak GPU memory and step time;
2. QLoRA: the same LoRA step with the decoder in bitsandbytes NF4 against bf16, at the 7B width
   with `--qlora-layers` decoder layers (peak memory of both);
3. flash-attention 2 against SDPA: largest logit difference on a padded batch (bf16);
4. bf16 DeepSpeed ZeRO-3 on one GPU: the tiny GRPO recipe through
   `accelerate launch --config_file recipes/accelerate/zero3.yaml --num_processes 1`.

Run: `.venv/bin/python benchmarks/gpu_check.py [--json out.json]` (needs the gpu extra:
`pip install -e '.[gpu]'`). Without CUDA it says so and exits with status 2.
`--cpu-smoke` runs checks 1 at tiny shapes on the CPU, so the script itself stays tested.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from affect_llm.modeling.memory import reference_config

ROOT = Path(__file__).resolve().parents[1]


def qwen25_7b_config(vocab_size: int, layers: int = 28):
    """Qwen2.5-7B-Instruct's decoder configuration (random weights), from the memory estimate's
    reference shapes; `layers` cuts it short for the quick checks."""
    text = copy.deepcopy(reference_config().text_config)
    text.vocab_size = max(vocab_size, text.vocab_size)
    text.num_hidden_layers = layers
    return text


def shaped_model(text_config, face_config, audio_config, image_size: int, mels: int, dtype=None):
    """An AffectLLM with the given (random-weight) decoder and towers, and its processor."""
    from affect_llm.modeling import AffectLLMForConditionalGeneration, AffectLLMProcessor
    from affect_llm.modeling.configuration_affect_llm import AffectLLMConfig
    from affect_llm.modeling.feature_extraction_affect_llm import audio_processor, face_processor
    from affect_llm.modeling.tiny import load_tiny_tokenizer

    tokenizer = load_tiny_tokenizer()
    face_type = "clip" if face_config.model_type.startswith("clip") else "siglip"
    config = AffectLLMConfig(
        text_config=text_config,
        face_config=face_config,
        audio_config=audio_config,
        face_encoder_type=face_type,
        audio_encoder_type="whisper",
        num_face_tokens=8,
        num_audio_tokens=8,
        face_token_id=tokenizer.convert_tokens_to_ids("<|face|>"),
        audio_token_id=tokenizer.convert_tokens_to_ids("<|audio|>"),
    )
    torch.manual_seed(0)
    model = AffectLLMForConditionalGeneration(config)
    if dtype is not None:
        model = model.to(dtype)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.config.get_text_config().pad_token_id = tokenizer.pad_token_id
    face_pre = (
        {
            "size": {"shortest_edge": image_size},
            "crop_size": {"height": image_size, "width": image_size},
        }
        if face_type == "clip"
        else {"size": {"height": image_size, "width": image_size}}
    )
    processor = AffectLLMProcessor(
        tokenizer=tokenizer,
        image_processor=face_processor(face_type, face_pre),
        feature_extractor=audio_processor("whisper", {"feature_size": mels, "chunk_length": 30}),
        num_face_tokens=8,
        num_audio_tokens=8,
        num_frames=8,
        max_audio_seconds=30.0,
    )
    return model, processor


def random_rows(count: int, image_size: int, seed: int = 0):
    """Chat rows with 8 random face crops and 4 s of noise each, and their media loader."""
    from affect_llm.parsing import answer_block

    rng = np.random.default_rng(seed)
    media, rows = {}, []
    for i in range(count):
        media[f"r{i}"] = {
            "faces": rng.integers(0, 256, (8, image_size, image_size, 3), dtype=np.uint8),
            "aus": None,
            "audio": (0.1 * rng.standard_normal(4 * 16000)).astype(np.float32),
        }
        rows.append(
            {
                "id": f"r{i}",
                "prompt": [{"role": "user", "content": "<|face|><|audio|>\nWhich emotions?"}],
                # an <answer> block, or GRPO refuses the ew_f1 reward (it reads only that block)
                "completion": [
                    {"role": "assistant", "content": answer_block("happy, surprised " * 8)}
                ],
                "openset": ["happy"],
            }
        )
    return rows, lambda row: media[row["id"]]


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _peak_reset():
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_gib() -> float | None:
    return torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None


def lora_sft_step(model, processor, rows, media_loader, device, steps: int = 2) -> dict:
    """Median time and peak memory of LoRA SFT steps (forward, backward, AdamW) on `rows`."""
    from affect_llm.modeling.training_modes import add_lora
    from affect_llm.training.collators import AffectLLMDataCollator
    from affect_llm.training.data import MediaCollator

    model = add_lora(model, r=16, alpha=32, gradient_checkpointing=True).to(device)
    model.train()
    batch = MediaCollator(AffectLLMDataCollator(processor), media_loader)(rows)
    batch = {k: v.to(device) for k, v in batch.items()}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    times = []
    _peak_reset()
    for _ in range(steps + 1):
        _sync()
        start = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        _sync()
        times.append(time.perf_counter() - start)
    return {"step_s": float(np.median(times[1:])), "peak_gib": _peak_gib(), "rows": len(rows)}


def grpo_step(model, processor, rows, media_loader, generations: int, tokens: int) -> dict:
    """Median time and peak memory of LoRA GRPO steps (beta 0.04) through AffectGRPOTrainer."""
    from trl import GRPOConfig

    from affect_llm.modeling.training_modes import add_lora
    from affect_llm.training.config import AffectModelConfig, AffectRewardConfig
    from affect_llm.training.trainers import build_grpo_trainer

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_grpo import StepTimer

    model = add_lora(model, r=16, alpha=32, gradient_checkpointing=True)
    cuda = torch.cuda.is_available()
    with tempfile.TemporaryDirectory() as out:
        args = GRPOConfig(
            output_dir=out,
            max_steps=3,
            per_device_train_batch_size=generations,
            num_generations=generations,
            max_completion_length=tokens,
            generation_kwargs={"min_new_tokens": tokens},
            beta=0.04,
            learning_rate=1e-6,
            report_to=[],
            use_cpu=not cuda,
            bf16=cuda,
            gradient_checkpointing=True,
            save_strategy="no",
            disable_tqdm=True,
            seed=0,
        )
        trainer = build_grpo_trainer(
            AffectModelConfig(),
            None,
            AffectRewardConfig(rewards=["ew_f1"]),
            args,
            model=model,
            processor=processor,
            rows=rows,
            media_loader=media_loader,
        )
        timer = StepTimer(trainer)
        trainer.add_callback(timer)
        _peak_reset()
        trainer.train()
    return {
        "step_s": float(np.median(timer.times[1:])),
        "peak_gib": _peak_gib(),
        "completions": generations,
        "completion_tokens": tokens,
    }


def qlora_memory(layers: int, device) -> dict:
    """Peak memory of a LoRA step with the 7B-width decoder (`layers` deep) in bf16 and in NF4."""
    from transformers import AutoModelForCausalLM

    from affect_llm.modeling.training_modes import quantization_config

    result = {"layers": layers}
    with tempfile.TemporaryDirectory() as folder:
        torch.manual_seed(0)
        AutoModelForCausalLM.from_config(
            qwen25_7b_config(0, layers), dtype=torch.bfloat16
        ).save_pretrained(folder)
        ids = torch.randint(0, 150000, (4, 512), device=device)
        for name, extra in (
            ("bf16", {}),
            ("nf4", {"quantization_config": quantization_config(4)}),
        ):
            from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

            _peak_reset()
            model = AutoModelForCausalLM.from_pretrained(
                folder, dtype=torch.bfloat16, device_map={"": device.index or 0}, **extra
            )
            if extra:
                model = prepare_model_for_kbit_training(model)
            model = get_peft_model(
                model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear")
            )
            loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
            result[f"{name}_peak_gib"] = _peak_gib()
            del model, loss
    return result


def attention_agreement(device) -> dict:
    """Largest |logit| difference between flash-attention 2 and SDPA on a padded bf16 batch."""
    from transformers import AutoModelForCausalLM

    config = qwen25_7b_config(0, layers=4)
    torch.manual_seed(0)
    sdpa = AutoModelForCausalLM.from_config(
        config, dtype=torch.bfloat16, attn_implementation="sdpa"
    )
    sdpa = sdpa.to(device).eval()
    ids = torch.randint(0, 150000, (4, 256), device=device)
    mask = torch.ones_like(ids)
    mask[1, :64] = 0  # left padding, as in batched generation
    mask[3, :200] = 0
    with torch.no_grad():
        reference = sdpa(input_ids=ids, attention_mask=mask).logits
    sdpa.set_attn_implementation("flash_attention_2")
    with torch.no_grad():
        flash = sdpa(input_ids=ids, attention_mask=mask).logits
    keep = mask.bool()
    diff = (flash[keep].float() - reference[keep].float()).abs()
    return {"max_abs_diff": float(diff.max()), "mean_abs_diff": float(diff.mean())}


def zero3_one_gpu() -> dict:
    """The tiny GRPO recipe in bf16 under ZeRO-3 on one GPU, through accelerate launch."""
    with tempfile.TemporaryDirectory() as out:
        launch = [
            "--config_file",
            str(ROOT / "recipes/accelerate/zero3.yaml"),
            "--num_processes",
            "1",
        ]
        recipe = ["--config", str(ROOT / "recipes/tiny/grpo.yaml"), "--output_dir", out]
        flags = [
            "--model_name_or_path",  # the random tiny model (the YAML starts from runs/tiny-sft)
            "tiny",
            "--use_cpu",
            "false",
            "--bf16",
            "true",
            "--max_steps",
            "3",
            "--synthetic_samples",
            "32",
            "--per_device_train_batch_size",
            "8",
            "--num_generations",
            "4",
            "--save_strategy",
            "no",
        ]
        accelerate = str(Path(sys.executable).with_name("accelerate"))
        command = [accelerate, "launch", *launch, str(ROOT / "recipes/grpo.py"), *recipe, *flags]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
        saved = (Path(out) / "model.safetensors").exists()
    return {
        "ok": done.returncode == 0 and saved,
        "seconds": time.perf_counter() - start,
        "error": None if done.returncode == 0 else done.stderr[-2000:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--qlora-layers", type=int, default=4)
    parser.add_argument("--cpu-smoke", action="store_true", help="tiny shapes on the CPU (tests)")
    options = parser.parse_args()
    if not torch.cuda.is_available() and not options.cpu_smoke:
        print(
            "gpu_check: no CUDA device here (torch.cuda.is_available() is False); nothing was "
            "measured. Run it on a machine with an NVIDIA GPU and `pip install -e '.[gpu]'`.",
            file=sys.stderr,
        )
        return 2
    figures: dict = {"torch": torch.__version__}
    if options.cpu_smoke:
        from transformers import CLIPVisionConfig, WhisperConfig

        from affect_llm.modeling.tiny import load_tiny_tokenizer, tiny_text_config

        device, image, mels = torch.device("cpu"), 32, 16
        text = tiny_text_config(len(load_tiny_tokenizer()), hidden_size=32)
        face = CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=image,
            patch_size=16,
        )
        audio = WhisperConfig(
            d_model=32,
            encoder_layers=1,
            encoder_attention_heads=2,
            encoder_ffn_dim=64,
            decoder_layers=1,
            decoder_attention_heads=2,
            decoder_ffn_dim=64,
            num_mel_bins=mels,
            max_source_positions=1500,
        )
        dtype, generations, tokens = None, 4, 4
    else:
        from affect_llm.modeling.tiny import load_tiny_tokenizer

        device, image, mels = torch.device("cuda", 0), 224, 128
        figures["gpu"] = torch.cuda.get_device_name(0)
        text = qwen25_7b_config(len(load_tiny_tokenizer()))
        reference = reference_config()
        face, audio = reference.face_config, reference.audio_config
        dtype, generations, tokens = torch.bfloat16, 8, 128
    rows, loader = random_rows(2, image)
    model, processor = shaped_model(text, face, audio, image, mels, dtype)
    figures["lora_sft_step"] = lora_sft_step(model, processor, rows, loader, device)
    del model
    model, processor = shaped_model(text, face, audio, image, mels, dtype)
    figures["grpo_step"] = grpo_step(
        model.to(device), processor, rows[:1] * 2, loader, generations, tokens
    )
    del model
    if not options.cpu_smoke:
        figures["qlora"] = qlora_memory(options.qlora_layers, device)
        figures["flash_vs_sdpa"] = attention_agreement(device)
        os.environ.pop("DS_ACCELERATOR", None)
        figures["zero3_one_gpu"] = zero3_one_gpu()
    print(json.dumps(figures, indent=2))
    if options.json:
        Path(options.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
