"""Build samples from R1-Omni / open-r1 GRPO rows (same as `affect-llm build r1-omni ...`; see docs/data.md).

python data_builders/r1_omni.py ROWS.json|ROWS.jsonl --out OUT_DIR
"""

import sys

from affect_llm.commands.build import main

if __name__ == "__main__":
    sys.exit(main(["r1-omni", *sys.argv[1:]]))
