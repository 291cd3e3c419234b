"""Bad input a person can fix: one line naming the file / key / value, exit code 2, no traceback.

`InputError` is the error every reader raises for bad user input; it lives at the bottom layer so
data readers, evaluation, training configs and commands all share one class. Tracebacks are for
bugs: `--debug` on `affect-llm` (or AFFECT_LLM_DEBUG=1, which also covers the recipes) shows them
for input errors too.
"""

from __future__ import annotations

import difflib
import errno
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

EXIT_USER_ERROR = 2


class InputError(ValueError):
    """A user file, folder or value that cannot be used: missing, unreadable, not in a known layout.

    The message is one line naming the file (and line or key) and what was expected. A ValueError,
    so code that already reports ValueError as one line reports it too.
    """


def debug_enabled() -> bool:
    """AFFECT_LLM_DEBUG set to anything but empty / 0: always show tracebacks."""
    return os.environ.get("AFFECT_LLM_DEBUG", "").strip() not in ("", "0")


def one_line(message: object) -> str:
    """The message on one line (multi-line messages from libraries joined with ' | ')."""
    return " | ".join(part.strip() for part in str(message).splitlines() if part.strip())


def is_disk_full(error: BaseException) -> bool:
    """An OSError saying the disk (or the user's quota) is full: the user's to fix, not a bug."""
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


def disk_full_line(error: OSError) -> str:
    where = f" writing {error.filename}" if error.filename else ""
    return (
        f"no space left on the device{where}: free some space (or write elsewhere) and run "
        "again; finished work (cache entries, answers, checkpoints) is kept"
    )


def report_user_errors(function: Callable[[], int | None], debug: bool = False) -> int:
    """Run `function`; an InputError (or a full disk) becomes 'error: ...' on stderr, exit code 2."""
    from affect_llm.safe_text import printable

    try:
        return int(function() or 0)
    except InputError as error:
        if debug or debug_enabled():
            raise
        # the message may quote names and lines from the user's files: no terminal escapes
        print(f"error: {printable(one_line(error), keep_newlines=False)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as error:
        if not is_disk_full(error) or debug or debug_enabled():
            raise
        print(f"error: {printable(disk_full_line(error), keep_newlines=False)}", file=sys.stderr)
        return EXIT_USER_ERROR


def json_line(text: str | bytes, where: str):
    """`json.loads(text)`, with what a reader of user files must not let through as a traceback
    (invalid JSON, a line nested thousands deep) as one InputError naming `where` (FILE:LINE)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{where}: not valid JSON ({error.msg}, column {error.colno})") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply to read (thousands of levels)") from None


def closest(value: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' for the nearest choice, or '' when none is close."""
    match = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def require_model_dir(path: str | os.PathLike, option: str = "--model") -> Path:
    """A saved model folder (one with config.json), or a InputError saying exactly what is wrong."""
    folder = Path(path)
    if not folder.exists():
        raise InputError(f"{option} {path}: no such folder (expected a saved model folder)")
    if not folder.is_dir():
        raise InputError(f"{option} {path}: is a file, expected a saved model folder")
    if not (folder / "config.json").is_file():
        raise InputError(
            f"{option} {path}: folder has no config.json, so it is not a saved model "
            "(expected the output_dir of a recipe, e.g. runs/own-sft)"
        )
    return folder
