"""Build MER2023 samples (same as `affect-llm build mer2023 ...`; see docs/data.md).

python data_builders/mer2023.py ROOT [--split test1] --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["mer2023", *sys.argv[1:]]))
