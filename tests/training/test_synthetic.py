"""The synthetic set is a function of its seed alone, not of the process's string-hash seed."""

import os
import subprocess
import sys

import pytest

from affect_llm.training import synthetic

DIGEST = """
import hashlib, runpy, sys
# Run the module's file alone: importing affect_llm.training would load torch and TRL.
synthetic = runpy.run_path(sys.argv[1])
make_rows, synthetic_rows = synthetic["make_rows"], synthetic["synthetic_rows"]
rows, media = synthetic_rows(8, seed=3)
digest = hashlib.sha256()
for key in sorted(media):
    digest.update(media[key]["aus"].tobytes() + media[key]["audio"].tobytes())
for row in make_rows("both", 4, seed=5):
    digest.update(row["aus"].tobytes() + row["audio"].tobytes())
print(digest.hexdigest())
"""


@pytest.mark.slow  # two fresh interpreters; `import affect_llm` still loads transformers
def test_synthetic_set_is_the_same_under_any_hash_seed():
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", DIGEST, synthetic.__file__],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(done.stdout.strip())
    assert len(digests) == 1
