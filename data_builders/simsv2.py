"""Build CH-SIMS v2 (MMSA layout) samples (same as `affect-llm build simsv2 ...`; see docs/data.md).

python data_builders/simsv2.py ROOT [--split test] --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["simsv2", *sys.argv[1:]]))
