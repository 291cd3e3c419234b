"""Build MER-Caption+ samples (same as `affect-llm build mer-caption+ ...`; see docs/data.md).

python data_builders/mer_caption_plus.py ROOT --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["mer-caption+", *sys.argv[1:]]))
