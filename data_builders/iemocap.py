"""Build IEMOCAP four-class samples (same as `affect-llm build iemocap ...`; see docs/data.md).

python data_builders/iemocap.py ROOT [--split Session5] --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["iemocap", *sys.argv[1:]]))
