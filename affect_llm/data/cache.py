"""Feature cache: per-sample safetensors files addressed by a hash of sample id and content key.

The key hashes the media bytes, the AU file and the extractor settings, so changing any of them
gives a new entry (old ones stay valid for the samples files that point at them). Files are spread
over 256 shard folders and written atomically, which makes an interrupted build resumable: finished
samples are simply cache hits. Each file records its sample id, checked whenever it is read.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affect_llm.errors import InputError, json_line
from affect_llm.files import atomic_path

# Bump when extraction code changes what it produces, so old cache entries are not reused.
EXTRACTOR_VERSION = "3"


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


def entry_name(sample_id: str, key: str) -> str:
    """Collision-free file name of one entry: a hash of the sample id (any script) and its key."""
    return hashlib.sha256(f"{sample_id}\0{key}".encode()).hexdigest()[:40]


class CacheEntryError(InputError):
    """A cache file that belongs to another sample than the row pointing at it, or a row whose
    `features` path is not a cache entry at all (one line, exit 2)."""


_ENTRY_NAME = re.compile(r"[0-9a-f]{40}\.safetensors")


def entry_path(base: Path, row: dict) -> Path:
    """The cache entry a row's `features` points at, refused unless it has the shape of one
    (`<2 hex>/<40 hex>.safetensors`, the shard being the name's start): a row cannot make us read
    or rewrite any other file (`../victim/model.safetensors`), as archive tools refuse zip-slip
    paths. The cache may live outside the build folder (a shared `--cache`), so the shape, not
    the folder, is the rule; the entry's recorded sample id is checked on top."""
    features = str(row["features"])
    path = Path(os.path.normpath(base / features))
    if not (_ENTRY_NAME.fullmatch(path.name) and path.parent.name == path.name[:2]):
        raise CacheEntryError(
            f"row {row.get('id')!r}: features {features!r} is not a feature-cache entry "
            "(expected CACHE/<2 hex>/<40 hex>.safetensors as `affect-llm build` writes)"
        )
    return path


class FeatureCache:
    """Directory of `<shard>/<hash of id and key>.safetensors`; metadata holds id and results.

    Entries are content-addressed: builds with other settings, or other samples, never touch each
    other's files, so any samples.jsonl that points into the cache stays valid. Nothing is deleted
    here; `affect-llm cache prune` removes entries no samples file refers to.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, sample_id: str, key: str) -> Path:
        name = entry_name(sample_id, key)
        return self.root / name[:2] / f"{name}.safetensors"

    def get(self, sample_id: str, key: str, load_arrays: bool = False):
        """(metadata dict, arrays dict or None) for a hit, None for a miss or an unreadable file."""
        from safetensors import safe_open

        path = self.path(sample_id, key)
        if not path.exists():
            return None
        try:
            with safe_open(str(path), framework="np") as handle:
                header = handle.metadata() or {}
                if header.get("id") != sample_id:
                    return None  # not this sample's entry (only a foreign file can get here)
                meta = json.loads(header.get("sample", "{}"))
                names = handle.keys()  # safe_open is not a mapping
                arrays = {k: handle.get_tensor(k) for k in names} if load_arrays else None
        except Exception:  # a torn or foreign file is a miss; it will be rewritten
            return None
        # In use again: `cache prune` spares it. Only the access time moves; the modification
        # time still says when the entry was computed.
        with contextlib.suppress(OSError):
            os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns))
        return meta, arrays

    def put(self, sample_id: str, key: str, arrays: dict[str, np.ndarray], meta: dict) -> Path:
        """Write one entry atomically (other entries, of this sample or others, are left alone)."""
        path = self.path(sample_id, key)
        metadata = {"id": sample_id, "sample": json.dumps(meta, ensure_ascii=False)}
        _save(path, arrays, metadata)
        return path

    def add_arrays(self, sample_id: str, key: str, arrays: dict[str, np.ndarray]) -> Path:
        """Add arrays (e.g. frozen-encoder outputs) to an existing entry."""
        hit = self.get(sample_id, key, load_arrays=True)
        if hit is None:
            raise KeyError(f"{sample_id}: no cache entry with key {key}")
        meta, existing = hit
        return self.put(sample_id, key, {**existing, **arrays}, meta)


def _save(path: Path, arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    from safetensors.numpy import save_file

    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    with atomic_path(path) as tmp:
        mode = stat.S_IMODE(os.stat(tmp).st_mode)  # the umask's mode, from atomic_path
        try:
            save_file(arrays, str(tmp), metadata=metadata)
        except Exception as error:  # safetensors reports a full disk as its own error class
            code = next(
                (c for c in (errno.ENOSPC, errno.EDQUOT) if f"os error {c})" in str(error)), 0
            )
            if code:
                raise OSError(code, os.strerror(code), str(path)) from error
            raise
        os.chmod(tmp, mode)  # safetensors recreates the file as 0600


def _check_owner(path: Path, metadata: dict | None, sample_id: str | None) -> None:
    owner = (metadata or {}).get("id")
    if sample_id is not None and owner != sample_id:
        raise CacheEntryError(f"{path} holds sample {owner!r}, but row {sample_id!r} points at it")


def load_features(samples_path: str | os.PathLike, row: dict) -> dict[str, np.ndarray]:
    """The cached arrays of one samples.jsonl row (faces, face_present, aus, audio, ...).

    Raises CacheEntryError when the file belongs to another sample than the row's `id`.
    """
    from safetensors import safe_open

    if not row.get("features"):
        return {}
    base = Path(samples_path)
    base = base if base.is_dir() else base.parent
    path = entry_path(base, row)
    with safe_open(str(path), framework="np") as handle:
        _check_owner(path, handle.metadata(), row.get("id"))
        return {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118 (not a mapping)


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
    from safetensors.numpy import load_file

    samples_path = Path(samples_path)
    base = samples_path if samples_path.is_dir() else samples_path.parent
    rows = (base / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    key, computed = f"encoder/{name}", 0
    for number, line in enumerate(rows, start=1):
        if not line.strip():
            continue
        row = json_line(line, f"{base / 'samples.jsonl'}:{number}")
        if not isinstance(row, dict) or not row.get("features"):
            continue
        path = entry_path(base, row)  # never a file outside the cache (zip-slip rule)
        with safe_open(str(path), framework="np") as handle:
            names = handle.keys()  # safe_open is not a mapping
            present, metadata = key in names, handle.metadata()
        _check_owner(path, metadata, row.get("id"))  # before anything is rewritten
        if present and not overwrite:
            continue
        arrays = load_file(str(path))
        arrays[key] = np.ascontiguousarray(np.asarray(encode(arrays)))
        _save(path, arrays, metadata)
        computed += 1
    return computed


@dataclass
class PruneResult:
    """What `prune_cache` found: entries kept (referenced) and removed, with the bytes freed."""

    kept: int
    removed: list[Path]
    freed_bytes: int
    recent: int = 0  # unreferenced but kept: younger than the grace period


class PruneError(ValueError):
    """Samples files that cannot be read, or that do not refer to the cache at all."""


def referenced_entries(samples_paths: Iterable[str | os.PathLike]) -> set[Path]:
    """Resolved paths of every cache file the given samples files (or build folders) point at."""
    referenced: set[Path] = set()
    for given in samples_paths:
        path = Path(given)
        path = path / "samples.jsonl" if path.is_dir() else path
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise PruneError(f"{path}: cannot read samples file ({error})") from error
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                features = json.loads(line).get("features")
            except (json.JSONDecodeError, AttributeError, RecursionError) as error:
                reason = "nested too deeply" if isinstance(error, RecursionError) else error
                raise PruneError(f"{path}:{number}: not a JSON object ({reason})") from None
            if features:
                referenced.add((path.parent / features).resolve())
    return referenced


PRUNE_EXPIRE_DAYS = 14.0


def prune_cache(
    cache_dir: str | os.PathLike,
    samples_paths: Sequence[str | os.PathLike],
    dry_run: bool = False,
    expire_days: float = PRUNE_EXPIRE_DAYS,
) -> PruneResult:
    """Remove the cache entries none of `samples_paths` refers to (explicit; builds never delete),
    and temporary files over an hour old that killed writes left behind.

    Entries written or reused (a cache hit touches them) in the last `expire_days` are kept even
    when unreferenced, like git gc's `gc.pruneExpire` (two weeks): a build running into this
    cache has not written its samples.jsonl yet, and its entries must survive until it does.

    Refuses (PruneError) when the samples files refer to nothing in `cache_dir`: that is almost
    always a wrong folder, and pruning would empty the cache.
    """
    root = Path(cache_dir).resolve()
    if not root.is_dir():
        raise PruneError(f"{cache_dir}: no such cache folder")
    referenced = referenced_entries(samples_paths)
    entries = sorted(root.glob("??/*.safetensors"))
    if entries and not referenced & set(entries):
        raise PruneError(
            f"none of the {len(entries)} entries in {cache_dir} is used by "
            f"{', '.join(map(str, samples_paths))}; pass every samples file built with this cache"
        )
    # Temporary files of writes killed midway; a live write finishes in well under an hour.
    leftovers = [p for p in root.glob("??/.*.tmp") if time.time() - p.stat().st_mtime > 3600]
    cutoff = time.time() - expire_days * 86400
    recent = {p for p in entries if max(p.stat().st_mtime, p.stat().st_atime) > cutoff}
    removed, freed = [], 0
    for entry in [*entries, *leftovers]:
        if entry not in referenced and entry not in recent:
            freed += entry.stat().st_size
            removed.append(entry)
            if not dry_run:
                entry.unlink(missing_ok=True)
    kept = len(entries) + len(leftovers) - len(removed)
    spared = len(recent - referenced)
    return PruneResult(kept=kept, removed=removed, freed_bytes=freed, recent=spared)
