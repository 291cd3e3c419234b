"""Build MER2024 samples (same as `affect-llm build mer2024 ...`; see docs/data.md).

python data_builders/mer2024.py ROOT [--split test1] --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["mer2024", *sys.argv[1:]]))
