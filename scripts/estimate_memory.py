"""Print AffectLLM's memory estimate at the reference 7B shapes, or measure it on a GPU.

python scripts/estimate_memory.py                      # print the estimate table
python scripts/estimate_memory.py --measure lora       # measure on the current GPU
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from transformers import HfArgumentParser

from affect_llm.modeling.memory import MODES, estimate, measure, parameter_counts, reference_config


@dataclass
class MemoryArguments:
    measure: str | None = field(
        default=None, metadata={"help": "measure this mode on the GPU", "choices": MODES}
    )
    seq_len: int = field(default=2048, metadata={"help": "tokens per sample"})
    steps: int = field(default=3, metadata={"help": "training steps to time (after one warm-up)"})


def main(argv: list[str] | None = None) -> None:
    (args,) = HfArgumentParser(MemoryArguments).parse_args_into_dataclasses(argv)
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
