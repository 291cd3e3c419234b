"""Recipe YAMLs parse into the config dataclasses; the tiny recipes run under accelerate launch,
flags override the YAML, and a killed run resumes from its last checkpoint."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from trl import GRPOConfig, SFTConfig, TrlParser

from affect_llm.rewards import REWARDS
from affect_llm.training.config import AffectDataConfig, AffectModelConfig, AffectRewardConfig
from affect_llm.training.trainers import build_rewards

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "recipes"
BACKBONES = ("qwen2.5-omni-7b", "qwen2.5-vl-7b", "qwen2-audio-7b")
TINY_BACKBONES = ("tiny-omni", "tiny-vl", "tiny-audio")
MODELS = ("tiny", "own_data", "qwen2.5-7b", "llama-3.1-8b", *BACKBONES, *TINY_BACKBONES)
CPU_RECIPES = ("tiny", "own_data", *TINY_BACKBONES)
ACCELERATE = Path(sys.executable).with_name("accelerate")


def _parse(kind: str, path: Path, *flags: str):
    types = (AffectModelConfig, AffectDataConfig, SFTConfig)
    if kind == "grpo":
        types = (AffectModelConfig, AffectDataConfig, AffectRewardConfig, GRPOConfig)
    # bf16 recipes are for GPUs; use_cpu lets their TrainingArguments validate here
    return TrlParser(types).parse_args_and_config(
        ["--config", str(path), "--use_cpu", "true", *flags]
    )


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("kind", ["sft", "grpo"])
def test_every_recipe_yaml_parses_and_names_its_launch_command(model, kind):
    path = RECIPES / model / f"{kind}.yaml"
    first_line = path.read_text().splitlines()[0]
    assert first_line.startswith(f"# affect-llm {kind} --config recipes/{model}/{kind}.yaml")
    configs = _parse(kind, path, "--max_steps", "3", "--output_dir", "elsewhere")
    model_config, args = configs[0], configs[-1]
    assert args.max_steps == 3 and args.output_dir == "elsewhere"  # flags beat the YAML
    if model in BACKBONES:  # pretrained omni / VL / audio checkpoints: LoRA, bf16, memory noted
        assert args.bf16 and model_config.llm_mode == "lora"
        assert "zero3.yaml" in first_line and "Memory (estimate" in path.read_text()
        assert model_config.model_name_or_path.startswith(("Qwen/", "runs/"))
    elif model not in CPU_RECIPES:
        assert args.bf16 and model_config.llm_mode == "lora"
        assert model_config.face_encoder.split("/")[0] in ("openai", "google")
        assert model_config.audio_encoder.split("/")[0] in ("openai", "facebook")
    if kind == "grpo":
        rewards = build_rewards(configs[2])
        assert len(rewards) == len(args.reward_weights)
        assert all(spec.split(":")[0] in REWARDS for spec in configs[2].rewards)


def test_accelerate_loads_every_config_as_the_setup_its_name_promises():
    """A mistyped key or value fails here, not on a user's cluster (accelerate refuses unknown
    keys); the DDP and ZeRO configs are also launched for real in test_distributed.py."""
    from accelerate.commands.config.config_args import load_config_from_file

    expected = {
        "single_process": "NO",
        "cpu_2proc": "MULTI_GPU",
        "ddp": "MULTI_GPU",
        "fsdp": "FSDP",
        "zero2": "DEEPSPEED",
        "zero3": "DEEPSPEED",
        "zero3_offload": "DEEPSPEED",
    }
    loaded = {
        path.stem: load_config_from_file(str(path))
        for path in sorted((RECIPES / "accelerate").glob("*.yaml"))
    }
    assert {name: c.distributed_type.value for name, c in loaded.items()} == expected
    stages = {name: loaded[name].deepspeed_config["zero_stage"] for name in ("zero2", "zero3")}
    assert stages == {"zero2": 2, "zero3": 3}
    assert loaded["zero3_offload"].deepspeed_config["offload_param_device"] == "cpu"


def _launch(script: str, config: str, out: Path, *flags: str, wait: bool = True):
    command = [
        str(ACCELERATE),
        "launch",
        "--num_processes",
        "1",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        str(RECIPES / script),
        "--config",
        str(RECIPES / config),
        "--output_dir",
        str(out),
        "--synthetic_samples",
        "16",
        *flags,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    if not wait:  # its own process group: killing it must kill the training child too
        return subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return done


@pytest.mark.slow
def test_tiny_sft_then_grpo_recipes_run_and_save_loadable_models(tmp_path):
    from affect_llm.modeling import AffectLLMForConditionalGeneration, AffectLLMProcessor

    sft = tmp_path / "sft"
    _launch(
        "sft.py",
        "tiny/sft.yaml",
        sft,
        "--max_steps",
        "2",
        "--per_device_train_batch_size",
        "4",
        "--llm_mode",
        "lora",
        "--lora_r",
        "4",
    )
    assert (sft / "adapter_config.json").exists()  # the adapter, and next to it the merged model:
    merged = tmp_path / "sft-merged"
    assert not (merged / "adapter_config.json").exists()
    AffectLLMForConditionalGeneration.from_pretrained(merged)
    AffectLLMProcessor.from_pretrained(merged)
    grpo = tmp_path / "grpo"
    _launch(
        "grpo.py",
        "tiny/grpo.yaml",
        grpo,
        "--max_steps",
        "2",
        "--model_name_or_path",
        str(merged),
        "--per_device_train_batch_size",
        "8",
        "--num_generations",
        "4",
        "--rewards",
        "ew_f1",
        "format",
        "--reward_weights",
        "1.0",
        "0.2",
    )
    AffectLLMForConditionalGeneration.from_pretrained(grpo)
    state = json.loads((grpo / "checkpoint-2" / "trainer_state.json").read_text())
    logged = {k for entry in state["log_history"] for k in entry}
    assert {"rewards/ew_f1/mean", "rewards/format/mean"} <= logged


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_last_checkpoint_and_ends_at_the_same_step(tmp_path):
    out = tmp_path / "run"
    # 40 steps: room to kill it after checkpoint-2 however fast the steps are
    flags = ("--max_steps", "40", "--save_steps", "2", "--per_device_train_batch_size", "4")
    process = _launch("sft.py", "tiny/sft.yaml", out, *flags, wait=False)
    deadline = time.time() + 240
    while not (out / "checkpoint-2" / "trainer_state.json").exists():
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        assert time.time() < deadline
        time.sleep(0.05)
    time.sleep(0.5)  # let checkpoint-2 finish writing
    os.killpg(process.pid, signal.SIGKILL)  # accelerate's launcher and the training process
    process.wait()
    process.stderr.close()
    assert not (out / "checkpoint-40").exists(), "the run finished before it could be killed"
    _launch("sft.py", "tiny/sft.yaml", out, *flags, "--resume_from_checkpoint", "last")
    state = json.loads((out / "checkpoint-40" / "trainer_state.json").read_text())
    assert state["global_step"] == 40
    steps = [e["step"] for e in state["log_history"] if "loss" in e]
    assert steps == sorted(set(steps))  # no step trained twice in the log


def test_resuming_from_last_skips_a_checkpoint_killed_while_saving(tmp_path):
    from affect_llm.training.trainers import resolve_checkpoint

    assert resolve_checkpoint("last", str(tmp_path / "missing")) is None
    for step, complete in [(2, True), (4, True), (10, False)]:
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        if complete:
            (folder / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-x").mkdir()
    assert resolve_checkpoint("last", str(tmp_path)) == str(tmp_path / "checkpoint-4")
    assert resolve_checkpoint("some/path", str(tmp_path)) == "some/path"
    assert resolve_checkpoint("false", str(tmp_path)) is None


def _own_data_yaml(tmp_path: Path, kind: str, **changes) -> Path:
    config = yaml.safe_load((RECIPES / "own_data" / f"{kind}.yaml").read_text())
    config.update(changes)
    path = tmp_path / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _recipe_error(kind: str, path: Path, *flags: str) -> str:
    from affect_llm.errors import InputError
    from affect_llm.training.config import parse_recipe_args

    types = (AffectModelConfig, AffectDataConfig, SFTConfig)
    if kind == "grpo":
        types = (AffectModelConfig, AffectDataConfig, AffectRewardConfig, GRPOConfig)
    with pytest.raises(InputError) as caught:
        parse_recipe_args(types, ["--config", str(path), *flags])
    return str(caught.value)


def test_unknown_yaml_key_names_the_file_and_the_closest_key(tmp_path):
    path = _own_data_yaml(tmp_path, "sft", synthetic_sample=0)
    message = _recipe_error("sft", path)
    assert message.startswith(f"{path}: unknown key 'synthetic_sample'")
    assert "(did you mean 'synthetic_samples'?)" in message
    path = _own_data_yaml(tmp_path, "grpo", max_completion_lenght=64)
    assert "did you mean 'max_completion_length'?" in _recipe_error("grpo", path)


def test_config_values_are_checked_before_anything_is_built(tmp_path):
    path = _own_data_yaml(tmp_path, "sft", task="opneset")
    assert _recipe_error("sft", path) == (
        "task 'opneset' is not a task (did you mean 'openset'?); "
        "choose one of openset, reason, onehot, sentiment"
    )
    path = _own_data_yaml(tmp_path, "sft", model_name_or_path=str(tmp_path))
    assert f"model_name_or_path {tmp_path}: folder has no config.json" in _recipe_error("sft", path)
    path = _own_data_yaml(tmp_path, "sft", dataset_paths=[str(tmp_path / "nothing")])
    assert "nothing has no samples.jsonl" in _recipe_error("sft", path)
    path = _own_data_yaml(tmp_path, "sft", cues=["subtitles"])
    assert "did you mean 'subtitle'?" in _recipe_error("sft", path)


@pytest.mark.slow
def test_a_recipe_user_error_is_one_line_exit_2(tmp_path):
    path = _own_data_yaml(tmp_path, "sft", synthetic_sample=0)
    command = [sys.executable, str(RECIPES / "sft.py"), "--config", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: {path}: unknown key 'synthetic_sample' (did you mean 'synthetic_samples'?); "
        "the keys are the fields of the recipe's configs (see `--help`)"
    ]


def _build_folder(tmp_path: Path, labels: list[str]) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    modalities = {"face": True, "aus": True, "audio": True}
    lines = []
    for i, label in enumerate(labels):
        sample = {"id": f"clip{i}", "label": label, "openset": [label], "split": "train"}
        lines.append(json.dumps({**sample, "task": "openset", "modalities": modalities}))
    (folder / "samples.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def test_candidates_covering_none_of_the_labels_and_rows_all_dropped_are_errors(tmp_path):
    from types import SimpleNamespace

    from affect_llm.errors import InputError
    from affect_llm.training.data_loading import load_training_data

    folder = _build_folder(tmp_path, ["worried", "neutral", "worried"])
    processor = SimpleNamespace(face_encoder_type="au")
    config = AffectDataConfig(
        dataset_paths=[str(folder)], task="onehot", candidates=["happy", "sad"], synthetic_samples=8
    )
    with pytest.raises(InputError, match=r"candidates \[happy, sad\] cover none of the labels in "):
        load_training_data(config, processor)
    config = AffectDataConfig(dataset_paths=[str(folder)], task="onehot", synthetic_samples=8)
    with pytest.raises(InputError) as caught:
        load_training_data(config, processor)
    assert str(caught.value) == (
        f"dataset_paths: no training rows from {folder} "
        "(3 one-hot task needs a label among its candidates: clip0, clip1, clip2)"
    )
    config = AffectDataConfig(dataset_paths=[str(folder)], task="openset", synthetic_samples=8)
    _, _, report = load_training_data(config, processor)
    assert [(s.source, s.rows) for s in report.sources] == [(str(folder), 3), ("synthetic", 8)]
    assert report.modalities == {"face": 11, "audio": 11}


def test_a_completion_length_too_short_for_every_answer_is_an_error():
    from affect_llm.errors import InputError
    from affect_llm.modeling.tiny import load_tiny_tokenizer
    from affect_llm.training.data_loading import check_completion_length

    tokenizer = load_tiny_tokenizer()
    answer = "<think>Her brows are drawn together.</think>\n<answer>worried</answer>"
    rows = [{"completion": [{"role": "assistant", "content": answer}]}]
    with pytest.raises(InputError, match="max_completion_length 4 is shorter than every target"):
        check_completion_length(rows, tokenizer, 4)
    assert check_completion_length(rows, tokenizer, 200) is None


def test_grpo_answer_rewards_on_targets_without_an_answer_block_are_refused():
    from affect_llm.data.templates import render
    from affect_llm.errors import InputError
    from affect_llm.training.data_loading import check_answer_blocks

    row = {"id": "clip0", "label": "happy", "openset": ["happy"], "candidates": ["happy", "sad"]}

    def rows(task):
        return [
            {"id": row["id"], "completion": [{"role": "assistant", "content": answer}]}
            for answer in [render(row, task).answer]
        ]

    rewards = build_rewards(AffectRewardConfig(rewards=["format", "ew_f1"]))
    with pytest.raises(InputError) as caught:
        check_answer_blocks(rows("openset"), rewards)
    assert str(caught.value) == (
        "1 of 1 target answers have no <answer> block (first: clip0, \"The character's "
        'emotional state is happy."), but the ew_f1 reward reads only that block and would '
        "score them 0; use task onehot or reason, whose targets are <answer>...</answer>"
    )
    for task in ("onehot", "reason"):
        check_answer_blocks(rows(task), rewards)
    thinking = build_rewards(AffectRewardConfig(rewards=["format", "ew_f1:source=think"]))
    check_answer_blocks(rows("openset"), thinking)  # no reward reads the answer block


def test_grpo_full_fine_tune_with_kl_needs_a_saved_start_model(tmp_path):
    from affect_llm.errors import InputError
    from affect_llm.modeling.tiny import tiny_model_and_processor
    from affect_llm.modeling.training_modes import add_lora
    from affect_llm.training.trainers import check_reference_model

    model, _ = tiny_model_and_processor("au", "prosody", num_tokens=2, hidden_size=32)
    # TRL reloads the reference from config._name_or_path, which a model built in memory lacks
    with pytest.raises(InputError, match=r"beta 0\.04 with a full fine-tune needs a reference"):
        check_reference_model(model, 0.04)
    check_reference_model(model, 0.0)  # no reference pass at all
    model.save_pretrained(tmp_path)
    check_reference_model(type(model).from_pretrained(tmp_path), 0.04)
    check_reference_model(add_lora(model, r=2), 0.04)  # reference: the adapters-off model


def test_training_log_lines_are_short():
    from affect_llm.training.console import done_line, short_line

    logs = {"loss": 8.7312, "grad_norm": 1.3, "learning_rate": 0.001, "entropy": 8.99}
    logs |= {"rewards/ew_f1/mean": 0.2310, "completions/clipped_ratio": 1.0, "epoch": 5.0}
    assert short_line(5, logs) == "step 5: loss 8.731, ew_f1 0.231, clipped 1, lr 0.001"
    metrics = {"train_runtime": 11.55, "train_loss": 7.8334, "epoch": 20.0}
    line = done_line("SFT", metrics, "runs/own-sft")
    assert line == "SFT done in 12 s, mean loss 7.833 -> runs/own-sft"


def test_a_misspelt_reward_in_a_recipe_is_one_line_naming_the_closest():
    from affect_llm.errors import InputError

    with pytest.raises(InputError) as caught:
        build_rewards(AffectRewardConfig(rewards=["format", "ew_f2"]))
    assert str(caught.value).startswith("rewards: unknown reward 'ew_f2' (did you mean 'ew_f1'?)")
    with pytest.raises(InputError, match="parameters are key=value, got 'level'"):
        build_rewards(AffectRewardConfig(rewards=["ew_f1:level"]))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("ew_f1:levl=level1", "ew_f1 has no parameter 'levl' (did you mean 'level'?)"),
        ("ew_f1:level=level3", "level must be one of mean, level1, level2, got 'level3'"),
        ("au_grounding:beta=high", "beta must be a float, got 'high'"),
        ("au_grounding:beta=-1", "beta must be positive"),
        ("format:source=think", "format has no parameter 'source'; its parameters: none"),
    ],
)
def test_a_bad_reward_parameter_is_one_line_naming_it(spec, message):
    from affect_llm.errors import InputError

    with pytest.raises(InputError, match=re.escape(message)):
        build_rewards(AffectRewardConfig(rewards=[spec]))


def test_reward_parameters_in_a_recipe_are_read_as_their_types():
    beta2, ratio = build_rewards(
        AffectRewardConfig(rewards=["au_grounding:beta=2", "length_penalty:mode=ratio"])
    )
    assert (beta2.__name__, ratio.__name__) == ("au_grounding_beta2", "length_penalty_ratio")
    # 3 answer labels against 2 ground-truth labels: ratio g/p = 2/3
    completion = "<think>x</think><answer>happy, sad, angry</answer>"
    assert ratio(None, [completion], openset=["[happy, sad]"]) == [pytest.approx(2 / 3)]
