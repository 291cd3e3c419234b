"""Build a folder of clips plus labels.csv samples (same as `affect-llm build folder ...`; see docs/data.md).

python data_builders/folder.py VIDEO_DIR --labels LABELS.csv --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["folder", *sys.argv[1:]]))
