"""DFEW / MAFW closed-set runner (thin wrapper; the logic is in affect_llm.evaluation.closed_set).

Run `python eval/dfew_mafw.py --help` for every option.
"""

import sys

from affect_llm.evaluation.closed_set import main

if __name__ == "__main__":
    sys.exit(main())
