"""EMER reasoning runner (thin wrapper; the logic is in affect_llm.evaluation.emer).

Run `python eval/emer.py --help` for every option.
"""

import sys

from affect_llm.evaluation.emer import main

if __name__ == "__main__":
    sys.exit(main())
