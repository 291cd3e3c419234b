"""GRPO step time, measured in one run on the same machine:

1. AffectLLM (tiny, cached encoder features) through `AffectGRPOTrainer` against plain TRL
   `GRPOTrainer` on the same text backbone (same weights), with the same prompt and completion
   lengths: the multimodal overhead. At the default toy width the AffectLLM projectors hold several
   times the decoder's trainable parameters, and training them is most of that overhead (both
   counts are printed); at R1-Omni's scale (`--shapes r1-omni`) the decoder dwarfs them.
2. AffectLLM with cached features against running the face / audio encoders (and their
   preprocessing) every step.

Run: `.venv/bin/python benchmarks/bench_grpo.py` (add `--hidden-size 256` for a wider decoder, and
`--encoders base` for random-weight CLIP ViT-B/32 (224 px) and Whisper-base (30 s) encoder shapes,
where caching their outputs matters).

`--shapes r1-omni` instead measures R1-Omni's scale: a decoder with Qwen2.5-0.5B's configuration
with SigLIP-base and Whisper-base towers (random weights, nothing downloaded), encoders running
every step, against plain TRL on the same decoder: step time split into generation, log-prob
passes, encoders and rewards, and peak memory. `--growth 8x32 16x64 ...` (or `all`) adds the step
time for completions-per-step x completion-tokens cells. `--json PATH` writes every figure.

`--family omni` (or vl, audio) measures GRPO of a pretrained backbone family: the tiny offline
checkpoint (or `--model FOLDER`) on a build folder of the bundled clips, LoRA on the language
model: the step split into generation, media (frames / audio through the processor), log-prob
passes (old / reference), the loss pass and rewards, peak memory, and the gain of reading the
frames from the feature cache over decoding the clips every step (same process, ratio).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import ctypes
import gc
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, TrainerCallback
from trl import GRPOConfig, GRPOTrainer

from affect_llm.modeling.model_io import RAW_MEDIA_KEYS
from affect_llm.rewards import REWARDS
from affect_llm.training.collators import render_prompt
from affect_llm.training.config import AffectModelConfig, AffectRewardConfig
from affect_llm.training.cpu_lm_head import score_only_labelled_positions_on_cpu
from affect_llm.training.model_loading import build_model_and_processor
from affect_llm.training.trainers import build_grpo_trainer

PROMPT = "<|face|><|audio|>\nWhich emotions does the person show? Answer with emotion words."
# Trainer methods timed as step phases (time in a nested timed call counts to the inner phase):
# prompt tokenization, media preprocessing, frozen encoders and projectors count as "encoders".
# A log-prob pass made inside the loss (`_compute_loss`) counts to "loss".
PHASES = {
    "_generate": "generation",
    "_generate_completions": "generation",
    "_tokenize_prompts": "encoders",
    "_encode_batch": "encoders",
    "_project": "encoders",
    "_get_per_token_logps_and_entropies": "log-prob passes",
    "_compute_loss": "loss",
    "_calculate_rewards": "rewards",
}
PHASE_NAMES = ("generation", "encoders", "log-prob passes", "loss", "rewards")
GROWTH_GRID = [(n, t) for n in (8, 16, 32) for t in (32, 64, 128)]


class StepTimer(TrainerCallback):
    """Wall time of every optimizer step, split into the PHASES of the trainer's methods."""

    def __init__(self, trainer):
        self.times: list[float] = []
        self.phases: list[dict[str, float]] = []
        self._start = 0.0
        self._nested: list[float] = []  # time spent in timed calls inside each open call
        self._open: list[str] = []  # phases of the open calls, outermost first
        for method, phase in PHASES.items():
            if hasattr(trainer, method):
                setattr(trainer, method, self._timed(getattr(trainer, method), phase))

    def _timed(self, method, phase: str):
        def timed(*args, **kwargs):
            counted = "loss" if phase == "log-prob passes" and "loss" in self._open else phase
            self._nested.append(0.0)
            self._open.append(counted)
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                nested = self._nested.pop()
                self._open.pop()
                if self.phases:
                    self.phases[-1][counted] += elapsed - nested
                if self._nested:
                    self._nested[-1] += elapsed

        return timed

    def on_step_begin(self, args, state, control, **kwargs):
        self.phases.append(dict.fromkeys(PHASE_NAMES, 0.0))
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self._start)


