"""Helpers for the chat tests: a tiny checkpoint trained (for real, a few dozen AdamW steps) to give
one known answer about one bundled clip, so the demo's reasoning, labels and wheel can be checked
against known text; free ports and a quiet environment for the CLI."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import torch

from affect_llm.chat.app import SAMPLES_DIR
from affect_llm.chat.session import ChatEngine, default_question

CLIP = SAMPLES_DIR / "hopper_happy.mp4"
KNOWN_REASONING = "The lip corners rise and the cheeks lift, and the voice sounds bright."
KNOWN_LABELS = ("happy", "excited")
KNOWN_REPLY = f"<think>{KNOWN_REASONING}</think>\n<answer>{', '.join(KNOWN_LABELS)}</answer>"
QUIET_ENV = {
    "GLOG_minloglevel": "2",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "OMP_NUM_THREADS": "1",  # the tiny model runs faster on one thread than on contended two
}


def train_known_answer(engine: ChatEngine, clip: Path, reply: str, out: Path) -> Path:
    """Fit the engine's model to answer the demo's first question about `clip` with `reply`."""
    from affect_llm.training.collators import AffectLLMDataCollator

    conversation = engine.open_clip(clip)
    prompt, _ = engine.prompt_text(conversation, default_question())
    row = {"prompt": prompt, "completion": reply, **engine.media(conversation.clip)}
    batch = AffectLLMDataCollator(engine.processor)([row])
    model = engine.model
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model on a shared machine: more threads only contend
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    torch.manual_seed(0)
    for _ in range(300):
        loss = model(**batch).loss
        if loss.item() < 0.02:
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.set_num_threads(threads)
    model.eval()
    assert loss.item() < 0.05, f"tiny model did not learn the known answer (loss {loss.item():.3f})"
    model.save_pretrained(out)
    engine.processor.save_pretrained(out)
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_env() -> dict[str, str]:
    return {**os.environ, **QUIET_ENV, "PYTHONUNBUFFERED": "1"}


def media_fixtures():
    """The perception tests' clip writers (PyAV only), shared rather than copied."""
    import media_fixtures  # tests/perception is on pytest's `pythonpath`

    return media_fixtures


def no_face_clip(path: Path) -> Path:
    """Two seconds of gradients (no face) with a voiced tone."""
    media = media_fixtures()
    return media.write_clip(path, media.no_face_frames(20), fps=10, audio=media.tone(2.0))


def silent_film(path: Path) -> Path:
    """A face clip with no audio track."""
    media = media_fixtures()
    return media.write_clip(path, media.hopper_frames(20), fps=10)
