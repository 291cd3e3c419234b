"""Print AffectLLM's memory estimate at the reference 7B shapes, or measure it on a GPU.

python scripts/estimate_memory.py                      # print the estimate table
python scripts/estimate_memory.py --measure lora       # measure on the current GPU
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from affect_llm.modeling.memory import MODES, estimate, measure, parameter_counts, reference_config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", choices=MODES, help="measure this mode on the GPU")
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args(argv)
    config = reference_config()
    if args.measure:
        print(json.dumps(measure(config, args.measure, args.seq_len, args.steps)))
        return
    print(json.dumps(asdict(parameter_counts(config))))
    for mode in MODES:
        parts = estimate(config, mode, args.seq_len)
        print(mode, json.dumps({k: round(v, 2) for k, v in parts.items()}))


if __name__ == "__main__":
    main()
