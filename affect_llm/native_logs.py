"""Keep native library noise off the terminal: mediapipe / TFLite / absl lines a user cannot act on.

mediapipe's C++ code logs through absl before any logging is set up ("W0000 00:00:... Feedback
manager requires a model with a single signature...", "INFO: Created TensorFlow Lite XNNPACK
delegate for CPU."), straight to file descriptor 2, where no Python setting reaches. While a
command runs, `filtered_stderr` puts a pipe on fd 2 and a thread forwards everything except those
lines; progress bars and errors pass unchanged.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import sys
import threading
from collections.abc import Iterator

NOISE = re.compile(
    rb"^(?:[WI]0000 \d\d:\d\d:[\d.]+ +\d+ \S+\.cc:\d+\]"  # absl lines before InitializeLog
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate)"
)


def _pump(read_fd: int, write_fd: int, drop_repeated_errors: bool = False) -> None:
    """Forward lines (and \\r-updated progress bars) from the pipe, dropping the noise (and, when
    asked, an `error: ...` line already shown: every rank of a launch reports the same bad input)."""
    pending = b""
    errors_seen: set[bytes] = set()

    def keep(piece: bytes) -> bool:
        if NOISE.match(piece):
            return False
        if drop_repeated_errors and piece.startswith(b"error: "):
            if piece.strip() in errors_seen:
                return False
            errors_seen.add(piece.strip())
        return True

    while True:
        ready, _, _ = select.select([read_fd], [], [], 0.05)
        if not ready:  # nothing new for a moment: show a partial line (a prompt, a bar) as is
            if (
                pending
                and not NOISE.match(pending)
                and not (drop_repeated_errors and pending.startswith(b"error: "))
            ):
                os.write(write_fd, pending)
                pending = b""
            continue
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        pending += chunk
        while (match := re.search(rb"[\r\n]", pending)) is not None:
            piece, pending = pending[: match.end()], pending[match.end() :]
            if keep(piece):
                os.write(write_fd, piece)
    if pending and keep(pending):
        os.write(write_fd, pending)
    os.close(read_fd)


@contextlib.contextmanager
def filtered_stderr(drop_repeated_errors: bool = False) -> Iterator[None]:
    """Within the block, fd 2 drops native noise lines (and repeated `error: ` lines, when asked);
    AFFECT_LLM_DEBUG=1 leaves it alone."""
    if os.environ.get("AFFECT_LLM_DEBUG", "").strip() not in ("", "0"):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (an embedding host): nothing to filter
        yield
        return
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    thread = threading.Thread(
        target=_pump, args=(read_fd, saved, drop_repeated_errors), daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe's last writer closes: the thread drains and stops
        thread.join(timeout=5)
        os.close(saved)
