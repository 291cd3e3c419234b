"""Build MERR (Emotion-LLaMA JSON) samples (same as `affect-llm build merr ...`; see docs/data.md).

python data_builders/merr.py ROOT_OR_JSON [--granularity fine|coarse] --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["merr", *sys.argv[1:]]))
