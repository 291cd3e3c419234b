"""SFT and GRPO on two real CPU ranks (gloo), launched as users launch the recipes:
`accelerate launch --config_file recipes/accelerate/<cfg>.yaml --num_processes 2 --mixed_precision no`
with DeepSpeed on its CPU accelerator (`DS_ACCELERATOR=cpu`).

Every launch checks: two ranks, identical parameters on both, the saved output loads with
`from_pretrained` and gives the trained model's logits. SFT on every config also matches a
one-process run on the same global batch (8 = 2 ranks x 4); `zero3_offload` runs GRPO only (one
launch fewer: the offload is checked there, and its run resumes exactly). GRPO runs LoRA with a KL
term (`beta=0.04`, the reference being the adapters-off model) on ZeRO-3 and on FSDP2, exports the
merged model, and resumes from its first checkpoint. `zero3_offload` offloads optimizer and
parameters as its recipe says; on DeepSpeed's CPU accelerator DeepSpeed steps the run's own AdamW
rather than DeepSpeedCPUAdam (dist_worker's `torch_optimizer_under_cpu_offload`).

FSDP2 runs from `recipes/accelerate/fsdp.yaml` as is (SFT full fine-tune, and the GRPO test).
accelerate 1.15 would turn an FSDP config on CPU ranks into DDP; a test-harness shim in
dist_worker.py (`fsdp_on_cpu`) lets the state come up as FSDP, as it does on GPUs, and each rank
reports that its parameters are sharded DTensors.

The models: SFT uses a frozen CLIP tower with the trainable prosody encoder; GRPO the trainable AU
encoder with a frozen Whisper tower.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

pytest.importorskip("deepspeed")

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("dist_worker.py")
ACCELERATE = Path(sys.executable).with_name("accelerate")
TINY = [
    "--synthetic_samples",
    "16",
    "--num_face_tokens",
    "2",
    "--num_audio_tokens",
    "2",
    "--tiny_hidden_size",
    "32",
]
# plain SGD: Adam's first steps move every weight by about lr * sign(gradient), which turns
# summation-order noise in near-zero gradients into lr-sized differences
SFT = [
    "--face_encoder",
    "clip",
    "--audio_encoder",
    "prosody",
    "--max_steps",
    "2",
    "--save_strategy",
    "no",
    "--optim",
    "sgd",
    "--learning_rate",
    "0.5",
]
GRPO = [
    "--model_name_or_path",  # the random tiny model: recipes/tiny/grpo.yaml starts from runs/tiny-sft
    "tiny",
    "--face_encoder",
    "au",
    "--audio_encoder",
    "whisper",
    "--llm_mode",
    "lora",
    "--lora_r",
    "4",
    "--beta",
    "0.04",
    "--max_steps",
    "2",
    "--save_steps",
    "1",
    "--per_device_train_batch_size",
    "4",
    "--num_generations",
    "4",
    "--max_completion_length",
    "3",
    "--rewards",
    "ew_f1",
    "length_penalty",
    "text_length",  # dist_worker's test reward: varies between random completions
    "--reward_weights",
    "1.0",
    "0.5",
    "1.0",
]
# SFT on 2 ranks vs 1 process: the same global batch and loss, reduced in another order
# measured (largest |difference|, on the embeddings; updates ~0.16): DDP 3e-8, FSDP2 3.7e-6, ZeRO-2 /
# ZeRO-3 / ZeRO-3 offload 7.3e-6, a third of what this allows
SFT_TOLERANCE = dict(rtol=1e-4, atol=1e-5)


def _launch(
    config: str, kind: str, out: Path, *flags: str, processes: int = 2, env: dict | None = None
) -> list[dict]:
    launch = ["launch", "--config_file", str(ROOT / "recipes/accelerate" / f"{config}.yaml")]
    launch += ["--num_processes", str(processes), "--mixed_precision", "no"]
    launch += ["--main_process_port", "0"]
    recipe = ["--config", str(ROOT / "recipes/tiny" / f"{kind}.yaml"), "--output_dir", str(out)]
    command = [str(ACCELERATE), *launch, str(WORKER), kind, *recipe, *TINY, *flags]
    # fsdp.yaml needs no CPU override beyond `--mixed_precision no` (every config gets it: no bf16
    # compute on these CPUs); its cpu_ram_efficient_loading, SHARDED_STATE_DICT and
    # TRANSFORMER_BASED_WRAP all run on gloo ranks. What CPU forces is in dist_worker's shim.
    quiet = {"DS_ACCELERATOR": "cpu", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    env = {**os.environ, **quiet, **(env or {})}
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-4000:]
    report = Path(f"{out}-report")
    return [json.loads((report / f"rank{r}.json").read_text()) for r in range(processes)]


def _params(out: Path, rank: int) -> dict[str, torch.Tensor]:
    return load_file(Path(f"{out}-report") / f"rank{rank}.safetensors")


def _assert_ranks_agree(out: Path, infos: list[dict], stage: int | None) -> None:
    assert [i["world_size"] for i in infos] == [2, 2]
    assert {i["backend"] for i in infos} == {"gloo"}
    assert {i["zero_stage"] for i in infos} == {stage}
    first, second = _params(out, 0), _params(out, 1)
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


def _assert_sharded_by_fsdp2(infos: list[dict]) -> None:
    """The FSDP launch really ran FSDP2, not DDP: accelerate's state says so, and after `prepare`
    every parameter is a DTensor of which each rank holds only a part."""
    for info in infos:
        assert info["distributed_type"] == "DistributedType.FSDP"
        assert info["fsdp_version"] == 2
        # fsdp.yaml's settings, as the launch passed them
        assert info["fsdp_state_dict_type"] == "StateDictType.SHARDED_STATE_DICT"
        assert info["fsdp_cpu_ram_efficient_loading"] is True
        assert info["param_types"] == ["DTensor"]
        assert info["sharded_params"] == info["params"] > 0


def _assert_saved_model_gives_the_logits(folder: Path, out: Path) -> None:
    from affect_llm.modeling import AffectLLMForConditionalGeneration

    report = Path(f"{out}-report")
    batch = load_file(report / "batch.safetensors")
    expected = load_file(report / "logits.safetensors")["logits"]
    model = AffectLLMForConditionalGeneration.from_pretrained(folder).eval()
    with torch.no_grad():
        logits = model(**batch).logits
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def start_model(tmp_path_factory) -> Path:
    """The seeded tiny CLIP + prosody model, saved: every SFT run starts from these weights.

    (Built inside a ZeRO-3 launch, `deepspeed.zero.Init` would draw a different random init than
    one process with the same seed; a saved model loads the same everywhere, as a real one does.)
    """
    from affect_llm.modeling.tiny import tiny_model_and_processor

    folder = tmp_path_factory.mktemp("start")
    model, processor = tiny_model_and_processor("clip", "prosody", num_tokens=2, hidden_size=32)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def one_process_sft(tmp_path_factory, start_model) -> dict[str, torch.Tensor]:
    out = tmp_path_factory.mktemp("single") / "sft"
    flags = ("--model_name_or_path", str(start_model), "--per_device_train_batch_size", "8")
    _launch("single_process", "sft", out, *SFT, *flags, processes=1)
    return _params(out, 0)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("config", "stage"),
    [("ddp", None), ("zero2", 2), ("zero3", 3), ("fsdp", None)],  # zero3_offload: GRPO's test
)
def test_sft_on_two_cpu_ranks_matches_one_process_and_saves_a_loadable_model(
    tmp_path, start_model, one_process_sft, config, stage
):
    from affect_llm.modeling import AffectLLMForConditionalGeneration

    out = tmp_path / "sft"
    flags = ["--model_name_or_path", str(start_model), "--per_device_train_batch_size", "4"]
    sharded = config in ("zero3", "fsdp")  # sharded checkpoints: SFT also resumes (below)
    if sharded:
        flags += ["--save_strategy", "steps", "--save_steps", "1"]
    infos = _launch(config, "sft", out, *SFT, *flags)
    _assert_ranks_agree(out, infos, stage)
    if config == "fsdp":
        _assert_sharded_by_fsdp2(infos)
    trained = _params(out, 0)
    assert trained.keys() == one_process_sft.keys()
    start = AffectLLMForConditionalGeneration.from_pretrained(start_model)
    frozen = start.model.face_encoder.tower.embeddings.patch_embedding.weight
    name = "model.face_encoder.tower.embeddings.patch_embedding.weight"
    assert torch.equal(trained[name], frozen)  # the CLIP tower stayed frozen
    start = dict(start.named_parameters())
    assert any(not torch.equal(trained[n], start[n]) for n in trained), "nothing trained"
    for name, value in trained.items():
        torch.testing.assert_close(value, one_process_sft[name], **SFT_TOLERANCE, msg=name)
    _assert_saved_model_gives_the_logits(out, out)
    if sharded:  # killed after step 1 of 2: resumes to the unbroken run's weights, bit for bit
        resumed = tmp_path / "resumed"
        resumed.mkdir()
        shutil.copytree(out / "checkpoint-1", resumed / "checkpoint-1")
        infos = _launch(config, "sft", resumed, *SFT, *flags, "--resume_from_checkpoint", "last")
        assert infos[0]["global_step"] == 2
        again = _params(resumed, 0)
        assert all(torch.equal(again[n], trained[n]) for n in trained)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("config", "stage"),
    [("ddp", None), ("zero2", 2), ("zero3", 3), ("zero3_offload", 3), ("fsdp", None)],
)
def test_lora_grpo_with_kl_on_two_cpu_ranks_saves_merges_and_resumes_exactly(
    tmp_path, config, stage
):
    out = tmp_path / "grpo"
    infos = _launch(config, "grpo", out, *GRPO)
    _assert_ranks_agree(out, infos, stage)
    if config == "fsdp":
        _assert_sharded_by_fsdp2(infos)
    if config == "zero3_offload":
        # optimizer and parameters offloaded as the recipe says, and DeepSpeed steps the run's
        # AdamW (dist_worker's CPU-only `zero_force_ds_cpu_optimizer: false`), not DeepSpeedCPUAdam
        assert [i["zero_offload"] for i in infos] == [{"optimizer": "cpu", "param": "cpu"}] * 2
        assert {i["zero_optimizer"] for i in infos} == {"AdamW"}
    assert (out / "adapter_config.json").exists()
    if config == "fsdp":  # the Trainer checkpointed through FSDP's SHARDED_STATE_DICT (fsdp.yaml)
        assert {p.name for p in (out / "checkpoint-1" / "pytorch_model_fsdp_0").iterdir()} >= {
            "__0_0.distcp",
            "__1_0.distcp",
        }
    merged = tmp_path / "grpo-merged"
    assert not (merged / "adapter_config.json").exists()
    # the report's logits come from the PEFT model; the merged export must give them
    _assert_saved_model_gives_the_logits(merged, out)
    uninterrupted = _params(out, 0)
    # the adapters trained: AdamW at lr 1e-3 moves a LoRA B weight by about 1e-3 a step
    assert max(v.abs().max() for n, v in uninterrupted.items() if ".lora_B." in n) > 1e-4

    # a run killed after its first checkpoint: only checkpoint-1 survives; resume from "last"
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    shutil.copytree(out / "checkpoint-1", resumed / "checkpoint-1")
    infos = _launch(config, "grpo", resumed, *GRPO, "--resume_from_checkpoint", "last")
    assert infos[0]["global_step"] == 2
    state = json.loads((resumed / "checkpoint-2" / "trainer_state.json").read_text())
    assert [e["step"] for e in state["log_history"] if "loss" in e] == [1, 2]
    _assert_saved_model_gives_the_logits(tmp_path / "resumed-merged", resumed)
    _assert_ranks_agree(resumed, infos, stage)
    # the resumed run ends where the unbroken one did, bit for bit: the same prompts, sampled
    # completions (each rank's RNG state is in the checkpoint), optimizer state and update
    resumed_params = _params(resumed, 0)
    assert resumed_params.keys() == uninterrupted.keys()
    for name, value in resumed_params.items():
        assert torch.equal(value, uninterrupted[name]), name


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "config", "stage", "llm_mode"),
    [("sft", "fsdp", None, "lora"), ("grpo", "zero3", 3, "full")],
)
def test_the_other_llm_mode_on_sharded_ranks_saves_a_model_that_gives_the_logits(
    tmp_path, start_model, kind, config, stage, llm_mode
):
    """SFT with LoRA, and GRPO in full fine-tune with beta 0.04: TRL then loads a separate
    reference model from the starting model's folder (the saved CLIP + prosody model here) and
    shards it like the policy."""
    out = tmp_path / kind
    flags = [*(SFT if kind == "sft" else GRPO), "--llm_mode", llm_mode, "--lora_r", "4"]
    if kind == "grpo":
        flags += ["--model_name_or_path", str(start_model)]
    infos = _launch(config, kind, out, *flags)
    _assert_ranks_agree(out, infos, stage)
    lora = llm_mode == "lora"
    assert (out / "adapter_config.json").exists() == lora
    _assert_saved_model_gives_the_logits(tmp_path / f"{kind}-merged" if lora else out, out)


SAMPLES = ROOT / "affect_llm" / "resources" / "samples"


@pytest.fixture(scope="module")
def omni_and_clips(tmp_path_factory) -> tuple[Path, Path]:
    """The tiny Qwen2.5-Omni thinker saved as a checkpoint folder, and a build folder of the
    bundled clips (`affect-llm build folder`)."""
    from affect_llm.data.folder import build_folder
    from affect_llm.modeling.tiny_backbones import save_tiny_backbone

    root = tmp_path_factory.mktemp("omni")
    build_folder(SAMPLES, root / "clips", labels=SAMPLES / "labels.csv")
    return save_tiny_backbone("omni", root / "thinker"), root / "clips"


@pytest.mark.slow
def test_lora_grpo_with_kl_of_the_omni_thinker_on_zero3_ranks_equals_one_process(
    tmp_path, omni_and_clips
):
    """Video + audio GRPO (LoRA, beta 0.04, reference = adapters off) of the tiny Omni thinker on
    two ZeRO-3 ranks: the ranks agree, and the result is a one-process run's on the same global
    batch (completions fixed per row: dist_worker's `row_seeded_sampling`)."""
    thinker, clips = omni_and_clips
    flags = ["--model_name_or_path", str(thinker), "--dataset_paths", str(clips)]
    flags += ["--synthetic_samples", "0", "--video_max_pixels", "3136", "--video_max_frames", "8"]
    flags += ["--llm_mode", "lora", "--lora_r", "4", "--lora_dropout", "0", "--beta", "0.04"]
    flags += ["--max_steps", "2", "--save_strategy", "no", "--num_generations", "2"]
    flags += ["--max_completion_length", "3", "--rewards", "ew_f1", "text_length"]
    flags += ["--reward_weights", "1.0", "1.0", "--optim", "sgd", "--learning_rate", "0.5"]
    seeded = {"ROW_SEEDED_SAMPLING": "1"}
    out = tmp_path / "zero3"
    infos = _launch("zero3", "grpo", out, *flags, "--per_device_train_batch_size", "4", env=seeded)
    _assert_ranks_agree(out, infos, 3)
    assert (out / "adapter_config.json").exists()
    single = tmp_path / "single"
    one = ["--per_device_train_batch_size", "8"]
    _launch("single_process", "grpo", single, *flags, *one, processes=1, env=seeded)
    sharded, alone = _params(out, 0), _params(single, 0)
    assert sharded.keys() == alone.keys()
    lora_b = [name for name in alone if ".lora_B." in name]
    assert lora_b and max(alone[name].abs().max() for name in lora_b) > 1e-3  # it trained
    for name, value in alone.items():
        torch.testing.assert_close(sharded[name], value, **SFT_TOLERANCE, msg=name)


@pytest.mark.slow
def test_a_build_sharded_over_two_ranks_writes_the_bytes_of_a_one_process_build(tmp_path):
    build = ["build", "folder", str(SAMPLES), "--labels", str(SAMPLES / "labels.csv")]
    build += ["--frames", "2", "--face-size", "32"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    affect_llm = str(Path(sys.executable).with_name("affect-llm"))
    one = [affect_llm, *build, "--out", str(tmp_path / "one")]
    done = subprocess.run(one, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    launch = ["launch", "--config_file", str(ROOT / "recipes/accelerate/ddp.yaml")]
    launch += ["--num_processes", "2", "--mixed_precision", "no", "--main_process_port", "0"]
    two = [str(ACCELERATE), *launch, "-m", "affect_llm.cli", *build, "--out", str(tmp_path / "two")]
    done = subprocess.run(two, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    written = (tmp_path / "one" / "samples.jsonl").read_bytes()
    assert written.count(b"\n") == 4  # the four bundled clips
    assert (tmp_path / "two" / "samples.jsonl").read_bytes() == written
    # every clip was extracted into the shared cache (by the two ranks), then assembled
    assert len(list((tmp_path / "two" / "cache").rglob("*.safetensors"))) >= 4
