"""MER-UniBench runner (thin wrapper; the logic is in affect_llm.evaluation.mer_unibench).

Run `python eval/mer_unibench.py --help` for every option and the nine datasets.
"""

import sys

from affect_llm.evaluation.mer_unibench import main
from affect_llm.native_logs import filtered_stderr

if __name__ == "__main__":
    with filtered_stderr():  # mediapipe / TFLite lines a user cannot act on
        sys.exit(main())
