import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "perception"))

from media_fixtures import SAMPLES


@pytest.fixture
def sample_dir(tmp_path) -> Path:
    """A writable copy of the bundled clips and labels.csv."""
    target = tmp_path / "clips"
    shutil.copytree(SAMPLES, target)
    return target
