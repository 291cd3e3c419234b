"""A model named by a local folder or a Hugging Face Hub id, as one local folder.

`model_folder` is the one place that decides: an existing path must be a saved model folder; a name
that is not one but reads as a hub id (`user/repo`) is fetched with huggingface_hub's
`snapshot_download` into the usual hub cache (a cached copy is used when the hub cannot be reached
or HF_HUB_OFFLINE is set). The hub is asked once, with a short timeout and no retries, so an
unreachable hub is one line within seconds, never a minute of retries. Only the standard library
and huggingface_hub are imported (no torch), so a bad name fails at once.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# how long the one metadata request may take before the hub counts as unreachable
HUB_TIMEOUT_S = 3.0
# `name` or `namespace/name`: letters, digits, '-', '_', '.' (no '..', no leading '.' or '/')
HUB_ID = re.compile(r"^(?:[\w-][\w.-]*/)?[\w-][\w.-]*$")
# weight formats a transformers model does not need beside safetensors / bin
NOT_NEEDED = [
    "*.h5",
    "*.msgpack",
    "*.ot",
    "*.onnx",
    "*.onnx_data",
    "*.tflite",
    "*.gguf",
    "original/*",
]


def looks_like_hub_id(name: str) -> bool:
    """`user/repo` (or a bare `repo`), not a path spelled as one (`./x`, `/x`, `a/b/c`, `~/x`)."""
    return bool(HUB_ID.match(name)) and ".." not in name and not name.startswith("~")


def model_folder(name: str | os.PathLike, option: str = "--model") -> str:
    """A local folder holding the model `name` (a saved folder, or a hub id downloaded or cached);
    an InputError naming `option` and what to do otherwise."""
    from affect_llm.errors import InputError, require_model_dir

    text = str(name)
    if Path(text).exists() or not looks_like_hub_id(text):
        return str(require_model_dir(text, option))
    folder = _from_hub(text, option)
    if not (Path(folder) / "config.json").is_file():
        raise InputError(
            f"{option} {text}: the hub repository has no config.json, so it is not a model"
        )
    return folder


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def _from_hub(repo_id: str, option: str) -> str:
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    from affect_llm.errors import InputError

    not_local = f"{option} {repo_id}: no such folder"
    if _offline():
        try:
            return snapshot_download(repo_id, local_files_only=True)
        except LocalEntryNotFoundError:
            raise InputError(
                f"{not_local}, and HF_HUB_OFFLINE is set but the hub cache has no copy of "
                f"{repo_id}: download it once online (`hf download {repo_id}`), or pass a local "
                "model folder"
            ) from None
    try:
        info = HfApi().model_info(repo_id, timeout=HUB_TIMEOUT_S)
    except GatedRepoError:
        raise InputError(
            f"{option} {repo_id}: a gated model on the Hugging Face Hub; accept its terms on the "
            "hub and log in (`hf auth login`)"
        ) from None
    except (RepositoryNotFoundError, RevisionNotFoundError):
        raise InputError(
            f"{not_local}, and no model {repo_id} on the Hugging Face Hub (a private one needs "
            "`hf auth login`)"
        ) from None
    except Exception as error:  # connection refused, DNS, timeout, proxy: the hub is out of reach
        try:
            return snapshot_download(repo_id, local_files_only=True)
        except LocalEntryNotFoundError:
            from huggingface_hub import constants

            raise InputError(
                f"{not_local}, and the Hugging Face Hub ({constants.ENDPOINT}) cannot be reached "
                f"({type(error).__name__}) with no cached copy of {repo_id}: set HF_HUB_OFFLINE=1 "
                "with a cached copy, or pass a local model folder"
            ) from None
    return snapshot_download(repo_id, revision=info.sha, ignore_patterns=NOT_NEEDED)
