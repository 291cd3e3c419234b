"""Build MELD samples (same as `affect-llm build meld ...`; see docs/data.md).

python data_builders/meld.py ROOT [--split test] --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["meld", *sys.argv[1:]]))
