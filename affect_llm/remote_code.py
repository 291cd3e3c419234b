"""Loading model folders without running their code unless asked (`--trust-remote-code`).

A model folder from a stranger can name Python modules of its own in `config.json`'s `auto_map`.
transformers runs them when `trust_remote_code=True`; left at None it *asks on stdin*, so a piped
chat line such as `y` would answer that question. Every load of a user's folder goes through
`load_pretrained` with an explicit True/False (False unless the user passed the flag, as vLLM and
TGI require), and the library's errors about the folder (custom code refused, a half-saved
`config.json`, a truncated weights file) become one-line `InputError`s.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
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
    if "unknown sub-processor" in text or "no AffectLLMProcessor settings" in text:
        # processor_config.json edited by hand, or written by another tool
        return InputError(f"{option} {path}: {text[:300]}")
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


MAX_TEMPLATE_CHARS = 1_000_000  # a rendered conversation is a few thousand characters
TEMPLATE_SECONDS = 10
# The conversation shape the chat and the runners render: media parts, an answer, a follow-up.
_PROBE = [
    {
        "role": "user",
        "content": [{"type": "face"}, {"type": "audio"}, {"type": "text", "text": "Why?"}],
    },
    {"role": "assistant", "content": "<think>She smiles.</think>\n<answer>happy</answer>"},
    {"role": "user", "content": [{"type": "text", "text": "And now?"}]},
]


@contextlib.contextmanager
def _time_limit(seconds: int, message: str) -> Iterator[None]:
    """InputError(message) after `seconds` (SIGALRM; no limit off the main thread or on Windows)."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise InputError(message)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check_chat_template(processor: Any, path: str | os.PathLike, option: str = "--model") -> None:
    """Render the folder's chat template once on a typical conversation, in transformers' sandbox,
    stopping at `MAX_TEMPLATE_CHARS` or `TEMPLATE_SECONDS`: a template with nested loops (gigabytes
    of prompt) or one the sandbox stops (SecurityError) is refused with one line before use. A
    template that merely rejects this conversation's shape is left to the real render."""
    from jinja2.exceptions import SecurityError, TemplateError
    from transformers.utils.chat_template_utils import _compile_jinja_template

    template = getattr(processor, "chat_template", None)
    tokenizer = getattr(processor, "tokenizer", processor)
    template = template or getattr(tokenizer, "chat_template", None)
    templates = template.values() if isinstance(template, dict) else [template]
    for text in (t for t in templates if isinstance(t, str) and t):
        size = 0
        try:
            compiled = _compile_jinja_template(text)
            slow = f"{option} {path}: its chat template runs over {TEMPLATE_SECONDS} s for one short conversation (nested loops?)"
            with _time_limit(TEMPLATE_SECONDS, slow):
                for chunk in compiled.generate(
                    messages=_PROBE, add_generation_prompt=True, bos_token="", eos_token=""
                ):
                    size += len(chunk)
                    if size > MAX_TEMPLATE_CHARS:
                        raise InputError(
                            f"{option} {path}: its chat template renders over "
                            f"{MAX_TEMPLATE_CHARS:,} characters for one short conversation "
                            "(nested loops?); refused before use"
                        )
        except SecurityError as error:
            raise InputError(
                f"{option} {path}: its chat template does something the template sandbox "
                f"forbids ({one_line(error)[:200]}); refused"
            ) from None
        except TemplateError:
            continue  # it refuses this probe's shape; the real render reports its own message
