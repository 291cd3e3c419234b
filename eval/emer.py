"""EMER reasoning runner (thin wrapper; the logic is in affect_llm.evaluation.emer).

Run `python eval/emer.py --help` for every option.
"""

import sys

from affect_llm.evaluation.emer import main
from affect_llm.native_logs import filtered_stderr

if __name__ == "__main__":
    with filtered_stderr():  # mediapipe / TFLite lines a user cannot act on
        sys.exit(main())
