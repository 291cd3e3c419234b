"""The web demo driven in headless Chromium: upload a bundled clip, see reasoning, labels and plots.

The demo runs `affect-llm demo --model DIR` on 127.0.0.1 with a tiny checkpoint trained to give a
known answer about the clip, so the page can be checked against known text.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from chat_helpers import CLIP, KNOWN_LABELS, KNOWN_REASONING, cli_env, free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (scripts/setup.sh)"),
]
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ANSWER_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def demo_url(known_checkpoint, tmp_path_factory):
    """`affect-llm demo` serving the known-answer checkpoint on a free local port."""
    port = free_port()
    log = tmp_path_factory.mktemp("demo") / "server.log"
    command = [
        sys.executable,
        "-m",
        "affect_llm.cli",
        "demo",
        "--model",
        str(known_checkpoint),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--temperature",
        "0",
        "--max-new-tokens",
        "48",
    ]
    with log.open("w") as handle:
        server = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=cli_env())
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    pytest.fail(f"demo did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield url
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def page(demo_url, tmp_path_factory):
    playwright_api = pytest.importorskip("playwright.sync_api")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        page = browser.new_page()
        page.goto(demo_url)
        page.wait_for_selector("#analyse", timeout=60_000)
        yield page
        browser.close()


def _textbox(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} textarea").first.input_value()


def _analyse(page, clip: Path) -> None:
    clear = page.locator("#clip button[aria-label=Clear]")
    if clear.count():
        clear.first.click()  # the upload box comes back once the previous clip is cleared
    page.locator("#clip input[type=file]").set_input_files(str(clip))
    page.locator("#analyse").click()


def _shown_image_sizes(page, elem_id: str) -> tuple[int, int]:
    image = page.locator(f"#{elem_id} img").first
    image.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    return image.evaluate("img => [img.naturalWidth, img.naturalHeight]")


def test_upload_shows_reasoning_labels_and_plots(page, tmp_path):
    _analyse(page, CLIP)
    page.wait_for_function(
        "() => (document.querySelector('#answer textarea') || {}).value?.includes('happy')",
        timeout=ANSWER_TIMEOUT_MS,
    )
    assert _textbox(page, "reasoning") == KNOWN_REASONING
    assert _textbox(page, "answer") == ", ".join(KNOWN_LABELS)
    labels = page.locator("#labels").inner_text()
    for label in KNOWN_LABELS:
        assert label in labels
    assert "joyful" in labels  # level-2 node of "happy" on wheel1
    for elem_id in ("face-strip", "au-timeline", "waveform", "wheel-picture"):
        width, height = _shown_image_sizes(page, elem_id)
        assert width > 300 and height > 100, elem_id
    assert "lip corners rise" in page.locator("#chat").inner_text()
    assert "face and voice found" in page.locator("#status").inner_text()
    page.screenshot(path=str(tmp_path / "demo.png"), full_page=True)
    assert (tmp_path / "demo.png").stat().st_size > 50_000
    page.get_by_text("Prompt sent to the model").click()
    prompt = _textbox(page, "prompt")
    assert "Facial action units:" in prompt and "Voice:" in prompt

    page.locator("#question textarea").fill("Why do you think so?")
    page.locator("#ask").click()
    page.wait_for_function(
        "() => { const bots = document.querySelectorAll('#chat [data-testid=bot]');"
        " return bots.length === 2 && bots[1].innerText.trim().length > 0; }",
        timeout=ANSWER_TIMEOUT_MS,
    )
    assert "Why do you think so?" in page.locator("#chat [data-testid=user]").nth(1).inner_text()
    page.wait_for_timeout(1000)  # let the last streamed piece render
    page.screenshot(path=str(tmp_path / "demo_follow_up.png"), full_page=True)


def test_corrupt_upload_shows_message_and_app_keeps_serving(page, tmp_path):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    _analyse(page, corrupt)
    page.wait_for_function(
        "() => (document.querySelector('#status')?.innerText || '').includes('Could not read')",
        timeout=ANSWER_TIMEOUT_MS,
    )
    assert "corrupt.mp4" in page.locator("#status").inner_text()
    assert _textbox(page, "answer") == ""  # the previous clip's answer is gone
    # Still serving: pick a bundled clip from the list this time, and get an answer.
    page.locator("#sample input").click()
    page.get_by_role("option", name=CLIP.name).click()
    page.locator("#clip video").first.wait_for(timeout=30_000)
    page.locator("#analyse").click()
    page.wait_for_function(
        "() => (document.querySelector('#answer textarea') || {}).value?.includes('happy')",
        timeout=ANSWER_TIMEOUT_MS,
    )
