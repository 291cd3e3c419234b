"""Benchmarks: MER-UniBench, DFEW/MAFW closed-set and EMER reasoning, deterministic and resumable.

Runners: `affect_llm.evaluation.mer_unibench`, `.closed_set` (DFEW/MAFW) and `.emer`; the thin
scripts in eval/ and `affect-llm eval ...` call them. See docs/evaluation.md.
"""

from affect_llm.evaluation.registry import MER_UNIBENCH, PUBLISHED_MER_UNIBENCH, BenchmarkSpec

__all__ = ["MER_UNIBENCH", "PUBLISHED_MER_UNIBENCH", "BenchmarkSpec"]
