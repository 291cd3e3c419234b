"""Retake docs/demo.png: `affect-llm demo --model DIR` on a bundled clip, in headless Chromium.

Run from the top of the checkout with a named model folder (the page shows the path as given):

    python scripts/demo_screenshot.py --model runs/quickstart/model [--out docs/demo.png]

Needs the `demo` extra, playwright and Debian's chromium (scripts/setup.sh installs them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

CLIP = "hopper_happy.mp4"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, server: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the demo did not start (exit code {server.poll()})") from None
            time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="saved model folder, as the page shows it")
    parser.add_argument("--out", default="docs/demo.png", help="where the screenshot goes")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("error: chromium not found (scripts/setup.sh installs it)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    port = free_port()
    command = [sys.executable, "-m", "affect_llm.cli", "demo", "--model", args.model]
    command += ["--port", str(port), "--temperature", "0", "--max-new-tokens", "64"]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url, server)
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("#analyse", timeout=60_000)
            page.locator("#sample input").click()
            page.get_by_role("option", name=CLIP).click()
            page.locator("#clip video").first.wait_for(timeout=60_000)
            page.locator("#analyse").click()
            page.wait_for_selector("#wheel-picture img", timeout=300_000)
            page.wait_for_timeout(1500)  # let the last streamed piece render
            page.screenshot(path=args.out, full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
