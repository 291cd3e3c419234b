"""Build CH-SIMS (MMSA layout) samples (same as `affect-llm build sims ...`; see docs/data.md).

python data_builders/sims.py ROOT [--split test] --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["sims", *sys.argv[1:]]))
