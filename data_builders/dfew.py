"""Build DFEW samples (same as `affect-llm build dfew ...`; see docs/data.md).

python data_builders/dfew.py ROOT [--fold 1 --split test] --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["dfew", *sys.argv[1:]]))
