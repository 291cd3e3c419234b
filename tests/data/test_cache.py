import json

import numpy as np

from affect_llm.data import BuildConfig, build_folder
from affect_llm.data.cache import FeatureCache, cache_encoder_outputs, content_key, load_features
from affect_llm.perception import PerceptionConfig


def test_entries_round_trip_and_stale_keys_are_dropped(tmp_path):
    cache = FeatureCache(tmp_path)
    cache.put("clip/1", "a" * 20, {"aus": np.ones((2, 17), np.float32)}, {"note": "x"})
    meta, arrays = cache.get("clip/1", "a" * 20, load_arrays=True)
    assert meta == {"note": "x"} and arrays["aus"].shape == (2, 17)
    cache.put("clip/1", "b" * 20, {"aus": np.zeros((1, 17), np.float32)}, {})
    assert cache.get("clip/1", "a" * 20) is None and len(list(tmp_path.rglob("*.safetensors"))) == 1
    cache.path("clip/1", "b" * 20).write_bytes(b"torn")
    assert cache.get("clip/1", "b" * 20) is None  # a damaged entry is a miss, not a crash


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
