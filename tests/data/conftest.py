import shutil
from pathlib import Path

import pytest
from media_fixtures import SAMPLES


@pytest.fixture
def sample_dir(tmp_path) -> Path:
    """A writable copy of the bundled clips and labels.csv."""
    target = tmp_path / "clips"
    shutil.copytree(SAMPLES, target)
    return target
