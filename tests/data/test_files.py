"""The one atomic writer: complete files only, with the permissions a plain write would give."""

import os
import stat

import numpy as np
import pytest

from affect_llm.data.cache import FeatureCache
from affect_llm.files import atomic_path, atomic_write_json, atomic_write_text


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_outputs_honour_the_umask_like_a_plain_write(tmp_path, umask_022):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert _mode(atomic_write_text(tmp_path / "samples.jsonl", "{}\n")) == _mode(plain) == 0o644
    assert _mode(atomic_write_json(tmp_path / "results.json", {"a": 1})) == 0o644
    entry = FeatureCache(tmp_path / "cache").put("a", "k" * 20, {"x": np.zeros(2)}, {})
    assert _mode(entry) == 0o644
    os.umask(0o077)
    assert _mode(atomic_write_text(tmp_path / "private.txt", "x")) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = atomic_write_text(tmp_path / "out.txt", "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]
    with atomic_path(tmp_path / "entry.safetensors") as tmp:
        assert not list(tmp_path.glob("*.safetensors"))  # unfinished files never look finished
