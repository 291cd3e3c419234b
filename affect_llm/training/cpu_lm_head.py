"""On CPU, TRL's fused LM head scores only the positions that carry a label, as it does on GPUs.

TRL 1.16's SFT and GRPO trainers put the LM head and the log-probs in one chunked function
(`trl.trainer.utils.add_fused_lm_head`). On devices with Triton (CUDA, XPU) it scores only the
positions with a label; elsewhere it scores every position, so that tile shapes stay fixed for
devices that recompile on each new shape (Neuron). A CPU recompiles nothing, and the prompt is most
of each row: scoring it made the LM head about 85% of a tiny SFT or GRPO step on CPU.
`benchmarks/bench_cpu_lm_head.py` measures it (SFT and GRPO steps several times faster, the same loss);
on GPUs nothing changes.

This reads one private name of TRL (its device test), which is why TRL is pinned to 1.16;
`tests/training/test_cpu_lm_head.py` fails if an upgrade moves it.
"""

from __future__ import annotations

import torch
import trl.trainer.utils as trl_utils

_scores_only_labels = trl_utils._use_triton  # TRL's own test: True on CUDA / XPU with Triton


def _scores_only_labels_or_cpu(device: torch.device) -> bool:
    return device.type == "cpu" or _scores_only_labels(device)


def score_only_labelled_positions_on_cpu(enabled: bool = True) -> None:
    """Make TRL's fused LM head skip unlabelled positions on CPU too (`enabled=False`: TRL's
    default again, for `benchmarks/bench_cpu_lm_head.py`). The trainer builders call it."""
    trl_utils._use_triton = _scores_only_labels_or_cpu if enabled else _scores_only_labels
