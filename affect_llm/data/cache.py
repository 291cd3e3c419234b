"""Feature cache: per-sample safetensors files keyed by sample id and a content hash.

The key hashes the media bytes, the AU file and the extractor settings, so changing any of them
invalidates the entry. Files are spread over 256 shard folders, written atomically (temp file then
os.replace), which makes an interrupted build resumable: finished samples are simply cache hits.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

# Bump when extraction code changes what it produces, so old cache entries are not reused.
EXTRACTOR_VERSION = "2"


def file_digest(path: str | os.PathLike | None) -> str:
    """sha256 of a file's bytes ('-' for no file)."""
    if path is None or not os.path.exists(path):
        return "-"
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_key(paths: Iterable[str | os.PathLike | None], settings: dict) -> str:
    """Hash of the input files' bytes plus the extractor settings and version."""
    digest = hashlib.sha256(EXTRACTOR_VERSION.encode())
    for path in paths:
        digest.update(file_digest(path).encode())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:20]


def _safe(sample_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", sample_id)[:120]


class FeatureCache:
    """Directory of `<shard>/<id>-<key>.safetensors`; metadata holds the JSON-able results."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _shard(self, sample_id: str) -> Path:
        return self.root / hashlib.sha1(sample_id.encode()).hexdigest()[:2]

    def path(self, sample_id: str, key: str) -> Path:
        return self._shard(sample_id) / f"{_safe(sample_id)}-{key}.safetensors"

    def get(self, sample_id: str, key: str, load_arrays: bool = False):
        """(metadata dict, arrays dict or None) for a hit, None for a miss or an unreadable file."""
        from safetensors import safe_open

        path = self.path(sample_id, key)
        if not path.exists():
            return None
        try:
            with safe_open(str(path), framework="np") as handle:
                meta = json.loads((handle.metadata() or {}).get("sample", "{}"))
                names = handle.keys()  # safe_open is not a mapping
                arrays = {k: handle.get_tensor(k) for k in names} if load_arrays else None
        except Exception:  # a torn or foreign file is a miss; it will be rewritten
            return None
        return meta, arrays

    def put(self, sample_id: str, key: str, arrays: dict[str, np.ndarray], meta: dict) -> Path:
        """Write one entry atomically and drop entries of the same sample with other keys."""
        from safetensors.numpy import save_file

        path = self.path(sample_id, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
        save_file(arrays, str(tmp), metadata={"sample": json.dumps(meta, ensure_ascii=False)})
        os.replace(tmp, path)
        prefix = f"{_safe(sample_id)}-"
        for stale in path.parent.glob(f"{prefix}*.safetensors"):
            if stale != path and len(stale.name) == len(path.name):
                stale.unlink(missing_ok=True)
        return path

    def add_arrays(self, sample_id: str, key: str, arrays: dict[str, np.ndarray]) -> Path:
        """Add arrays (e.g. frozen-encoder outputs) to an existing entry."""
        hit = self.get(sample_id, key, load_arrays=True)
        if hit is None:
            raise KeyError(f"{sample_id}: no cache entry with key {key}")
        meta, existing = hit
        return self.put(sample_id, key, {**existing, **arrays}, meta)


def load_features(samples_path: str | os.PathLike, row: dict) -> dict[str, np.ndarray]:
    """The cached arrays of one samples.jsonl row (faces, face_present, aus, audio, ...)."""
    from safetensors.numpy import load_file

    if not row.get("features"):
        return {}
    base = Path(samples_path)
    base = base if base.is_dir() else base.parent
    return load_file(str(base / row["features"]))


def cache_encoder_outputs(
    samples_path: str | os.PathLike,
    encode,
    name: str,
    overwrite: bool = False,
) -> int:
    """Add frozen-encoder outputs to every sample's cache entry, once (resumable).

    `encode(arrays) -> np.ndarray` gets the cached arrays of one sample (faces, aus, audio, ...)
    and its result is stored as `encoder/<name>`; entries that already have it are skipped.
    Returns how many entries were computed.
    """
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    samples_path = Path(samples_path)
    base = samples_path if samples_path.is_dir() else samples_path.parent
    rows = (base / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    key, computed = f"encoder/{name}", 0
    for line in rows:
        row = json.loads(line)
        if not row.get("features"):
            continue
        path = base / row["features"]
        with safe_open(str(path), framework="np") as handle:
            names = handle.keys()  # safe_open is not a mapping
            present, metadata = key in names, handle.metadata()
        if present and not overwrite:
            continue
        arrays = load_file(str(path))
        arrays[key] = np.ascontiguousarray(np.asarray(encode(arrays)))
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        save_file(arrays, str(tmp), metadata=metadata)
        os.replace(tmp, path)
        computed += 1
    return computed
