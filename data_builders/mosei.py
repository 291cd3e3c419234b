"""Build CMU-MOSEI (MMSA layout) samples (same as `affect-llm build mosei ...`; see docs/data.md).

python data_builders/mosei.py ROOT [--split test] --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["mosei", *sys.argv[1:]]))