def _memory_kb(field: str) -> int:
    """VmRSS / VmHWM (peak RSS) of this process from /proc, in kB (0 where there is no /proc)."""
    status = Path("/proc/self/status")
    if not status.exists():
        return 0
    for line in status.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_memory() -> None:
    """Start a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM), after handing
    memory freed by an earlier trainer back to the system (glibc keeps it otherwise)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _args(out: str, options, batch: int, completion_length: int) -> GRPOConfig:
    """`batch` completions per step; with `--micro-batch M` (M < batch) the loss pass runs on M
    at a time (gradient accumulation, TRL generating all `batch` at once), to fit in memory."""
    micro = min(batch, options.micro_batch or batch)
    if batch % micro:
        raise SystemExit(f"--micro-batch {micro} does not divide {batch} completions per step")
    return GRPOConfig(
        output_dir=out,
        max_steps=options.warmup + options.steps,
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=batch // micro,
        num_generations=options.generations,
        max_completion_length=completion_length,
        # every completion has exactly max_completion_length tokens in both trainers
        generation_kwargs={"min_new_tokens": completion_length},
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


def measure(trainer, warmup: int) -> dict:
    """Train; the median step time and phases of the steps after `warmup`, and peak RSS."""
    timer = StepTimer(trainer)
    trainer.add_callback(timer)
    baseline = _memory_kb("VmRSS")
    _reset_peak_memory()
    trainer.train()
    phases = {
        name: statistics.median(p[name] for p in timer.phases[warmup:]) for name in PHASE_NAMES
    }
    step = statistics.median(timer.times[warmup:])
    phases["backward, optimizer, rest"] = step - sum(phases.values())
    return {
        "step_s": step,
        "step_times_s": timer.times[warmup:],
        "phases_s": phases,
        "rss_before_mb": baseline / 1024,
        "peak_rss_mb": _memory_kb("VmHWM") / 1024,
    }


def trainable_parameters(model, name_part: str = "") -> int:
    """How many trainable parameters `model` has (those whose name contains `name_part`)."""
    return sum(
        p.numel() for name, p in model.named_parameters() if p.requires_grad and name_part in name
    )


def growth_cells(requested: list[str]) -> list[tuple[int, int]]:
    """(completions, tokens) per `--growth` cell: "all" is the R1-Omni grid, "NxT" one cell."""
    cells = list(GROWTH_GRID) if "all" in requested else []
    for cell in requested:
        if cell != "all":
            completions, tokens = (int(v) for v in cell.split("x"))
            cells.append((completions, tokens))
    return cells


def best_round(runs: list[dict]) -> dict:
    """One figure from several rounds of one trainer: the round with the lowest median step.

    Other work on the machine only ever slows a round down, so the fastest round is the one
    closest to the trainer's own cost (as `timeit` reports the best of its repeats).
    """
    best = min(runs, key=lambda run: run["step_s"])
    return {**best, "rounds_step_s": [run["step_s"] for run in runs]}


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


def qwen25_05b_config(vocab_size: int = 151936):
    """Qwen2.5-0.5B's decoder configuration (its config.json's values), for random weights."""
    from transformers import Qwen2Config

    return Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_theta=1_000_000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
    )


def base_encoder_model(hidden_size: int, shapes: str = "base"):
    """Random-init encoders at real shapes: CLIP ViT-B/32 (224 px) + Whisper-base with a tiny
    decoder (`shapes="base"`), or SigLIP-base (224 px, patch 16) + Whisper-base with a
    Qwen2.5-0.5B-shaped decoder (`shapes="r1-omni"`)."""
    from transformers import CLIPVisionConfig, SiglipVisionConfig, WhisperConfig

    from affect_llm.modeling import AffectLLMForConditionalGeneration, AffectLLMProcessor
    from affect_llm.modeling.configuration_affect_llm import AffectLLMConfig
    from affect_llm.modeling.feature_extraction_affect_llm import audio_processor, face_processor
    from affect_llm.modeling.tiny import load_tiny_tokenizer, tiny_text_config

    tokenizer = load_tiny_tokenizer()
    if shapes == "r1-omni":
        face, text_config = "siglip", qwen25_05b_config()
        face_config = SiglipVisionConfig()  # SigLIP-base defaults: 768 wide, 12 layers, 224 px
        face_preprocessing = {"size": {"height": 224, "width": 224}}
    else:
        face, text_config = "clip", tiny_text_config(len(tokenizer), "qwen2", hidden_size)
        face_config = CLIPVisionConfig(image_size=224, patch_size=32)  # ViT-B/32 defaults
        face_preprocessing = {
            "size": {"shortest_edge": 224},
            "crop_size": {"height": 224, "width": 224},
        }
    config = AffectLLMConfig(
        text_config=text_config,
        face_config=face_config,
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
        face_encoder_type=face,
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
        image_processor=face_processor(face, face_preprocessing),
        feature_extractor=audio_processor("whisper", {"feature_size": 80, "chunk_length": 30}),
        num_face_tokens=8,
        num_audio_tokens=8,
        num_frames=8,
        max_audio_seconds=30.0,
    )
    return model, processor


def _rows() -> list[dict]:
    return [
        {"id": f"s{i}", "prompt": [{"role": "user", "content": PROMPT}], "openset": ["happy"]}
        for i in range(64)
    ]


def affect_trainer(config, model, processor, store, args):
    torch.manual_seed(0)
    return build_grpo_trainer(
        config,
        None,
        AffectRewardConfig(rewards=["ew_f1"]),
        args,
        model=model,
        processor=processor,
        rows=_rows(),
        media_loader=lambda row: store[row["id"]],
    )


def plain_trainer(model, processor, media: dict, args):
    """Plain TRL on a copy of the same decoder weights; placeholders become as many ordinary
    tokens, so both trainers see prompts of the same length. Returns (trainer, prompt length)."""
    from datasets import Dataset

    # A copy: `Trainer` sets `config.use_cache = False` on its model, and a later round's decoder
    # made from that shared config would generate without a KV cache.
    plain = AutoModelForCausalLM.from_config(copy.deepcopy(model.config.get_text_config()))
    plain.model.load_state_dict(model.model.language_model.state_dict())
    plain.lm_head.load_state_dict(model.lm_head.state_dict())
    plain.generation_config.eos_token_id = model.generation_config.eos_token_id
    plain.generation_config.pad_token_id = model.generation_config.pad_token_id
    tokenizer = processor.tokenizer
    prompt = render_prompt(processor, _rows()[0]["prompt"])
    filler = " the" * (processor.num_face_tokens + processor.num_audio_tokens)
    plain_text = prompt.replace("<|face|><|audio|>", filler)
    affect_len = len(processor(text=[prompt], **{k: [v] for k, v in media.items()})["input_ids"][0])
    plain_len = len(tokenizer(plain_text, add_special_tokens=False)["input_ids"])
    assert plain_len == affect_len, (plain_len, affect_len)
    torch.manual_seed(0)
    # as AffectLLM's builder does: on CPU both score only the completion through the LM head
    score_only_labelled_positions_on_cpu()
    trainer = GRPOTrainer(
        model=plain,
        args=args,
        train_dataset=Dataset.from_list([{"prompt": plain_text, "openset": ["happy"]}] * 64),
        processing_class=tokenizer,
        reward_funcs=[REWARDS["ew_f1"]],  # the same reward as the AffectLLM runs
    )
    return trainer, affect_len


def machine() -> dict:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "torch": torch.__version__,
        "commit": commit,
    }


def _phase_table(columns: dict[str, dict]) -> None:
    names = list(columns)
    print(f"{'':28}" + "".join(f"{n:>22}" for n in names))
    first = next(iter(columns.values()))
    for phase in first["phases_s"]:
        cells = "".join(f"{c['phases_s'][phase] * 1000:19.0f} ms" for c in columns.values())
        print(f"{phase:28}{cells}")
    print(f"{'step':28}" + "".join(f"{c['step_s'] * 1000:19.0f} ms" for c in columns.values()))
    for key, label in (("rss_before_mb", "RSS before training"), ("peak_rss_mb", "peak RSS")):
        print(f"{label:28}" + "".join(f"{c[key]:19.0f} MB" for c in columns.values()))


def run_r1_omni(options, report: dict) -> None:
    config = AffectModelConfig(face_encoder="siglip", audio_encoder="whisper")
    model, processor = base_encoder_model(0, "r1-omni")
    raw = dict(zip((r["id"] for r in _rows()), _media(options, 64)))
    length = options.completion_length or 32
    report["shape"] = {
        "decoder": "Qwen2.5-0.5B config (random weights)",
        "decoder_parameters": model.model.language_model.num_parameters(),
        "face_encoder": "SigLIP-base 224 px patch 16 (random weights), 8 frames",
        "audio_encoder": f"Whisper-base encoder, 30 s window, {options.audio_seconds} s clips",
        "generations_per_prompt": options.generations,
    }
    if not options.no_comparison:
        args = _args("/tmp/bench_grpo_affect", options, options.batch, length)
        affect = measure(affect_trainer(config, model, processor, raw, args), options.warmup)
        gc.collect()
        args = _args("/tmp/bench_grpo_plain", options, options.batch, length)
        trainer, prompt_len = plain_trainer(model, processor, raw["s0"], args)
        plain = measure(trainer, options.warmup)
        del trainer
        gc.collect()
        report["comparison"] = {
            "completions_per_step": options.batch,
            "completion_tokens": length,
            "prompt_tokens": prompt_len,
            "plain_trl": plain,
            "affect_grpo": affect,
            "ratio": affect["step_s"] / plain["step_s"],
        }
        print(
            f"{options.batch} completions per step ({options.batch // options.generations} prompts"
            f" x {options.generations}), prompt {prompt_len} tokens (16 face / audio),"
            f" completion {length} tokens; encoders run every step"
        )
        _phase_table({"plain TRL": plain, "AffectGRPOTrainer": affect})
        print(f"AffectGRPOTrainer vs plain TRL: {affect['step_s'] / plain['step_s']:.2f}x")
    report["growth"] = []
    for completions, tokens in growth_cells(options.growth or []):
        args = _args("/tmp/bench_grpo_growth", options, completions, tokens)
        result = measure(affect_trainer(config, model, processor, raw, args), options.warmup)
        gc.collect()
        result.update(
            completions_per_step=completions,
            completion_tokens=tokens,
            completions_per_loss_pass=args.per_device_train_batch_size,
        )
        report["growth"].append(result)
        print(
            f"growth: {completions:3d} completions x {tokens:3d} tokens:"
            f" {result['step_s']:8.1f} s/step, peak RSS {result['peak_rss_mb']:.0f} MB"
        )
    if report["growth"]:
        print("\n| completions per step | completion tokens | step time | peak RSS |")
        print("|---|---|---|---|")
        for r in report["growth"]:
            print(
                f"| {r['completions_per_step']} | {r['completion_tokens']} |"
                f" {r['step_s']:.1f} s | {r['peak_rss_mb'] / 1024:.1f} GB |"
            )


def _family_folders(family: str, model: Path | None) -> tuple[Path, Path]:
    """(checkpoint folder, build folder of the bundled clips), built once under /tmp."""
    from affect_llm.data.folder import build_folder
    from affect_llm.modeling.tiny_backbones import save_tiny_backbone

    root = Path(f"/tmp/bench_grpo_{family}")
    clips = root / "clips"
    if not (clips / "samples.jsonl").is_file():
        samples = Path(__file__).resolve().parents[1] / "affect_llm" / "resources" / "samples"
        build_folder(samples, clips, labels=samples / "labels.csv")
    if model is None:
        model = root / "model"
        if not (model / "config.json").is_file():
            save_tiny_backbone(family, model)
    return model, clips


def decoding_every_time(clips: Path, processor, data):
    """The build folder's media loader with its frames decoded from the clip on every request
    (no feature cache)."""
    from affect_llm.data.frames import decode_frames
    from affect_llm.modeling.families import family_of_processor
    from affect_llm.training.backbone_data import BackboneMedia
    from affect_llm.training.data_loading import frame_settings

    media = BackboneMedia([clips], family_of_processor(processor), frame_settings(data))
    for folder, cache in media._frame_caches.items():
        media._frame_caches[folder] = lambda sample, cache=cache: (
            None
            if cache.video_path(sample) is None
            else decode_frames(cache.video_path(sample), media.frames)
        )
    return media


def run_family(options, report: dict) -> None:
    from affect_llm.modeling.tiny_backbones import TINY_FRAMES
    from affect_llm.training.config import AffectDataConfig
    from affect_llm.training.data_loading import load_training_data

    model_path, clips = _family_folders(options.family, options.model)
    config = AffectModelConfig(model_name_or_path=str(model_path), llm_mode="lora", lora_r=8)
    data = AffectDataConfig(
        dataset_paths=[str(clips)],
        synthetic_samples=0,
        cues=["subtitle"],
        video_max_pixels=TINY_FRAMES.max_pixels if options.model is None else 256 * 28 * 28,
        video_max_frames=TINY_FRAMES.max_frames if options.model is None else 32,
    )
    length = options.completion_length or 16
    results = {}
    for name in ("cached frames", "decoding"):
        model, processor = build_model_and_processor(config)
        rows, media, _ = load_training_data(data, processor)
        if name == "decoding":
            media = decoding_every_time(clips, processor, data)
        args = _args(f"/tmp/bench_grpo_{options.family}/out", options, options.batch, length)
        args.beta = 0.04  # the reference pass: adapters off
        rewards = AffectRewardConfig(rewards=["format", "ew_f1"])
        trainer = build_grpo_trainer(config, data, rewards, args, model, processor, rows, media)
        results[name] = measure(trainer, options.warmup)
        del trainer, model
        gc.collect()
    cached, decoding = results["cached frames"], results["decoding"]
    report["family"] = {
        "family": options.family,
        "model": str(model_path),
        "completions_per_step": options.batch,
        "completion_tokens": length,
        "cached_frames": cached,
        "decoding": decoding,
        "decoding_over_cached": decoding["step_s"] / cached["step_s"],
        "media_decoding_over_cached": decoding["phases_s"]["encoders"]
        / cached["phases_s"]["encoders"],
    }
    print(
        f"{options.family}: {options.batch} completions per step"
        f" ({options.batch // options.generations} prompts x {options.generations}),"
        f" completion {length} tokens, LoRA, beta 0.04; 'encoders' = media through the processor"
    )
    _phase_table({"cached frames": cached, "decoding every step": decoding})
    family = report["family"]
    print(
        f"frames from the feature cache vs decoding the clips every step: media"
        f" {cached['phases_s']['encoders'] * 1000:.0f} ms vs"
        f" {decoding['phases_s']['encoders'] * 1000:.0f} ms a step"
        f" ({family['media_decoding_over_cached']:.1f}x);"
        f" step time ratio decoding / cached {family['decoding_over_cached']:.2f}"
        " (other load on the machine moves it)"
    )


def run_default(options, report: dict) -> None:
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
    raw = dict(zip((r["id"] for r in _rows()), _media(options, 64)))
    cached = {}
    for key, media in raw.items():
        inputs = processor(text=[PROMPT], faces=[media["faces"]], audio=[media["audio"]])
        with torch.no_grad():
            feats = model.encode_media(**{k: v for k, v in inputs.items() if k in RAW_MEDIA_KEYS})
        cached[key] = {
            f"{m}_features": feats[f"{m}_features"][0][feats[f"{m}_features_mask"][0]].numpy()
            for m in ("face", "audio")
        }
    length = options.completion_length or 16
    affect_args = _args("/tmp/bench_grpo_affect", options, options.batch, length)
    plain_args = _args("/tmp/bench_grpo_plain", options, options.batch, length)
    # The two trainers take turns (fresh trainers each round, same start weights) and each keeps
    # its best round, so a burst of other work on the machine cannot skew the ratio.
    start = {k: v.clone() for k, v in model.state_dict().items()}
    plain_runs, cached_runs = [], []
    for _ in range(options.rounds):
        model.load_state_dict(start)
        trainer, affect_len = plain_trainer(model, processor, raw["s0"], plain_args)
        plain_params = trainable_parameters(trainer.model)
        plain_runs.append(measure(trainer, options.warmup))
        model.load_state_dict(start)
        trainer = affect_trainer(config, model, processor, cached, affect_args)
        affect_params = trainable_parameters(trainer.model)
        projector_params = trainable_parameters(trainer.model, "projector")
        cached_runs.append(measure(trainer, options.warmup))
    plain_run, cached_run = best_round(plain_runs), best_round(cached_runs)
    model.load_state_dict(start)
    encoders_run = measure(
        affect_trainer(config, model, processor, raw, affect_args), options.warmup
    )
    plain_time, cached_time = plain_run["step_s"], cached_run["step_s"]
    encoders_time = encoders_run["step_s"]
    report["comparison"] = {
        "encoders": options.encoders,
        "decoder_hidden_size": options.hidden_size,
        "completions_per_step": options.batch,
        "completion_tokens": length,
        "prompt_tokens": affect_len,
        "plain_trl": plain_run,
        "affect_grpo_cached": cached_run,
        "affect_grpo_encoders": encoders_run,
        "overhead_cached": cached_time / plain_time,
        "trainable_parameters": {"plain_trl": plain_params, "affect_grpo": affect_params},
        "encoders_vs_cached": encoders_time / cached_time,
    }

    print(
        f"device: {'cuda' if torch.cuda.is_available() else 'cpu'}, torch threads {torch.get_num_threads()}"
    )
    print(
        f"encoders: {options.encoders}; shape: decoder hidden {options.hidden_size}, prompt {affect_len} tokens (16 face/audio), "
        f"completion {length} tokens, {options.batch} completions per step"
    )
    print(f"plain TRL GRPOTrainer (text backbone):   {plain_time * 1000:8.1f} ms/step")
    print(f"AffectGRPOTrainer, cached features:      {cached_time * 1000:8.1f} ms/step")
    print(f"AffectGRPOTrainer, encoders every step:  {encoders_time * 1000:8.1f} ms/step")
    print(
        f"overhead vs plain TRL (cached):          {cached_time / plain_time:8.2f}x (target <= 1.05x)"
    )
    print(
        f"trainable parameters: plain TRL {plain_params / 1e6:.2f} M, AffectLLM {affect_params / 1e6:.2f} M "
        f"(projectors {projector_params / 1e6:.2f} M)"
    )
    print(f"encoders every step vs cached features:  {encoders_time / cached_time:8.2f}x")


def _cell(value: str) -> str:
    """A growth cell: `all`, or COMPLETIONSxTOKENS such as 16x64."""
    parts = value.split("x")
    if value != "all" and not (len(parts) == 2 and all(p.isdigit() for p in parts)):
        raise argparse.ArgumentTypeError(
            f"{value!r}: expected COMPLETIONSxTOKENS (e.g. 16x64) or all"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed first steps")
    parser.add_argument("--batch", type=int, default=16, help="completions per step")
    parser.add_argument("--generations", type=int, default=8, help="completions per prompt")
    parser.add_argument(
        "--completion-length", type=int, default=None, help="default 16 (r1-omni: 32)"
    )
    parser.add_argument(
        "--micro-batch",
        type=int,
        default=None,
        help="completions per loss pass (gradient accumulation); default: all of a step's",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="turns of plain TRL and AffectLLM (cached) runs"
    )
    parser.add_argument("--hidden-size", type=int, default=64, help="tiny decoder width")
    parser.add_argument("--audio-seconds", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--encoders", choices=["tiny", "base"], default="tiny", help="encoder shapes"
    )
    parser.add_argument(
        "--shapes",
        choices=["default", "r1-omni"],
        default="default",
        help="r1-omni: Qwen2.5-0.5B-shaped decoder + SigLIP-base + Whisper-base, phase split",
    )
    parser.add_argument(
        "--growth",
        nargs="+",
        type=_cell,
        metavar="NxT",
        help="r1-omni: also time N completions per step x T completion tokens (all: 8/16/32 x 32/64/128)",
    )
    parser.add_argument(
        "--no-comparison", action="store_true", help="r1-omni: only the growth cells"
    )
    parser.add_argument(
        "--family",
        choices=["omni", "vl", "audio"],
        default=None,
        help="GRPO of a pretrained backbone family (tiny offline checkpoint unless --model)",
    )
    parser.add_argument(
        "--model", type=Path, default=None, help="--family: a checkpoint folder of that family"
    )
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    return parser


def main() -> None:
    parser = build_parser()
    options = parser.parse_args()
    if options.threads:
        torch.set_num_threads(options.threads)
    if options.growth and options.shapes != "r1-omni":
        parser.error("--growth needs --shapes r1-omni")

    report: dict = {"options": {k: str(v) for k, v in vars(options).items()}}
    if options.family:
        run_family(options, report)
    elif options.shapes == "r1-omni":
        run_r1_omni(options, report)
    else:
        run_default(options, report)
    report["machine"] = machine()
    if options.json:
        from affect_llm.files import atomic_write_text

        atomic_write_text(options.json, json.dumps(report, indent=2) + "\n")
        print(f"figures written to {options.json}")


if __name__ == "__main__":
    main()
