"""Build CMU-MOSI (MMSA layout) samples (same as `affect-llm build mosi ...`; see docs/data.md).

python data_builders/mosi.py ROOT [--split test] --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["mosi", *sys.argv[1:]]))
