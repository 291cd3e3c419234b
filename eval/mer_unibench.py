"""MER-UniBench runner (thin wrapper; the logic is in affect_llm.evaluation.mer_unibench).

Run `python eval/mer_unibench.py --help` for every option and the nine datasets.
"""

import sys

from affect_llm.evaluation.mer_unibench import main

if __name__ == "__main__":
    sys.exit(main())
