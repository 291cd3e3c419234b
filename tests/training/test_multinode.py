"""Two "nodes" on this machine: two launcher processes, machine rank 0 and 1, meeting over
loopback the way two hosts meet over the network (docs/training.md#multi-node). Each node runs one
gloo rank of the SFT recipe's run (tests/training/dist_worker.py); both ranks must end with the same
parameters, and the world must span both machines."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("dist_worker.py")
ACCELERATE = Path(sys.executable).with_name("accelerate")
RUN = ["--synthetic_samples", "16", "--num_face_tokens", "2", "--num_audio_tokens", "2"]
RUN += ["--tiny_hidden_size", "32", "--max_steps", "2", "--save_strategy", "no"]
RUN += ["--per_device_train_batch_size", "4", "--optim", "sgd", "--learning_rate", "0.1"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_two_nodes_over_loopback_train_and_agree(tmp_path):
    port, out = free_port(), tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    nodes = []
    for machine_rank in (0, 1):
        launch = ["launch", "--config_file", str(ROOT / "recipes/accelerate/cpu_2proc.yaml")]
        launch += ["--num_machines", "2", "--num_processes", "2"]
        launch += ["--machine_rank", str(machine_rank), "--main_process_ip", "127.0.0.1"]
        launch += ["--main_process_port", str(port)]
        recipe = ["--config", str(ROOT / "recipes/tiny/sft.yaml"), "--output_dir", str(out)]
        command = [str(ACCELERATE), *launch, str(WORKER), "sft", *recipe, *RUN]
        nodes.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = [node.communicate(timeout=500) for node in nodes]
    for node, (_, stderr) in zip(nodes, results, strict=True):
        assert node.returncode == 0, stderr[-4000:]
    report = Path(f"{out}-report")
    infos = [json.loads((report / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [info["world_size"] for info in infos] == [2, 2]
    assert {info["backend"] for info in infos} == {"gloo"}
    assert [info["global_step"] for info in infos] == [2, 2]
    first, second = (load_file(report / f"rank{rank}.safetensors") for rank in (0, 1))
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name
    assert (out / "config.json").is_file()  # the model was gathered and saved once
