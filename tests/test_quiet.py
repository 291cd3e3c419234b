"""What our commands print is ours: library warnings and log lines a user cannot act on are dropped
where a command or recipe starts (`quiet_third_party`), and our own code calls transformers'
current checkpointing names, so nothing of ours hides behind those filters."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from affect_llm.native_logs import QUIET_WARNINGS

ROOT = Path(__file__).resolve().parents[1]

# What a training command does before its first step: a recipe builds TRL's config, whose default
# sets the `gradient_checkpointing` name transformers deprecated, and accelerate's launcher imports
# DeepSpeed for a ZeRO config ("Setting accelerator to CPU" on a CPU machine). Run once loud (the
# test sees the warning it claims to drop), then after `quiet_third_party`.
LIBRARY_STEPS = """
import importlib.util, sys, warnings
warnings.simplefilter("always")  # every warning shows; pytest's filters stay out
from trl import SFTConfig
SFTConfig(output_dir={out!r}, report_to=[], use_cpu=True)
sys.stderr.write("quiet from here\\n")
from affect_llm.native_logs import quiet_third_party
quiet_third_party()
if importlib.util.find_spec("deepspeed"):
    import deepspeed
SFTConfig(output_dir={out!r}, report_to=[], use_cpu=True)
"""


@pytest.mark.slow
def test_a_started_command_prints_nothing_of_the_libraries(tmp_path):
    code = LIBRARY_STEPS.format(out=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loud, quiet = done.stderr.split("quiet from here\n")
    assert "`gradient_checkpointing` is deprecated" in loud
    assert quiet == "" and done.stdout == ""


def test_pytest_filters_the_warnings_the_commands_drop(pytestconfig):
    """pyproject's filterwarnings and native_logs.QUIET_WARNINGS name the same warnings."""
    filters = pytestconfig.getini("filterwarnings")
    for message, category, module in QUIET_WARNINGS:
        assert f"ignore:{message}:{category.__name__}:{module}" in filters


def test_lora_with_activation_checkpointing_uses_the_current_names():
    from affect_llm.modeling.tiny import tiny_model_and_processor
    from affect_llm.modeling.training_modes import add_lora

    model, _ = tiny_model_and_processor("au", "prosody")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        peft_model = add_lora(model, r=4, alpha=8, gradient_checkpointing=True)
    assert peft_model.base_model.model.is_activation_checkpointing
    ours = [str(w.message) for w in caught if "gradient_checkpointing_enable" in str(w.message)]
    assert ours == []


def test_a_launch_drops_what_deepspeed_prints_in_each_rank_and_keeps_the_ranks_lines():
    """The ranks inherit the launcher's stdout: DeepSpeed's print() of its CPU communication op
    goes, the recipe's own lines stay, in order."""
    rank = (
        "print('training rows: 8'); "
        "print('DeepSpeed deepspeed.ops.comm.deepspeed_shm_comm_op built successfully'); "
        "print('step 1: loss 8.171')"
    )
    code = (
        "import subprocess, sys\n"
        "from affect_llm.native_logs import filtered_stdout\n"
        "with filtered_stdout():\n"
        f"    subprocess.run([sys.executable, '-c', {rank!r}], check=True)\n"
        "print('after')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "training rows: 8\nstep 1: loss 8.171\nafter\n"


@pytest.mark.slow
def test_the_readme_tiny_backbone_command_prints_only_its_folder(tmp_path):
    """`python -m affect_llm.modeling.tiny_backbones` runs outside the affect-llm entry; saving the
    checkpoint printed DeepSpeed's "Setting accelerator to CPU" line."""
    out = tmp_path / "tiny-audio"
    done = subprocess.run(
        [sys.executable, "-m", "affect_llm.modeling.tiny_backbones", "audio", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == str(out)
    lines = [
        line for line in done.stderr.splitlines() if line.strip() and "model shards" not in line
    ]
    assert lines == [], done.stderr[-3000:]
