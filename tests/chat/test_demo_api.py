"""The demo's event handlers over HTTP (gradio_client), on the bundled tiny model, in-process."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from chat_helpers import CLIP, free_port, no_face_clip

from affect_llm.chat.app import build_demo
from affect_llm.chat.session import ChatConfig, ChatEngine

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def demo_url():
    """The demo as `affect-llm demo` starts it without --model (bundled tiny model, sampling)."""
    demo = build_demo(ChatEngine(ChatConfig(max_new_tokens=12)))
    port = free_port()
    demo.queue().launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
    )
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def _client(url: str):
    return gradio_client.Client(url, verbose=False, download_files=False)


def _page_after(job) -> list:
    """What the page shows when a streaming job ends: each output's last value that was sent."""
    job.result()
    page: list = []
    for update in job.outputs():
        update = list(update)
        page = page or [None] * len(update)
        for index, value in enumerate(update):
            if not (isinstance(value, dict) and value.get("__type__") == "update"):
                page[index] = value
    return page


def _analyse(client, clip: Path) -> dict:
    names = (
        "status",
        "faces",
        "aus",
        "wave",
        "reasoning",
        "answer",
        "labels",
        "wheel",
        "chat",
        "prompt",
    )
    job = client.submit(gradio_client.handle_file(str(clip)), "", "wheel1", api_name="/analyse")
    return dict(zip(names, _page_after(job)))


def _follow_up(client, question: str, history: list) -> list:
    return _page_after(client.submit(question, history, "wheel1", api_name="/follow_up"))[1]


def test_clip_without_face_gets_a_message_plots_and_an_answer(demo_url, tmp_path):
    shown = _analyse(_client(demo_url), no_face_clip(tmp_path / "scenery.mp4"))
    assert "No face in this clip" in shown["status"]
    assert "rests on the voice" in shown["status"]
    for picture in ("faces", "aus", "wave", "wheel"):
        assert shown[picture] is not None, picture
    assert [m["role"] for m in shown["chat"]] == ["user", "assistant"]
    assert "<|face|>" not in shown["prompt"] and "<|audio|>" in shown["prompt"]


def test_corrupt_file_gives_a_message_and_the_next_clip_works(demo_url, tmp_path):
    client = _client(demo_url)
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(b"\x1a\x45\xdf\xa3" + b"\x00garbage" * 500)
    shown = _analyse(client, corrupt)
    assert "Could not read broken.mp4" in shown["status"]
    assert shown["chat"] == [] and shown["faces"] is None
    shown = _analyse(client, CLIP)
    assert "face and voice found" in shown["status"]
    assert "Facial action units:" in shown["prompt"]


def test_follow_up_needs_a_clip_then_continues_the_conversation(demo_url):
    client = _client(demo_url)
    chat = _follow_up(client, "How does she feel?", [])
    assert "Analyse a clip first" in str(chat[-1]["content"])
    shown = _analyse(client, CLIP)
    chat = _follow_up(client, "Why?", shown["chat"])
    assert [m["role"] for m in chat] == ["user", "assistant"] * 2
    assert "Why?" in str(chat[2]["content"])


def test_answer_streams_to_the_page_piece_by_piece(demo_url):
    client = _client(demo_url)
    job = client.submit(gradio_client.handle_file(str(CLIP)), "", "wheel1", api_name="/analyse")
    job.result()
    chat_index = 8
    answers = [
        update[chat_index][-1]["content"]
        for update in job.outputs()
        if isinstance(update[chat_index], list) and len(update[chat_index]) == 2
    ]
    texts = [str(a[0]["text"] if isinstance(a, list) else a) for a in answers]
    assert len(set(texts)) >= 3  # the reply grew over several updates
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(texts))
