import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from media_fixtures import tone, write_clip

from affect_llm.cli import main
from affect_llm.data import BuildConfig, build_folder
from affect_llm.data.cache import (
    CacheEntryError,
    FeatureCache,
    cache_encoder_outputs,
    content_key,
    load_features,
)
from affect_llm.perception import PerceptionConfig


def test_entries_round_trip_and_other_keys_are_kept(tmp_path):
    cache = FeatureCache(tmp_path)
    cache.put("clip/1", "a" * 20, {"aus": np.ones((2, 17), np.float32)}, {"note": "x"})
    meta, arrays = cache.get("clip/1", "a" * 20, load_arrays=True)
    assert meta == {"note": "x"} and arrays["aus"].shape == (2, 17)
    cache.put("clip/1", "b" * 20, {"aus": np.zeros((1, 17), np.float32)}, {})
    assert cache.get("clip/1", "a" * 20) is not None  # another build's entry stays valid
    assert len(list(tmp_path.rglob("*.safetensors"))) == 2
    cache.path("clip/1", "b" * 20).write_bytes(b"torn")
    assert cache.get("clip/1", "b" * 20) is None  # a damaged entry is a miss, not a crash


def test_ids_in_any_script_get_their_own_entries_and_reads_check_the_id(tmp_path):
    cache = FeatureCache(tmp_path)
    ids = ["厌恶", "困惑", "clip 1", "clip_1", "clip/1"]
    for value, sample_id in enumerate(ids):
        cache.put(sample_id, "k" * 20, {"x": np.full(1, value, np.float32)}, {"id": sample_id})
    assert len({cache.path(i, "k" * 20) for i in ids}) == len(ids)
    for value, sample_id in enumerate(ids):
        meta, arrays = cache.get(sample_id, "k" * 20, load_arrays=True)
        assert meta == {"id": sample_id} and arrays["x"][0] == value
    # A file copied (or moved by hand) to another sample's place is never served as that sample.
    shutil.copy(cache.path("厌恶", "k" * 20), cache.path("困惑", "k" * 20))
    assert cache.get("困惑", "k" * 20) is None
    relative = os.path.relpath(cache.path("厌恶", "k" * 20), tmp_path)
    assert load_features(tmp_path / "samples.jsonl", {"id": "厌恶", "features": relative})
    with pytest.raises(CacheEntryError, match="困惑"):
        load_features(tmp_path / "samples.jsonl", {"id": "困惑", "features": relative})


def _voice_folder(root: Path) -> Path:
    """Audio-only clips named in Chinese (MER-style label words as names) plus a labels CSV."""
    root.mkdir()
    for index, name in enumerate(["厌恶", "困惑", "高兴"]):
        write_clip(root / f"{name}.m4a", None, audio=tone(0.6, hz=150.0 + 40 * index))
    (root / "labels.csv").write_text(
        "name,openset\n厌恶,['disgust']\n困惑,['confused']\n高兴,['happy']\n", encoding="utf-8"
    )
    return root


def test_builds_sharing_a_cache_keep_each_others_entries_and_resume(tmp_path, capsys):
    root = _voice_folder(tmp_path / "clips")
    cache, first, second = tmp_path / "cache", tmp_path / "first", tmp_path / "second"
    config = BuildConfig(perception=PerceptionConfig(num_frames=2), cache_dir=str(cache))
    other = BuildConfig(perception=PerceptionConfig(num_frames=3), cache_dir=str(cache))
    assert build_folder(root, first, root / "labels.csv", config).written == 3
    assert build_folder(root, second, root / "labels.csv", other).written == 3
    again = build_folder(root, first, root / "labels.csv", config)
    assert again.cached == 3  # non-ASCII ids resume from the cache
    for out in (first, second):
        rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
        assert [r["id"] for r in rows] == ["厌恶", "困惑", "高兴"]
        assert len({r["features"] for r in rows}) == 3
        for row in rows:
            assert load_features(out, row)["audio"].size > 0
    assert len(list(cache.rglob("*.safetensors"))) == 6

    # Pruning is explicit and keeps what the named samples files use.
    prune = ["cache", "prune", "--cache", str(cache), "--expire-days", "0"]  # none spared as new
    code = main([*prune, "--samples", str(second), "--dry-run"])
    assert code == 0 and "would remove 3" in capsys.readouterr().out
    assert len(list(cache.rglob("*.safetensors"))) == 6
    leftover = next(cache.glob("??")) / ".dead.safetensors.123-ab.tmp"  # a write killed long ago
    leftover.write_bytes(b"half")
    os.utime(leftover, (0, 0))
    code = main([*prune, "--samples", str(second / "samples.jsonl")])
    assert code == 0 and "removed 4 unreferenced entries" in capsys.readouterr().out
    assert not leftover.exists()
    rows = [json.loads(line) for line in (second / "samples.jsonl").read_text().splitlines()]
    assert all(load_features(second, row)["audio"].size for row in rows)
    # Samples files that use nothing in the cache (a wrong folder) must not empty it.
    stranger = tmp_path / "stranger.jsonl"
    stranger.write_text('{"id": "x", "features": null}\n')
    assert main(["cache", "prune", "--samples", str(stranger), "--cache", str(cache)]) == 2
    assert "none of the 3 entries" in capsys.readouterr().err
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "x"}\n{"id": \n')
    assert main(["cache", "prune", "--samples", str(broken), "--cache", str(cache)]) == 2
    assert f"{broken}:2: not a JSON object" in capsys.readouterr().err
    assert len(list(cache.rglob("*.safetensors"))) == 3


def test_content_key_tracks_bytes_and_settings(tmp_path):
    media = tmp_path / "a.mp4"
    media.write_bytes(b"one")
    key = content_key([media], {"frames": 8})
    assert key == content_key([media], {"frames": 8})
    assert key != content_key([media], {"frames": 16})
    media.write_bytes(b"two")
    assert key != content_key([media], {"frames": 8})


def test_frozen_encoder_outputs_are_added_once(sample_dir, tmp_path):
    out = tmp_path / "out"
    config = BuildConfig(perception=PerceptionConfig(num_frames=2, face_size=32))
    build_folder(sample_dir, out, sample_dir / "labels.csv", config)
    calls = []

    def encode(arrays):
        calls.append(1)
        return arrays["faces"].reshape(len(arrays["faces"]), -1).mean(axis=1, dtype=np.float32)

    assert cache_encoder_outputs(out, encode, "face_mean") == 4
    assert cache_encoder_outputs(out, encode, "face_mean") == 0 and len(calls) == 4
    row = (out / "samples.jsonl").read_text().splitlines()[0]
    arrays = load_features(out, json.loads(row))
    assert arrays["encoder/face_mean"].shape == (2,)
    again = build_folder(sample_dir, out, sample_dir / "labels.csv", config)
    assert again.cached == 4  # adding encoder outputs keeps the entries valid
