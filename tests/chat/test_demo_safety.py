"""The demo's limits on what a browser may send: size, duration, URLs, and uploads that are removed."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from chat_helpers import CLIP

from affect_llm.chat import app
from affect_llm.commands import demo

gr = pytest.importorskip("gradio")


@pytest.fixture
def handlers():
    page = app.Page(*[f"component-{i}" for i in range(12)])
    return app.DemoHandlers(engine=None, page=page)


@pytest.fixture
def upload(tmp_path):
    """A clip as Gradio stores an upload: a copy outside the bundled samples."""
    return str(shutil.copy(CLIP, tmp_path / "upload.mp4"))


def test_too_long_or_too_large_uploads_are_refused_and_deleted(handlers, upload, monkeypatch):
    assert handlers.check_upload(upload) is None
    monkeypatch.setattr(app, "MAX_CLIP_SECONDS", 1)
    assert "the demo reads clips up to 1 s" in handlers.check_upload(upload)
    monkeypatch.setattr(app, "MAX_UPLOAD_MB", 0)
    assert "larger than 0 MB" in handlers.check_upload(upload)
    updates = list(handlers.analyse(upload, "", "wheel1", SimpleNamespace(session_hash="s")))
    assert "larger than 0 MB" in updates[-1][handlers.page.status]
    assert not Path(upload).exists()  # a refused upload is not kept
    bundled = str(app.SAMPLES_DIR / "hopper_happy.mp4")
    assert handlers.check_upload(bundled) is None  # the bundled clips are ours


def test_uploads_are_deleted_when_the_tab_closes_and_when_the_server_stops(handlers, tmp_path):
    clips = [shutil.copy(CLIP, tmp_path / f"{name}.mp4") for name in ("a", "b", "c")]
    handlers.remember_upload(str(clips[0]), SimpleNamespace(session_hash="tab1"))
    handlers.remember_upload(str(clips[1]), SimpleNamespace(session_hash="tab2"))
    handlers.remember_upload(str(clips[2]), SimpleNamespace(session_hash="tab2"))
    handlers.forget_session(SimpleNamespace(session_hash="tab1"))
    assert [clip.exists() for clip in clips] == [False, True, True]
    handlers.forget_all()
    assert [clip.exists() for clip in clips] == [False, False, False]


def test_the_server_never_fetches_a_url_sent_for_the_clip():
    video = app.refuse_urls(gr, gr.Video(sources=["upload"]))
    with pytest.raises(gr.Error, match="does not fetch URLs"):
        video.move_resource_to_block_cache("http://example.com/clip.mp4")


def test_the_demo_serves_this_machine_only_by_default():
    assert demo.parse([]).host == "127.0.0.1"
