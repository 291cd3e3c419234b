"""DFEW / MAFW closed-set runner (thin wrapper; the logic is in affect_llm.evaluation.closed_set).

Run `python eval/dfew_mafw.py --help` for every option.
"""

import sys

from affect_llm.evaluation.closed_set import main
from affect_llm.native_logs import filtered_stderr

if __name__ == "__main__":
    with filtered_stderr():  # mediapipe / TFLite lines a user cannot act on
        sys.exit(main())
