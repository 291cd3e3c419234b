"""The README's tiny training path learns: SFT, then GRPO from the SFT output moves the weights and
raises the reward (from a random model GRPO had no signal: every reward 0, no weight moved).

The two commands are read from the README's "Training" block and run as written from a copy of the
checkout's recipes/, so the documented order and the YAMLs cannot drift from a path that learns.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[2]


def tiny_commands() -> list[str]:
    """The tiny-recipe command lines of the README's training block, continuations joined."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Training: cold-start SFT, then emotion-wheel GRPO\n", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    lines = re.sub(r"\\\n\s*", " ", block).splitlines()
    return [line.split("  #")[0].strip() for line in lines if "recipes/tiny/" in line]


@pytest.mark.slow
def test_tiny_sft_then_grpo_as_documented_moves_the_weights_and_raises_the_reward(tmp_path):
    shutil.copytree(ROOT / "recipes", tmp_path / "recipes")
    tiny = tiny_commands()
    assert [shlex.split(c)[-1].split("/")[-1] for c in tiny] == ["sft.yaml", "grpo.yaml"]
    outputs = []
    for line in tiny:
        argv = shlex.split(line)
        argv[0] = str(Path(sys.executable).with_name("affect-llm"))
        env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
        done = subprocess.run(
            argv, cwd=tmp_path, capture_output=True, text=True, timeout=1500, env=env
        )
        assert done.returncode == 0, (line, done.stderr[-3000:])
        outputs.append(done.stdout)
    assert "no learning signal" not in outputs[1]
    sft = load_file(tmp_path / "runs/tiny-sft/model.safetensors")
    grpo = load_file(tmp_path / "runs/tiny-grpo/model.safetensors")
    moved = [name for name in sft if not torch.equal(sft[name], grpo[name])]
    assert moved, "GRPO from the SFT output left every weight as it was"
    state = json.loads((tmp_path / "runs/tiny-grpo/checkpoint-30/trainer_state.json").read_text())
    rewards = [entry["reward"] for entry in state["log_history"] if "reward" in entry]
    assert len(rewards) == 30
    assert sum(rewards[-10:]) / 10 > sum(rewards[:10]) / 10, rewards
