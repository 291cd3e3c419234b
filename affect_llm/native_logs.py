"""Keep library noise off the terminal: lines a user cannot act on, from native code and Python.

mediapipe's C++ code logs through absl before any logging is set up ("W0000 00:00:... Feedback
manager requires a model with a single signature...", "INFO: Created TensorFlow Lite XNNPACK
delegate for CPU."), straight to file descriptor 2, where no Python setting reaches. While a
command runs, `filtered_stderr` puts a pipe on fd 2 and a thread forwards everything except those
lines; progress bars and errors pass unchanged. `affect-llm sft|grpo` filters fd 1 as well
(`filtered_stdout`), where DeepSpeed prints from each rank.

Python libraries' warnings and log lines about each other (TRL and PEFT reading names transformers
deprecated, DeepSpeed on a machine without a GPU) are dropped by `quiet_third_party`, called once
where a command or a recipe starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import sys
import threading
import warnings
from collections.abc import Iterator

NOISE = re.compile(
    rb"^(?:[WI]0000 \d\d:\d\d:[\d.]+ +\d+ \S+\.cc:\d+\]"  # absl lines before InitializeLog
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate"
    rb"|DeepSpeed deepspeed\.ops\.comm\.\w+ built successfully"  # print() in its CPU ranks
    # torch's DDP on a step that used every parameter: transformers asks for the unused-parameter
    # search when activation checkpointing is off, as a batch without faces or audio needs it
    rb"|(?:\[rank\d+\]:)?\[W\d{4} [\d:.]+ reducer\.cpp:\d+\] Warning: find_unused_parameters=True)"
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
    with _filtered(2, sys.stderr, drop_repeated_errors):
        yield


@contextlib.contextmanager
def filtered_stdout() -> Iterator[None]:
    """Within the block, fd 1 drops the noise lines (those libraries print, such as DeepSpeed's in
    each rank of a launch); AFFECT_LLM_DEBUG=1 leaves it alone."""
    with _filtered(1, sys.stdout, False):
        yield


@contextlib.contextmanager
def _filtered(fd: int, stream, drop_repeated_errors: bool) -> Iterator[None]:
    """A pipe on `fd` (inherited by child processes) and a thread forwarding what `_pump` keeps."""
    if os.environ.get("AFFECT_LLM_DEBUG", "").strip() not in ("", "0"):
        yield
        return
    try:
        stream.flush()
        saved = os.dup(fd)
    except (OSError, ValueError):  # no real fd (an embedding host): nothing to filter
        yield
        return
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, fd)
    os.close(write_fd)
    thread = threading.Thread(
        target=_pump, args=(read_fd, saved, drop_repeated_errors), daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
        os.dup2(saved, fd)  # the pipe's last writer closes: the thread drains and stops
        thread.join(timeout=5)
        os.close(saved)


# Log lines a user cannot act on, by logger: DeepSpeed saying a CPU machine has no GPU (once in the
# launcher, once per rank), transformers aligning the model's special-token ids with the
# tokenizer's (it already did), torch's C++-extension loader finding no CUDA for DeepSpeed's CPU
# communication op.
QUIET_LOGS = {
    "DeepSpeed": "Setting accelerator to CPU",
    "transformers.trainer_utils": "The tokenizer has new PAD/BOS/EOS tokens",
    "torch.utils.cpp_extension": "No CUDA runtime is found",
}
# Warnings (message start, category, module that warns) one library raises about another: TRL's
# configs default the deprecated `gradient_checkpointing`; TRL and PEFT call transformers' old
# checkpointing names around generation; DeepSpeed gathers through a deprecated torch collective.
# Our own code uses the new names (tests/test_quiet.py).
QUIET_WARNINGS = [
    ("`gradient_checkpointing` is deprecated", FutureWarning, "transformers.training_args"),
    ("`is_gradient_checkpointing` is deprecated", FutureWarning, "transformers.modeling_utils"),
    ("`gradient_checkpointing_enable` is deprecated", FutureWarning, "transformers.modeling_utils"),
    (
        "`gradient_checkpointing_disable` is deprecated",
        FutureWarning,
        "transformers.modeling_utils",
    ),
    (
        "`torch.distributed.all_gather_into_tensor` is deprecated",
        FutureWarning,
        "torch.distributed",
    ),
]


class _DropLines(logging.Filter):
    """Drops the records whose message starts with `start`."""

    def __init__(self, start: str):
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.start)


def quiet_third_party() -> None:
    """Hide the `QUIET_WARNINGS` and the `QUIET_LOGS` lines (standard library only: the CLI calls it
    before any heavy import)."""
    for message, category, module in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", re.escape(message), category, module)
    for name, start in QUIET_LOGS.items():
        logger = logging.getLogger(name)  # the object the library logs through, made now or later
        if not any(isinstance(f, _DropLines) and f.start == start for f in logger.filters):
            logger.addFilter(_DropLines(start))
