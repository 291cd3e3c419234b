"""Atomic file output: a reader never sees a half-written result, even if the job is killed.

The one place that writes outputs: a temporary file beside the target, renamed over it when complete.
The temporary file is created like any `open(path, "w")` (mode 0666 minus the umask), not with
`mkstemp`'s 0600, so results, samples and cache files keep the permissions users expect.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a new empty temporary path beside `path`; on success it is renamed over `path`.

    The temporary name ends in `.tmp` (so globs for finished files never see it; writers that pick
    a format by suffix, like matplotlib, must be told it); on any error it is removed and `path` is
    left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # umask applies
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` (UTF-8, newlines as given) to `path` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return Path(path)


def atomic_write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write `data` as indented JSON, atomically."""
    return atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


LOCK_NAME = ".affect-llm.lock"


@contextmanager
def exclusive_folder(folder: str | os.PathLike, what: str, option: str) -> Iterator[Path]:
    """Hold an exclusive lock on `folder` (created if missing) for one run that writes into it.

    Two builds into one `--out`, or two trainings into one `output_dir`, would each overwrite the
    other's files and both report success. The lock is filelock's (an OS lock, as `datasets` and
    huggingface_hub use): released when the process ends, even when killed, so it never goes
    stale. A second run gets one line (InputError) at once instead of waiting.
    """
    from filelock import FileLock, Timeout

    from affect_llm.errors import InputError

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(
            f"{option} {folder}: another {what} is writing into this folder right now "
            f"(it holds {folder / LOCK_NAME}); wait for it to finish or choose another {option}"
        ) from None
    try:
        yield folder
    finally:
        lock.release()
