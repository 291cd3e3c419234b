"""Build OV-MERD / OV-MERD+ samples (same as `affect-llm build ovmerd ...`; see docs/data.md).

python data_builders/ovmerd.py ROOT --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["ovmerd", *sys.argv[1:]]))
