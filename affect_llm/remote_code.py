"""Loading model folders without running their code unless asked (`--trust-remote-code`).

A model folder from a stranger can name Python modules of its own in `config.json`'s `auto_map`.
transformers runs them when `trust_remote_code=True`; left at None it *asks on stdin*, so a piped
chat line such as `y` would answer that question. Every load of a user's folder goes through
`load_pretrained` with an explicit True/False (False unless the user passed the flag, as vLLM and
TGI require), and the library's errors about the folder (custom code refused, a half-saved
`config.json`, a truncated weights file) become one-line `InputError`s.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from affect_llm.errors import InputError, one_line

FLAG = "--trust-remote-code"


def _folder_error(error: Exception, path: str | os.PathLike, option: str) -> InputError | None:
    """The one-line InputError for a library error that is about the folder, else None (a bug)."""
    text = one_line(error)
    if "trust_remote_code" in text:
        return InputError(
            f"{option} {path}: the folder names its own Python code (auto_map in config.json) "
            f"and loading it would run that code; read it, then pass {FLAG} to allow it"
        )
    if "is not a valid JSON file" in text or "Unable to parse" in text:
        return InputError(
            f"{option} {path}: a JSON file of the folder is not valid JSON (a half-saved or "
            f"copied-while-writing model folder?): {text[:300]}"
        )
    if type(error).__name__ == "SafetensorError" or "deserializing header" in text:
        return InputError(
            f"{option} {path}: a .safetensors weights file cannot be read (truncated or "
            f"corrupt; copy it again): {text[:300]}"
        )
    if "Unrecognized processing class" in text or "Unrecognized model" in text:
        return InputError(
            f"{option} {path}: not a model folder transformers or affect-llm knows "
            f"(config.json's model_type): {text[:300]}"
        )
    return None


def load_pretrained(
    loader: Callable[..., Any],
    path: str | os.PathLike,
    *,
    trust_remote_code: bool,
    option: str = "--model",
    **kwargs: Any,
) -> Any:
    """`loader(path, trust_remote_code=..., **kwargs)` (a `from_pretrained`), never prompting;
    errors about the folder's files are one-line InputErrors naming `option`."""
    try:
        return loader(path, trust_remote_code=bool(trust_remote_code), **kwargs)
    except InputError:
        raise
    except Exception as error:  # ValueError, OSError, safetensors' SafetensorError, ...
        folder_error = _folder_error(error, path, option)
        if folder_error is None:
            raise
        raise folder_error from None


def check_model_folder(
    path: str | os.PathLike, *, trust_remote_code: bool, option: str = "--model"
) -> None:
    """Read the folder's config first (cheap), so custom code and a broken config.json are refused
    before a processor or the weights are loaded."""
    from transformers import AutoConfig

    load_pretrained(
        AutoConfig.from_pretrained, path, trust_remote_code=trust_remote_code, option=option
    )
