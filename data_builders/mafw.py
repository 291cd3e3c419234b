"""Build MAFW samples (same as `affect-llm build mafw ...`; see docs/data.md).

python data_builders/mafw.py ROOT [--fold 1 --split test] --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["mafw", *sys.argv[1:]]))
