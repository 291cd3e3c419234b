"""Nothing in the toolkit opens a network connection the user did not ask for (audited sockets)."""

import os
import subprocess
import sys

import pytest

AUDITED = """
import sys
attempts = []

def audit(event, args):
    if event in ("socket.getaddrinfo", "socket.connect"):
        attempts.append(f"{event} {args[0] if event == 'socket.getaddrinfo' else args[1]}")
        raise OSError("network blocked by the test")

sys.addaudithook(audit)

import affect_llm  # noqa: F401  (what every entry point imports first)
from trl import GRPOConfig
from affect_llm.training.config import AffectDataConfig, AffectModelConfig, AffectRewardConfig
from affect_llm.training.trainers import build_grpo_trainer

args = GRPOConfig(output_dir=sys.argv[1], max_steps=1, per_device_train_batch_size=4,
                  num_generations=4, max_completion_length=2, report_to=[], use_cpu=True,
                  bf16=False, save_strategy="no", disable_tqdm=True)
model = AffectModelConfig(num_face_tokens=2, num_audio_tokens=2)
build_grpo_trainer(model, AffectDataConfig(synthetic_samples=4), AffectRewardConfig(rewards=["format"]), args)
import threading, time
# pings would go out from background threads: give them time to try
deadline = time.monotonic() + 3
for thread in threading.enumerate():
    if thread is not threading.main_thread():
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
print("ATTEMPTS", attempts)
"""


@pytest.mark.slow  # a fresh interpreter that imports torch, transformers and TRL
def test_building_a_trainer_opens_no_connection(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HF_HUB_DISABLE_TELEMETRY", "HF_HUB_OFFLINE", "DO_NOT_TRACK", "CI")
    }
    done = subprocess.run(
        [sys.executable, "-c", AUDITED, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ATTEMPTS []" in done.stdout, done.stdout


def test_a_users_explicit_setting_wins(monkeypatch):
    from affect_llm.telemetry import disable_telemetry

    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "0")
    monkeypatch.delenv("GRADIO_ANALYTICS_ENABLED", raising=False)
    disable_telemetry()
    assert os.environ["HF_HUB_DISABLE_TELEMETRY"] == "0"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
